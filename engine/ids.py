"""W3C trace and span id sources; injectable so tests and demos can produce fixed ids."""

from __future__ import annotations

import os
import random
import threading
from typing import Protocol

_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


class IdSource(Protocol):
    """Produces W3C ids: 32 lowercase hex for traces, 16 for spans, never all zero.

    A source may also offer span_ids(count), or span_ids_of(trace_id, count) for ids that
    depend on their trace only; the recorder takes a trace's span ids through them when present.
    """

    def trace_id(self) -> str: ...

    def span_id(self) -> str: ...


class _Picklable:
    """Id sources travel to a recorder process by pickle; their lock is made afresh there."""

    _lock: threading.Lock

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


class RandomIds(_Picklable):
    """Ids from os.urandom, read in blocks so a trace with many spans costs one system call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buf = b""
        self._pos = 0

    def __getstate__(self) -> dict[str, object]:
        # The copy must not hand out the random bytes this process already holds.
        return {"_buf": b"", "_pos": 0}

    def _hex(self, n: int) -> str:
        """Take n random bytes from the buffer as lowercase hex."""
        with self._lock:
            if self._pos + n > len(self._buf):
                self._buf, self._pos = os.urandom(max(4096, n)), 0
            chunk = self._buf[self._pos : self._pos + n]
            self._pos += n
        return chunk.hex()

    def trace_id(self) -> str:
        """Return a fresh random trace id."""
        value = self._hex(16)
        return value if value != _ZERO_TRACE else self.trace_id()

    def span_id(self) -> str:
        """Return a fresh random span id."""
        value = self._hex(8)
        return value if value != _ZERO_SPAN else self.span_id()

    def span_ids(self, count: int) -> list[str]:
        """Return count fresh span ids from one read of the buffer."""
        text = self._hex(8 * count)
        ids = [text[i : i + 16] for i in range(0, 16 * count, 16)]
        if _ZERO_SPAN in ids:
            return [i if i != _ZERO_SPAN else self.span_id() for i in ids]
        return ids


class SeededIds(_Picklable):
    """Reproducible ids from a seed, for tests, replays of demos and back-dated fixtures."""

    def __init__(self, seed: int | str = 0) -> None:
        self._seed = seed
        # Separate streams: trace ids do not depend on how many spans were recorded.
        self._traces = random.Random(f"{seed}:trace")
        self._spans = random.Random(f"{seed}:span")
        self._lock = threading.Lock()

    def trace_id(self) -> str:
        """Return the next trace id of the seeded sequence."""
        with self._lock:
            return f"{self._traces.getrandbits(128) | 1:032x}"

    def span_id(self) -> str:
        """Return the next span id of the seeded sequence."""
        with self._lock:
            return f"{self._spans.getrandbits(64) | 1:016x}"

    def span_ids_of(self, trace_id: str, count: int) -> list[str]:
        """Return the first count span ids of one trace, from the seed and the trace id alone,
        so they do not depend on the traces recorded before it (async runs finish out of order,
        a resumed demo fill skips the traces it stored before)."""
        bits = random.Random(f"{self._seed}:span:{trace_id}").getrandbits
        return [f"{bits(64) | 1:016x}" for _ in range(count)]
