"""One trace's stored run beside its candidate run: the small result a worker sends back
(msgspec structs: they pickle about four times as fast as dataclasses)."""

from __future__ import annotations

import msgspec


class ScriptCompared(msgspec.Struct, frozen=True):
    """One script before (as stored) and after (in the candidate); None where it did not run."""

    script_id: str
    status_before: str | None
    status_after: str | None
    duration_before_ms: float | None
    duration_after_ms: float | None
    limit_before: str | None
    limit_after: str | None
    message_after: str | None


class Compared(msgspec.Struct, frozen=True):
    """A trace's decision and status before and after, script by script."""

    trace_id: str
    trigger: str
    allowed_before: bool | None
    allowed_after: bool | None
    status_before: str
    status_after: str
    scripts: tuple[ScriptCompared, ...]
    uncertain: bool
    """The candidate's scripts name an input field that was stored redacted."""
