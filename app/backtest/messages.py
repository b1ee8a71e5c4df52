"""What crosses between the backtest's parent and its workers: cases to replay and the small
comparisons sent back (msgspec structs pickle about four times as fast as dataclasses; this
module imports nothing heavier, so a worker starts quickly)."""

from __future__ import annotations

from typing import Any

import msgspec


class StoredRun(msgspec.Struct, frozen=True):
    """One script's stored run, as the worker compares it (a struct pickles fast)."""

    script_id: str
    status: str
    duration_ms: float | None
    limit: str | None


class Case(msgspec.Struct, frozen=True):
    """One stored trace to replay: its trigger, input and metadata, and its stored outcome."""

    trace_id: str
    trigger: str
    input: dict[str, Any]
    metadata: dict[str, Any]
    allowed: bool | None
    status: str
    scripts: tuple[StoredRun, ...]
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
