"""Reads, and on request cleans up, the traces auther (the original TypeScript project) writes
into its own database, in place and behind the same Repository interface as our store."""

from __future__ import annotations

from .detect import is_auther_schema
from .indexes import OptionalIndex
from .opening import open_auther_store
from .repository import COUNT_CAP, AutherRepository
from .rows import TRUNCATED_KEY

__all__ = [
    "COUNT_CAP",
    "TRUNCATED_KEY",
    "AutherRepository",
    "OptionalIndex",
    "is_auther_schema",
    "open_auther_store",
]
