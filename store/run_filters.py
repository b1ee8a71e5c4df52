"""The span-level filters (a script's runs, by status and version) as SQL over
`pipeline_script_runs`, whose index is ordered by script, status, start and trace id, so one
script and status is a range read in the list's own order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.sql import ColumnElement

from .schema import script_runs


def run_conditions(
    n_scripts: int, n_statuses: int, n_versions: int, has_from: bool, has_until: bool
) -> list[ColumnElement[bool]]:
    """The conditions a run matching a filter of this shape meets (named parameters)."""
    r = script_runs.c
    conds: list[ColumnElement[bool]] = []
    if n_scripts:
        conds.append(r.script_id.in_([bindparam(f"script_{i}") for i in range(n_scripts)]))
    if n_statuses:
        conds.append(r.status.in_([bindparam(f"script_status_{i}") for i in range(n_statuses)]))
    conds += version_conditions(n_versions)
    if has_from:
        conds.append(r.started_at >= bindparam("started_from"))
    if has_until:
        conds.append(r.started_at < bindparam("started_until"))
    return conds


def version_conditions(n_versions: int) -> list[ColumnElement[bool]]:
    """A run's version starts with one of the filter's (none when it names no version)."""
    if not n_versions:
        return []
    versions = script_runs.c.version
    return [or_(*[versions.like(bindparam(f"script_version_{i}")) for i in range(n_versions)])]


def matching_runs(
    n_scripts: int, n_statuses: int, n_versions: int, has_from: bool, has_until: bool
) -> Select[tuple[Any]]:
    """The trace ids of the runs a filter of this shape matches."""
    conds = run_conditions(n_scripts, n_statuses, n_versions, has_from, has_until)
    return select(script_runs.c.trace_id).where(*conds)
