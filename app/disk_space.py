"""Disk space in words: what a store takes, and what cleanup and vacuum gave back, so an operator
freeing a full disk knows whether it worked and what to do next."""

from __future__ import annotations

from typing import Any

from rich.filesize import decimal

from pipetrace.store import StoreSpace


def space_json(space: StoreSpace | None, freed_bytes: int) -> dict[str, Any]:
    """The space keys of the cleanup answer; null where the store could not be measured."""
    return {
        "freed_bytes": freed_bytes,
        "size_bytes": space.size_bytes if space else None,
        "free_bytes": space.free_bytes if space else None,
        "space_mode": space.mode if space else None,
    }


def space_line(space: StoreSpace, freed_bytes: int | None = None) -> str:
    """After a cleanup (`freed_bytes` given) what it gave back; before one, what it will."""
    size, free = decimal(space.size_bytes), decimal(space.free_bytes)
    if space.mode == "server":
        return (
            f"disk space is managed by the libSQL server (it takes no VACUUM from clients); "
            f"the database is {size}, {free} of it free pages that new traces reuse"
        )
    if space.mode == "none":
        state = f"is {size} ({free} free)" if freed_bytes is None else f"stays {size}"
        kept = "freed pages" if freed_bytes is None else f"the freed pages ({free})"
        return (
            f"the file {state}: this store predates incremental auto-vacuum and keeps {kept} "
            "for new traces; run `pipetrace db vacuum` once to give them back to the disk and "
            "make later cleanups shrink the file"
        )
    if freed_bytes is None:
        return f"the file is {size} ({free} free); cleanup gives what it frees back to the disk"
    if space.mode == "full":
        return f"SQLite gave the freed pages back as it committed; the file is now {size}"
    return f"the file shrank by {decimal(freed_bytes)} to {size}"
