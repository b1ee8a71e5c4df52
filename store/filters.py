"""A TraceFilter's shape (what decides its SQL text) and its parameter values by name.

Filters of the same shape (which fields are set, how many triggers, statuses, network addresses,
scripts and their statuses and versions) compile to the same SQL text (store/filter_sql.py), so
the repository compiles each shape once, or takes it precompiled, and only binds new values.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .codec import json_text
from .ipv4 import NetworkText, network_text, prefix_end
from .models import TraceFilter
from .trace_ids import PADDING

VERSION_DIGITS = 12
"""Digits of a script's sha256 the store keeps (and a version filter compares)."""


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
    n_scripts: int
    n_script_statuses: int
    n_script_versions: int
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
        len(set(f.scripts)),
        len(set(f.script_statuses)) if f.scripts else 0,
        len(set(f.script_versions)) if f.scripts else 0,
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
    values.update(run_values(f))
    return values


def run_values(f: TraceFilter) -> dict[str, Any]:
    """The parameter values of `f`'s span-level conditions (store/run_filters.py)."""
    values: dict[str, Any] = {}
    if not f.scripts:
        return values
    for i, script in enumerate(sorted(set(f.scripts))):
        values[f"script_{i}"] = script
    for i, status in enumerate(sorted(set(f.script_statuses))):
        values[f"script_status_{i}"] = status
    for i, version in enumerate(sorted(set(f.script_versions))):
        values[f"script_version_{i}"] = version.lower()[:VERSION_DIGITS] + "%"
    return values


def escape_like(text: str) -> str:
    """Make LIKE's wildcards match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
