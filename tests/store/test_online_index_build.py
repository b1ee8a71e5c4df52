"""Upgrading a store that is being written, on both backends: nothing written meanwhile is lost,
and on SQLite the new indexes are built by rebuilding the table in short batches (which a
writer gets between), resumably after an interruption, leaving the same schema a direct build
would have."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import make_trace

from pipetrace.store import Repository, open_store
from pipetrace.store.backends import open_backend
from pipetrace.store.backends.sqlite import SQLiteBackend
from pipetrace.store.migrate import head_revision, upgrade
from pipetrace.store.sql import Statement
from pipetrace.store.upgrade_batches import BatchProgress
from pipetrace.store.url import parse_database_url
from pipetrace.store.writer import TraceWriter

STORED = 3000
NEW_INDEXES = {"ix_pipeline_traces_user_started", "ix_pipeline_traces_ip_started"}
OLD_INDEXES = {"ix_pipeline_traces_user_id", "ix_pipeline_traces_request_ip"}


def _store_at_0002(url: str, count: int) -> None:
    backend = open_backend(parse_database_url(url))
    try:
        upgrade(backend, "0002")
    finally:
        backend.close()
    repo = open_store(url, migrate=False)
    try:
        for start in range(0, count, 1000):
            repo.save_traces([make_trace(n, spans=2) for n in range(start, start + 1000)])
    finally:
        repo.close()


def _query(url: str, sql: str) -> list[tuple[object, ...]]:
    backend = open_backend(parse_database_url(url))
    try:
        return backend.query(Statement(sql))
    finally:
        backend.close()


def _names(url: str, kind: str) -> set[str]:
    rows = _query(url, f"SELECT name FROM sqlite_master WHERE type = '{kind}'")
    return {str(r[0]) for r in rows}


class _Writer(threading.Thread):
    """Submits a new trace every 2 ms to a TraceWriter (the engine's sink) until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.repo: Repository = open_store(url, migrate=False)
        self.writer = TraceWriter(self.repo, batch_size=16)
        self.stop = threading.Event()
        self.submitted: list[str] = []

    def run(self) -> None:
        n = 1_000_000
        while not self.stop.wait(0.002):
            item = make_trace(n, spans=2)
            self.writer.submit(item)
            self.submitted.append(item.trace.id)
            n += 1

    def finish(self) -> None:
        self.stop.set()
        self.join()
        self.writer.close()
        self.repo.close()


@pytest.fixture
def writer_during() -> Iterator[list[_Writer]]:
    started: list[_Writer] = []
    yield started
    for writer in started:
        if writer.is_alive():
            writer.finish()


def test_a_writer_running_through_an_upgrade_loses_nothing(
    store_url: str, writer_during: list[_Writer]
) -> None:
    _store_at_0002(store_url, STORED)
    writer = _Writer(store_url)
    writer_during.append(writer)
    writer.start()
    written_at_batches: list[int] = []

    def on_progress(progress: BatchProgress) -> None:
        written_at_batches.append(writer.writer.stats().written)

    backend = open_backend(parse_database_url(store_url))
    try:
        assert upgrade(backend, on_progress=on_progress) == ("0002", head_revision())
    finally:
        backend.close()
    writer.finish()
    stats = writer.writer.stats()
    assert (stats.dropped, stats.failed) == (0, 0), stats.last_error
    assert stats.written == len(writer.submitted) > 0
    ids = {str(r[0]) for r in _query(store_url, "SELECT id FROM pipeline_traces")}
    assert len(ids) == STORED + len(writer.submitted)
    assert set(writer.submitted) <= ids
    assert _query(store_url, "SELECT count(*) FROM pipeline_spans") == [(2 * len(ids),)]
    assert _query(store_url, "SELECT sum(n) FROM pipeline_trace_counts") == [(len(ids),)]
    indexes = _names(store_url, "index")
    assert indexes >= NEW_INDEXES and not OLD_INDEXES & indexes
    if not store_url.startswith("http"):
        assert len(written_at_batches) > 2, "the rebuild ran in several batches"
        assert written_at_batches[-1] > written_at_batches[0], "the writer wrote between them"
        _assert_rebuilt_cleanly(store_url)


STATS_TRIGGER_TABLES = (
    "pipeline_spans",
    "pipeline_script_runs",
    "pipeline_trace_runs",
    "pipeline_script_counts",
    "pipeline_script_durations",
)
"""Tables whose triggers keep the script runs and rollups (0007_script_stats), after the rebuild
as before."""


def _assert_rebuilt_cleanly(path: str) -> None:
    """The rebuilt table is the table: sound file, no leftovers, triggers and cascades work."""
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        left = conn.execute(
            "SELECT name FROM sqlite_master WHERE substr(name, 1, 11) = '_pipetrace_'"
        ).fetchall()
        assert left == []
        triggers = {
            r[0] for r in conn.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
        }
        assert triggers == {"pipeline_traces", *STATS_TRIGGER_TABLES}
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM pipeline_traces WHERE user_id = 'u' "
            "ORDER BY started_at DESC"
        ).fetchall()
        assert "ix_pipeline_traces_user_started" in str(plan)
    repo = open_store(path)
    try:
        before = repo.count_traces()
        repo.save_traces([make_trace(5_000_000)])
        assert repo.count_traces() == before + 1
        repo.backend.write(
            [Statement(f"DELETE FROM pipeline_traces WHERE id = '{5_000_000:032x}'")]
        )
        orphans = repo.backend.query(
            Statement(f"SELECT count(*) FROM pipeline_spans WHERE trace_id = '{5_000_000:032x}'")
        )
        assert orphans == [(0,)]
    finally:
        repo.close()


class _Interrupt(Exception):
    pass


@pytest.mark.parametrize("phase", ["copy", "retire"])
def test_an_interrupted_rebuild_is_finished_by_the_next_upgrade(tmp_path: Path, phase: str) -> None:
    path = str(tmp_path / "resume.db")
    _store_at_0002(path, STORED)

    def stop(progress: BatchProgress) -> None:
        if progress.phase == phase and progress.done > 0:
            raise _Interrupt

    backend = open_backend(parse_database_url(path))
    assert isinstance(backend, SQLiteBackend)
    try:
        with pytest.raises(_Interrupt):
            upgrade(backend, on_progress=stop)
        assert _names(path, "table") & {
            "_pipetrace_new_pipeline_traces",
            "_pipetrace_old_pipeline_traces",
        }
        repo = open_store(path, migrate=False)
        repo.save_traces([make_trace(n) for n in range(9000, 9010)])
        repo.backend.write([Statement(f"DELETE FROM pipeline_traces WHERE id = '{1:032x}'")])
        repo.close()
        assert upgrade(backend) == ("0002", head_revision())
    finally:
        backend.close()
    ids = {str(r[0]) for r in _query(path, "SELECT id FROM pipeline_traces")}
    assert len(ids) == STORED + 10 - 1 and f"{1:032x}" not in ids
    _assert_rebuilt_cleanly(path)
