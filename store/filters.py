"""Turns a TraceFilter into SQL conditions; the list, the count and the plot share them."""

from __future__ import annotations

from sqlalchemy import and_, or_
from sqlalchemy.sql import ColumnElement

from .models import TraceFilter
from .schema import traces


def filter_conditions(f: TraceFilter) -> list[ColumnElement[bool]]:
    """The WHERE conditions for `f`, to be combined with AND."""
    c = traces.c
    conds: list[ColumnElement[bool]] = []
    if f.triggers:
        conds.append(c.trigger_event.in_(sorted(set(f.triggers))))
    if f.statuses:
        conds.append(c.status.in_(sorted(set(f.statuses))))
    if f.started_from is not None:
        conds.append(c.started_at >= f.started_from)
    if f.started_until is not None:
        conds.append(c.started_at < f.started_until)
    if f.min_duration_ms is not None:
        conds.append(c.duration_ms >= f.min_duration_ms)
    if f.max_duration_ms is not None:
        conds.append(c.duration_ms <= f.max_duration_ms)
    text = (f.text or "").strip()
    if text:
        pattern = escape_like(text)
        conds.append(
            or_(
                c.id.like(pattern.lower() + "%", escape="\\"),
                c.user_id.like("%" + pattern + "%", escape="\\"),
                c.request_ip.like(pattern + "%", escape="\\"),
                c.status_message.like("%" + pattern + "%", escape="\\"),
            )
        )
    return conds


def where(f: TraceFilter) -> ColumnElement[bool] | None:
    """All conditions joined, or None when nothing filters."""
    conds = filter_conditions(f)
    return and_(*conds) if conds else None


def escape_like(text: str) -> str:
    """Make LIKE's wildcards match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
