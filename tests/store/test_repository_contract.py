"""The repository contract, run against embedded SQLite and a real sqld server alike."""

from __future__ import annotations

import pytest
from factories import BASE_NS, SEC, make_trace

from pipetrace.store import (
    Cursor,
    DurationPoints,
    Repository,
    SpanRow,
    StoreError,
    TraceFilter,
)
from pipetrace.store.codec import lost_value
from pipetrace.store.sql import Statement


def test_save_and_read_back_a_trace_with_spans(repo: Repository) -> None:
    item = make_trace(1, status="blocked", message="disposable email domain", duration_ms=0.0425)
    repo.save_trace(item.trace, item.spans)

    found = repo.get_trace_with_spans(item.trace.id)

    assert found is not None
    assert found.trace.status == "blocked"
    assert found.trace.status_message == "disposable email domain"
    assert found.trace.duration_ms == pytest.approx(0.0425)
    assert found.trace.allowed is False
    assert found.trace.span_count == 3
    assert found.trace.context_snapshot == {"email": "u1@example.com", "password": "[REDACTED]"}
    assert found.trace.problems == ()
    assert [s.id for s in found.spans] == [s.id for s in item.spans]
    assert found.spans[1].parent_span_id == found.spans[0].id
    assert found.spans[1].attributes == {"output": {"j": 1}, "lua.line": 1}
    assert found.spans[2].started_at == item.spans[2].started_at


def test_missing_trace_is_none(repo: Repository) -> None:
    assert repo.get_trace_with_spans("f" * 32) is None


def test_save_trace_is_atomic(repo: Repository) -> None:
    first = make_trace(1)
    repo.save_traces([first])
    second = make_trace(2)
    with pytest.raises(StoreError):
        repo.save_traces([second, make_trace(1)])  # trace 1 exists: the whole batch is refused
    assert repo.get_trace_with_spans(second.trace.id) is None
    assert repo.count_traces() == 1


def test_create_trace_then_spans_in_batches(repo: Repository) -> None:
    item = make_trace(7, spans=5)
    repo.create_trace(item.trace)
    repo.create_spans(item.spans[:2])
    repo.create_spans(item.spans[2:])
    found = repo.get_trace_with_spans(item.trace.id)
    assert found is not None and len(found.spans) == 5


def test_repeated_span_ids_are_kept(repo: Repository) -> None:
    item = make_trace(3, spans=2)
    client = item.spans[1]
    server = SpanRow(**{**_fields(client), "kind": "SERVER", "name": "server side"})
    item.spans.append(server)
    repo.save_traces([item])
    found = repo.get_trace_with_spans(item.trace.id)
    assert found is not None
    assert [(s.id, s.kind) for s in found.spans if s.id == client.id] == [
        (client.id, "INTERNAL"),
        (client.id, "SERVER"),
    ]


def test_list_is_newest_first_and_pages_by_keyset(repo: Repository) -> None:
    repo.save_traces([make_trace(n) for n in range(1, 26)])
    seen: list[str] = []
    cursor: Cursor | None = None
    pages = 0
    while True:
        page = repo.list_traces(TraceFilter(), limit=10, cursor=cursor)
        seen.extend(r.id for r in page.rows)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f"{n:032x}" for n in range(25, 0, -1)]


def test_equal_start_times_page_without_loss(repo: Repository) -> None:
    repo.save_traces([make_trace(n, started_at=BASE_NS) for n in range(1, 8)])
    first = repo.list_traces(limit=3)
    second = repo.list_traces(limit=10, cursor=first.next_cursor)
    ids = [r.id for r in first.rows + second.rows]
    assert sorted(ids) == sorted(f"{n:032x}" for n in range(1, 8))
    assert len(set(ids)) == 7


