"""The SQL of an import: stage a file's spans, read what summaries need, move all in one go.

An import writes its spans to `pipeline_import_spans` in short transactions as it reads them (a
span delivered twice in the file is staged once: same identity digest), reads back per trace
the facts a summary needs (of the stored spans and of the staged ones that are not copies of
stored spans), stages each trace's new row in `pipeline_import_traces`, and then moves
everything in one transaction: a guard first checks that no trace changed since its summary
was made (another import or exporter adding spans); if one did, the CHECK constraint on
`stale` fails the transaction and the import summarises again.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    not_,
    null,
    select,
    update,
)

from ..backends import Backend
from ..codec import trace_from_row
from ..columns import SPAN_COLUMNS, TRACE_COLUMNS
from ..errors import StoreError
from ..models import TraceRow
from ..schema import spans, staged_spans, staged_traces, traces
from ..sql import InsertMany, Operation, compile_statement
from .conventions import IP_KEYS, USER_KEYS

STALE = "ck_pipeline_import_traces_fresh"
"""The constraint a stale summary breaks: how both backends word the guard's refusal."""
STALE_AFTER_NS = 24 * 3600 * 10**9
"""Staged rows this old belong to an import that died; the next import drops them."""
STAGED_SPAN_COLUMNS = (
    "import_id",
    "staged_at",
    "identity",
    "carried",
    "user_hint",
    "ip_hint",
    *SPAN_COLUMNS,
)
STAGED_TRACE_COLUMNS = (
    "import_id",
    "trace_id",
    "staged_at",
    "existed",
    "held",
    "stale",
    *TRACE_COLUMNS[1:],
)
FACT_COLUMNS = (
    "id",
    "parent_span_id",
    "name",
    "kind",
    "status",
    "status_message",
    "started_at",
    "ended_at",
)


class StaleSummaries(StoreError):
    """A trace changed between its summary and the move: summarise again."""


