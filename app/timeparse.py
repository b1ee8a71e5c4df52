"""Reads the times people type: ages like 15m, 7d, and ISO dates, into Unix nanoseconds."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from pipetrace.errors import PipetraceError

NS = 1_000_000_000
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
MAX_AGE_DAYS = 36_500
"""About 100 years: a longer age is a typo, and a far longer one overflows the store's int64 ns."""
EARLIEST_NS = 0
LATEST_NS = int(datetime(2200, 1, 1, tzinfo=UTC).timestamp()) * NS
"""Times before 1970 or after 2199 are typos, and past 2262 they no longer fit in int64 ns."""


class TimeFormatError(PipetraceError):
    """A time or age that cannot be read; the message says what was expected."""

    title = "Bad time"


@contextmanager
def naming(where: str) -> Iterator[None]:
    """Prefix a bad time with the option or field it came from, so its one line says where."""
    try:
        yield
    except TimeFormatError as exc:
        raise TimeFormatError(f"{where}: {exc}") from None


def parse_age(text: str) -> int:
    """An age such as '30d' or '15m' in nanoseconds."""
    match = _AGE.match(text)
    if not match:
        raise TimeFormatError(
            f"bad age {text!r}: use a number and a unit s, m, h, d or w (e.g. 7d)"
        )
    seconds = float(match.group(1)) * UNITS[match.group(2).lower()]
    if not seconds <= MAX_AGE_DAYS * UNITS["d"]:
        raise TimeFormatError(
            f"age {text!r} is too large: use at most {MAX_AGE_DAYS}d (about 100 years)"
        )
    return int(seconds * NS)


def parse_time(text: str, now_ns: int | None = None) -> int:
    """An absolute time: an age before now ('7d'), 'now', or an ISO date or date-time (UTC)."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    value = text.strip()
    if value.lower() == "now":
        return now_ns
    ns = now_ns - parse_age(value) if _AGE.match(value) else _iso_ns(text, value)
    if not EARLIEST_NS <= ns < LATEST_NS:
        raise TimeFormatError(f"time {text!r} is out of range: use one between 1970 and 2199 (UTC)")
    return ns


def _iso_ns(text: str, value: str) -> int:
    """An ISO date or date-time in ns, UTC unless it names its offset."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise TimeFormatError(
            f"bad time {text!r}: use an age like 7d, 'now', or an ISO date like 2026-11-20T10:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * NS + moment.microsecond * 1000


def format_ns(ns: int | None, *, precise: bool = False, local: bool = False) -> str:
    """A timestamp for tables and headers: UTC, or the machine's local time when `local` (a
    precise one then ends in its offset instead of Z)."""
    if ns is None:
        return "-"
    moment = datetime.fromtimestamp(ns / NS, tz=UTC)
    if local:
        moment = moment.astimezone()
    if precise:
        mark = moment.strftime("%z") if local else "Z"
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + mark
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def zone_name(local: bool, ns: int | None = None) -> str:
    """What `format_ns` shows times in: "UTC", or the local zone's name (at `ns`, else now)."""
    if not local:
        return "UTC"
    moment = datetime.now(tz=UTC) if ns is None else datetime.fromtimestamp(ns / NS, tz=UTC)
    return moment.astimezone().tzname() or "local"


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
