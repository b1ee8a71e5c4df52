"""The auther databases the tests read: three traces of the kinds auther's engine writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auther_db import AutherWriter, SpanSpec

DAY_MS = 86_400_000
NOW_MS = 1_750_000_000_000
"""The tests' "now": traces are placed before it."""


@dataclass
class AutherStore:
    """Where the database is, what wrote it, and the ids of the traces in it."""

    url: str
    path: Path | None
    writer: AutherWriter
    fresh: str
    """A blocked trace a day old, with a custom span and a skipped span."""
    old: str
    """A successful trace 40 days old."""
    older: str
    """A successful trace 60 days old, with a truncated context snapshot."""
    script_ids: dict[str, str]


def fill(writer: AutherWriter, now_ms: int = NOW_MS) -> AutherStore:
    """Scripts, a plan and three traces of the kinds auther's engine writes."""
    geo = writer.script("Geo Blocker", 'return { allowed = false, error = "Country blocked" }')
    enrich = writer.script("Enrich", "return { allowed = true, data = { tier = 'gold' } }")
    writer.plan("before_signup", [[enrich], [geo]])
    writer.user("user_123", "ada@example.com")
    older = writer.trace(
        "before_signin",
        now_ms - 60 * DAY_MS,
        [[SpanSpec("Enrich", output={"tier": "gold"}, script_id=enrich)]],
        context={"blob": "x" * 40_000},
    )
    old = writer.trace(
        "before_signup",
        now_ms - 40 * DAY_MS,
        [[SpanSpec("Enrich", output={"tier": "gold"}, script_id=enrich)]],
        user_id="user_456",
        request_ip="198.51.100.9",
    )
    fresh = writer.trace(
        "before_signup",
        now_ms - DAY_MS,
        [
            [
                SpanSpec(
                    "Enrich",
                    output={"tier": "gold"},
                    script_id=enrich,
                    children=[("lookup", {"db": "users", "n": 3}, "success")],
                ),
                SpanSpec("Missing", status="skipped"),
            ],
            [SpanSpec("Geo Blocker", status="blocked", message="Country blocked", script_id=geo)],
        ],
    )
    return AutherStore("", None, writer, fresh, old, older, {"geo": geo, "enrich": enrich})
