"""Pauses Python's cyclic garbage collector while many row objects are built and dropped at
once (an import's held spans, a huge trace's outline), none of them in a reference cycle: each
full collection would walk them again with the rest of the heap (about 8% of an import's time)."""

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
    """The collector off inside; callers on several threads share one pause, and the last to
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
