"""Zipkin v1 JSON imports as the v2 spans Zipkin itself would serve for it, and the API's array
of traces imports like a flat array; whole or streamed, on both backends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from interop.interop_data import all_trace_ids, stored_rows

from pipetrace.store import Repository, open_store
from pipetrace.store.interop import MalformedFile, import_file, importer
from pipetrace.store.interop import documents as documents_module

TRACE = "a1b2c3d4e5f60718"
WEB = {"serviceName": "web", "ipv4": "10.0.0.1"}
API = {"serviceName": "api", "ipv4": "10.0.0.2", "port": 8080}
DB = {"serviceName": "postgres", "ipv4": "10.0.0.3", "port": 5432}

V1 = [
    {
        "traceId": TRACE,
        "id": TRACE,
        "name": "get /signup",
        "timestamp": 1_700_000_000_000_000,
        "duration": 90_000,
        "annotations": [
            {"timestamp": 1_700_000_000_000_000, "value": "sr", "endpoint": WEB},
            {"timestamp": 1_700_000_000_090_000, "value": "ss", "endpoint": WEB},
        ],
        "binaryAnnotations": [
            {"key": "http.path", "value": "/signup", "endpoint": WEB},
            {"key": "ca", "value": True, "endpoint": {"ipv4": "192.0.2.7", "port": 51000}},
        ],
    },
    {
        "traceId": TRACE,
        "id": "00000000000000b2",
        "parentId": TRACE,
        "name": "post /users",
        "timestamp": 1_700_000_000_010_000,
        "duration": 60_000,
        "annotations": [
            {"timestamp": 1_700_000_000_010_000, "value": "cs", "endpoint": WEB},
            {"timestamp": 1_700_000_000_015_000, "value": "sr", "endpoint": API},
            {"timestamp": 1_700_000_000_040_000, "value": "cache miss", "endpoint": API},
            {"timestamp": 1_700_000_000_065_000, "value": "ss", "endpoint": API},
            {"timestamp": 1_700_000_000_070_000, "value": "cr", "endpoint": WEB},
        ],
        "binaryAnnotations": [
            {"key": "http.method", "value": "POST", "endpoint": WEB},
            {"key": "user.created", "value": True, "endpoint": API},
            {"key": "error", "value": "409 conflict", "endpoint": API},
        ],
    },
    {
        "traceId": TRACE,
        "id": "00000000000000c3",
        "parentId": "00000000000000b2",
        "name": "insert user",
        "timestamp": 1_700_000_000_020_000,
        "duration": 5_000,
        "annotations": [
            {"timestamp": 1_700_000_000_020_000, "value": "cs", "endpoint": API},
            {"timestamp": 1_700_000_000_025_000, "value": "cr", "endpoint": API},
        ],
        "binaryAnnotations": [{"key": "sa", "value": True, "endpoint": DB}],
    },
    {
        "traceId": TRACE,
        "id": "00000000000000d4",
        "parentId": "00000000000000b2",
        "name": "hash password",
        "timestamp": 1_700_000_000_030_000,
        "duration": 2_000,
        "annotations": [],
        "binaryAnnotations": [{"key": "lc", "value": "bcrypt", "endpoint": API}],
    },
]
"""A sign-up seen by Zipkin v1: a server span, a shared client/server RPC (with an error and an
annotation on the server side), a client call to a database, and a local span."""

V2 = [
    {
        "traceId": TRACE,
        "id": TRACE,
        "name": "get /signup",
        "kind": "SERVER",
        "timestamp": 1_700_000_000_000_000,
        "duration": 90_000,
        "localEndpoint": WEB,
        "remoteEndpoint": {"ipv4": "192.0.2.7", "port": 51000},
        "tags": {"http.path": "/signup"},
    },
    {
        "traceId": TRACE,
        "id": "00000000000000b2",
        "parentId": TRACE,
        "name": "post /users",
        "kind": "CLIENT",
        "timestamp": 1_700_000_000_010_000,
        "duration": 60_000,
        "localEndpoint": WEB,
        "remoteEndpoint": API,
        "tags": {"http.method": "POST"},
    },
    {
        "traceId": TRACE,
        "id": "00000000000000b2",
        "parentId": TRACE,
        "name": "post /users",
        "kind": "SERVER",
        "shared": True,
        "timestamp": 1_700_000_000_015_000,
        "duration": 50_000,
        "localEndpoint": API,
        "annotations": [{"timestamp": 1_700_000_000_040_000, "value": "cache miss"}],
        "tags": {"user.created": True, "error": "409 conflict"},
    },
    {
        "traceId": TRACE,
        "id": "00000000000000c3",
        "parentId": "00000000000000b2",
        "name": "insert user",
        "kind": "CLIENT",
        "timestamp": 1_700_000_000_020_000,
        "duration": 5_000,
        "localEndpoint": API,
        "remoteEndpoint": DB,
    },
    {
        "traceId": TRACE,
        "id": "00000000000000d4",
        "parentId": "00000000000000b2",
        "name": "hash password",
        "timestamp": 1_700_000_000_030_000,
        "duration": 2_000,
        "localEndpoint": API,
        "tags": {"lc": "bcrypt"},
    },
]
"""The same trace as Zipkin v2 serves it, written by hand from Zipkin's v1-to-v2 rules."""


