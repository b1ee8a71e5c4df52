"""Keeps typed values the store cannot hold away from it, and reports any it refuses in one line."""

from __future__ import annotations

from collections.abc import Callable

from store import StoreError

from ..timeparse import TimeFormatError, format_ns

NS_MIN, NS_MAX = -(2**63), 2**63 - 1
"""The times a 64-bit integer of nanoseconds holds (SQLite's INTEGER): 1677 to 2262."""

QUERY_ERRORS = (StoreError, OverflowError, ValueError)
"""What a query worker can meet: store failures, and values the driver refuses to bind."""


def storable_time(read: Callable[[], int], what: str) -> int:
    """The time `read` returns, refused (naming `what` was typed) when the store cannot hold it."""
    try:
        ns = read()
    except OverflowError:
        ns = NS_MAX + 1
    if not NS_MIN <= ns <= NS_MAX:
        raise TimeFormatError(
            f"{what} is out of range: times must lie between {format_ns(NS_MIN)[:10]} "
            f"and {format_ns(NS_MAX)[:10]} UTC"
        )
    return ns


def as_store_error(exc: Exception) -> StoreError:
    """A worker's failure as a one-line store error, so it is shown and never ends the app."""
    if isinstance(exc, StoreError):
        return exc
    return StoreError(f"the store refused a value: {exc}")
