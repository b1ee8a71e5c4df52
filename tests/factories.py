"""Builds realistic trace rows for store tests, with fixed ids and times, and a sign-up input the
bundled pipelines block (disposable email) for replay tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pipetrace.store import SpanRow, TraceRow, TraceWithSpans, open_store

BASE_NS = 1_780_000_000_000_000_000
SEC = 1_000_000_000
BLOCKED_SIGNUP = {
    "email": "ana@mailinator.com",
    "password": "hunter2",
    "ip": "81.2.69.160",
    "country": "DE",
    "attempts_last_hour": 1,
}


def make_trace(
    n: int,
    *,
    trigger: str = "before_signup",
    status: str = "success",
    started_at: int | None = None,
    duration_ms: float = 2.5,
    user_id: str | None = "user-1",
    request_ip: str | None = "10.0.0.1",
    message: str | None = None,
    spans: int = 3,
) -> TraceWithSpans:
    """Trace number `n` with a root span and `spans - 1` script spans under it."""
    trace_id = f"{n:032x}"
    start = BASE_NS + n * SEC if started_at is None else started_at
    end = start + int(duration_ms * 1_000_000)
    trace = TraceRow(
        id=trace_id,
        trigger_event=trigger,
        status=status,
        status_message=message,
        started_at=start,
        ended_at=end,
        duration_ms=duration_ms,
        user_id=user_id,
        request_ip=request_ip,
        context_snapshot={"email": f"u{n}@example.com", "password": "[REDACTED]"},
        result_data={"score": n % 100},
        allowed=status != "blocked",
    )
    root_id = f"{n % 0xFFFF:04x}{0:012x}"
    rows = [
        SpanRow(
            trace_id=trace_id,
            id=root_id if j == 0 else f"{n % 0xFFFF:04x}{j:012x}",
            parent_span_id=None if j == 0 else root_id,
            name=trigger if j == 0 else f"script_{j}",
            script_id=None if j == 0 else f"script_{j}",
            layer_index=None if j == 0 else j - 1,
            parallel_index=None if j == 0 else 0,
            status=status if j in (0, spans - 1) else "success",
            started_at=start + j * 1000,
            ended_at=end,
            attributes={"output": {"j": j}, "lua.line": j},
        )
        for j in range(spans)
    ]
    return TraceWithSpans(trace, rows)


def saved_with_starts(path: Path, items: list[TraceWithSpans], starts: dict[int, str]) -> str:
    """A SQLite file of `items` whose trace n's started_at raw SQL then sets to starts[n] (text,
    a BLOB, a huge number: how foreign writers damage it); its URL."""
    repo = open_store(str(path))
    try:
        repo.save_traces(items)
    finally:
        repo.close()
    with sqlite3.connect(path) as db:
        for n, value in starts.items():
            db.execute(
                f"UPDATE pipeline_traces SET started_at = {value} WHERE id = ?", (f"{n:032x}",)
            )
    db.close()
    return str(path)
