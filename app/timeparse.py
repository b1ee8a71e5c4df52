"""Reads the times people type: ages like 15m, 7d, and ISO dates, into Unix nanoseconds."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

NS = 1_000_000_000
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)


class TimeFormatError(ValueError):
    """A time or age that cannot be read; the message says what was expected."""

    title = "Bad time"


def parse_age(text: str) -> int:
    """An age such as '30d' or '15m' in nanoseconds."""
    match = _AGE.match(text)
    if not match:
        raise TimeFormatError(
            f"bad age {text!r}: use a number and a unit s, m, h, d or w (e.g. 7d)"
        )
    return int(float(match.group(1)) * UNITS[match.group(2).lower()] * NS)


def parse_time(text: str, now_ns: int | None = None) -> int:
    """An absolute time: an age before now ('7d'), 'now', or an ISO date or date-time (UTC)."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    value = text.strip()
    if value.lower() == "now":
        return now_ns
    if _AGE.match(value):
        return now_ns - parse_age(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise TimeFormatError(
            f"bad time {text!r}: use an age like 7d, 'now', or an ISO date like 2026-11-20T10:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * NS + moment.microsecond * 1000


def format_ns(ns: int | None, *, precise: bool = False) -> str:
    """A UTC timestamp for tables and headers."""
    if ns is None:
        return "-"
    moment = datetime.fromtimestamp(ns / NS, tz=UTC)
    if precise:
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def iso_ns(ns: int | None) -> str | None:
    """An ISO 8601 UTC time with microseconds, for JSON."""
    if ns is None:
        return None
    return datetime.fromtimestamp(ns / NS, tz=UTC).isoformat().replace("+00:00", "Z")


def format_duration(ms: float | None) -> str:
    """Durations from microseconds to minutes in a short, readable unit."""
    if ms is None:
        return "-"
    if ms < 1:
        return f"{ms * 1000:.0f}µs"
    if ms < 1000:
        return f"{ms:.2f}ms" if ms < 10 else f"{ms:.1f}ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f}s"
    return f"{ms / 60_000:.1f}m"
