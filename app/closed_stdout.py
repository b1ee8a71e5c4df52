"""Output piped to a reader that stops early (`| head`) ends a command quietly with status 0,
as Unix tools do, instead of an error about a broken pipe."""

from __future__ import annotations

import contextlib
import os
import select
import sys
from collections.abc import Iterator


def stdout_reader_gone() -> bool:
    """Whether standard output is a pipe or socket whose reader has closed it (so a broken pipe
    is that reader leaving, not some other connection failing)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):  # replaced by a stream without a descriptor
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def _point_stdout_at_devnull() -> None:
    """Let later writes and the interpreter's last flush go nowhere instead of failing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


@contextlib.contextmanager
def quiet_when_reader_leaves() -> Iterator[None]:
    """Run a command; when standard output's reader has left, end with status 0 (or the status
    the command chose), saying nothing: output nobody reads is not an error."""
    try:
        yield
        sys.stdout.flush()  # met here, not in the interpreter's flush at exit
    except BrokenPipeError:
        if not stdout_reader_gone():
            raise
        _point_stdout_at_devnull()
        sys.exit(0)
    except SystemExit:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _point_stdout_at_devnull()
        raise
