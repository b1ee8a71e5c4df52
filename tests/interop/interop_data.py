"""Data for the interop tests: where the third-party samples are, and rich pipetrace traces."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipetrace.store import Repository, SpanRow, TraceRow, TraceWithSpans

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "otel-samples"
BASE = 1_780_000_000_000_000_000
MS = 1_000_000


def pipeline_trace(n: int, status: str, message: str | None) -> TraceWithSpans:
    """An engine-shaped trace: root named after the trigger, script spans, a custom child span."""
    trace_id = f"{n + 1:032x}"
    start = BASE + n * 1000 * MS
    root = f"a{n:015x}"
    spans = [
        SpanRow(trace_id, root, "before_signup", status, start, None, "INTERNAL",
                status_message=message, ended_at=start + 9 * MS,
                attributes={"trigger.mode": "blocking", "pipeline.version": "9f2c", "scripts": 3}),
        SpanRow(trace_id, f"b{n:015x}", "disposable_email", "success", start + MS, root,
                script_id="disposable_email", layer_index=0, parallel_index=0,
                ended_at=start + 2 * MS,
                attributes={"input": {"email": "ünï@example.com", "tags": [1, 2.5, None, True]},
                            "output.data": {}, "empty": [], "ratio": 0.1, "big": 2**63 - 1}),
        SpanRow(trace_id, f"c{n:015x}", "risk_scorer", status, start + 3 * MS, root,
                script_id="risk_scorer", layer_index=1, parallel_index=1,
                status_message=message, ended_at=start + 8 * MS,
                attributes={"lua.error": message, "lua.line": 14} if message else {}),
        SpanRow(trace_id, f"d{n:015x}", "model: score_v3", "success", start + 4 * MS,
                f"c{n:015x}", ended_at=start + 5 * MS, attributes={"custom": True}),
        SpanRow(trace_id, f"e{n:015x}", "geo_rule", "skipped", start + 8 * MS, root,
                script_id="geo_rule", layer_index=2, parallel_index=0, ended_at=start + 8 * MS),
    ]  # fmt: skip
    trace = TraceRow(
        id=trace_id,
        trigger_event="before_signup",
        status=status,
        status_message=message,
        started_at=start,
        ended_at=start + 9 * MS,
        user_id=f"user{n}@example.com" if n % 2 else None,
        request_ip="203.0.113.9",
        context_snapshot={"email": "x@example.com", "password": "[redacted]", "n": n},
        result_data={"allowed": status != "blocked", "claims": {"tier": "gold"}},
        allowed=status != "blocked",
        replay_of=f"{n:032x}" if n == 2 else None,
        pipeline_version="9f2c41d0",
    )
    return TraceWithSpans(trace, spans)


def stored(repo: Repository, trace_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One trace read back as (trace fields, span fields in a stable order)."""
    found = repo.get_trace_with_spans(trace_id)
    assert found is not None, f"trace {trace_id} is not stored"
    spans = sorted(found.spans, key=lambda s: (s.started_at, s.id, s.kind))
    return asdict(found.trace), [asdict(s) for s in spans]


def all_trace_ids(repo: Repository) -> list[str]:
    """Every stored trace id, oldest first."""
    return [r.id for r in reversed(repo.list_traces(limit=10_000).rows)]


def count_rows(repo: Repository) -> tuple[int, int]:
    """(traces, spans) in the store, counted directly."""
    return repo.count_older_than(2**63 - 1)


def endpoint_attributes(span: dict[str, Any]) -> dict[str, Any]:
    """The attributes OpenTelemetry's semantic conventions give a Zipkin span's endpoints."""
    own = "server" if span.get("kind") == "SERVER" else "network.local"
    names = {
        "remoteEndpoint": ("peer.service", "network.peer.address", "network.peer.port"),
        "localEndpoint": (None, f"{own}.address", f"{own}.port"),
    }
    out = {}
    for endpoint, (service, address, port) in names.items():
        found = span.get(endpoint) or {}
        for key, value in (
            (service, found.get("serviceName")),
            (address, found.get("ipv4") or found.get("ipv6")),
            (port, found.get("port")),
        ):
            if key and value:
                out[key] = value
    return out


def stored_rows(repo: Repository) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Every trace and its spans as stored, without the import time and in a stable order."""
    out = {}
    for trace_id in all_trace_ids(repo):
        found = repo.get_trace_with_spans(trace_id)
        assert found is not None
        trace = asdict(found.trace)
        del trace["created_at"]
        spans = sorted((asdict(s) for s in found.spans), key=lambda s: json.dumps(s, default=str))
        out[trace_id] = (trace, spans)
    return out