class ImportStage:
    """One import's staged rows, under an id of its own, on one backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.id = secrets.token_hex(8)
        self.used = False
        """Whether this import staged spans (it then drops what dead imports left first)."""

    def drop_abandoned(self) -> None:
        """Delete what imports that died long ago left staged."""
        cutoff = time.time_ns() - STALE_AFTER_NS
        self.backend.write(
            [
                compile_statement(delete(staged_spans).where(staged_spans.c.staged_at < cutoff)),
                compile_statement(delete(staged_traces).where(staged_traces.c.staged_at < cutoff)),
            ]
        )

    def add_spans(self, rows: Sequence[tuple[Any, ...]]) -> int:
        """Stage spans given as (identity, carried JSON, user hint, address hint,
        *SPAN_COLUMNS values); returns how many were not already staged by this import (a
        delivery the file repeats is staged once)."""
        if not self.used:
            self.drop_abandoned()
            self.used = True
        now = time.time_ns()
        staged = [(self.id, now, *row) for row in rows]
        (added,) = self.backend.write(
            [InsertMany(staged_spans.name, STAGED_SPAN_COLUMNS, staged, or_ignore=True)]
        )
        return added

    def trace_pages(self, size: int) -> Iterator[list[str]]:
        """The staged traces' ids, in pages of `size`, by one index range read each."""
        after = ""
        while True:
            stmt = (
                select(staged_spans.c.trace_id)
                .where(staged_spans.c.import_id == self.id, staged_spans.c.trace_id > after)
                .group_by(staged_spans.c.trace_id)
                .order_by(staged_spans.c.trace_id)
                .limit(size)
            )
            page = [str(r[0]) for r in self.backend.query(compile_statement(stmt))]
            if not page:
                return
            yield page
            after = page[-1]

    def stored_traces(self, trace_ids: Sequence[str]) -> dict[str, TraceRow]:
        """The stored rows of those of `trace_ids` already in the store."""
        stmt = select(*[traces.c[n] for n in TRACE_COLUMNS]).where(traces.c.id.in_(trace_ids))
        rows = self.backend.query(compile_statement(stmt))
        return {row.id: row for row in (trace_from_row(r, TRACE_COLUMNS) for r in rows)}

    def stored_facts(self, trace_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        """(trace id, *facts) of every stored span of these traces (see `summary.SpanFacts`)."""
        stmt = select(spans.c.trace_id, *_facts(spans), null()).where(
            spans.c.trace_id.in_(trace_ids)
        )
        return self.backend.query(compile_statement(stmt))

    def fresh_facts(self, trace_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        """(trace id, *facts) of the staged spans of these traces that are not already stored."""
        s = staged_spans
        facts = [*[s.c[n] for n in FACT_COLUMNS], s.c.user_hint, s.c.ip_hint, _resource(s)]
        stmt = select(s.c.trace_id, *facts, s.c.carried).where(
            s.c.import_id == self.id, s.c.trace_id.in_(trace_ids), not_(_stored(s))
        )
        return self.backend.query(compile_statement(stmt))

    def add_summaries(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Stage traces' new rows as (trace id, existed, held, *TRACE_COLUMNS values but id)."""
        now = time.time_ns()
        staged = [(self.id, row[0], now, *row[1:3], 0, *row[3:]) for row in rows]
        self.backend.write([InsertMany(staged_traces.name, STAGED_TRACE_COLUMNS, staged)])

    def drop_summaries(self) -> None:
        """Forget the staged summaries (they went stale) before making them again."""
        self.backend.write(
            [compile_statement(delete(staged_traces).where(staged_traces.c.import_id == self.id))]
        )

    def move(self, guarded: bool = True, first: Sequence[Operation] = ()) -> None:
        """In one transaction: check no summarised trace changed (`guarded`; raises
        StaleSummaries if one did), run `first` (the file's other writes), add the new traces,
        the staged spans not already stored and the new rows of merged traces, and empty the
        stage."""
        g = staged_traces
        mine = g.c.import_id == self.id
        trace_exists = exists().where(traces.c.id == g.c.trace_id)
        counted = select(func.count()).where(spans.c.trace_id == g.c.trace_id).scalar_subquery()
        changed = case(
            (g.c.existed.is_(True), not_(trace_exists) | (counted != g.c.held)),
            else_=trace_exists,
        )
        columns = [g.c[n] for n in TRACE_COLUMNS[1:]]
        new = insert(traces).from_select(
            list(TRACE_COLUMNS), select(g.c.trace_id, *columns).where(mine, g.c.existed.is_(False))
        )
        s = staged_spans
        summarised = select(g.c.trace_id).where(mine).scalar_subquery()
        moved = insert(spans).from_select(
            list(SPAN_COLUMNS),
            select(*[s.c[n] for n in SPAN_COLUMNS])
            .where(s.c.import_id == self.id, s.c.trace_id.in_(summarised), not_(_stored(s)))
            .order_by(s.c.pk),
        )
        merged = (
            update(traces)
            .where(traces.c.id.in_(select(g.c.trace_id).where(mine, g.c.existed.is_(True))))
            .values(
                {
                    name: select(g.c[name])
                    .where(mine, g.c.trace_id == traces.c.id)
                    .scalar_subquery()
                    for name in TRACE_COLUMNS[1:]
                }
            )
        )
        operations = [
            compile_statement(update(g).where(mine, changed).values(stale=1)) if guarded else None,
            *first,
            compile_statement(new.prefix_with("OR IGNORE") if not guarded else new),
            compile_statement(moved),
            compile_statement(merged),
            compile_statement(delete(s).where(s.c.import_id == self.id)),
            compile_statement(delete(g).where(mine)),
        ]
        try:
            self.backend.write([op for op in operations if op is not None])
        except StoreError as exc:
            if STALE in exc.message:
                raise StaleSummaries(exc.message) from None
            raise

    def drop(self) -> None:
        """Delete whatever this import staged (after a failure; the move empties it otherwise)."""
        self.backend.write(
            [
                compile_statement(delete(staged_spans).where(staged_spans.c.import_id == self.id)),
                compile_statement(
                    delete(staged_traces).where(staged_traces.c.import_id == self.id)
                ),
            ]
        )


def _facts(table: Any) -> list[ColumnElement[Any]]:
    """The columns of `summary.SpanFacts` but `carried`, read from a stored span's columns."""
    return [
        *[table.c[n] for n in FACT_COLUMNS],
        _text_attribute(table, USER_KEYS),
        _text_attribute(table, IP_KEYS),
        _resource(table),
    ]


def _resource(table: Any) -> ColumnElement[Any]:
    """A span's OTLP resource as JSON text, from its extra column (none where that is damaged)."""
    return case(
        (func.json_valid(table.c.extra) == 1, func.json_extract(table.c.extra, "$.resource"))
    )


def _text_attribute(table: Any, keys: tuple[str, ...]) -> ColumnElement[Any]:
    """The first of `keys` whose attribute is non-empty text; damaged JSON reads as none."""
    attributes = table.c.attributes
    values = [
        case(
            (
                func.json_type(attributes, f'$."{key}"') == "text",
                func.nullif(func.json_extract(attributes, f'$."{key}"'), ""),
            )
        )
        for key in keys
    ]
    first = values[0] if len(values) == 1 else func.coalesce(*values)
    return case((func.json_valid(attributes) == 1, first))


def _stored(staged: Any) -> ColumnElement[bool]:
    """Whether a staged span is already stored: same trace, id, kind, parent, name, times and
    attributes (found through the trace and start time index)."""
    return exists().where(
        and_(
            spans.c.trace_id == staged.c.trace_id,
            spans.c.started_at == staged.c.started_at,
            spans.c.id == staged.c.id,
            spans.c.kind == staged.c.kind,
            spans.c.name == staged.c.name,
            spans.c.parent_span_id.is_(staged.c.parent_span_id),
            spans.c.ended_at.is_(staged.c.ended_at),
            spans.c.attributes.is_(staged.c.attributes),
        )
    )
