"""A page of the traces a span-level filter matches, newest first by keyset, read from the script
runs' index: one query per script and status (queries.runs_page), each an index range read in
the list's order (replays told apart by the index too) joined to its traces, merged; so a page
costs about the same whatever the number of traces (SQLite would sort every match of an IN list
over the index)."""

from __future__ import annotations

from typing import Any

from .backends import Backend
from .codec import SUMMARY_COLUMNS
from .filters import filter_shape, filter_values
from .models import Cursor, TraceFilter
from .sql import Statement, named_statement

QUERIES = ".queries"
STARTED = SUMMARY_COLUMNS.index("started_at")


def page_statements(f: TraceFilter, limit: int, cursor: Cursor | None) -> list[Statement] | None:
    """The reads of up to `limit` rows of the traces `f` matches after `cursor`, one per script
    and status `f` names, whose rows `merged_page` joins; None when `f` names a script without
    statuses (every status it has must be read first, see `page_rows`)."""
    if not f.script_statuses:
        return None
    return _pair_statements(f, limit, cursor, _named_pairs(f))


def page_rows(
    backend: Backend, f: TraceFilter, limit: int, cursor: Cursor | None
) -> list[tuple[Any, ...]]:
    """Up to `limit` rows (SUMMARY_COLUMNS) of the traces `f` matches after `cursor`, newest
    first; the caller asks for one more than it shows, to know whether a next page exists."""
    pairs = _named_pairs(f) if f.script_statuses else _stored_pairs(backend, f)
    statements = _pair_statements(f, limit, cursor, pairs)
    return merged_page([backend.query(stmt) for stmt in statements], limit)


def merged_page(results: list[list[tuple[Any, ...]]], limit: int) -> list[tuple[Any, ...]]:
    """The newest `limit` distinct traces of several reads' rows."""
    found = {str(row[0]): row for rows in results for row in rows}
    ordered = sorted(found.values(), key=lambda row: (row[STARTED], row[0]), reverse=True)
    return ordered[:limit]


def _pair_statements(
    f: TraceFilter, limit: int, cursor: Cursor | None, pairs: list[tuple[str, str]]
) -> list[Statement]:
    """One page read per (script, status) of `pairs`."""
    values = filter_values(f)
    values["limit"] = limit
    if cursor is not None:
        values["cursor_started"], values["cursor_id"] = cursor.started_at, cursor.trace_id
    shape = (filter_shape(f), cursor is not None)
    statements = []
    for script, status in pairs:
        values["pair_script"], values["pair_status"] = script, status
        statements.append(named_statement(QUERIES, "runs_page", shape, values))
    return statements


def _named_pairs(f: TraceFilter) -> list[tuple[str, str]]:
    """Each (script, status) a filter naming both asks for."""
    statuses = sorted(set(f.script_statuses))
    return [(script, status) for script in sorted(set(f.scripts)) for status in statuses]


def _stored_pairs(backend: Backend, f: TraceFilter) -> list[tuple[str, str]]:
    """Each (script, status) of the scripts `f` names, with every status their runs have."""
    pairs = []
    for script in sorted(set(f.scripts)):
        read = named_statement(QUERIES, "statuses_of_script", (), {"script": script})
        pairs += [(script, str(row[0])) for row in backend.query(read)]
    return pairs
