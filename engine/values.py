"""Bounded handling of data crossing the sandbox: input checks, Lua-to-Python, caps."""

from __future__ import annotations

import marshal
import re
from collections.abc import Sequence
from typing import Any

_INT64 = 1 << 63


_SURROGATE = re.compile("[\ud800-\udfff]")


class InputError(ValueError):
    """A trigger input that breaks the input limits or is not JSON-like."""


class _NotUnicode(InputError):
    """Text with a lone surrogate, which no UTF-8 encoder (Lua's, the store's) takes; it collects
    the keys on its way out, so the message can say where it is."""

    def __init__(self) -> None:
        super().__init__()
        self.path: list[str] = []
        self.in_key = False


def measure_input(value: Any, max_bytes: int, max_depth: int) -> int:
    """Return the approximate JSON size of an input, refusing oversized, deep or odd values."""
    try:
        size = _measure(value, 1, max_depth, max_bytes, 0)
    except _NotUnicode as exc:
        path = ".".join(part[:64] for part in reversed(exc.path))
        where = f"input key {path!r}" if exc.path else "input"
        what = "is" if exc.in_key else "holds text that is"
        raise InputError(f"{where} {what} not valid Unicode (a lone surrogate)") from None
    if size > max_bytes:
        raise InputError(f"input too large ({size} > {max_bytes} bytes)")
    return size


def _measure(value: Any, depth: int, max_depth: int, max_bytes: int, acc: int) -> int:
    """Walk one value, adding its approximate encoded size to acc."""
    if isinstance(value, str):
        if not value.isascii() and _SURROGATE.search(value):  # ASCII: one flag check
            raise _NotUnicode()
        return acc + len(value) + 2
    if value is None or isinstance(value, bool):
        return acc + 5
    if isinstance(value, int):
        if not -_INT64 <= value < _INT64:
            raise InputError("input contains an integer outside the 64-bit range")
        return acc + 8
    if isinstance(value, float):
        return acc + 8
    if isinstance(value, dict | list | tuple):
        if depth > max_depth:
            raise InputError(f"input too deep (max {max_depth})")
        acc += 2
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise InputError(f"input has a non-string key {key!r}")
                if not key.isascii() and _SURROGATE.search(key):
                    bad_key = _NotUnicode()
                    bad_key.path.append(key)
                    bad_key.in_key = True
                    raise bad_key
                try:
                    acc = _measure(item, depth + 1, max_depth, max_bytes, acc + len(key) + 3)
                except _NotUnicode as exc:
                    exc.path.append(key)
                    raise
                if acc > max_bytes:
                    raise InputError(f"input too large (over {max_bytes} bytes)")
        else:
            for index, item in enumerate(value):
                try:
                    acc = _measure(item, depth + 1, max_depth, max_bytes, acc + 1)
                except _NotUnicode as exc:
                    exc.path.append(str(index))
                    raise
                if acc > max_bytes:
                    raise InputError(f"input too large (over {max_bytes} bytes)")
        return acc
    raise InputError(f"input contains a {type(value).__name__} value")


def decode(tokens: Sequence[Any], start: int = 0) -> tuple[Any, int]:
    """Rebuild a value flattened by the sandbox (None, size, then items); returns value and end."""
    token = tokens[start]
    if token is not None:
        return token, start + 1
    size = tokens[start + 1]
    pos = start + 2
    if size < 0:
        items = []
        for _ in range(-size):
            item, pos = decode(tokens, pos)
            items.append(item)
        return items, pos
    table = {}
    for _ in range(size):
        key = tokens[pos]
        table[key], pos = decode(tokens, pos + 1)
    return table, pos


def approx_size(value: Any) -> int:
    """Estimate the JSON size of a JSON-like value without encoding it."""
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, dict):
        size = 2
        for key, item in value.items():
            kind = type(item)
            if kind is str:
                size += len(key) + len(item) + 5
            elif kind is int or kind is float or kind is bool or item is None:
                size += len(key) + 11
            else:
                size += len(key) + 3 + approx_size(item)
        return size
    if isinstance(value, list | tuple):
        return 2 + sum(1 + approx_size(v) for v in value)
    return 8


# approx_size never exceeds this many times the value's marshal (version 2) length: a boolean
# in a list is its worst case, 9 estimated bytes for 1 marshalled byte.
SIZE_BOUND = 9


def capped(value: Any, max_bytes: int) -> Any:
    """Return the value, or a truncation marker with its size when it is over the cap."""
    try:
        if SIZE_BOUND * len(marshal.dumps(value, 2)) <= max_bytes:
            return value  # one C call proves the usual small value is under the cap
    except ValueError:
        pass
    size = approx_size(value)
    if size > max_bytes:
        return {"_truncated": True, "size": size}
    return value


def clone(value: Any) -> Any:
    """Copy a JSON-like value (tuples become lists) so later changes by the caller cannot leak."""
    if isinstance(value, dict):
        return {k: clone(v) if isinstance(v, dict | list | tuple) else v for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clone(v) if isinstance(v, dict | list | tuple) else v for v in value]
    return value


def plain(value: Any) -> Any:
    """Copy a JSON-like value into exact built-in types (an OrderedDict or an enum becomes its
    base type, tuples become lists), which marshal needs."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
