"""Reads a trace file as a stream of spans: one JSON document or JSON lines, format detected.

Formats: OTLP JSON (an object with `resourceSpans`, one per line allowed), Jaeger JSON (the query
API's `{"data": [...]}`, one trace object, or a list of them) and Zipkin JSON (an array of
span objects, v2 or v1, or the API's array of traces). Every problem becomes a MalformedFile
naming the file and the line (and column, for JSON syntax) that is wrong. A file up to
WHOLE_LIMIT is read whole; a larger one is read a line at a time, and a document (or line)
larger than LINE_LIMIT is streamed (see `streaming`), so memory does not grow with the file.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from json.decoder import scanstring  # type: ignore[attr-defined]  # typeshed omits it; CPython has it
from typing import Any, BinaryIO

import ijson

from .errors import Invalid, MalformedFile
from .jaeger_in import (
    TRACE_KEYS,
    parse_jaeger,
    parse_jaeger_list,
    parse_jaeger_trace,
    stream_jaeger,
)
from .otlp_fast import quick_otlp
from .otlp_in import parse_otlp, stream_otlp
from .spans import Item
from .streaming import Opener, Readable, first_keys
from .zipkin_in import parse_zipkin, stream_zipkin

FORMATS = ("otlp", "jaeger", "zipkin")
FORMAT_NAMES = "OTLP JSON, Jaeger JSON or Zipkin JSON"
WHOLE_LIMIT = 8 * 2**20
"""Bytes of a file read whole; a larger file is read a line (or a span) at a time."""
LINE_LIMIT = 8 * 2**20
"""Bytes of one JSON line parsed whole; a longer line is streamed."""
_WS = " \t\r\n"
SURROGATE = re.compile("[\ud800-\udfff]")
"""A lone surrogate: what a decoded string holds only when its escape was unpaired."""
_SURROGATE_IN_TEXT = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")
_UNKNOWN = (
    "unknown format: expected OTLP JSON (resourceSpans), Jaeger JSON (data, or a trace object "
    "with spans) or Zipkin JSON (an array of spans or of traces, v2 or v1)"
)
Parse = Callable[[Any], Iterator[Item]]


@dataclass(slots=True)
class Reading:
    """The spans of one file as they are read, and the format they are in."""

    format: str
    items: Iterator[Item]


# -- a text in memory -----------------------------------------------------------------------


def read_text(text: str, name: str) -> Reading:
    """Read a file's whole text; its spans raise MalformedFile (`name:line: what`) as they come
    to anything wrong."""
    if not text.strip():
        raise MalformedFile(f"{name}: the file is empty")
    quick = quick_otlp(text) if text.lstrip(_WS).startswith("{") else None
    if quick is not None:
        return Reading("otlp", iter(quick))
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" or _first_line_parses(text):
            return _read_lines(enumerate(text.splitlines(), 1), name)
        raise _not_json(f"{name}:{exc.lineno}:{exc.colno}", exc, text) from None
    except RecursionError:
        raise MalformedFile(f"{name}: JSON nested too deeply") from None
    fmt, parse = _detect(doc, name, None)
    return Reading(fmt, _located(parse(valid_unicode(doc, text)), name, text, None))


def _located(items: Iterator[Item], name: str, text: str, line: int | None) -> Iterator[Item]:
    """`items`, with a bad value refused as `name:line: path what` (the line found in `text`,
    or `line` for a JSON line)."""
    try:
        yield from items
    except Invalid as exc:
        found = line if line is not None else locate(text, exc.path)
        raise MalformedFile(f"{name}:{found}: {exc.where()} {exc.message}") from None
    except RecursionError:
        where = f"{name}:{line}" if line is not None else name
        raise MalformedFile(f"{where}: values nested too deeply") from None


def _not_json(where: str, exc: json.JSONDecodeError, text: str) -> MalformedFile:
    """A JSON syntax error in `run --input`'s words; a text that does not even start like JSON
    (a README, a CSV) also hears which files import takes."""
    message = f"{where}: not valid JSON ({exc.msg})"
    if not text.lstrip(_WS).startswith(("{", "[")):
        message += f"; import takes {FORMAT_NAMES}"
    return MalformedFile(message)


def _first_line_parses(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return False
    try:
        json.loads(lines[0])
    except (json.JSONDecodeError, RecursionError):
        return False
    return True


def _read_lines(lines: Iterator[tuple[int, str]], name: str) -> Reading:
    """JSON lines, each one document of the same format; the first decides the format."""
    documents = _documents(lines, name)
    first = next(documents, None)
    if first is None:
        return Reading("otlp", iter(()))
    return Reading(first[0], _line_items(first, documents, name))


def _documents(lines: Iterator[tuple[int, str]], name: str) -> Iterator[tuple[str, Iterator[Item]]]:
    """Each non-blank line as (format, its spans)."""
    for number, line in lines:
        if not line.strip():
            continue
        quick = quick_otlp(line)
        if quick is not None:
            yield "otlp", iter(quick)
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _not_json(f"{name}:{number}:{exc.colno}", exc, line) from None
        except RecursionError:
            raise MalformedFile(f"{name}:{number}: JSON nested too deeply") from None
        fmt, parse = _detect(doc, name, number)
        yield fmt, _located(parse(valid_unicode(doc, line)), name, line, number)


def _line_items(
    first: tuple[str, Iterator[Item]],
    rest: Iterator[tuple[str, Iterator[Item]]],
    name: str,
) -> Iterator[Item]:
    fmt, items = first
    yield from items
    for number, (line_fmt, line_items) in enumerate(rest, 2):
        if line_fmt != fmt:
            raise MalformedFile(f"{name}: {line_fmt} data after {fmt} data (line {number})")
        yield from line_items


def valid_unicode(doc: Any, text: str) -> Any:
    """The document with each unpaired surrogate (a lone JSON \\ud800 escape) replaced by U+FFFD,
    which UTF-8 can store; only a text that has one is walked."""
    if "\\u" not in text and text.isascii():
        return doc
    return _replace_surrogates(doc) if _SURROGATE_IN_TEXT.search(text) else doc


def _replace_surrogates(value: Any) -> Any:
    """Every string of a parsed JSON value, keys included, without unpaired surrogates."""
    if type(value) is str:
        return SURROGATE.sub("\ufffd", value)
    if type(value) is list:
        return [_replace_surrogates(v) for v in value]
    if type(value) is dict:
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    return value


def _detect(doc: Any, name: str, line: int | None) -> tuple[str, Parse]:
    """Which format a parsed document is in, by its shape."""
    if type(doc) is dict:
        if "resourceSpans" in doc:
            return "otlp", parse_otlp
        if "data" in doc:
            return "jaeger", parse_jaeger
        if doc.keys() & TRACE_KEYS:
            return "jaeger", parse_jaeger_trace
    if type(doc) is list:
        first = doc[0] if doc else {"traceId": None}
        if type(first) is list:
            first = first[0] if first else {"traceId": None}
        if type(first) is dict and "traceId" in first:
            return "zipkin", parse_zipkin
        if type(first) is dict and first.keys() & TRACE_KEYS:
            return "jaeger", parse_jaeger_list
    where = f"{name}:{line}" if line else name
    raise MalformedFile(f"{where}: {_UNKNOWN}")


# -- a file too large to hold ---------------------------------------------------------------


def read_large(path: str, name: str) -> Reading:
    """Read a large file a line at a time, streaming any document or line over LINE_LIMIT; a
    document that spans lines (pretty-printed) is streamed whole."""
    with open(path, "rb") as handle:
        start = _content_start(handle)
        first = handle.readline(LINE_LIMIT + 1)
        at_end = not handle.read(1)
    if not first.strip():
        raise MalformedFile(f"{name}: the file is empty")
    complete = first.endswith(b"\n") or at_end
    if complete and len(first) <= LINE_LIMIT and not _parses(first):
        return _stream_region(path, name, start, os.path.getsize(path), None)
    return _read_lines_of(path, name)


def _parses(line: bytes) -> bool:
    try:
        json.loads(line)
    except (ValueError, RecursionError):
        return False
    return True


def _content_start(handle: Any) -> int:
    """The offset after a UTF-8 byte order mark and any blank lines; `handle` is left there."""
    offset = 3 if handle.read(3) == codecs.BOM_UTF8 else 0
    handle.seek(offset)
    while True:
        line = handle.readline(LINE_LIMIT + 1)
        if not line or line.strip():
            handle.seek(offset)
            return offset
        offset += len(line)


def _read_lines_of(path: str, name: str) -> Reading:
    """JSON lines read from the file one at a time (see `_read_lines`)."""
    documents = _file_documents(path, name)
    first = next(documents, None)
    if first is None:
        return Reading("otlp", iter(()))
    return Reading(first[0], _line_items(first, documents, name))


def _file_documents(path: str, name: str) -> Iterator[tuple[str, Iterator[Item]]]:
    """Each non-blank line of the file as (format, its spans); a line over LINE_LIMIT is
    streamed from the file instead of read."""
    with open(path, "rb") as handle:
        offset = 3 if handle.read(3) == codecs.BOM_UTF8 else 0
        handle.seek(offset)
        number = 0
        while True:
            raw = handle.readline(LINE_LIMIT + 1)
            if not raw:
                return
            number += 1
            start, offset = offset, offset + len(raw)
            if len(raw) > LINE_LIMIT and not raw.endswith(b"\n"):
                rest = _skip_line(handle)
                offset += rest
                reading = _stream_region(path, name, start, offset, number)
                yield reading.format, reading.items
                continue
            if not raw.strip():
                continue
            quick = quick_otlp(raw)
            if quick is not None:
                yield "otlp", iter(quick)
                continue
            yield from _documents(iter([(number, _decoded(raw, name, start))]), name)


def _skip_line(handle: Any) -> int:
    """Read past the rest of a long line; returns how many bytes it had."""
    skipped = 0
    while True:
        chunk = handle.readline(LINE_LIMIT)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped


def _decoded(raw: bytes, name: str, offset: int) -> str:
    """One line as text; a byte that is not UTF-8 is refused with its offset in the file."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(name, raw[exc.start], offset + exc.start) from None


