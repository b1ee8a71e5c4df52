"""A recorder process: trace records are built and delivered beside the caller, not inside it.

The engine packs each execution's raw facts with one MessagePack call (which also copies the
input); a sender thread ships the packed bytes in batches over a pipe, and a spawned child
process builds the records and hands them to a sink made there. The caller's process pays a
few microseconds per trace for packing instead of building the record.
"""

from __future__ import annotations

import gc
import marshal
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from pipetrace.engine.dispatch import Dispatcher, sink_written
from pipetrace.engine.errors import EngineError
from pipetrace.engine.record import Recorder
from pipetrace.engine.tracing import TraceSink

# Items of a batch: packed facts (bytes), a flush request (its number), or None to stop.
_Item = bytes | int | None
_MAX_BATCH = 1024
_STALL = 0
"""The number of a reply that passes on the sink's stall (flush requests count from 1)."""
_WATCH_EVERY = 0.2
"""Seconds between looks at what a flushing sink's `stall` says."""
_GC_THRESHOLDS = (50_000, 20, 20)
_NICE = 19
"""The recorder process's niceness: the lowest priority."""


@dataclass(frozen=True)
class OutOfProcess:
    """Give this as an Engine's sink to build and deliver records in a recorder process.

    The factory makes the real sink inside that process, so it must be picklable (a
    module-level function, class or functools.partial of one), as must the engine's id source.
    A sink may have a `stall` attribute saying why it cannot deliver just now (a store it
    cannot reach); while the sink flushes, the engine's delivery_stall follows it.
    """

    factory: Callable[[], TraceSink]
    """Builds the sink in the recorder process (called once, when the process starts)."""
    batch_interval: float = 0.02
    """Seconds between shipments of queued facts; flush() and close() ship at once."""


class ProcessDispatcher(Dispatcher):
    """Delivery through a recorder process; submitted and sink_errors are the child's counts as
    of the latest flush() or close()."""

    def __init__(self, spec: OutOfProcess, recorder: Recorder, max_pending: int = 10_000) -> None:
        super().__init__(max_pending)
        self._interval = spec.batch_interval
        self._flush_lock = threading.Lock()
        self._requests = 0
        context = multiprocessing.get_context("spawn")
        facts_in, self._facts = context.Pipe(duplex=False)
        self._replies, replies_out = context.Pipe(duplex=False)
        self._process = context.Process(
            target=serve,
            args=(spec.factory, recorder, facts_in, replies_out),
            name="pipetrace-recorder",
            daemon=True,
        )
        try:
            self._process.start()
        except (pickle.PicklingError, TypeError, AttributeError, OSError) as exc:
            for end in (facts_in, self._facts, self._replies, replies_out):
                end.close()
            if isinstance(exc, OSError):
                message = f"the recorder process could not start: {exc}"
            else:
                message = f"the recorder process cannot take this sink or id source: {exc}"
            raise EngineError(message) from None
        facts_in.close()
        replies_out.close()
        self._sender = threading.Thread(target=self._send, name="pipetrace-sender", daemon=True)
        self._sender.start()

    def _send(self) -> None:
        """Ship what is queued, one batch per wake-up, until stopped and drained."""
        queue, wake = self._queue, self._wake
        while True:
            wake.wait(self._interval)
            wake.clear()
            while queue:
                batch: list[_Item] = []
                while queue and len(batch) < _MAX_BATCH:
                    batch.append(queue.popleft())
                try:
                    self._facts.send_bytes(marshal.dumps(batch))
                except OSError as exc:
                    self._lost(batch, f"the recorder process is gone ({exc})")
                    return
                if batch[-1] is None:
                    return

    def _lost(self, batch: list[_Item], reason: str) -> None:
        """Count what can no longer be delivered once the child has died."""
        self._stop = True
        self.error = self.error or reason
        self.dropped += sum(1 for item in batch if type(item) is bytes)
        while self._queue:
            if type(self._queue.popleft()) is bytes:
                self.dropped += 1

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued record reached the sink in the child (and it flushed)."""
        end = time.monotonic() + timeout
        with self._flush_lock:
            if self._stop:
                return False
            self._requests += 1
            request = self._requests
            self.stall = None
            self._queue.append(request)
            self._wake.set()
            return self._await(request, end)

    def _await(self, request: int, end: float) -> bool:
        """Read the child's replies until the one for request arrives (or time runs out)."""
        while True:
            remaining = end - time.monotonic()
            try:
                if remaining <= 0 or not self._replies.poll(remaining):
                    return False
                answered, self.submitted, self.sink_errors, error, written = marshal.loads(
                    self._replies.recv_bytes()
                )
            except (EOFError, OSError):
                self.error = self.error or "the recorder process stopped"
                return False
            if written is not None:
                self.written = written
            if answered == _STALL:
                self.stall = error
                continue
            self.error = error or self.error
            if answered == request or answered is None:
                self.stall = None
                return True

    def close(self, timeout: float = 5.0) -> bool:
        """Deliver what is queued (up to timeout), let the child close its sink, and stop it."""
        end = time.monotonic() + timeout
        with self._flush_lock:
            stopped = self._stop
            self._stop = True
            if not stopped:
                self.stall = None
                self._queue.append(None)
                self._wake.set()
            done = not stopped and self._await(-1, end)
        self._sender.join(max(0.0, end - time.monotonic()))
        self._process.join(max(0.1, end - time.monotonic()))
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(1.0)
        self._facts.close()
        self._replies.close()
        return done


