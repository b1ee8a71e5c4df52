"""Reads, and on request cleans up, the traces auther (the original TypeScript project) writes
into its own database, in place and behind the same Repository interface as our store.

Its names are imported when first used (`pipetrace.lazy_names`): telling an auther database
from ours needs only `detect` and `opening`."""

from typing import TYPE_CHECKING

from pipetrace.lazy_names import lazy_names

if TYPE_CHECKING:
    from .detect import is_auther_schema
    from .indexes import OptionalIndex
    from .opening import open_auther_store
    from .repository import COUNT_CAP, AutherRepository
    from .rows import TRUNCATED_KEY

__getattr__ = lazy_names(
    __name__,
    {
        ".detect": ("is_auther_schema",),
        ".indexes": ("OptionalIndex",),
        ".opening": ("open_auther_store",),
        ".repository": ("COUNT_CAP", "AutherRepository"),
        ".rows": ("TRUNCATED_KEY",),
    },
)

__all__ = [
    "COUNT_CAP",
    "TRUNCATED_KEY",
    "AutherRepository",
    "OptionalIndex",
    "is_auther_schema",
    "open_auther_store",
]
