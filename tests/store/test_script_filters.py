"""The span-level filters list, page and count exactly the traces whose run of a script matches,
combined with every trace-level filter, on SQLite and sqld, and read the runs' index in order."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from factories import BASE_NS, SEC
from rollup_recount import random_traces

from pipetrace.store import Cursor, Repository, TraceFilter, TraceWithSpans
from pipetrace.store.filters import filter_shape, filter_values
from pipetrace.store.sql import Statement, named_statement

FILTERS = (
    TraceFilter(scripts=("risk_scorer",), script_statuses=("error",)),
    TraceFilter(scripts=("risk_scorer", "velocity"), script_statuses=("blocked", "error")),
    TraceFilter(scripts=("ip_denylist",)),
    TraceFilter(scripts=("velocity",), script_versions=("A1A1",)),
    TraceFilter(scripts=("disposable_email",), statuses=("blocked",)),
    TraceFilter(scripts=("velocity",), replays="include", script_statuses=("success",)),
    TraceFilter(scripts=("risk_scorer",), replays="only"),
    TraceFilter(
        scripts=("ip_denylist",),
        started_from=BASE_NS + 20 * 3600 * SEC,
        started_until=BASE_NS + 50 * 3600 * SEC,
        min_duration_ms=0.01,
    ),
    TraceFilter(scripts=("nobody",)),
)


def _expected(items: list[TraceWithSpans], f: TraceFilter) -> list[str]:
    """The ids `f` matches, newest first, worked out in Python from the traces saved."""
    found = []
    for item in items:
        t = item.trace
        if (f.replays == "exclude" and t.replay_of) or (f.replays == "only" and not t.replay_of):
            continue
        if f.statuses and t.status not in f.statuses:
            continue
        if f.started_from is not None and t.started_at < f.started_from:
            continue
        if f.started_until is not None and t.started_at >= f.started_until:
            continue
        if f.min_duration_ms is not None and (t.duration_ms or -1) < f.min_duration_ms:
            continue
        runs = [
            s
            for s in item.spans
            if s.script_id in f.scripts
            and not s.attributes.get("custom")
            and (not f.script_statuses or s.status in f.script_statuses)
            and (
                not f.script_versions
                or any(
                    str(s.attributes.get("script.sha256", "")).startswith(v.lower())
                    for v in f.script_versions
                )
            )
        ]
        if runs:
            found.append((t.started_at, t.id))
    return [trace_id for _started, trace_id in sorted(found, reverse=True)]


def test_span_level_filters_list_page_and_count_exactly(repo: Repository) -> None:
    items = random_traces(random.Random(21), 160)
    repo.save_traces(items)
    for f in FILTERS:
        expected = _expected(items, f)
        listed: list[str] = []
        cursor: Cursor | None = None
        while True:
            page = repo.list_traces(f, limit=7, cursor=cursor)
            listed += [row.id for row in page.rows]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert listed == expected, f
        assert repo.count_traces(f) == len(expected), f
        if expected:
            newest = repo.list_traces(f, limit=1).rows[0]
            assert newest.id == expected[0]
            assert repo.list_newer(f, Cursor(newest.started_at - 1, "")) != []
            assert repo.duration_points(replace(f, started_until=None)).points


def test_one_script_and_status_is_an_ordered_read_of_the_runs_index(repo: Repository) -> None:
    repo.save_traces(random_traces(random.Random(4), 20))
    f = TraceFilter(scripts=("risk_scorer",), script_statuses=("error",))
    values = filter_values(f)
    values.update(pair_script="risk_scorer", pair_status="error", limit=51)
    values.update(cursor_started=BASE_NS * 2, cursor_id="f" * 32)
    page = named_statement(".queries", "runs_page", (filter_shape(f), True), values)
    plan = " | ".join(
        str(row[-1])
        for row in repo.backend.query(Statement(f"EXPLAIN QUERY PLAN {page.sql}", page.params))
    )
    assert "USING COVERING INDEX ix_pipeline_script_runs_script_status_started" in plan, plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan.split("pipeline_traces")[0], plan


@pytest.mark.parametrize("f", [TraceFilter(scripts=("velocity",), script_statuses=("error",))])
def test_a_deleted_trace_leaves_the_filters(repo: Repository, f: TraceFilter) -> None:
    items = random_traces(random.Random(8), 60)
    repo.save_traces(items)
    before = repo.list_traces(f, limit=100).rows
    assert before
    repo.backend.write(
        [
            Statement("DELETE FROM pipeline_spans WHERE trace_id = ?", (before[0].id,)),
            Statement("DELETE FROM pipeline_traces WHERE id = ?", (before[0].id,)),
        ]
    )
    after = repo.list_traces(f, limit=100).rows
    assert [row.id for row in after] == [row.id for row in before[1:]]
    assert repo.count_traces(f) == len(after)


@pytest.mark.parametrize(
    "f",
    [
        *FILTERS,
        TraceFilter(),
        TraceFilter(started_from=BASE_NS + 20 * 3600 * SEC + 7 * SEC, statuses=("blocked",)),
    ],
)
def test_a_first_page_and_its_count_are_one_request(repo: Repository, f: TraceFilter) -> None:
    items = random_traces(random.Random(12), 80)
    repo.save_traces(items)
    requests: list[str] = []
    backend = repo.backend
    query, query_many = backend.query, backend.query_many
    backend.query = lambda statement: requests.append("query") or query(statement)  # type: ignore[method-assign]
    backend.query_many = lambda statements: requests.append("many") or query_many(statements)  # type: ignore[method-assign]
    page, total = repo.page_and_count(f, limit=7)
    asked = list(requests)
    backend.query, backend.query_many = query, query_many  # type: ignore[method-assign]
    expected = repo.list_traces(f, limit=7)
    assert [row.id for row in page.rows] == [row.id for row in expected.rows]
    assert page.next_cursor == expected.next_cursor
    counted = len(_expected(items, f)) if f.scripts else repo.count_rows(f)
    assert total == repo.count_traces(f) == counted
    one_request = not f.scripts or bool(f.script_statuses)
    assert asked == ["many"] if one_request else len(asked) > 1
