"""SIGTERM taken as Ctrl-C is, so a long command stopped by `kill`, `timeout` or a service
manager reports what it did in the same line as after Ctrl-C instead of vanishing mid-way."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

SIGNAL_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}
"""128 plus the signal's number, as a shell reports a command the signal ended."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt, so the same handling reports it."""


def exit_status(exc: BaseException | None = None, signum: int = signal.SIGINT) -> int:
    """The exit status of a command that `exc` (or else the signal `signum`) interrupted."""
    if isinstance(exc, Terminated):
        return SIGNAL_STATUS[signal.SIGTERM]
    return SIGNAL_STATUS.get(signal.Signals(signum), 130)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises Terminated (a KeyboardInterrupt); outside the main
    thread, where no handler can be set, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(_signum: int, _frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
