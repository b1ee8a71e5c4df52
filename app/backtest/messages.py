"""What a backtest worker makes of each stored trace: the case to replay and its comparison with
the replay (msgspec structs: cheap to make, and a worker makes a few per trace)."""

from __future__ import annotations

from typing import Any

import msgspec

from pipetrace.store import ScriptRun


class Case(msgspec.Struct, frozen=True):
    """One stored trace to replay: its trigger, input and metadata, and its stored outcome."""

    trace_id: str
    trigger: str
    input: dict[str, Any]
    metadata: dict[str, Any]
    allowed: bool | None
    status: str
    scripts: tuple[ScriptRun, ...]
    """Its scripts' own runs as stored."""
    redacted: tuple[str, ...]
    """Input fields stored as "[REDACTED]": the replay cannot see what the original saw."""


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
