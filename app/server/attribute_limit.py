"""The receiver's limit on attributes, checked on a span as read: its own, and those of its
events, links, resource and scope, each list on its own."""

from __future__ import annotations

from typing import Any

from pipetrace.store import SpanRow

from ..otlp_limits import MAX_ATTRIBUTES


def over_limit(span: SpanRow) -> str | None:
    """Why a span holds more attributes than the receiver takes, or None when it does not."""
    for where, count in _attribute_counts(span):
        if count > MAX_ATTRIBUTES:
            return (
                f"span {span.id} of trace {span.trace_id}: {where} holds {count} attributes; "
                f"the receiver takes at most {MAX_ATTRIBUTES}"
            )
    return None


def _attribute_counts(span: SpanRow) -> list[tuple[str, int]]:
    """(which list, how many attributes) for each attribute list of the span."""
    extra = span.extra or {}
    counts = [("attributes", len(span.attributes))]
    for holder in ("resource", "scope"):
        counts.append((f"{holder}.attributes", _count(extra.get(holder))))
    for kind in ("events", "links"):
        found = extra.get(kind)
        for index, item in enumerate(found if isinstance(found, list) else ()):
            counts.append((f"{kind}[{index}].attributes", _count(item)))
    return counts


def _count(holder: Any) -> int:
    """The attributes an OTLP object (an event, a link, a resource, a scope) lists."""
    attributes = holder.get("attributes") if isinstance(holder, dict) else None
    return len(attributes) if isinstance(attributes, list) else 0