def serve(
    factory: Callable[[], TraceSink], recorder: Recorder, facts: Connection, replies: Connection
) -> None:
    """The recorder process: build each record, submit it, answer flushes; stop on None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Building records must never take a core from a decision: this process runs on what the
    # callers leave (a flush waits for it, and then it has the machine).
    os.nice(_NICE)
    submitted = errors = 0
    error: str | None = None
    sink: Any = None

    def report(stall: str | None) -> None:
        """Pass what the sink's stall says on to the caller, with the counts so far."""
        replies.send_bytes(marshal.dumps((_STALL, submitted, errors, stall, sink_written(sink))))

    try:
        sink = factory()
    except Exception as exc:
        error = f"the sink factory failed: {type(exc).__name__}: {exc}"
    # This process only builds short-lived records: collect the young generation less often
    # and leave what start-up made out of every collection.
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)
    while True:
        try:
            batch = marshal.loads(facts.recv_bytes())
        except (EOFError, OSError):
            _call(sink, "close")
            return
        for item in batch:
            if type(item) is bytes:
                if sink is None:
                    errors += 1
                    continue
                try:
                    sink.submit(recorder.build(item))
                    submitted += 1
                except Exception as exc:
                    errors += 1
                    error = f"the sink failed: {type(exc).__name__}: {exc}"
                continue
            error = _call(sink, "close" if item is None else "flush", report) or error
            reply = (item, submitted, errors, error, sink_written(sink))
            replies.send_bytes(marshal.dumps(reply))
            if item is None:
                return


def _call(sink: Any, name: str, report: Callable[[str | None], None] | None = None) -> str | None:
    """Call the sink's flush or close (a store writer drains then) when it has one, reporting
    its stall meanwhile, so a caller whose wait runs out first knows why; return what went
    wrong, if anything."""
    method = getattr(sink, name, None)
    if method is None:
        return None
    done = threading.Event()
    watcher = None
    if report is not None:
        watcher = threading.Thread(
            target=_watch_stall, args=(sink, report, done), name="pipetrace-stall", daemon=True
        )
        watcher.start()
    try:
        method()
    except Exception as exc:
        return f"the sink's {name} failed: {type(exc).__name__}: {exc}"
    finally:
        done.set()
        if watcher is not None:
            watcher.join()
    return None


def _watch_stall(sink: Any, report: Callable[[str | None], None], done: threading.Event) -> None:
    """Report what the sink's stall says each time it changes, until done."""
    reported = None
    while True:
        try:
            stall = getattr(sink, "stall", None)
            stall = None if stall is None else str(stall)
        except Exception as exc:
            stall = f"the sink's stall failed: {type(exc).__name__}: {exc}"
        if stall != reported:
            reported = stall
            try:
                report(stall)
            except OSError:  # the caller is gone
                return
        if done.wait(_WATCH_EVERY):
            return
