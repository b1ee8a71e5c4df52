"""A SQLite store's disk space: how it is measured, and the one full VACUUM that gives every free
page back to the disk and switches an older store to incremental auto-vacuum, but only when the
disk has room for its two copies and the write lock comes free soon."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from rich.filesize import decimal

from ..errors import StoreError, StoreUnavailable
from ..models import StoreSpace, VacuumResult
from ..url import DatabaseTarget
from .sqlite import AUTO_VACUUM_MODES, SPACE_SQL

SQLITE_TEMP_FOLDERS = ("/var/tmp", "/usr/tmp", "/tmp", ".")
"""Where SQLite's unix build puts temporary files when SQLITE_TMPDIR and TMPDIR are unset."""
HEADROOM = 0.1
"""Each copy may come out this much larger than the pages in use (page maps, log headers)."""
MIN_HEADROOM = 1024 * 1024


def vacuum(
    target: DatabaseTarget, wait: float, on_start: Callable[[int], None] | None = None
) -> VacuumResult:
    """VACUUM in incremental auto-vacuum mode, then fold the log in and cut it to nothing.

    VACUUM copies the pages in use into a temporary database, then writes them back through the
    write-ahead log, holding the write lock throughout: writers wait until it ends.
    """
    path = Path(target.location)
    before = _on_disk(path)
    with _connection(target, wait) as conn:
        page_size, pages, free, mode = conn.execute(SPACE_SQL).fetchone()
        space = StoreSpace(pages * page_size, free * page_size, AUTO_VACUUM_MODES.get(mode, "none"))
        if not space.vacuum_helps:
            return VacuumResult(before, before, vacuumed=False, converted=False)
        in_use = space.size_bytes - space.free_bytes
        _check_room(target, in_use)
        if on_start is not None:
            on_start(in_use)
        try:
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.DatabaseError as exc:
            raise _explain(target, wait, exc) from None
    converted = space.mode != "incremental"
    return VacuumResult(before, _on_disk(path), vacuumed=True, converted=converted)


@contextlib.contextmanager
def _connection(target: DatabaseTarget, wait: float) -> Iterator[sqlite3.Connection]:
    """A connection of its own that waits `wait` seconds at most for a lock."""
    try:
        conn = sqlite3.connect(target.location, timeout=wait, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"{target.display}: cannot open the file ({exc})") from None
    try:
        yield conn
    finally:
        conn.close()


def _explain(target: DatabaseTarget, wait: float, exc: sqlite3.DatabaseError) -> StoreError:
    """One line for the usual failures: busy, or the disk filled up after all."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreUnavailable(
            f"{target.display}: the store is busy: another connection kept its write lock for "
            f"{wait:g} s (a cleanup, an import or a long write); nothing was changed; try again "
            "when it is done, or give a longer --wait"
        )
    if "full" in text:
        return StoreError(
            f"{target.display}: the disk filled up during VACUUM ({text}); nothing was changed"
        )
    return StoreError(f"{target.display}: VACUUM failed ({text})")


def _check_room(target: DatabaseTarget, in_use: int) -> None:
    """Refuse unless the database's folder has room for the rewritten pages (in the log) and
    SQLite's temporary folder for the copy it builds first; both, if they share a disk."""
    need = in_use + max(int(in_use * HEADROOM), MIN_HEADROOM)
    store_folder = Path(target.location).resolve().parent
    temp_folder = _sqlite_temp_folder()
    if os.stat(store_folder).st_dev == os.stat(temp_folder).st_dev:
        places = [(store_folder, 2 * need, f"a copy in {temp_folder} and one in the log")]
    else:
        places = [
            (store_folder, need, "a copy in the log beside the file"),
            (temp_folder, need, "a temporary copy (SQLITE_TMPDIR)"),
        ]
    for folder, needed, why in places:
        available = shutil.disk_usage(folder).free
        if available < needed:
            raise StoreError(
                f"{target.display}: not enough free disk space to vacuum: the store holds "
                f"{decimal(in_use)} of data and VACUUM writes it twice ({why}), which needs "
                f"about {decimal(needed)} free in {folder}, but only {decimal(available)} is; "
                "nothing was changed (free some space, or set SQLITE_TMPDIR to a folder on a "
                "larger disk)"
            )


def _sqlite_temp_folder() -> Path:
    """The folder SQLite writes VACUUM's temporary database to, searched as its unix build does.

    SQLite itself reads SQLITE_TMPDIR and TMPDIR from the process environment, so this reads
    them there too, not from pipetrace's settings: the check must see what SQLite will see."""
    if os.name != "posix":
        return Path(tempfile.gettempdir())
    named = [os.environ.get("SQLITE_TMPDIR"), os.environ.get("TMPDIR")]
    for folder in [*[f for f in named if f], *SQLITE_TEMP_FOLDERS]:
        if os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
            return Path(folder).resolve()
    return Path.cwd()


def _on_disk(path: Path) -> int:
    """The database file and its write-ahead log, as they take up disk now."""
    return sum(_size(Path(f"{path}{suffix}")) for suffix in ("", "-wal"))


def _size(path: Path) -> int:
    """A file's size; 0 when there is none (no log yet, or it was removed at close)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
