"""Reads a trace file into span rows: one JSON document or JSON lines, format detected.

Formats: OTLP JSON (an object with `resourceSpans`, one per line allowed), Jaeger query-API JSON
(an object with `data`) and Zipkin v2 JSON (an array of span objects). Every problem becomes a
MalformedFile naming the file and the line (and column, for JSON syntax) that is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from json.decoder import scanstring  # type: ignore[attr-defined]  # typeshed omits it; CPython has it
from typing import Any

from ..codec import SURROGATE
from ..models import SpanRow
from .errors import Invalid, MalformedFile
from .jaeger_in import parse_jaeger
from .otlp_in import parse_otlp
from .zipkin_in import parse_zipkin

FORMATS = ("otlp", "jaeger", "zipkin")
FORMAT_NAMES = "OTLP JSON, Jaeger JSON or Zipkin v2 JSON"
_WS = " \t\r\n"
_SURROGATE_IN_TEXT = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")


@dataclass(slots=True)
class ParsedFile:
    """All spans of one file in file order, and the format they were in."""

    format: str
    spans: list[SpanRow]


def parse_text(text: str, name: str) -> ParsedFile:
    """Parse a file's text; raises MalformedFile with `name:line: what` on anything wrong."""
    if not text.strip():
        raise MalformedFile(f"{name}: the file is empty")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" or _first_line_parses(text):
            return _parse_lines(text, name)
        raise _not_json(f"{name}:{exc.lineno}:{exc.colno}", exc, text) from None
    except RecursionError:
        raise MalformedFile(f"{name}: JSON nested too deeply") from None
    fmt, parse = _detect(doc, name, None)
    try:
        return ParsedFile(fmt, parse(_valid_unicode(doc, text)))
    except Invalid as exc:
        line = locate(text, exc.path)
        raise MalformedFile(f"{name}:{line}: {exc.where()} {exc.message}") from None
    except RecursionError:
        raise MalformedFile(f"{name}: values nested too deeply") from None


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


def _parse_lines(text: str, name: str) -> ParsedFile:
    spans: list[SpanRow] = []
    fmt = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _not_json(f"{name}:{number}:{exc.colno}", exc, line) from None
        except RecursionError:
            raise MalformedFile(f"{name}:{number}: JSON nested too deeply") from None
        line_fmt, parse = _detect(doc, name, number)
        if fmt is not None and line_fmt != fmt:
            raise MalformedFile(f"{name}:{number}: {line_fmt} data after {fmt} data")
        fmt = line_fmt
        try:
            spans += parse(_valid_unicode(doc, line))
        except Invalid as exc:
            raise MalformedFile(f"{name}:{number}: {exc.where()} {exc.message}") from None
        except RecursionError:
            raise MalformedFile(f"{name}:{number}: values nested too deeply") from None
    return ParsedFile(fmt or "otlp", spans)


def _valid_unicode(doc: Any, text: str) -> Any:
    """The document with each unpaired surrogate (a lone JSON \\ud800 escape) replaced by U+FFFD,
    which UTF-8 can store; only a text that has one is walked."""
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


def _detect(doc: Any, name: str, line: int | None) -> tuple[str, Callable[[Any], list[SpanRow]]]:
    """Which format a parsed document is in, by its shape."""
    if type(doc) is dict:
        if "resourceSpans" in doc:
            return "otlp", parse_otlp
        if "data" in doc:
            return "jaeger", parse_jaeger
    if type(doc) is list and all(type(s) is dict and "traceId" in s for s in doc[:1]):
        return "zipkin", parse_zipkin
    where = f"{name}:{line}" if line else name
    raise MalformedFile(
        f"{where}: unknown format: expected OTLP JSON (resourceSpans), "
        "Jaeger JSON (data) or Zipkin v2 JSON (an array of spans)"
    )


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
