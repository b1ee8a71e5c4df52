"""Reads Zipkin JSON (an array of spans, or the API's array of traces; v2, or v1 turned into
v2 by `zipkin_v1`) into span rows.

64-bit trace ids are left-padded to 32 hex digits; microsecond times become nanoseconds; a
missing duration leaves the end open; the local endpoint's service name becomes the resource's
service.name; annotations become events; tags are attributes; an `error` tag makes the status
ERROR with the tag's value as message. Shared client/server spans (same id, different kind)
stay two rows. The endpoints become the semantic-convention attributes OpenTelemetry's Zipkin
translator gives them (`ENDPOINT_KEYS`); the shared and debug flags are kept in
`extra["zipkin"]`. A file too large to load whole is streamed one span at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ijson

from ..models import SpanRow
from .anyvalue import encode_value
from .conventions import KIND_CODES, STATUS_ERROR, STATUS_UNSET, hex_id, micros
from .errors import Invalid
from .spans import make_span
from .streaming import Opener, walk
from .zipkin_v1 import as_v2, is_v1

_KEPT = ("shared", "debug")
_SCALARS = (str, int, float, bool)
ENDPOINT_KEYS = {
    "remoteEndpoint": ("peer.service", "network.peer.address", "network.peer.port"),
    "localEndpoint": (None, "network.local.address", "network.local.port"),
    "serverEndpoint": (None, "server.address", "server.port"),
}
"""Attributes of an endpoint's (serviceName, IP address, port). A server span's local endpoint
is the server's own address (`serverEndpoint`); the local service name is the resource's."""


def parse_zipkin(doc: list[Any]) -> Iterator[SpanRow]:
    """Every span of the array (or of each trace of an array of traces), in file order."""
    for index, item in enumerate(doc):
        if type(item) is list:
            for inner, span in enumerate(item):
                yield from _rows(span, index, inner)
        else:
            yield from _rows(item, index)


def stream_zipkin(open_region: Opener) -> Iterator[SpanRow]:
    """The spans of an array too large to load, one at a time."""
    with open_region() as handle:
        nested = _nested(handle)
    with open_region() as handle:
        pattern = "*.*" if nested else "*"
        for found in walk(handle, pattern.__eq__, lambda _name: False):
            yield from _rows(found.value, *found.path)


def _nested(handle: Any) -> bool:
    """Whether the array's first item is itself an array (the API's list of traces)."""
    events = ijson.parse(handle, use_float=True)
    next(events, None)
    second = next(events, None)
    return second is not None and second[1] == "start_array"


def _rows(span: Any, *path: str | int) -> Iterator[SpanRow]:
    """A span's row, or the rows of the v2 spans a v1 span stands for."""
    try:
        if is_v1(span):
            for converted in as_v2(span):
                yield _span(converted)
        else:
            yield _span(span)
    except Invalid as exc:
        raise exc.at(*path) from None


def _span(sp: Any) -> SpanRow:
    if type(sp) is not dict:
        raise Invalid("is not an object")
    trace_id = hex_id(sp.get("traceId"), 32, "traceId", pad=True)
    span_id = hex_id(sp.get("id"), 16, "id", pad=True)
    parent = sp.get("parentId")
    parent = hex_id(parent, 16, "parentId", pad=True) if parent else None
    name = sp.get("name", "")
    if type(name) is not str:
        raise Invalid("is not a string", "name")
    kind = sp.get("kind")
    if kind is None:
        kind_code = KIND_CODES["INTERNAL"]
    elif type(kind) is str and kind in KIND_CODES and kind != "INTERNAL":
        kind_code = KIND_CODES[kind]
    else:
        raise Invalid(f"is not CLIENT, SERVER, PRODUCER or CONSUMER ({kind!r:.40})", "kind")
    start = micros(sp.get("timestamp"), "timestamp")
    duration = sp.get("duration")
    end = None if duration is None else start + micros(duration, "duration")
    tags = sp.get("tags") or {}
    if type(tags) is not dict:
        raise Invalid("is not an object", "tags")
    for key, value in tags.items():
        if type(value) not in _SCALARS:
            raise Invalid("is not a string", "tags", key)
    attributes = dict(tags)
    error = attributes.get("error")
    code = STATUS_ERROR if error is not None else STATUS_UNSET
    extra: dict[str, Any] = {}
    local = sp.get("localEndpoint")
    for key in ("localEndpoint", "remoteEndpoint"):
        if sp.get(key) is not None:
            if type(sp[key]) is not dict:
                raise Invalid("is not an object", key)
            own = "serverEndpoint" if key == "localEndpoint" and kind == "SERVER" else key
            _endpoint(sp[key], ENDPOINT_KEYS[own], attributes)
    if local and type(local.get("serviceName")) is str:
        extra["resource"] = {
            "attributes": [{"key": "service.name", "value": encode_value(local["serviceName"])}]
        }
    events = _annotations(sp.get("annotations"))
    if events:
        extra["events"] = events
    kept = {k: sp[k] for k in _KEPT if sp.get(k) is not None}
    if kept:
        extra["zipkin"] = kept
    message = str(error) if error not in (None, "") else None
    return make_span(
        trace_id, span_id, parent, name, kind_code, start, end, attributes, code, message, extra
    )


def _endpoint(
    endpoint: dict[str, Any], keys: tuple[str | None, str, str], attributes: dict[str, Any]
) -> None:
    """An endpoint's service name, address (IPv4 before IPv6) and port as attributes, where the
    span's tags do not already set them."""
    service, address, port = keys
    values = {
        service: endpoint.get("serviceName"),
        address: endpoint.get("ipv4") or endpoint.get("ipv6"),
        port: endpoint.get("port"),
    }
    for key, value in values.items():
        if key is None or value in (None, "", 0):
            continue
        if type(value) is not (int if key == port else str) or type(value) is bool:
            continue
        attributes.setdefault(key, value)


def _annotations(annotations: Any) -> list[dict[str, Any]]:
    if not annotations:
        return []
    if type(annotations) is not list:
        raise Invalid("is not a list", "annotations")
    events = []
    for index, note in enumerate(annotations):
        try:
            if type(note) is not dict:
                raise Invalid("is not an object")
            time = micros(note.get("timestamp"), "timestamp")
            if type(note.get("value")) is not str:
                raise Invalid("is not a string", "value")
        except Invalid as exc:
            raise exc.at("annotations", index) from None
        events.append({"timeUnixNano": str(time), "name": note["value"]})
    return events