def test_each_filter_and_count(repo: Repository) -> None:
    repo.save_traces(
        [
            make_trace(1, trigger="before_signup", status="success", duration_ms=1),
            make_trace(
                2,
                trigger="before_signup",
                status="blocked",
                duration_ms=5,
                message="IP on deny list",
                request_ip="203.0.113.9",
            ),
            make_trace(
                3,
                trigger="token_build",
                status="error",
                duration_ms=50,
                message="risk.lua:12: attempt to index nil",
                user_id="alice",
            ),
            make_trace(4, trigger="after_signin", status="success", duration_ms=500),
        ]
    )

    def ids(f: TraceFilter) -> list[int]:
        rows = repo.list_traces(f, limit=100).rows
        assert repo.count_traces(f) == len(rows)
        return sorted(int(r.id, 16) for r in rows)

    assert ids(TraceFilter(triggers=("before_signup",))) == [1, 2]
    assert ids(TraceFilter(triggers=("before_signup", "token_build"))) == [1, 2, 3]
    assert ids(TraceFilter(statuses=("blocked", "error"))) == [2, 3]
    assert ids(TraceFilter(started_from=BASE_NS + 2 * SEC)) == [2, 3, 4]
    assert ids(TraceFilter(started_until=BASE_NS + 2 * SEC)) == [1]
    assert ids(TraceFilter(min_duration_ms=5)) == [2, 3, 4]
    assert ids(TraceFilter(max_duration_ms=5)) == [1, 2]
    assert ids(TraceFilter(text="deny")) == [2]
    assert ids(TraceFilter(text="203.0.113")) == [2]
    assert ids(TraceFilter(text="ALICE")) == [3]
    assert ids(TraceFilter(text=f"{3:032x}")) == [3]
    assert ids(TraceFilter(text="100%_")) == []
    assert ids(TraceFilter(text="U4@EXAMPLE.com")) == [4]
    assert ids(TraceFilter(triggers=("before_signup",), statuses=("blocked",))) == [2]
    assert repo.distinct_triggers() == ["after_signin", "before_signup", "token_build"]
    assert repo.count_traces() == 4


def test_search_finds_the_input_as_it_was_typed(repo: Repository) -> None:
    """The input is stored as JSON; quotes, backslashes and accents are found as typed."""
    odd = make_trace(1)
    odd.trace.context_snapshot = {"name": 'José "Pepe" C:\\tmp', "email": "pepe@mailinator.com"}
    repo.save_traces([odd, make_trace(2)])

    def ids(text: str) -> list[int]:
        f = TraceFilter(text=text)
        rows = repo.list_traces(f).rows
        assert repo.count_traces(f) == len(rows)
        return [int(r.id, 16) for r in rows]

    assert ids("mailinator") == [1]
    assert ids('José "Pepe"') == [1]
    assert ids("C:\\tmp") == [1]
    assert ids("Pepe C") == []


def test_duration_points_follow_the_filter(repo: Repository) -> None:
    repo.save_traces([make_trace(1, status="error", duration_ms=9), make_trace(2)])
    plot = repo.duration_points(TraceFilter(statuses=("error",)))
    assert plot == DurationPoints([(BASE_NS + SEC, 9.0, "error")], sampled=False, unplaceable=0)


def test_duration_points_count_start_times_no_clock_can_show(repo: Repository) -> None:
    """Starts that are text, a BLOB or beyond 64 bits are left out and counted; a duration that
    is no number is plotted as unknown."""
    # libsql-client cannot read an infinite REAL back from sqld at all, so only SQLite has one.
    infinite = repo.backend.target.kind == "sqlite"
    repo.save_traces([make_trace(n) for n in range(1, 7 + infinite)])
    damage = {
        1: "started_at = 1.5e30",
        2: "started_at = 'soon'",
        3: "started_at = x'00ff'",
        4: "started_at = -1.5e30",
        5: "duration_ms = 'slow'",
        7: "duration_ms = 9e999",
    }
    repo.backend.write(
        [
            Statement(f"UPDATE pipeline_traces SET {change} WHERE id = ?", (f"{n:032x}",))
            for n, change in damage.items()
            if n < 7 + infinite
        ]
    )
    plot = repo.duration_points()
    assert sorted(plot.points) == [
        (BASE_NS + 5 * SEC, None, "success"),
        (BASE_NS + 6 * SEC, 2.5, "success"),
        *[(BASE_NS + 7 * SEC, None, "success")] * infinite,
    ]
    assert (plot.sampled, plot.unplaceable) == (False, 4)
    assert repo.duration_points(TraceFilter(text="soon")).unplaceable == 0
    assert repo.duration_points(TraceFilter(text=f"{2:032x}")).unplaceable == 1
    assert repo.duration_points(TraceFilter(statuses=("error",))).unplaceable == 0


