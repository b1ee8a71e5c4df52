"""Reads the spans of one OTLP export request span by span, so one bad span does not cost the
others: a span the OTLP reader refuses (a bad id, an end before its start, a value of the wrong
type) is left out and counted with its reason, as OTLP's partial success reports it, while a
body that is no export request at all is refused whole.

A JSON body takes the quick reader (`otlp_fast`) when all of it is plain; anything else, and a
protobuf request turned into its JSON document (`otlp_proto`), goes through `otlp_in`'s checks a
span at a time, so both encodings give the rows an import of the same data gives.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .documents import valid_unicode
from .errors import Invalid, MalformedRequest
from .otlp_fast import quick_otlp
from .otlp_in import check_resource, check_scope, parse_span, span_base
from .spans import Item

_GROUPS = (("scopeSpans", "scope"), ("instrumentationLibrarySpans", "instrumentationLibrary"))


@dataclass(slots=True)
class Received:
    """The spans of a request that can be stored, and how many were refused and why."""

    items: list[Item] = field(default_factory=list)
    rejected: int = 0
    """Spans left out."""
    problem: str | None = None
    """Why the first span left out was, with its path in the request."""

    def reject(self, count: int, problem: str) -> None:
        """Leave `count` spans out for `problem`."""
        self.rejected += count
        if self.problem is None:
            self.problem = problem


def read_json_request(body: bytes) -> Received:
    """The spans of an OTLP JSON body (UTF-8, an ExportTraceServiceRequest object)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedRequest(f"the body is not UTF-8 (byte {exc.start})") from None
    quick = quick_otlp(text)
    if quick is not None:
        return Received(quick)
    try:
        return read_document(valid_unicode(json.loads(text), text))
    except json.JSONDecodeError as exc:
        raise MalformedRequest(
            f"the body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except RecursionError:
        raise MalformedRequest("the body is JSON nested too deeply") from None


def read_document(document: Any) -> Received:
    """The spans of an OTLP JSON document, each read on its own."""
    if type(document) is not dict:
        raise MalformedRequest("the body is not an ExportTraceServiceRequest object")
    resource_spans = document.get("resourceSpans")
    received = Received()
    if resource_spans is None:
        return received
    if type(resource_spans) is not list:
        raise MalformedRequest("resourceSpans is not a list")
    for ri, rs in enumerate(resource_spans):
        if type(rs) is not dict:
            raise MalformedRequest(f"resourceSpans[{ri}] is not an object")
        for where, spans, base, native in _groups(rs, f"resourceSpans[{ri}]", received):
            for pi, span in enumerate(spans):
                try:
                    received.items.append(parse_span(span, dict(base), native))
                except Invalid as exc:
                    received.reject(1, _located(f"{where}.spans[{pi}]", exc))
                except RecursionError:
                    received.reject(1, f"{where}.spans[{pi}]: values nested too deeply")
    return received


def _groups(
    rs: dict[str, Any], where: str, received: Received
) -> Iterator[tuple[str, list[Any], dict[str, Any], bool]]:
    """Each scope's (path, spans, what its spans keep in `extra`, whether pipetrace exported
    them); the spans of a group whose resource or scope is refused are left out."""
    key, scope_key = _GROUPS[0] if _GROUPS[0][0] in rs else _GROUPS[1]
    groups = rs.get(key) or []
    if type(groups) is not list:
        raise MalformedRequest(f"{where}.{key} is not a list")
    for si, ss in enumerate(groups):
        path = f"{where}.{key}[{si}]"
        if type(ss) is not dict:
            raise MalformedRequest(f"{path} is not an object")
        spans = ss.get("spans") or []
        if type(spans) is not list:
            raise MalformedRequest(f"{path}.spans is not a list")
        try:
            resource = check_resource(rs.get("resource"))
        except Invalid as exc:
            received.reject(len(spans), _located(where, exc))
            continue
        try:
            scope = check_scope(ss.get(scope_key), scope_key)
        except Invalid as exc:
            received.reject(len(spans), _located(path, exc))
            continue
        base, native = span_base(resource, rs.get("schemaUrl"), scope, ss.get("schemaUrl"))
        yield path, spans, base, native


def _located(prefix: str, exc: Invalid) -> str:
    """What was refused, at its path in the request (`resourceSpans[0]...spans[3].traceId`)."""
    inner = exc.where()
    return f"{prefix}.{inner} {exc.message}" if inner else f"{prefix} {exc.message}"
