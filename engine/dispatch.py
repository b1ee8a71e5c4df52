"""Never-blocking trace delivery: the bounded queue every dispatcher shares, and a daemon thread
that builds records for a sink in this process, so a slow sink never delays a decision."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from pipetrace.engine.tracing import TraceRecord, TraceSink

# Waking rarely and draining in bursts keeps GIL hand-offs with the triggering threads few;
# flush() and close() wake the thread at once.
_IDLE_WAIT = 0.05


class Dispatcher:
    """A bounded queue the engine puts packed facts on without ever blocking; a subclass
    delivers their records and counts what it could not."""

    def __init__(self, max_pending: int) -> None:
        self._max = max_pending
        self._queue: deque[Any] = deque()
        self._wake = threading.Event()
        self._stop = False
        self.submitted = 0
        self.dropped = 0
        self.sink_errors = 0
        self.error: str | None = None
        """The latest reason records did not reach the sink, if any."""
        self.stall: str | None = None
        """Why the sink has not finished the latest flush, as it last said, if it said."""
        self.written: int | None = None
        """What the sink said it wrote at the latest flush or close (see sink_written)."""

    def put(self, packed: bytes) -> None:
        """Queue the packed facts of one execution; never blocks and never raises."""
        if len(self._queue) >= self._max or self._stop:
            self.dropped += 1
            return
        self._queue.append(packed)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until queued records reached the sink; False if that took too long."""
        raise NotImplementedError

    def close(self, timeout: float = 5.0) -> bool:
        """Deliver what is queued (up to timeout) and stop."""
        raise NotImplementedError


def sink_written(sink: Any) -> int | None:
    """What a sink says it wrote, durably, when it says (a store writer counts its committed
    traces in `written`), so a caller can report that instead of what it handed over."""
    try:
        written = getattr(sink, "written", None)
    except Exception:
        return None
    return written if type(written) is int else None


class TraceDispatcher(Dispatcher):
    """Fire-and-forget delivery to a sink in this process: build turns packed facts into a
    record on a daemon thread."""

    def __init__(
        self,
        sink: TraceSink,
        build: Callable[[bytes], TraceRecord],
        max_pending: int = 10_000,
    ) -> None:
        super().__init__(max_pending)
        self._sink = sink
        self._build = build
        self._busy = False
        self._thread = threading.Thread(target=self._work, name="pipetrace-sink", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        """Build and submit queued records until stopped and drained."""
        queue, build, submit = self._queue, self._build, self._sink.submit
        while True:
            self._busy = True
            try:
                facts = queue.popleft()
            except IndexError:
                self._busy = False
                if self._stop:
                    return
                self._wake.wait(_IDLE_WAIT)
                self._wake.clear()
                continue
            try:
                submit(build(facts))
                self.submitted += 1
            except Exception as exc:
                self.sink_errors += 1
                self.error = f"the sink failed: {type(exc).__name__}: {exc}"
            finally:
                self._busy = False

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until queued records reached the sink; False if the sink is still busy."""
        end = time.monotonic() + timeout
        self._wake.set()
        while self._queue or self._busy:
            if time.monotonic() > end:
                return False
            time.sleep(0.001)
        self.written = sink_written(self._sink)
        return True

    def close(self, timeout: float = 5.0) -> bool:
        """Drain what is queued (up to timeout) and stop the thread."""
        drained = self.flush(timeout)
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=0.1 if not drained else timeout)
        return drained
