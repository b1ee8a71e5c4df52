"""An auther database read in place: recognised by its schema, listed newest first, filtered in
its milliseconds, found by UUID prefix, shown with custom spans under their script's span."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pytest
from auther_db import SpanSpec
from auther_samples import DAY_MS, NOW_MS, AutherStore
from click.testing import CliRunner

from pipetrace.app.cli import main
from pipetrace.app.script_source import AUTHER
from pipetrace.store import StoreError, TraceFilter, open_store
from pipetrace.store.auther import AutherRepository
from pipetrace.store.auther.rows import CUT_KEY, TRUNCATED_KEY
from pipetrace.store.models import TraceRow

MS = 1_000_000


@pytest.fixture
def repo(auther_store: AutherStore) -> Iterator[AutherRepository]:
    """The auther database opened as any store is."""
    opened = open_store(auther_store.url, create=False)
    assert isinstance(opened, AutherRepository)
    try:
        yield opened
    finally:
        opened.close()


def test_recognised_by_its_schema_and_named_so(repo: AutherRepository) -> None:
    assert repo.url.endswith("(auther store)")
    assert repo.flavour == "auther"


def test_list_is_newest_first_with_times_in_ns(
    repo: AutherRepository, auther_store: AutherStore
) -> None:
    page = repo.list_traces()
    assert [r.id for r in page.rows] == [auther_store.fresh, auther_store.old, auther_store.older]
    fresh = page.rows[0]
    assert fresh.started_at == (NOW_MS - DAY_MS) * MS
    assert fresh.status == "blocked" and fresh.allowed is False
    assert fresh.span_count == 4
    assert fresh.duration_ms == 15.0
    assert repo.count_traces() == 3


def test_paging_by_cursor_and_live_mode(repo: AutherRepository, auther_store: AutherStore) -> None:
    first = repo.list_traces(limit=1)
    assert first.next_cursor is not None
    second = repo.list_traces(limit=1, cursor=first.next_cursor)
    assert [r.id for r in second.rows] == [auther_store.old]
    newer = repo.list_newer(None, repo.cursor_of(second.rows[0]))
    assert [r.id for r in newer] == [auther_store.fresh]


def test_the_page_above_a_cursor_is_the_nearest_written_after_it(
    repo: AutherRepository, auther_store: AutherStore
) -> None:
    """Paging back up reads the traces listed just above a row (the list's order: when each
    was written, here the reverse of when they started), not the newest of all."""
    for n in range(12):
        started = NOW_MS - 30 * DAY_MS + n * 1000
        step = [[SpanSpec("Enrich", output={"n": n})]]
        auther_store.writer.trace("before_signup", started, step, created_delay_ms=(12 - n) * 5000)
    rows = repo.list_traces(limit=100).rows
    assert [r.started_at for r in rows[1:13]] == sorted(r.started_at for r in rows[1:13])
    newer = repo.list_newer(None, repo.cursor_of(rows[9]), limit=3)
    assert [r.id for r in newer] == [r.id for r in rows[6:9]]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (TraceFilter(triggers=("before_signin",)), ["older"]),
        (TraceFilter(statuses=("blocked",)), ["fresh"]),
        (TraceFilter(started_from=(NOW_MS - 45 * DAY_MS) * MS), ["fresh", "old"]),
        (TraceFilter(started_until=(NOW_MS - 40 * DAY_MS) * MS + 1), ["old", "older"]),
        (TraceFilter(started_until=(NOW_MS - 40 * DAY_MS) * MS), ["older"]),
        (TraceFilter(min_duration_ms=10), ["fresh"]),
        (TraceFilter(user_id="user_456"), ["old"]),
        (TraceFilter(ip_network="198.51.100.0/24"), ["old"]),
    ],
)
def test_filters_in_milliseconds(
    repo: AutherRepository, auther_store: AutherStore, filters: TraceFilter, expected: list[str]
) -> None:
    ids = [getattr(auther_store, name) for name in expected]
    assert [r.id for r in repo.list_traces(filters).rows] == ids
    assert repo.count_traces(filters) == len(ids)


def test_search_finds_a_uuid_prefix(repo: AutherRepository, auther_store: AutherStore) -> None:
    found = repo.list_traces(TraceFilter(text=auther_store.old[:13])).rows
    assert [r.id for r in found] == [auther_store.old]


def test_ids_found_by_prefix_with_or_without_dashes(
    repo: AutherRepository, auther_store: AutherStore
) -> None:
    uuid = auther_store.fresh
    assert repo.find_trace_ids(uuid[:6]) == [uuid]
    assert repo.find_trace_ids(uuid.replace("-", "")[:14]) == [uuid]
    whole = repo.get_trace_with_spans(uuid.replace("-", ""))
    assert whole is not None and whole.trace.id == uuid


def test_detail_nests_custom_spans_and_keeps_skipped(
    repo: AutherRepository, auther_store: AutherStore
) -> None:
    found = repo.get_trace_with_spans(auther_store.fresh)
    assert found is not None
    by_name = {s.name: s for s in found.spans}
    enrich, lookup = by_name["Enrich"], by_name["lookup"]
    assert lookup.parent_span_id == enrich.id and lookup.script_id is None
    assert lookup.attributes == {"db": "users", "n": 3}
    assert enrich.attributes == {"output": {"tier": "gold"}}
    assert enrich.script_id == auther_store.script_ids["enrich"]
    skipped = by_name["Unknown"]
    assert (skipped.status, skipped.status_message) == ("skipped", "Script not found")
    assert by_name["Geo Blocker"].layer_index == 1
    assert found.trace.context_snapshot == {"email": "ada@example.com"}
    assert not any(s.problems for s in found.spans)


def test_a_snapshot_cut_at_32_kb_is_shown_as_cut(
    repo: AutherRepository, auther_store: AutherStore
) -> None:
    trace = repo.get_trace(auther_store.older)
    assert isinstance(trace, TraceRow) and trace.context_snapshot is not None
    assert trace.context_snapshot[TRUNCATED_KEY] > 32_768
    assert trace.context_snapshot[CUT_KEY].startswith('{"blob":"xxx')
    assert not trace.problems


def test_plot_points_and_triggers(repo: AutherRepository) -> None:
    plot = repo.duration_points(slices=20)
    assert sorted(p[0] // MS for p in plot.points) == [
        NOW_MS - 60 * DAY_MS,
        NOW_MS - 40 * DAY_MS,
        NOW_MS - DAY_MS,
    ]
    assert repo.distinct_triggers() == ["before_signin", "before_signup"]


def test_writes_are_refused(repo: AutherRepository) -> None:
    row = TraceRow("0" * 32, "t", "success", 1)
    with pytest.raises(StoreError, match="only reads an auther store"):
        repo.save_trace(row, [])


def test_cli_lists_and_shows(auther_store: AutherStore) -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["traces", "--db", auther_store.url, "--json"])
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.output)
    assert data["total"] == 3 and data["total_is_lower_bound"] is False
    assert data["traces"][0]["trace_id"] == auther_store.fresh
    shown = runner.invoke(main, ["show", auther_store.fresh[:8], "--db", auther_store.url])
    assert shown.exit_code == 0, shown.output
    assert auther_store.fresh in shown.output
    assert "Script not found" in shown.output
    assert "  lookup" in shown.output


def test_show_says_an_auther_store_keeps_no_script_versions(auther_file: AutherStore) -> None:
    shown = CliRunner(env={"COLUMNS": "200"}).invoke(
        main, ["show", auther_file.fresh[:8], "--db", auther_file.url]
    )
    assert shown.exit_code == 0, shown.output
    assert f"script source: {AUTHER}" in shown.output


def test_export_maps_uuids_to_w3c_ids(auther_store: AutherStore) -> None:
    result = CliRunner().invoke(
        main, ["export", "--trace", auther_store.fresh, "--db", auther_store.url]
    )
    assert result.exit_code == 0, result.output
    spans = [
        span
        for rs in json.loads(result.stdout.splitlines()[0])["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    ]
    assert {s["traceId"] for s in spans} == {auther_store.fresh.replace("-", "")}
    uuids = {
        s["spanId"]: next(
            a["value"]["stringValue"] for a in s["attributes"] if a["key"] == "auther.span.uuid"
        )
        for s in spans
    }
    assert all(len(k) == 16 and v.replace("-", "").startswith(k) for k, v in uuids.items())
    by_name = {s["name"]: s for s in spans}
    assert by_name["lookup"]["parentSpanId"] == by_name["Enrich"]["spanId"]


def test_an_auther_file_s_version_moves_with_its_application_s_commits(
    auther_file: AutherStore,
) -> None:
    repo = open_store(auther_file.url, migrate=False, create=False)
    try:
        before = repo.data_version()
        assert before is not None
        with sqlite3.connect(auther_file.path) as db:
            db.execute("UPDATE pipeline_traces SET status = status")
        assert repo.data_version() != before
    finally:
        repo.close()
