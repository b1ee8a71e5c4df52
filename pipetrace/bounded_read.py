"""Reading a file a user names without trusting it: a FIFO, a device or a file larger than the
reader takes is refused before it is read whole, so `/dev/zero` cannot fill the memory and a
named pipe nobody writes cannot hang a command."""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


class RefusedFile(ValueError):
    """A file refused before it was read whole; the message is a fragment the caller prefixes
    with what and where (`--input /dev/zero: a device, not a regular file`)."""


class TooLarge(RefusedFile):
    """A file or stream holding more than the reader takes."""

    def __init__(self, limit: int, size: int | None = None) -> None:
        shown = "" if size is None else f"{size:,} bytes, "
        super().__init__(f"{shown}over the {limit:,} bytes accepted")
        self.limit = limit
        self.size = size


def read_regular_file(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; anything else is RefusedFile (an
    OSError when it cannot be opened at all)."""
    # O_NONBLOCK: opening a FIFO that no one writes returns at once instead of waiting.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        found = os.fstat(fd)
        for is_kind, kind in _KINDS:
            if is_kind(found.st_mode):
                raise RefusedFile(f"{kind}, not a regular file")
        if found.st_size > limit:
            raise TooLarge(limit, found.st_size)
        with open(fd, "rb", closefd=False) as handle:
            return read_stream(handle, limit)
    finally:
        os.close(fd)


def read_stream(stream: BinaryIO, limit: int) -> bytes:
    """At most `limit` bytes of a stream (standard input, say), refusing one that holds more
    after reading one byte past the limit, never the rest of it."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(limit)
    return data
