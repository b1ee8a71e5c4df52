"""Turns a TraceFilter into SQL conditions with named parameters, plus a key for its shape.

Filters of the same shape (which fields are set, how many triggers, statuses and network
addresses) compile to the same SQL text, so the repository compiles each shape once and only
binds new values.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import BindParameter, and_, bindparam, func, literal_column, or_
from sqlalchemy.sql import ColumnElement

from .codec import json_text
from .ipv4 import NetworkText, network_text, prefix_end
from .models import TraceFilter
from .schema import traces
from .trace_ids import PADDING


class FilterShape(NamedTuple):
    """What decides the SQL text of a filter's conditions (not the values); a cache key."""

    n_triggers: int
    n_statuses: int
    has_from: bool
    has_until: bool
    has_min: bool
    has_max: bool
    has_text: bool
    has_user: bool
    has_ip: bool
    n_addresses: int
    has_prefix: bool
    replays: str


def filter_shape(f: TraceFilter) -> FilterShape:
    """What decides the SQL text of `f`'s conditions (not the values)."""
    network = _network(f)
    return FilterShape(
        len(set(f.triggers)),
        len(set(f.statuses)),
        f.started_from is not None,
        f.started_until is not None,
        f.min_duration_ms is not None,
        f.max_duration_ms is not None,
        bool((f.text or "").strip()),
        f.user_id is not None,
        f.request_ip is not None,
        len(network.addresses),
        network.prefix is not None,
        f.replays,
    )


def hourly_countable(f: TraceFilter) -> bool:
    """Whether `f` filters by nothing but trigger, status and time, which the hourly counts
    hold (traffic only: replays are never counted there); any other field needs the rows
    counted."""
    return f.replays == "exclude" and not any(filter_shape(f)[4:-1])


def _network(f: TraceFilter) -> NetworkText:
    """How the addresses of `f`'s IPv4 network are written (nothing without one)."""
    return NetworkText() if f.ip_network is None else network_text(f.ip_network)


def filter_values(f: TraceFilter) -> dict[str, Any]:
    """The parameter values for the conditions `filter_clause` builds for `f`'s shape."""
    values: dict[str, Any] = {}
    for i, trigger in enumerate(sorted(set(f.triggers))):
        values[f"trigger_{i}"] = trigger
    for i, status in enumerate(sorted(set(f.statuses))):
        values[f"status_{i}"] = status
    values["started_from"] = f.started_from
    values["started_until"] = f.started_until
    values["min_duration_ms"] = f.min_duration_ms
    values["max_duration_ms"] = f.max_duration_ms
    text = (f.text or "").strip()
    if text:
        pattern = escape_like(text)
        values["text_id"] = pattern.lower() + "%"
        # A 64-bit id as Zipkin prints it matches behind the zero padding it is stored with; text
        # that is no prefix of one (too long, not hex) makes a pattern no stored id has.
        values["text_id_padded"] = PADDING + pattern.lower() + "%"
        values["text_prefix"] = pattern + "%"
        values["text_anywhere"] = "%" + pattern + "%"
        # The input is stored as JSON: match the text as it is written there (quotes, backslashes
        # and non-ASCII letters escaped).
        values["text_input"] = "%" + escape_like(json_text(text)[1:-1]) + "%"
    values["user_id"] = f.user_id
    values["request_ip"] = f.request_ip
    network = _network(f)
    for i, address in enumerate(network.addresses):
        values[f"ip_address_{i}"] = address
    if network.prefix is not None:
        values["ip_from"], values["ip_before"] = network.prefix, prefix_end(network.prefix)
    return values


def filter_clause(f: TraceFilter) -> ColumnElement[bool] | None:
    """All of `f`'s conditions joined with AND (named parameters), or None if nothing filters."""
    c = traces.c
    conds: list[ColumnElement[bool]] = []
    (
        n_triggers,
        n_statuses,
        has_from,
        has_until,
        has_min,
        has_max,
        has_text,
        has_user,
        has_ip,
        n_addresses,
        has_prefix,
        replays,
    ) = filter_shape(f)
    if n_triggers:
        conds.append(c.trigger_event.in_([bindparam(f"trigger_{i}") for i in range(n_triggers)]))
    if n_statuses:
        conds.append(c.status.in_([bindparam(f"status_{i}") for i in range(n_statuses)]))
    if has_from:
        conds.append(c.started_at >= bindparam("started_from"))
    if has_until:
        conds.append(c.started_at < bindparam("started_until"))
    if has_min:
        conds.append(c.duration_ms >= bindparam("min_duration_ms"))
    if has_max:
        conds.append(c.duration_ms <= bindparam("max_duration_ms"))
    if has_text:
        conds.append(
            or_(
                c.id.like(bindparam("text_id"), escape="\\"),
                c.id.like(bindparam("text_id_padded"), escape="\\"),
                c.user_id.like(bindparam("text_anywhere"), escape="\\"),
                c.request_ip.like(bindparam("text_prefix"), escape="\\"),
                c.status_message.like(bindparam("text_anywhere"), escape="\\"),
                c.context_snapshot.like(bindparam("text_input"), escape="\\"),
            )
        )
    if has_user:
        conds.append(c.user_id == bindparam("user_id"))
    if has_ip:
        conds.append(c.request_ip == bindparam("request_ip"))
    if n_addresses:
        addresses: list[BindParameter[str]] = [
            bindparam(f"ip_address_{i}") for i in range(n_addresses)
        ]
        conds.append(_few(c.request_ip.in_(addresses)))
    if has_prefix:
        conds.append(
            _few(and_(c.request_ip >= bindparam("ip_from"), c.request_ip < bindparam("ip_before")))
        )
    if replays == "exclude":
        # `replay_of || ''` keeps SQLite off the replay_of index, which it would otherwise pick
        # for IS NULL over the start-time index the page is ordered by.
        conds.append(c.replay_of.concat("").is_(None))
    elif replays == "only":
        conds.append(c.replay_of.is_not(None))
    return and_(*conds) if conds else None


def _few(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """`condition`, marked as true for few rows: SQLite then reads a network's traces from the
    request_ip index (cost in proportion to them) rather than walking every trace newest first
    looking for them, which reads the whole table when the network has none."""
    return func.likelihood(condition, literal_column("0.0001"))


def escape_like(text: str) -> str:
    """Make LIKE's wildcards match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
