"""Pauses Python's cyclic garbage collector while spans are imported: an import holds up to
HOLD_SPANS spans' objects, which each full collection walks again with the rest of the heap
(about 8% of an import's time), and it makes no reference cycles for a collection to free."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pausers = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """The collector off inside; imports on several threads share one pause, and the last to
    leave turns the collector back on if it was on before the first came in."""
    global _pausers, _was_enabled
    with _lock:
        if _pausers == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausers += 1
    try:
        yield
    finally:
        with _lock:
            _pausers -= 1
            if _pausers == 0 and _was_enabled:
                gc.enable()
