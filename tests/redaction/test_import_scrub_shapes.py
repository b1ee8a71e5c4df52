"""A scrubbed import keeps OTLP's shape: a secret-named attribute of a resource, an event or a
link (kept verbatim in the span's `extra`) is redacted to an AnyValue, so the trace still
exports as OTLP that a collector, or protobuf, reads."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from google.protobuf.json_format import Parse
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

from pipetrace.app.cli import main

SECRET_VALUE = "cnry-shape-0042"


def _pair(key: str, value: str) -> dict[str, object]:
    return {"key": key, "value": {"stringValue": value}}


def test_redacted_attributes_in_extra_stay_any_values(tmp_path: Path) -> None:
    span = {
        "traceId": "ab" * 16,
        "spanId": "cd" * 8,
        "name": "login",
        "startTimeUnixNano": "1700000000000000000",
        "events": [
            {
                "timeUnixNano": "1700000000000000001",
                "name": "issued",
                "attributes": [
                    _pair("session_token", SECRET_VALUE),
                    {"key": "nested", "value": {"kvlistValue": {"values": [
                        _pair("password", SECRET_VALUE)]}}},
                ],
            }
        ],
        "links": [{"traceId": "ef" * 16, "spanId": "12" * 8,
                   "attributes": [_pair("api_key", SECRET_VALUE)]}],
    }  # fmt: skip
    resource = {"attributes": [_pair("service.name", "auth"), _pair("db.password", SECRET_VALUE)]}
    document = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]}
    source, db, out = tmp_path / "in.json", tmp_path / "t.db", tmp_path / "out.jsonl"
    source.write_text(json.dumps(document))
    runner = CliRunner()
    assert runner.invoke(main, ["import", "--scrub", "--db", str(db), str(source)]).exit_code == 0
    done = runner.invoke(main, ["export", "-o", str(out), "--db", str(db)])
    assert done.exit_code == 0, done.stderr
    line = out.read_text()
    assert SECRET_VALUE not in line
    exported = Parse(line, TracesData())  # every attribute value is an AnyValue again
    (rs,) = exported.resource_spans
    resource_values = {kv.key: kv.value.string_value for kv in rs.resource.attributes}
    assert resource_values == {"service.name": "auth", "db.password": "[REDACTED]"}
    (out_span,) = rs.scope_spans[0].spans
    event = out_span.events[0]
    assert event.attributes[0].value.string_value == "[REDACTED]"
    nested = event.attributes[1].value.kvlist_value.values[0]
    assert (nested.key, nested.value.string_value) == ("password", "[REDACTED]")
    assert out_span.links[0].attributes[0].value.string_value == "[REDACTED]"
