"""Reads the duration bounds people type, so the viewer and the command line refuse alike."""

from __future__ import annotations

import math

from pipetrace.errors import PipetraceError


class DurationError(PipetraceError):
    """A duration bound or pair of bounds no trace can match; the message says why."""

    title = "Bad duration"


def read_bound(text: str) -> float:
    """A bound in milliseconds: a finite number, zero or more."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DurationError(f"duration {text!r} is not a number of milliseconds")
    if value < 0:
        raise DurationError(f"duration {text!r} is negative")
    return value


def check_order(low: float | None, high: float | None) -> None:
    """Refuse a minimum above the maximum, which would match nothing."""
    if low is not None and high is not None and low > high:
        raise DurationError(f"minimum {low:g} ms is above maximum {high:g} ms")
