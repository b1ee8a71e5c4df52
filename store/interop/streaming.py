"""Walks a JSON document too large to load whole, handing over only the parts a reader wants.

Built on ijson's parser events: each value at a wanted path (`resourceSpans.*.scopeSpans.*.spans.*`,
where `*` is any array index) is built whole and handed over with its path, so a reader holds
one span at a time however large the file is. The starts of other containers on the way can be
reported with their JSON type, so a reader can refuse a wrong shape or start a new group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import ijson

CONTAINERS = {"start_map": "object", "start_array": "array"}
ENDS = ("end_map", "end_array")
Path = tuple[str | int, ...]


class Readable(Protocol):
    """A binary file, or part of one, as the parser reads it."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to `size` more bytes; b"" at the end."""
        ...


Opener = Callable[[], AbstractContextManager[Readable]]
"""Opens the document anew (a reader may walk it more than once)."""


@dataclass(frozen=True, slots=True)
class Found:
    """A wanted value built whole, or a reported value's JSON type ("object", "array",
    "string", "number", "boolean", "null", ...) with `started` set."""

    path: Path
    value: Any
    started: bool = False


def walk(
    handle: Readable, values: Callable[[str], bool], starts: Callable[[str], bool]
) -> Iterator[Found]:
    """The values at paths `values` accepts, built whole, and the JSON type of the values at
    paths `starts` accepts (containers as they start); a path is named with `*` for array items
    (`data.*.spans.*`)."""
    path: list[str | int] = []
    shape: list[str] = []
    builder: Any = None
    depth = 0
    for _prefix, event, value in ijson.parse(handle, use_float=True):
        if builder is not None:
            builder.event(event, value)
            depth += 1 if event in CONTAINERS else -1 if event in ENDS else 0
            if depth == 0:
                yield Found(tuple(path), builder.value)
                builder = None
        elif event == "map_key":
            path[-1] = value
        elif event in ENDS:
            path.pop()
            shape.pop()
        else:
            if shape and shape[-1] == "array":
                path[-1] = int(path[-1]) + 1
            name = ".".join(
                "*" if kind == "array" else str(p) for p, kind in zip(path, shape, strict=True)
            )
            if values(name):
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
                if event in CONTAINERS:
                    depth = 1
                else:
                    yield Found(tuple(path), builder.value)
                    builder = None
            else:
                if starts(name):
                    yield Found(tuple(path), CONTAINERS.get(event, event), started=True)
                if event in CONTAINERS:
                    path.append(-1 if event == "start_array" else "")
                    shape.append(CONTAINERS[event])


def first_keys(handle: Readable, enough: frozenset[str]) -> tuple[str, set[str]]:
    """A document's JSON type ("object", "array", "string", ...) and the keys that tell its
    format: an object's own, or those of an array's first item; reading stops at a key in
    `enough` or at the end of that object."""
    kind = ""
    owner = ""
    keys: set[str] = set()
    for prefix, event, value in ijson.parse(handle, use_float=True):
        if not kind:
            kind = CONTAINERS.get(event, event)
            if event not in CONTAINERS:
                break
            owner = "" if event == "start_map" else "item"
        elif prefix != owner:
            continue
        elif event == "map_key":
            keys.add(value)
            if value in enough:
                break
        elif event != "start_map":
            break
    return kind, keys
