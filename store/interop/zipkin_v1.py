"""Turns a Zipkin v1 span (core annotations, binary annotations) into the v2 spans it stands for.

Zipkin v1 put both sides of an RPC in one span: `cs`/`cr` from the client, `sr`/`ss` from the
server, each annotation naming its endpoint. Zipkin v2 splits such a span into a CLIENT span and
a shared SERVER span with the same id; this does the same, so a v1 file imports exactly as the
v2 file Zipkin itself would serve. `ms`/`mr` make PRODUCER/CONSUMER spans; binary annotations
`ca`, `sa` and `ma` are remote addresses; other binary annotations become tags of the side whose
service logged them; other annotations become events.
"""

from __future__ import annotations

from typing import Any

from .errors import Invalid

_CORE = {"cs", "cr", "sr", "ss", "ms", "mr"}
_ADDRESSES = {"ca", "sa", "ma"}
_V2_ONLY = ("localEndpoint", "remoteEndpoint", "kind", "tags")


def is_v1(span: Any) -> bool:
    """Whether a span object is in v1's shape: binary annotations, or annotations that carry
    endpoints, and none of v2's own keys."""
    if type(span) is not dict or any(key in span for key in _V2_ONLY):
        return False
    if "binaryAnnotations" in span:
        return True
    notes = span.get("annotations")
    return type(notes) is list and any(type(n) is dict and "endpoint" in n for n in notes)


def as_v2(span: dict[str, Any]) -> list[dict[str, Any]]:
    """The v2 spans (one, or a client and a shared server span) a v1 span stands for."""
    notes = _list(span, "annotations")
    binary = _list(span, "binaryAnnotations")
    core: dict[str, dict[str, Any]] = {}
    for index, note in enumerate(notes):
        if type(note) is not dict:
            raise Invalid("is not an object", "annotations", index)
        if note.get("value") in _CORE:
            core.setdefault(note["value"], note)
    base: dict[str, Any] = {
        k: span[k] for k in ("traceId", "id", "parentId", "name", "debug") if k in span
    }
    sides = _sides(span, core, base)
    _place_addresses(binary, sides)
    _place_tags(binary, sides)
    _place_events(notes, sides)
    return [side for side in sides if side is not None]


def _list(span: dict[str, Any], key: str) -> list[Any]:
    value = span.get(key) or []
    if type(value) is not list:
        raise Invalid("is not a list", key)
    return value


def _sides(
    span: dict[str, Any], core: dict[str, dict[str, Any]], base: dict[str, Any]
) -> list[dict[str, Any]]:
    """The client (or producer) side first, then the server (or consumer) side; a span without
    core annotations is one local span."""
    pairs: tuple[tuple[str, str | None, str], ...] = (
        ("cs", "cr", "CLIENT"),
        ("sr", "ss", "SERVER"),
        ("ms", None, "PRODUCER"),
        ("mr", None, "CONSUMER"),
    )
    sides = []
    for begin, end, kind in pairs:
        start, finish = core.get(begin), core.get(end) if end else None
        if start is None and finish is None:
            continue
        side = dict(base, kind=kind)
        first = start or finish
        assert first is not None
        if type(first.get("endpoint")) is dict:
            side["localEndpoint"] = first["endpoint"]
        if start is not None and finish is not None:
            side["timestamp"] = start.get("timestamp")
            side["duration"] = _difference(finish.get("timestamp"), start.get("timestamp"))
        elif start is not None:
            side["timestamp"] = start.get("timestamp")
        sides.append(side)
    if not sides:
        local = dict(base)
        for key in ("timestamp", "duration"):
            if key in span:
                local[key] = span[key]
        return [local]
    if "timestamp" in span:
        sides[0]["timestamp"] = span["timestamp"]
        if "duration" in span:
            sides[0]["duration"] = span["duration"]
    if len(sides) > 1:
        for side in sides[1:]:
            side["shared"] = True
        if "localEndpoint" in sides[1]:
            sides[0].setdefault("remoteEndpoint", sides[1]["localEndpoint"])
    for side in sides:
        side.setdefault("timestamp", span.get("timestamp"))
    return sides


def _difference(end: Any, start: Any) -> Any:
    """end - start in microseconds when both are numbers; else left for the v2 reader to name."""
    numbers = (int, float)
    if type(end) in numbers and type(start) in numbers and end >= start:
        return end - start
    return None


def _service(endpoint: Any) -> Any:
    return endpoint.get("serviceName") if type(endpoint) is dict else None


def _owner(endpoint: Any, sides: list[dict[str, Any]]) -> dict[str, Any]:
    """The side whose local service logged an annotation; the first side when none matches."""
    service = _service(endpoint)
    for side in sides:
        if service and _service(side.get("localEndpoint")) == service:
            return side
    return sides[0]


def _place_addresses(binary: list[Any], sides: list[dict[str, Any]]) -> None:
    """`sa` is the client's remote end, `ca` the server's, `ma` the message broker; a span with
    no core annotations takes the address as its remote end."""
    wanted = {"sa": ("CLIENT", "PRODUCER", "CONSUMER"), "ca": ("SERVER",), "ma": ("PRODUCER",)}
    for index, note in enumerate(binary):
        if type(note) is not dict:
            raise Invalid("is not an object", "binaryAnnotations", index)
        key = note.get("key")
        if key not in _ADDRESSES or type(note.get("endpoint")) is not dict:
            continue
        for side in sides:
            if side.get("kind") in wanted[key] or "kind" not in side:
                side["remoteEndpoint"] = note["endpoint"]
                break


def _place_tags(binary: list[Any], sides: list[dict[str, Any]]) -> None:
    """Every other binary annotation is a tag of the side that logged it; `lc` also names the
    local endpoint of a span without core annotations."""
    for index, note in enumerate(binary):
        key = note.get("key")
        if key in _ADDRESSES:
            continue
        if type(key) is not str:
            raise Invalid("is not a string", "binaryAnnotations", index, "key")
        value = note.get("value")
        if type(value) not in (str, int, float, bool):
            raise Invalid("is not a string, number or boolean", "binaryAnnotations", index, "value")
        side = _owner(note.get("endpoint"), sides)
        side.setdefault("tags", {})[key] = value
        if "localEndpoint" not in side and type(note.get("endpoint")) is dict:
            side["localEndpoint"] = note["endpoint"]


def _place_events(notes: list[Any], sides: list[dict[str, Any]]) -> None:
    """Annotations other than the core ones stay as events of the side that logged them."""
    for note in notes:
        if note.get("value") in _CORE:
            continue
        side = _owner(note.get("endpoint"), sides)
        side.setdefault("annotations", []).append(
            {"timestamp": note.get("timestamp"), "value": note.get("value")}
        )
        if "localEndpoint" not in side and type(note.get("endpoint")) is dict:
            side["localEndpoint"] = note["endpoint"]