def not_utf8(name: str, byte: int, offset: int) -> MalformedFile:
    """A file that is not UTF-8 text, refused with the offending byte and where it is."""
    return MalformedFile(
        f"{name}: not UTF-8 text (byte {byte:#04x} at offset {offset}); import takes {FORMAT_NAMES}"
    )


_ENOUGH = frozenset(("resourceSpans", "data", "traceId", *TRACE_KEYS))


def _stream_region(path: str, name: str, start: int, end: int, line: int | None) -> Reading:
    """A document at bytes [start, end) of the file, streamed: its format from its first keys,
    then its spans one at a time."""
    opener = _opener(path, name, start, end)
    where = f"{name}:{line}" if line else name
    with _json_errors(where), opener() as handle:
        kind, keys = first_keys(handle, _ENOUGH)
    if kind == "object" and "resourceSpans" in keys:
        fmt, items = "otlp", stream_otlp(opener)
    elif kind == "object" and "data" in keys:
        fmt, items = "jaeger", stream_jaeger(opener, "data.*")
    elif kind == "object" and keys & TRACE_KEYS:
        fmt, items = "jaeger", stream_jaeger(opener, "")
    elif kind == "array" and (not keys or "traceId" in keys):
        fmt, items = "zipkin", stream_zipkin(opener)
    elif kind == "array" and keys & TRACE_KEYS:
        fmt, items = "jaeger", stream_jaeger(opener, "*")
    else:
        raise MalformedFile(f"{where}: {_UNKNOWN}")
    return Reading(fmt, _streamed(items, path, name, start, line))


