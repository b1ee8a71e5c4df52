"""A large import takes the span-filing trigger off while it files its spans' runs itself: the
rollups still equal a recount, the store keeps the very trigger it had (so a foreign writer's
span is filed after it), a write that fails with the trigger off leaves it in place, and a
trigger changed between the lookup and the write is looked up again rather than put back as
it was; on SQLite and sqld."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from rollup_recount import random_traces, recounted, stored_rollups

from pipetrace.store import Repository, StoreError, open_store, span_filing_pause
from pipetrace.store.codec import span_to_tuple
from pipetrace.store.columns import SPAN_COLUMNS
from pipetrace.store.interop import export_traces, import_file, importer, select_trace_ids
from pipetrace.store.models import SpanRow
from pipetrace.store.sql import InsertMany, Statement

TRIGGERS = Statement("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")


def _exported(tmp_path: Path) -> Path:
    """A file of 80 random traces (scripts, custom spans, limit hits, replays among them)."""
    source = open_store(str(tmp_path / "source.db"))
    try:
        source.save_traces(random_traces(random.Random(21), 80))
        lines = list(export_traces(source, list(select_trace_ids(source))))
    finally:
        source.close()
    path = tmp_path / "traces.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    return path


def _foreign_span(repo: Repository) -> None:
    """A script span added to a stored trace by a plain INSERT, which only the trigger files."""
    trace_id = repo.backend.query(Statement("SELECT id FROM pipeline_traces LIMIT 1"))[0][0]
    span = SpanRow(trace_id, "f" * 16, "late", "success", 10**18, script_id="late_script")
    marks = ", ".join("?" * len(SPAN_COLUMNS))
    insert = f"INSERT INTO pipeline_spans ({', '.join(SPAN_COLUMNS)}) VALUES ({marks})"
    repo.backend.write([Statement(insert, span_to_tuple(span))])


def test_a_large_import_keeps_the_trigger_and_the_rollups(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(span_filing_pause, "PAUSE_FROM", 1)
    path = _exported(tmp_path)
    repo = open_store(store_url)
    try:
        triggers = repo.backend.query(TRIGGERS)
        import_file(repo, str(path))
        assert repo.backend.query(TRIGGERS) == triggers
        assert stored_rollups(repo) == recounted(repo)
        runs = repo.backend.query(Statement("SELECT count(*) FROM pipeline_script_runs"))[0][0]
        assert runs > 0
        _foreign_span(repo)
        assert repo.backend.query(Statement("SELECT count(*) FROM pipeline_script_runs")) == [
            (runs + 1,)
        ]
        assert stored_rollups(repo) == recounted(repo)
    finally:
        repo.close()


def test_a_trigger_changed_since_its_lookup_is_looked_up_again(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(span_filing_pause, "PAUSE_FROM", 1)
    lookups: list[str | None] = []

    def stale_first(backend: object) -> str | None:
        text = span_filing_pause.filing_trigger(backend)  # type: ignore[arg-type]
        lookups.append(text)
        return text.replace("INSERT OR IGNORE", "INSERT") if len(lookups) == 1 and text else text

    monkeypatch.setattr(importer, "filing_trigger", stale_first)
    path = _exported(tmp_path)
    repo = open_store(store_url)
    try:
        triggers = repo.backend.query(TRIGGERS)
        report = import_file(repo, str(path))
        assert len(lookups) == 2
        stored = repo.backend.query(Statement("SELECT count(*) FROM pipeline_traces"))
        assert stored == [(report.traces_added,)]
        assert repo.backend.query(TRIGGERS) == triggers
        assert stored_rollups(repo) == recounted(repo)
    finally:
        repo.close()


def test_a_write_that_fails_with_the_trigger_off_leaves_it_in_place(repo: Repository) -> None:
    text = span_filing_pause.filing_trigger(repo.backend)
    assert text is not None
    triggers = repo.backend.query(TRIGGERS)
    orphan = SpanRow("9" * 32, "1" * 16, "no trace", "success", 10**18)  # breaks the foreign key
    spans = InsertMany("pipeline_spans", SPAN_COLUMNS, [span_to_tuple(orphan)])
    with pytest.raises(StoreError):
        repo.backend.write(span_filing_pause.without_filing_trigger(text, [spans]))
    assert repo.backend.query(TRIGGERS) == triggers
    assert repo.backend.query(Statement("SELECT count(*) FROM pipeline_spans")) == [(0,)]