def test_duration_points_say_when_a_slice_was_sampled(repo: Repository) -> None:
    """A slice holding exactly its share is whole; one trace more and it keeps its newest."""
    repo.save_traces([make_trace(n, spans=1) for n in range(1, 4)])
    whole = repo.duration_points(limit=3)
    assert (len(whole.points), whole.sampled) == (3, False)
    sampled = repo.duration_points(limit=2)
    assert sampled.sampled
    assert sorted(p[0] for p in sampled.points) == [BASE_NS + 2 * SEC, BASE_NS + 3 * SEC]


def test_duration_points_spread_over_the_whole_range(repo: Repository) -> None:
    """A limit far below the matches still samples every part of the range, not the newest."""
    hour = 3600 * SEC
    repo.save_traces(
        [make_trace(n, started_at=BASE_NS + n * hour, duration_ms=n, spans=1) for n in range(200)]
    )
    plot = repo.duration_points(limit=20, slices=10)
    slice_ns = (199 * hour + 1) // 10 + 1
    slices = sorted({(started - BASE_NS) // slice_ns for started, _, _ in plot.points})
    assert len(plot.points) == 20 and slices == list(range(10)) and plot.sampled
    assert max(p[0] for p in plot.points) == BASE_NS + 199 * hour
    window = TraceFilter(started_from=BASE_NS + 50 * hour, started_until=BASE_NS + 100 * hour)
    inside = repo.duration_points(window, limit=10, slices=5).points
    assert len(inside) == 10
    assert all(BASE_NS + 50 * hour <= p[0] < BASE_NS + 100 * hour for p in inside)
    assert min(p[0] for p in inside) < BASE_NS + 60 * hour
    assert repo.duration_points(TraceFilter(statuses=("blocked",)), slices=10) == DurationPoints(
        [], sampled=False, unplaceable=0
    )


def test_list_newer_returns_only_newer_rows(repo: Repository) -> None:
    repo.save_traces([make_trace(1), make_trace(2)])
    top = repo.list_traces(limit=1).rows[0]
    repo.save_traces([make_trace(3)])
    newer = repo.list_newer(TraceFilter(), Cursor(top.started_at, top.id))
    assert [r.id for r in newer] == [f"{3:032x}"]


def test_list_newer_breaks_ties_by_id_as_the_list_does(repo: Repository) -> None:
    repo.save_traces([make_trace(2, status="error")])
    top = repo.list_traces(limit=1).rows[0]
    # Saved in an order unlike their ids, all started in the same nanosecond, some filtered out.
    tied = [make_trace(n, status="blocked", started_at=top.started_at + SEC) for n in (3, 9, 1, 5)]
    repo.save_traces([*tied, make_trace(7, status="success", started_at=top.started_at + SEC)])
    blocked = TraceFilter(statuses=("blocked",))
    listed = [r.id for r in repo.list_traces(blocked).rows]
    newer = [r.id for r in repo.list_newer(blocked, Cursor(top.started_at, top.id))]
    assert newer == listed == [f"{n:032x}" for n in (9, 5, 3, 1)]


def test_find_prefix_and_replays(repo: Repository) -> None:
    original = make_trace(0xABC1)
    replay = make_trace(0xABC2)
    replay.trace.replay_of = original.trace.id
    repo.save_traces([original, replay])
    assert repo.find_trace_ids(original.trace.id) == [original.trace.id]
    assert len(repo.find_trace_ids("0" * 28)) == 2
    assert [r.id for r in repo.replays_of(original.trace.id)] == [replay.trace.id]
    assert repo.existing_trace_ids([original.trace.id, "e" * 32]) == {original.trace.id}


def test_corrupt_rows_come_back_marked(repo: Repository) -> None:
    item = make_trace(1)
    repo.save_traces([item])
    repo.backend.write(
        [
            Statement(
                "INSERT INTO pipeline_traces (id, trigger_event, status, started_at, ended_at,"
                " duration_ms, context_snapshot, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                ("b" * 32, "before_signup", "exploded", BASE_NS, None, -3.0, "{not json", 0),
            ),
            Statement(
                "UPDATE pipeline_spans SET attributes = ?, ended_at = NULL WHERE trace_id = ?",
                ("[1, 2", item.trace.id),
            ),
        ]
    )
    page = repo.list_traces()
    bad = next(r for r in page.rows if r.id == "b" * 32)
    assert bad.corrupt
    assert any("unknown status" in p for p in bad.problems)
    assert any("ended_at missing" in p for p in bad.problems)
    assert any("negative duration" in p for p in bad.problems)
    full = repo.get_trace_with_spans("b" * 32)
    assert full is not None
    assert any("context_snapshot: invalid JSON" in p for p in full.trace.problems)
    assert full.trace.context_snapshot == {"_raw": "{not json"}
    spans = repo.get_trace_with_spans(item.trace.id)
    assert spans is not None
    assert all(s.corrupt and s.attributes == {"_raw": "[1, 2"} for s in spans.spans)


def test_values_no_writer_of_ours_stores_come_back_marked(repo: Repository) -> None:
    """BLOBs in text and JSON columns, times beyond 64 bits and JSON nested past what printing
    can walk are read into plain values with a problem each; nothing raises."""
    repo.save_traces([make_trace(n) for n in range(1, 5)])
    deep = '{"a": ' + "[" * 2000 + "]" * 2000 + "}"
    ids = [f"{n:032x}" for n in range(1, 5)]
    repo.backend.write(
        [
            Statement(
                "UPDATE pipeline_traces SET user_id = ?, status_message = ?, result_data = ?"
                " WHERE id = ?",
                (b"u\xff", b"blob text", b'{"score": 1}', ids[0]),
            ),
            Statement("UPDATE pipeline_spans SET name = ? WHERE trace_id = ?", (b"s", ids[0])),
            Statement("UPDATE pipeline_traces SET started_at = 1.5e30 WHERE id = ?", (ids[1],)),
            Statement("UPDATE pipeline_traces SET ended_at = 1.5e30 WHERE id = ?", (ids[2],)),
            Statement(
                "UPDATE pipeline_traces SET context_snapshot = ? WHERE id = ?", (deep, ids[3])
            ),
            Statement("UPDATE pipeline_spans SET extra = ? WHERE trace_id = ?", (deep, ids[3])),
        ]
    )
    listed = {r.id: r for r in repo.list_traces().rows}
    assert len(listed) == 4 and not listed[ids[3]].problems
    blob = repo.get_trace_with_spans(ids[0])
    assert blob is not None
    assert (blob.trace.user_id, blob.trace.status_message) == ("u\\xff", "blob text")
    assert blob.trace.result_data == {"score": 1}
    assert "user_id: stored as a BLOB that is not UTF-8 text" in blob.trace.problems
    assert lost_value(blob.trace.problems) == "user_id: stored as a BLOB that is not UTF-8 text"
    assert {s.name for s in blob.spans} == {"s"} and blob.spans[0].problems
    assert lost_value(blob.spans[0].problems) is None
    assert listed[ids[1]].started_at == 0
    assert listed[ids[1]].problems == ("started_at out of range (1.5e+30)",)
    assert listed[ids[2]].ended_at is None
    assert listed[ids[2]].problems == ("ended_at out of range (1.5e+30)",)
    nested = repo.get_trace_with_spans(ids[3])
    assert nested is not None and nested.trace.context_snapshot == {"_raw": deep[:2000]}
    assert nested.trace.problems == ("context_snapshot: JSON nested deeper than 100 levels",)
    assert all(s.problems == ("extra: JSON nested deeper than 100 levels",) for s in nested.spans)


def test_cleanup_deletes_old_traces_with_their_spans(repo: Repository) -> None:
    repo.save_traces([make_trace(n) for n in range(1, 11)])
    cutoff = BASE_NS + 6 * SEC
    assert repo.count_older_than(cutoff) == (5, 15)
    progress = []
    result = repo.cleanup_old_traces(cutoff, batch_size=2, on_progress=progress.append)
    assert (result.traces, result.spans, result.cancelled) == (5, 15, False)
    assert [p.traces for p in progress] == [2, 4, 5]
    assert repo.count_traces() == 5
    assert repo.list_traces(limit=100).rows[-1].started_at == cutoff
    orphans = repo.backend.query(
        Statement(
            "SELECT count(*) FROM pipeline_spans"
            " WHERE trace_id NOT IN (SELECT id FROM pipeline_traces)"
        )
    )
    assert orphans[0][0] == 0


def test_analyze_runs(repo: Repository) -> None:
    repo.save_traces([make_trace(n) for n in range(1, 4)])
    repo.analyze()
    assert repo.count_traces(TraceFilter(triggers=("before_signup",))) == 3


def _fields(span: SpanRow) -> dict:
    return {name: getattr(span, name) for name in SpanRow.__slots__ if name != "problems"}


def test_counts_follow_every_writer_across_hours(repo: Repository) -> None:
    hour = 3600 * SEC
    repo.save_traces([make_trace(n, started_at=BASE_NS + n * 17 * 60 * SEC) for n in range(1, 31)])
    repo.backend.write(
        [
            Statement(
                "INSERT INTO pipeline_traces (id, trigger_event, status, started_at, created_at)"
                " VALUES (?, 'before_signup', 'success', ?, 0)",
                ("c" * 32, BASE_NS + 5 * hour + 1),
            ),
            Statement("UPDATE pipeline_traces SET status = 'error' WHERE id = ?", (f"{7:032x}",)),
            Statement("DELETE FROM pipeline_traces WHERE id = ?", (f"{12:032x}",)),
        ]
    )
    repo.cleanup_old_traces(BASE_NS + 3 * 17 * 60 * SEC)
    windows = [
        TraceFilter(),
        TraceFilter(started_from=BASE_NS + hour + 5, started_until=BASE_NS + 7 * hour + 11),
        TraceFilter(started_from=BASE_NS + 2 * hour, started_until=BASE_NS + 6 * hour),
        TraceFilter(started_from=BASE_NS + 3 * hour - 1, statuses=("success",)),
        TraceFilter(started_until=BASE_NS + 4 * hour + 7, statuses=("error",)),
        TraceFilter(started_from=BASE_NS + 90 * 60 * SEC, started_until=BASE_NS + 100 * 60 * SEC),
    ]
    for f in windows:
        assert repo.count_traces(f) == len(repo.list_traces(f, limit=1000).rows), f


def test_many_traces_with_spans_in_one_call(repo: Repository) -> None:
    items = [make_trace(n, spans=n) for n in range(1, 5)]
    repo.save_traces(items)
    wanted = [f"{3:032x}", "d" * 32, f"{1:032x}", f"{3:032x}".upper()]
    loaded = repo.get_traces_with_spans(wanted)
    assert [t.trace.id for t in loaded] == [f"{3:032x}", f"{1:032x}"]
    assert [len(t.spans) for t in loaded] == [3, 1]
    assert loaded[0].spans == repo.get_trace_with_spans(f"{3:032x}").spans


def test_list_newer_reads_the_page_just_above_a_cursor(repo: Repository) -> None:
    """Paging back up: the traces nearest above the cursor, not the newest of all."""
    repo.save_traces([make_trace(n, spans=1) for n in range(30)])
    everything = [r.id for r in repo.list_traces(limit=100).rows]
    at = repo.get_trace(f"{9:032x}")
    assert at is not None
    newer = repo.list_newer(TraceFilter(), Cursor(at.started_at, at.id), limit=5)
    assert [r.id for r in newer] == [f"{n:032x}" for n in (14, 13, 12, 11, 10)]
    assert [r.id for r in newer] == everything[15:20]
