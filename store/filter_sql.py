"""A filter's conditions in SQL: what a filter of a given shape compiles to, its values left as
the named parameters `filters.filter_values` binds."""

from __future__ import annotations

from sqlalchemy import BindParameter, and_, bindparam, func, literal_column, or_
from sqlalchemy.sql import ColumnElement

from .filters import FilterShape
from .run_filters import matching_runs
from .schema import traces


def filter_clause(shape: FilterShape) -> ColumnElement[bool] | None:
    """All conditions of a filter of `shape` joined with AND, its values as the named
    parameters `filter_values` binds; None if nothing filters."""
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
        n_scripts,
        n_script_statuses,
        n_script_versions,
        replays,
    ) = shape
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
    if n_scripts:
        runs = matching_runs(n_scripts, n_script_statuses, n_script_versions, has_from, has_until)
        conds.append(c.id.in_(runs))
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
