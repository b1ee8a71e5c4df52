"""A trace split over several files, in any order and with spans delivered more than once,
imports to the same store as the whole file: on SQLite and on sqld."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path
from typing import Any

import pytest
from conftest import wipe_sqld
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from interop.interop_data import SAMPLES, stored_rows

from pipetrace.store import Repository, open_store
from pipetrace.store.interop import import_file

PARTS = (2, 3, 10)
EXAMPLES = {"sqlite": 12, "sqld": 6}
"""Examples per number of parts: sqld answers over HTTP, so it gets fewer (both derandomized)."""
_counter = itertools.count()

Placed = tuple[int, int, dict[str, Any]]
"""A span with the indexes of its resourceSpans and scopeSpans in the source document."""


def _synthetic_trace() -> dict[str, Any]:
    """One OTLP trace of 14 spans from three services, with failures, users and addresses."""
    rng = random.Random(7)
    trace_id = "5e" * 16
    resources = []
    for service in ("edge", "auth", "billing"):
        spans = []
        for n in range(len(resources) * 5, len(resources) * 5 + (5 if service != "billing" else 4)):
            parent = None if n == 0 else f"{rng.randrange(max(1, n)) + 1:016x}"
            start = 1_700_000_000_000_000_000 + n * 1_000_000 + rng.randrange(500)
            attributes = [{"key": "n", "value": {"intValue": str(n)}}]
            if n in (3, 8):
                attributes.append({"key": "enduser.id", "value": {"stringValue": f"user-{n}"}})
            if n == 6:
                attributes.append({"key": "client.address", "value": {"stringValue": "192.0.2.4"}})
            span = {
                "traceId": trace_id,
                "spanId": f"{n + 1:016x}",
                "name": f"{service} step {n}",
                "kind": 1 + n % 5,
                "startTimeUnixNano": str(start),
                "endTimeUnixNano": str(start + rng.randrange(1, 9_000_000)),
                "attributes": attributes,
                "status": {"code": 2, "message": f"failed at {n}"} if n in (4, 11) else {},
            }
            if parent:
                span["parentSpanId"] = parent
            spans.append(span)
        resources.append(
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": service}}]
                },
                "scopeSpans": [{"scope": {"name": f"{service}.http"}, "spans": spans}],
            }
        )
    return {"resourceSpans": resources}


SOURCES = {
    "synthetic": _synthetic_trace(),
    "otel_traces_01.json": json.loads((SAMPLES / "otel_traces_01.json").read_text()),
    "multi": {
        "resourceSpans": [
            rs
            for line in (SAMPLES / "otlp2jaeger-multi-in.json.txt").read_text().splitlines()
            if line.strip()
            for rs in json.loads(line)["resourceSpans"]
        ]
    },
}


def _placed(doc: dict[str, Any]) -> list[Placed]:
    return [
        (ri, si, span)
        for ri, rs in enumerate(doc["resourceSpans"])
        for si, ss in enumerate(rs["scopeSpans"])
        for span in ss["spans"]
    ]


def _document(doc: dict[str, Any], spans: list[Placed]) -> dict[str, Any]:
    """The source's spans `spans`, each under the resource and scope it had there."""
    out: dict[int, dict[str, Any]] = {}
    for ri, si, span in spans:
        source = doc["resourceSpans"][ri]
        rs = out.setdefault(ri, {**source, "scopeSpans": {}})
        ss = rs["scopeSpans"].setdefault(si, {**source["scopeSpans"][si], "spans": []})
        ss["spans"].append(span)
    return {
        "resourceSpans": [
            {**rs, "scopeSpans": list(rs["scopeSpans"].values())} for rs in out.values()
        ]
    }


@st.composite
def _split(draw: st.DrawFn, spans: list[Placed], parts: int) -> list[list[Placed]]:
    """Each span in one part or more (a repeated delivery), the parts in a random order."""
    files: list[list[Placed]] = [[] for _ in range(parts)]
    for span in spans:
        for index in draw(st.sets(st.integers(0, parts - 1), min_size=1, max_size=2)):
            files[index].append(span)
    for part in files:
        order = draw(st.permutations(range(len(part))))
        part[:] = [part[i] for i in order]
    return [part for part in draw(st.permutations(files)) if part]


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each source imported whole into a store of its own, as stored."""
    out = {}
    for name, doc in SOURCES.items():
        folder = tmp_path_factory.mktemp("whole")
        (folder / "whole.json").write_text(json.dumps(doc))
        repo = open_store(str(folder / "whole.db"))
        try:
            import_file(repo, folder / "whole.json")
            out[name] = stored_rows(repo)
        finally:
            repo.close()
    return out


def _fresh_store(store_url: str, folder: Path) -> Repository:
    """An empty store on the backend under test, for one example."""
    if store_url.startswith("http"):
        wipe_sqld(store_url)
        return open_store(store_url)
    return open_store(str(folder / f"parts-{next(_counter)}.db"))


@pytest.mark.parametrize("parts", PARTS)
def test_a_trace_split_over_files_imports_as_the_whole_file(
    store_url: str,
    tmp_path: Path,
    whole: dict[str, dict[str, Any]],
    parts: int,
) -> None:
    backend = "sqld" if store_url.startswith("http") else "sqlite"

    @settings(
        max_examples=EXAMPLES[backend],
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.data(), name=st.sampled_from(sorted(SOURCES)))
    def check(data: st.DataObject, name: str) -> None:
        doc = SOURCES[name]
        files = data.draw(_split(_placed(doc), parts))
        repo = _fresh_store(store_url, tmp_path)
        try:
            reports = []
            for n, spans in enumerate(files):
                path = tmp_path / f"part-{n}.json"
                path.write_text(json.dumps(_document(doc, spans)))
                reports.append(import_file(repo, path))
            assert stored_rows(repo) == whole[name]
            stored = sum(r.spans + r.spans_merged for r in reports)
            assert stored == sum(len(t[1]) for t in whole[name].values())
            assert sum(r.traces_added for r in reports) == len(whole[name])
        finally:
            repo.close()

    check()
