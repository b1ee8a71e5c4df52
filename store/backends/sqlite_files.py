"""Which files may be opened as a SQLite store, and how: a command that may not create a store
never turns a missing file, an empty one, a pipe or a device into one, and a store on a
read-only mount or snapshot is opened for reading instead of failing to open."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import StoreUnavailable
from ..url import DatabaseTarget

HOW_TO_MAKE = (
    "make one with pipetrace demo (sample traffic), pipetrace run or pipetrace import, "
    "or name another with --db / PIPETRACE_DB"
)
SPECIAL_FILES = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def check_store_file(target: DatabaseTarget, path: Path, *, create: bool) -> None:
    """Refuse, in one line, a path that is no store file: a folder or a special file always;
    without `create` also a missing or empty file (the default store's included)."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        if create:
            return
        if target.is_default:
            raise StoreUnavailable(f"no store at {target.display}: {HOW_TO_MAKE}") from None
        raise StoreUnavailable(
            f"no store at {target.display} (check --db / PIPETRACE_DB; "
            "only commands that add traces create one)"
        ) from None
    except OSError as exc:
        raise StoreUnavailable(f"{target.display}: cannot open the file ({exc})") from None
    if stat.S_ISDIR(mode):
        raise StoreUnavailable(f"{target.display}: is a folder, not a database file")
    for test, what in SPECIAL_FILES:
        if test(mode):
            raise StoreUnavailable(f"{target.display}: is {what}, not a pipetrace store")
    if not create and path.stat().st_size == 0:
        raise StoreUnavailable(
            f"{target.display}: is an empty file (0 bytes), not a pipetrace store; {HOW_TO_MAKE}"
        )


def is_read_only(path: Path) -> bool:
    """Whether the store cannot be written where it is: a read-only file, folder or mount."""
    return not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def read_only_uri(path: Path) -> str:
    """The SQLite URI that reads a store that cannot be written.

    SQLite reads a store in WAL mode through its -shm file, which it cannot create in a
    read-only folder: there it is told the file will not change (immutable), which is true
    while no write-ahead log is waiting to be folded in; with one, it reads log and file.
    """
    uri = path.absolute().as_uri()
    wal = Path(f"{path}-wal")
    if os.access(path.parent, os.W_OK) or (wal.exists() and wal.stat().st_size > 0):
        return f"{uri}?mode=ro"
    return f"{uri}?immutable=1"


def read_write_uri(path: Path) -> str:
    """The SQLite URI that opens an existing store for writing and never creates one."""
    return f"{path.absolute().as_uri()}?mode=rw"