def _import(folder: Path, name: str, doc: Any) -> dict[str, Any]:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(doc))
    repo = open_store(str(folder / f"{name}.db"))
    try:
        import_file(repo, path)
        return stored_rows(repo)
    finally:
        repo.close()


def test_a_v1_file_stores_what_its_v2_form_stores(tmp_path: Path) -> None:
    assert _import(tmp_path, "v1", V1) == _import(tmp_path, "v2", V2)


def test_the_shared_rpc_becomes_a_client_and_a_server_span(repo: Repository, tmp_path: Path):
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(V1))
    report = import_file(repo, path)
    assert report.spans == 5
    found = repo.get_trace_with_spans("0" * 16 + TRACE)
    assert found is not None
    rpc = [s for s in found.spans if s.id == "00000000000000b2"]
    assert sorted(s.attributes.get("network.peer.address", "") for s in rpc) == ["", "10.0.0.2"]
    server = next(s for s in rpc if "user.created" in s.attributes)
    assert server.status == "error" and server.status_message == "409 conflict"
    assert server.started_at == 1_700_000_000_015_000_000
    assert server.ended_at == 1_700_000_000_065_000_000
    database = next(s for s in found.spans if s.id == "00000000000000c3")
    assert database.attributes["peer.service"] == "postgres"
    assert database.attributes["network.peer.port"] == 5432


def test_the_api_array_of_traces_stores_what_the_flat_array_stores(tmp_path: Path) -> None:
    assert _import(tmp_path, "nested", [V2[:2], V2[2:]]) == _import(tmp_path, "flat", V2)
    assert _import(tmp_path, "nested1", [V1]) == _import(tmp_path, "flat2", V2)


@pytest.mark.parametrize("shape", ["flat", "nested"])
def test_streamed_v1_stores_what_a_whole_read_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    doc = V1 if shape == "flat" else [V1[:1], V1[1:]]
    whole = _import(tmp_path, "whole", doc)
    monkeypatch.setattr(importer, "WHOLE_LIMIT", 10)
    monkeypatch.setattr(documents_module, "LINE_LIMIT", 200)
    assert _import(tmp_path, "streamed", doc) == whole


def test_a_bad_binary_annotation_is_named_and_nothing_is_stored(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(V1))
    bad[1]["binaryAnnotations"][1]["value"] = {"nested": "object"}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    repo = open_store(str(tmp_path / "bad.db"))
    try:
        with pytest.raises(MalformedFile, match=r"\[1\]\.binaryAnnotations\[1\]\.value"):
            import_file(repo, path)
        assert all_trace_ids(repo) == []
    finally:
        repo.close()
