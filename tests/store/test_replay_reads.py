"""The bulk replay read on both backends: ranges marked out by Repository.key_after cover each
matching trace once, in the listing's order, and Repository.traces_with_runs reads each trace's
input and its scripts' own runs (status, duration, limit hit) as the full spans hold them."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from factories import BASE_NS, BLOCKED_SIGNUP, make_trace

from pipetrace.app.engine_sink import recording_engine
from pipetrace.store import Cursor, Repository, ScriptRun, TraceFilter, TraceWithSpans, open_store

COUNT = 23


def walk(repo: Repository, filters: TraceFilter, size: int) -> list[list[str]]:
    """The ids of each range of `size` traces, read range by range as a backtest does."""
    ranges = []
    newest = repo.key_after(filters)
    while newest is not None:
        older_than = repo.key_after(filters, newest, size - 1)
        ranges.append([t.trace.id for t in repo.traces_with_runs(filters, newest, older_than)])
        newest = older_than
    return ranges


def listed(repo: Repository, filters: TraceFilter) -> list[str]:
    return [row.id for row in repo.list_traces(filters, limit=COUNT * 2).rows]


def test_script_runs_agree_with_the_full_spans(repo: Repository) -> None:
    looping = {**BLOCKED_SIGNUP, "email": "ana@example.com", "stress": "loop"}
    with recording_engine(repo) as (engine, _):
        ids = [
            engine.execute_trigger("before_signup", payload, {"user_id": "u1"}).trace_id
            for payload in (BLOCKED_SIGNUP, looping)
        ]
    newest = repo.key_after(TraceFilter())
    assert newest is not None

    found = {t.trace.id: t for t in repo.traces_with_runs(TraceFilter(), newest, None)}

    assert set(found) == set(ids)
    for trace_id in ids:
        full = repo.get_trace_with_spans(trace_id)
        assert full is not None
        read = found[trace_id]
        assert not read.trace.problems
        assert read.trace.context_snapshot == full.trace.context_snapshot
        assert (read.trace.user_id, read.trace.allowed) == ("u1", full.trace.allowed)
        own = [s for s in full.spans if s.script_id and not s.attributes.get("custom")]
        assert any(s.attributes.get("custom") for s in full.spans)  # scripts opened spans
        assert read.runs == tuple(
            ScriptRun(s.script_id or "", s.status, s.duration_ms, s.attributes.get("limit"))
            for s in own
        )
    limits = {run.script_id: run.limit for run in found[ids[1]].runs}
    assert "instruction_budget" in limits.values()


def test_ranges_cover_each_matching_trace_once(repo: Repository) -> None:
    items = [make_trace(n, status="blocked" if n % 3 == 0 else "success") for n in range(COUNT)]
    same_start = items[5].trace.started_at  # ties are ordered by id, as the listing orders them
    for n in (6, 7, 8):
        items[n] = TraceWithSpans(replace(items[n].trace, started_at=same_start), items[n].spans)
    replay = make_trace(COUNT)
    replay.trace.replay_of = items[0].trace.id  # replays are not traffic: left out
    repo.save_traces([*items, replay])

    for filters in (TraceFilter(), TraceFilter(statuses=("blocked",))):
        expected = listed(repo, filters)
        for size in (1, 4, 8, COUNT, COUNT + 5):
            ranges = walk(repo, filters, size)
            assert [i for r in ranges for i in r] == expected
            assert all(len(r) == size for r in ranges[:-1]) and 0 < len(ranges[-1]) <= size
    assert repo.key_after(TraceFilter(triggers=("nothing",))) is None
    assert repo.key_after(TraceFilter(), Cursor(BASE_NS, "0" * 32)) is None


DAMAGE = (  # what another writer may leave behind in trace 1's script spans
    ("status = x'6f6b'", "script_1"),
    ("duration_ms = 9e999", "script_2"),
    ("attributes = 'not json'", "script_2"),
    ("attributes = '{\"limit\": 7}'", "script_3"),
)


def test_damaged_span_values_read_without_failing_the_range(tmp_path: Path) -> None:
    path = tmp_path / "traces.db"
    repo = open_store(str(path))
    try:
        repo.save_traces([make_trace(1, spans=4), make_trace(2)])
        with sqlite3.connect(path) as db:
            for change, name in DAMAGE:
                db.execute(
                    f"UPDATE pipeline_spans SET {change} WHERE name = ? AND trace_id = ?",
                    (name, f"{1:032x}"),
                )
        newest = repo.key_after(TraceFilter())
        assert newest is not None
        found = {t.trace.id: t.runs for t in repo.traces_with_runs(TraceFilter(), newest, None)}
    finally:
        repo.close()
    runs = found[f"{1:032x}"]
    assert [r.script_id for r in runs] == ["script_1", "script_2", "script_3"]
    assert runs[0].status == "X'6F6B'"  # a BLOB, as SQL quotes it
    assert runs[1].duration_ms is None  # infinite
    assert runs[2].limit is None  # not text
    assert [r.status for r in found[f"{2:032x}"]] == ["success", "success"]