def _streamed(
    items: Iterator[Item], path: str, name: str, start: int, line: int | None
) -> Iterator[Item]:
    """`items`, with broken JSON and bad values refused in one line; the line of a bad value
    is looked up only then, in the file's text (a JSON line names its own line)."""
    try:
        with _json_errors(f"{name}:{line}" if line else name):
            yield from items
    except Invalid as exc:
        if line is None:
            with open(path, "rb") as handle:
                before = handle.read(start).count(b"\n")
                text = handle.read().decode("utf-8", "replace")
            line = before + locate(text, exc.path)
        raise MalformedFile(f"{name}:{line}: {exc.where()} {exc.message}") from None


@contextmanager
def _json_errors(where: str) -> Iterator[None]:
    """ijson's complaint about broken JSON as a MalformedFile, in one line."""
    try:
        yield
    except ijson.JSONError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MalformedFile(f"{where}: not valid JSON ({detail.strip()})") from None


def _opener(path: str, name: str, start: int, end: int) -> Opener:
    """Opens bytes [start, end) of the file anew for each pass, checking they are UTF-8."""

    @contextmanager
    def opened() -> Iterator[Readable]:
        with open(path, "rb") as handle:
            handle.seek(start)
            yield _Region(handle, name, start, end)

    return opened


class _Region:
    """Part of an open file, read as the parser asks, with its bytes checked to be UTF-8."""

    def __init__(self, handle: BinaryIO, name: str, start: int, end: int) -> None:
        self.handle = handle
        self.name = name
        self.offset = start
        self.end = end
        self.check = codecs.getincrementaldecoder("utf-8")()

    def read(self, size: int = -1, /) -> bytes:
        """Up to `size` more bytes of the region; b"" at its end."""
        left = self.end - self.offset
        data = self.handle.read(left if size < 0 else min(size, left))
        try:
            self.check.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise not_utf8(self.name, data[exc.start], self.offset + exc.start) from None
        self.offset += len(data)
        return data


def locate(text: str, path: list[str | int]) -> int:
    """The line of the value at `path` in a JSON text (or of the deepest part that exists)."""
    decoder = json.JSONDecoder()
    pos = _skip(text, 0)
    try:
        for part in path:
            found = _child(text, pos, part, decoder)
            if found is None:
                break
            pos = found
    except (IndexError, ValueError):
        pass
    return text.count("\n", 0, pos) + 1


def _child(text: str, pos: int, part: str | int, decoder: json.JSONDecoder) -> int | None:
    """Where the member `part` of the container at `pos` starts, or None if it has none."""
    opening, closing = ("[", "]") if isinstance(part, int) else ("{", "}")
    if text[pos] != opening:
        return None
    pos = _skip(text, pos + 1)
    index = 0
    while text[pos] != closing:
        if isinstance(part, int):
            if index == part:
                return pos
        else:
            key, pos = scanstring(text, pos + 1)
            pos = _skip(text, _skip(text, pos) + 1)
            if key == part:
                return pos
        pos = _skip(text, decoder.raw_decode(text, pos)[1])
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
        index += 1
    return None


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos
