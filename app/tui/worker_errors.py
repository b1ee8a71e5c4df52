"""Reports any value the store refuses in one line, so no worker failure ends the app."""

from __future__ import annotations

from pipetrace.store import StoreError

QUERY_ERRORS = (StoreError, OverflowError, ValueError)
"""What a query worker can meet: store failures, and values the driver refuses to bind."""


def as_store_error(exc: Exception) -> StoreError:
    """A worker's failure as a one-line store error, so it is shown and never ends the app."""
    if isinstance(exc, StoreError):
        return exc
    return StoreError(f"the store refused a value: {exc}")
