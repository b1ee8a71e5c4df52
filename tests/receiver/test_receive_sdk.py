"""The official OpenTelemetry exporters, run in a child process against a real `pipetrace
receive` on a loopback port: the store holds what the SDK sent (names, ids, parents, times,
attributes, events, links, status, resource, scope), with its secrets redacted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from receiver.receiving import receiving, run_program
from receiver.sdk_program import API_KEY, SECRET, SECRET_KEYS, SESSION_TOKEN

from pipetrace.store import Repository, SpanRow, open_store
from pipetrace.store.interop.anyvalue import decode_attributes

REDACTED = "[REDACTED]"
SOURCES = {"http": "otlp-http", "grpc": "otlp-grpc"}


def _attributes(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return decode_attributes(items)[0]


def _expected_attributes(sent: dict[str, Any]) -> dict[str, Any]:
    """A span's attributes as stored: a secret-named one redacted, and listed as such."""
    expected = dict(sent)
    if "password" in expected:
        expected["password"] = REDACTED
        expected["redacted"] = ["password"]
    return expected


def _redacted(attributes: dict[str, Any]) -> dict[str, Any]:
    """Attributes of an event or link as stored: a secret-named one redacted, and a value a
    secret-named attribute of the trace held masked wherever it appears."""
    return {
        k: REDACTED
        if k in SECRET_KEYS
        else v.replace(SECRET, REDACTED)
        if isinstance(v, str)
        else v
        for k, v in attributes.items()
    }


def assert_stored_as_sent(repo: Repository, sent: list[dict[str, Any]], source: str) -> None:
    """Every span the SDK sent is stored once, as sent; each trace is summarised over them."""
    for trace_id in {s["trace_id"] for s in sent}:
        ours = [s for s in sent if s["trace_id"] == trace_id]
        found = repo.get_trace_with_spans(trace_id)
        assert found is not None
        trace = found.trace
        assert (trace.span_count, len(found.spans)) == (len(ours), len(ours))
        assert (trace.trigger_event, trace.status, trace.source) == (
            "POST /checkout",
            "error",
            source,
        )
        assert trace.user_id and trace.user_id.startswith("u-")
        stored = {span.id: span for span in found.spans}
        for span in ours:
            _assert_span(stored[span["span_id"]], span)


def _assert_span(row: SpanRow, sent: dict[str, Any]) -> None:
    extra = row.extra or {}
    assert (row.name, row.parent_span_id, row.kind) == (
        sent["name"],
        sent["parent_id"],
        sent["kind"],
    )
    assert (row.started_at, row.ended_at) == (sent["start"], sent["end"])
    assert row.attributes == _expected_attributes(sent["attributes"])
    status = sent["status"]
    if status["code"] == "ERROR":
        assert (row.status, row.status_message) == ("error", status["message"])
    else:
        assert (row.status, row.status_message) == ("success", None)
        # A stored success exports as OK; an UNSET status is remembered as code 0.
        assert extra.get("statusCode", 1) == (1 if status["code"] == "OK" else 0)
    events = [
        (e["name"], int(e["timeUnixNano"]), _attributes(e.get("attributes")))
        for e in extra.get("events", [])
    ]
    assert events == [(e["name"], e["time"], _redacted(e["attributes"])) for e in sent["events"]]
    links = [
        (k["traceId"], k["spanId"], _attributes(k.get("attributes")))
        for k in extra.get("links", [])
    ]
    assert links == [
        (k["trace_id"], k["span_id"], _redacted(k["attributes"])) for k in sent["links"]
    ]
    assert _attributes(extra["resource"]["attributes"]) == sent["resource"]
    assert extra["scope"] == sent["scope"]


def _no_secret_in(store: Path) -> None:
    """No secret the program sent is in any byte of the store's files."""
    for path in store.parent.glob(store.name + "*"):
        data = path.read_bytes()
        for secret in (SECRET, SESSION_TOKEN, API_KEY):
            assert secret.encode() not in data, (path, secret)


@pytest.mark.parametrize(
    ("protocol", "compression", "processor"),
    [
        ("http", "none", "batch"),
        ("http", "gzip", "simple"),
        ("grpc", "none", "batch"),
        ("grpc", "gzip", "simple"),
    ],
)
def test_stored_traces_equal_what_the_sdk_sent(
    tmp_path: Path, protocol: str, compression: str, processor: str
) -> None:
    """A batch exports whole traces in one request; a simple processor sends every span in a
    request of its own, children first, and the receiver joins them into one trace."""
    store = tmp_path / "received.db"
    with receiving(tmp_path, str(store), "--grpc-port", "0") as rx:
        endpoint = rx.url if protocol == "http" else rx.grpc
        assert endpoint is not None
        status, results, sent = run_program(
            endpoint, tmp_path / "sent.json",
            "--protocol", protocol, "--compression", compression, "--processor", processor,
        )  # fmt: skip
        assert status == 0, results
        counts = rx.settled()
    assert (counts["received"], counts["written"], counts["failed"]) == (len(sent), len(sent), 0)
    assert len(results) == (1 if processor == "batch" else len(sent))
    repo = open_store(str(store), migrate=False, create=False)
    try:
        assert_stored_as_sent(repo, sent, SOURCES[protocol])
    finally:
        repo.close()
    _no_secret_in(store)


def test_a_batch_sent_twice_is_stored_once_on_sqld(tmp_path: Path, empty_sqld_url: str) -> None:
    with receiving(tmp_path, empty_sqld_url) as rx:
        status, results, sent = run_program(
            rx.url, tmp_path / "sent.json", "--twice", "--traces", "3"
        )
        assert status == 0 and results == ["SUCCESS", "SUCCESS"]
        counts = rx.settled()
    assert (counts["received"], counts["written"]) == (2 * len(sent), 2 * len(sent))
    repo = open_store(empty_sqld_url, migrate=False, create=False)
    try:
        assert repo.count_traces() == 3
        assert_stored_as_sent(repo, sent, "otlp-http")
    finally:
        repo.close()
