"""Reads one OTLP JSON document (TracesData or ExportTraceServiceRequest) into span rows.

Ids are lowercased (OTLP hex ids are case-insensitive), times are nanoseconds as strings or
numbers, enums as numbers or proto names; the pre-1.0 names instrumentationLibrarySpans and
instrumentationLibrary are accepted. A parent id that is not in the file is kept as given.
A document too large to load whole is streamed (`stream_otlp`): a first pass reads the
resources and scopes (an object may hold them after its spans), a second one span at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .anyvalue import check_attributes, decode_attributes
from .conventions import NATIVE_SCOPE, hex_id, kind_code, nanos, status_code
from .errors import Invalid
from .spans import Item, make_span, with_carried
from .streaming import Opener, walk

_COUNTS = ("droppedAttributesCount", "droppedEventsCount", "droppedLinksCount")
_PLAIN = frozenset(("traceId", "spanId", "parentSpanId", "name", "kind", "attributes", "status"))
_PLAIN |= {"startTimeUnixNano", "endTimeUnixNano"}
_GROUPS = (("scopeSpans", "scope"), ("instrumentationLibrarySpans", "instrumentationLibrary"))
_SPANS = {f"resourceSpans.*.{group}.*.spans.*" for group, _ in _GROUPS}
_CONTEXTS = {"resourceSpans.*.resource", "resourceSpans.*.schemaUrl"}
_CONTEXTS |= {f"resourceSpans.*.{g}.*.{scope}" for g, scope in _GROUPS}
_CONTEXTS |= {f"resourceSpans.*.{g}.*.schemaUrl" for g, _ in _GROUPS}
_SHAPES = {"resourceSpans", "resourceSpans.*"}
_SHAPES |= {f"resourceSpans.*.{g}{tail}" for g, _ in _GROUPS for tail in ("", ".*", ".*.spans")}


def parse_otlp(doc: dict[str, Any]) -> Iterator[Item]:
    """Every span of the document, in file order; raises Invalid with the path of a bad value."""
    resource_spans = doc.get("resourceSpans")
    if resource_spans is None:
        return
    if type(resource_spans) is not list:
        raise Invalid("is not a list", "resourceSpans")
    for ri, rs in enumerate(resource_spans):
        try:
            yield from _resource_spans(rs)
        except Invalid as exc:
            raise exc.at("resourceSpans", ri) from None


def _resource_spans(rs: Any) -> Iterator[Item]:
    if type(rs) is not dict:
        raise Invalid("is not an object")
    resource = check_resource(rs.get("resource"))
    key, scope_key = _GROUPS[0] if _GROUPS[0][0] in rs else _GROUPS[1]
    scope_spans = rs.get(key) or []
    if type(scope_spans) is not list:
        raise Invalid("is not a list", key)
    for si, ss in enumerate(scope_spans):
        try:
            if type(ss) is not dict:
                raise Invalid("is not an object")
            scope = check_scope(ss.get(scope_key), scope_key)
            base, native = span_base(resource, rs.get("schemaUrl"), scope, ss.get("schemaUrl"))
            spans = ss.get("spans") or []
            if type(spans) is not list:
                raise Invalid("is not a list", "spans")
            for pi, span in enumerate(spans):
                try:
                    yield parse_span(span, dict(base), native)
                except Invalid as exc:
                    raise exc.at("spans", pi) from None
        except Invalid as exc:
            raise exc.at(key, si) from None


def check_resource(resource: Any) -> dict[str, Any] | None:
    """A resource object, its attributes checked."""
    if resource is not None and type(resource) is not dict:
        raise Invalid("is not an object", "resource")
    if resource is not None:
        try:
            check_attributes(resource.get("attributes"))
        except Invalid as exc:
            raise exc.at("resource", "attributes") from None
    return resource


def check_scope(scope: Any, key: str) -> dict[str, Any] | None:
    """An instrumentation scope object, its attributes checked."""
    if scope is not None and type(scope) is not dict:
        raise Invalid("is not an object", key)
    if scope is not None:
        try:
            check_attributes(scope.get("attributes"))
        except Invalid as exc:
            raise exc.at(key, "attributes") from None
    return scope


def span_base(
    resource: dict[str, Any] | None,
    resource_schema: Any,
    scope: dict[str, Any] | None,
    scope_schema: Any,
) -> tuple[dict[str, Any], bool]:
    """What every span of a scopeSpans keeps in `extra`, and whether pipetrace exported them
    (under its own scope their resource is its own, and pipeline.* attributes are columns)."""
    if scope is not None and scope.get("name") == NATIVE_SCOPE:
        return {}, True
    base: dict[str, Any] = {}
    if resource:
        base["resource"] = resource
    if resource_schema:
        base["resourceSchemaUrl"] = resource_schema
    if scope:
        base["scope"] = scope
    if scope_schema:
        base["scopeSchemaUrl"] = scope_schema
    return base, False


def stream_otlp(open_region: Opener) -> Iterator[Item]:
    """The spans of a document too large to load, one at a time, each with its resource and
    scope; `open_region` opens the document anew for each of the two passes."""
    contexts: dict[tuple[str | int, ...], Any] = {}
    with open_region() as handle:
        for found in walk(handle, _CONTEXTS.__contains__, _SHAPES.__contains__):
            path = found.path
            if found.started:
                _check_shape(path, found.value)
            elif path[-1] == "resource":
                contexts[("resource", path[1])] = _located(check_resource, found.value, path[:2])
            elif path[-1] == "schemaUrl":
                contexts[("schema", *path[1:-1])] = found.value
            else:
                try:
                    contexts[("scope", path[1], path[3])] = check_scope(found.value, str(path[-1]))
                except Invalid as exc:
                    raise exc.at(*path[:4]) from None
    with open_region() as handle:
        for found in walk(handle, _SPANS.__contains__, lambda _name: False):
            _rs, ri, _group, si, _spans, _pi = found.path
            base, native = span_base(
                contexts.get(("resource", ri)),
                contexts.get(("schema", ri)),
                contexts.get(("scope", ri, si)),
                contexts.get(("schema", ri, _group, si)),
            )
            try:
                item = parse_span(found.value, dict(base), native)
            except Invalid as exc:
                raise exc.at(*found.path) from None
            yield item


def _located(parse: Callable[[Any], Any], value: Any, path: tuple[str | int, ...]) -> Any:
    """`parse(value)`, its Invalid placed at `path` in the document."""
    try:
        return parse(value)
    except Invalid as exc:
        raise exc.at(*path) from None


def _check_shape(path: tuple[str | int, ...], found: str) -> None:
    """Refuse a value of the wrong JSON type where OTLP has a list (a named field, which may be
    null) or an object (an item of a list)."""
    expected = "array" if isinstance(path[-1], str) else "object"
    if found != expected and not (expected == "array" and found == "null"):
        raise Invalid(f"is not {'a list' if expected == 'array' else 'an object'}", *path)


def parse_span(sp: Any, extra: dict[str, Any], native: bool = False) -> Item:
    """One OTLP span object; `extra` already holds its resource and scope, `native` says
    whether pipetrace exported it (see `spans.make_span`)."""
    if type(sp) is not dict:
        raise Invalid("is not an object")
    trace_id = hex_id(sp.get("traceId"), 32, "traceId")
    span_id = hex_id(sp.get("spanId"), 16, "spanId")
    parent = sp.get("parentSpanId")
    parent = hex_id(parent, 16, "parentSpanId") if parent else None
    name = sp.get("name", "")
    if type(name) is not str:
        raise Invalid("is not a string", "name")
    start = nanos(sp.get("startTimeUnixNano"), "startTimeUnixNano")
    end = sp.get("endTimeUnixNano")
    end = nanos(end, "endTimeUnixNano") if end not in (None, "0", 0) else None
    if end is not None and end < start:
        raise Invalid("is before startTimeUnixNano", "endTimeUnixNano")
    try:
        attributes, raw = decode_attributes(sp.get("attributes"))
    except Invalid as exc:
        raise exc.at("attributes") from None
    if raw:
        extra["otlpValues"] = raw
    status = sp.get("status") or {}
    if type(status) is not dict:
        raise Invalid("is not an object", "status")
    message = status.get("message") or None
    if message is not None and type(message) is not str:
        raise Invalid("is not a string", "status", "message")
    try:
        code = status_code(status.get("code"))
    except Invalid as exc:
        raise exc.at("status") from None
    if not sp.keys() <= _PLAIN:
        _rest(sp, extra)
    row = make_span(
        trace_id, span_id, parent, name, kind_code(sp.get("kind")), start, end,
        attributes, code, message, extra, native,
    )  # fmt: skip
    return with_carried(row) if native else row


def _rest(sp: dict[str, Any], extra: dict[str, Any]) -> None:
    """Validate and keep the fields a row has no column for: state, flags, counts, events, links."""
    state = sp.get("traceState")
    if state:
        if type(state) is not str:
            raise Invalid("is not a string", "traceState")
        extra["traceState"] = state
    flags = sp.get("flags")
    if flags:
        if type(flags) is not int or not 0 <= flags < 2**32:
            raise Invalid("is not a 32-bit unsigned integer", "flags")
        extra["flags"] = flags
    for key in _COUNTS:
        count = sp.get(key)
        if count:
            if type(count) is not int or count < 0:
                raise Invalid("is not a non-negative integer", key)
            extra[key] = count
    events = sp.get("events")
    if events:
        extra["events"] = [check_event(e, i) for i, e in enumerate(_list(events, "events"))]
    links = sp.get("links")
    if links:
        extra["links"] = [check_link(k, i) for i, k in enumerate(_list(links, "links"))]


def _list(value: Any, key: str) -> list[Any]:
    if type(value) is not list:
        raise Invalid("is not a list", key)
    return value


def check_event(event: Any, index: int) -> dict[str, Any]:
    try:
        if type(event) is not dict:
            raise Invalid("is not an object")
        nanos(event.get("timeUnixNano"), "timeUnixNano")
        if type(event.get("name", "")) is not str:
            raise Invalid("is not a string", "name")
        try:
            check_attributes(event.get("attributes"))
        except Invalid as exc:
            raise exc.at("attributes") from None
    except Invalid as exc:
        raise exc.at("events", index) from None
    return event


def check_link(link: Any, index: int) -> dict[str, Any]:
    try:
        if type(link) is not dict:
            raise Invalid("is not an object")
        out = dict(link)
        out["traceId"] = hex_id(link.get("traceId"), 32, "traceId")
        out["spanId"] = hex_id(link.get("spanId"), 16, "spanId")
        try:
            check_attributes(link.get("attributes"))
        except Invalid as exc:
            raise exc.at("attributes") from None
    except Invalid as exc:
        raise exc.at("links", index) from None
    return out
