"""Migration 0004_replays on a store that is being written, on both backends: the hourly counts
are rebuilt a range of hours per short transaction, a writer inserting, updating and deleting
meanwhile loses nothing, and the counts equal a recount afterwards, also after an interrupted
upgrade; the replay index built online is the one a direct build makes."""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import BASE_NS, SEC, make_trace

from pipetrace.app.cli import main
from pipetrace.store import Repository, TraceWithSpans, open_store
from pipetrace.store.backends import open_backend
from pipetrace.store.backfill_run import backfill_in_batches
from pipetrace.store.migrate import backfills, head_revision, script_directory, upgrade
from pipetrace.store.schema import HOUR_NS
from pipetrace.store.sql import Statement
from pipetrace.store.upgrade_batches import BatchProgress, Progress
from pipetrace.store.url import parse_database_url

STORED = 2400
SPACING = 10 * 60 * SEC
"""Six traces an hour over 400 hours: the recount takes several ranges of hours."""
REPLAYS = "0004_replays"
INDEX = "ix_pipeline_traces_replays_started"
RECOUNT = (
    "SELECT trigger_event, status, started_at / 3600000000000, count(*) FROM pipeline_traces "
    "WHERE replay_of IS NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
)
COUNTS = (
    "SELECT trigger_event, status, hour, n FROM pipeline_trace_counts WHERE n != 0 ORDER BY 1, 2, 3"
)


def _trace(n: int, started_at: int, replay: bool) -> TraceWithSpans:
    """Trace `n` of one of two triggers and statuses; a replay of trace n - 1 if `replay`."""
    item = make_trace(
        n,
        trigger=("before_signup", "before_signin")[n % 2],
        status=("success", "blocked", "success")[n % 3],
        started_at=started_at,
        spans=1,
    )
    replay_of = f"{n - 1:032x}" if replay else None
    return TraceWithSpans(replace(item.trace, replay_of=replay_of), item.spans)


def _store_at_0003(url: str) -> None:
    """STORED traces (one in ten a replay) saved at revision 0003, whose counts hold replays."""
    backend = open_backend(parse_database_url(url))
    try:
        upgrade(backend, "0003")
    finally:
        backend.close()
    repo = open_store(url, migrate=False)
    try:
        repo.save_traces([_trace(n, BASE_NS + n * SPACING, n % 10 == 0) for n in range(STORED)])
    finally:
        repo.close()


def _query(url: str, sql: str) -> list[tuple[object, ...]]:
    backend = open_backend(parse_database_url(url))
    try:
        return backend.query(Statement(sql))
    finally:
        backend.close()


def _ids(url: str) -> set[str]:
    return {str(r[0]) for r in _query(url, "SELECT id FROM pipeline_traces")}


def _assert_counts_exact(url: str) -> None:
    """The hourly counts hold what a recount of the traffic rows gives, and counts read them."""
    assert _query(url, COUNTS) == _query(url, RECOUNT)
    traffic = _query(url, "SELECT count(*) FROM pipeline_traces WHERE replay_of IS NULL")[0][0]
    repo = open_store(url, migrate=False)
    try:
        assert repo.hourly_counts
        assert repo.count_traces() == traffic
    finally:
        repo.close()


class _Churn(threading.Thread):
    """Inserts traces (some replays) into hours all over the store and beyond, moves traces to
    other hours, makes replays traffic and back, and deletes traces, one round after another
    through a store that does not migrate, until stopped."""

    def __init__(self, url: str, seed: int) -> None:
        super().__init__(daemon=True)
        self.repo: Repository = open_store(url, migrate=False)
        self.random = random.Random(seed)
        self.stop = threading.Event()
        self.turned = threading.Condition()
        self.rounds = 0
        self.inserted: set[str] = set()
        self.deleted: set[str] = set()
        self.error: BaseException | None = None

    def run(self) -> None:
        n = 1_000_000
        try:
            while not self.stop.is_set():
                self._round(n)
                n += 3
                with self.turned:
                    self.rounds += 1
                    self.turned.notify_all()
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def _round(self, n: int) -> None:
        pick = self.random
        items = [
            _trace(m, BASE_NS + pick.randrange(-20, 420) * HOUR_NS + m, pick.random() < 0.2)
            for m in (n, n + 1, n + 2)
        ]
        self.repo.save_traces(items)
        self.inserted.update(item.trace.id for item in items)
        victim = f"{pick.randrange(STORED):032x}"
        moved = f"{pick.randrange(STORED):032x}"
        flipped = f"{pick.randrange(STORED):032x}"
        self.repo.backend.write(
            [
                Statement("DELETE FROM pipeline_traces WHERE id = ?", (victim,)),
                Statement(
                    "UPDATE pipeline_traces SET started_at = started_at + ?, status = ? "
                    "WHERE id = ?",
                    (pick.randrange(-50, 50) * HOUR_NS, pick.choice(["error", "success"]), moved),
                ),
                Statement(
                    "UPDATE pipeline_traces SET replay_of = CASE WHEN replay_of IS NULL "
                    "THEN 'x' ELSE NULL END WHERE id = ?",
                    (flipped,),
                ),
            ]
        )
        self.deleted.add(victim)

    def wait_for_rounds(self, count: int) -> None:
        """Until `count` more rounds are done (each one outside the upgrade's transactions)."""
        with self.turned:
            goal = self.rounds + count
            assert self.turned.wait_for(lambda: self.rounds >= goal or self.error, timeout=30)

    def finish(self) -> None:
        self.stop.set()
        self.join()
        self.repo.close()
        assert self.error is None, self.error


@pytest.fixture
def churn() -> Iterator[list[_Churn]]:
    started: list[_Churn] = []
    yield started
    for thread in started:
        if thread.is_alive():
            thread.stop.set()
            thread.join()
            thread.repo.close()


def _upgrade(
    url: str, revision: str, on_progress: Progress | None = None
) -> tuple[str | None, str | None]:
    backend = open_backend(parse_database_url(url))
    try:
        return upgrade(backend, revision, on_progress=on_progress)
    finally:
        backend.close()


def test_a_writer_inserting_updating_and_deleting_through_0004_loses_nothing(
    store_url: str, churn: list[_Churn]
) -> None:
    _store_at_0003(store_url)
    before = _ids(store_url)
    writer = _Churn(store_url, seed=4)
    churn.append(writer)
    writer.start()
    ranges: list[BatchProgress] = []

    def between_ranges(progress: BatchProgress) -> None:
        if progress.phase == "backfill":
            ranges.append(progress)
            writer.wait_for_rounds(2)

    assert _upgrade(store_url, REPLAYS, between_ranges) == ("0003", REPLAYS)
    writer.finish()
    assert len(ranges) > 3, "the counts were rebuilt in several ranges, the writer between them"
    assert ranges[-1].done == ranges[-1].total
    assert _ids(store_url) == (before | writer.inserted) - writer.deleted
    assert writer.inserted and writer.deleted & before
    _assert_counts_exact(store_url)
    assert _upgrade(store_url, "head") == (REPLAYS, head_revision())
    _assert_counts_exact(store_url)


class _Interrupt(Exception):
    pass


def test_an_upgrade_interrupted_in_the_recount_is_finished_by_the_next_one(
    store_url: str,
) -> None:
    _store_at_0003(store_url)

    def stop(progress: BatchProgress) -> None:
        if progress.phase == "backfill":
            raise _Interrupt

    with pytest.raises(_Interrupt):
        _upgrade(store_url, "head", stop)
    assert _query(store_url, "SELECT version_num FROM pipetrace_revision") == [("0003",)]
    repo = open_store(store_url, migrate=False)
    try:
        assert not repo.hourly_counts  # at 0003 the counts are not read: rows are counted
        repo.save_traces([_trace(9_000_000, BASE_NS + 5 * HOUR_NS, False)])
        repo.save_traces([_trace(9_000_001, BASE_NS + 390 * HOUR_NS, True)])
        repo.backend.write([Statement(f"DELETE FROM pipeline_traces WHERE id = '{20:032x}'")])
        traffic = _query(store_url, "SELECT count(*) FROM pipeline_traces WHERE replay_of IS NULL")
        assert repo.count_traces() == traffic[0][0]
    finally:
        repo.close()
    assert _upgrade(store_url, "head") == ("0003", head_revision())
    _assert_counts_exact(store_url)


def test_a_backfill_leaves_a_store_another_process_moved_on_as_it_is(store_url: str) -> None:
    _store_at_0003(store_url)
    assert _upgrade(store_url, "head") == ("0003", head_revision())
    (recount,) = backfills(script_directory().get_revision(REPLAYS))
    backend = open_backend(parse_database_url(store_url))
    try:
        backend.write([Statement("UPDATE pipeline_trace_counts SET n = n + 1000")])
        triggers = backend.query(Statement("SELECT sql FROM sqlite_master WHERE type = 'trigger'"))
        assert not backfill_in_batches(backend, recount, "0003")
        after = backend.query(Statement("SELECT sql FROM sqlite_master WHERE type = 'trigger'"))
        assert after == triggers
        assert backend.query(Statement("SELECT min(n) FROM pipeline_trace_counts"))[0][0] > 1000
    finally:
        backend.close()


def _index_shape(path: str) -> tuple[object, ...]:
    """The replay index's columns, whether it is partial, and its SQL without quotes."""
    with sqlite3.connect(path) as conn:
        columns = conn.execute(f"SELECT name FROM pragma_index_info('{INDEX}')").fetchall()
        partial = conn.execute(
            "SELECT partial FROM pragma_index_list('pipeline_traces') WHERE name = ?", (INDEX,)
        ).fetchall()
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (INDEX,)).fetchone()
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM pipeline_traces WHERE replay_of IS NOT NULL "
            "ORDER BY started_at DESC, id DESC LIMIT 50"
        ).fetchall()
    assert INDEX in str(plan)
    return tuple(columns), tuple(partial), str(sql).replace('"', "")


def test_the_replay_index_built_online_is_the_one_a_direct_build_makes(tmp_path: Path) -> None:
    online, direct = str(tmp_path / "online.db"), str(tmp_path / "direct.db")
    _store_at_0003(online)
    phases: set[str] = set()
    _upgrade(online, REPLAYS, lambda p: phases.add(p.phase))
    assert {"backfill", "copy", "retire"} <= phases
    _upgrade(direct, REPLAYS)  # an empty table: the index is built in the transaction
    assert _index_shape(online) == _index_shape(direct)
    with sqlite3.connect(online) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    _assert_counts_exact(online)


def test_every_range_reads_its_rows_through_the_start_time_index(tmp_path: Path) -> None:
    path = str(tmp_path / "plans.db")
    _upgrade(path, "head")
    (recount,) = backfills(script_directory().get_revision(REPLAYS))
    with sqlite3.connect(path) as conn:
        for first, last in ((None, 2), (2, 5), (5, None)):
            fill = recount.range_sql(first, last)[1]
            plan = str(conn.execute(f"EXPLAIN QUERY PLAN {fill}").fetchall())
            assert "USING INDEX ix_pipeline_traces_started_at_id (started_at" in plan, plan
            assert "SCAN" not in plan, plan


def test_damaged_start_times_are_counted_as_a_recount_counts_them(tmp_path: Path) -> None:
    path = str(tmp_path / "damaged.db")
    _store_at_0003(path)
    with sqlite3.connect(path) as conn:
        damage = ((1, "'yesterday'"), (2, "x'00ff'"), (3, "'soon'"), (4, "1e30"), (5, "-7"))
        for n, value in damage:
            conn.execute(
                f"UPDATE pipeline_traces SET started_at = {value} WHERE id = ?", (f"{n:032x}",)
            )
    conn.close()
    assert _upgrade(path, "head") == ("0003", head_revision())
    assert _query(path, COUNTS) == _query(path, RECOUNT)


def test_db_upgrade_says_the_counts_are_rebuilt_a_range_at_a_time(store_url: str) -> None:
    _store_at_0003(store_url)
    dry = CliRunner().invoke(main, ["db", "upgrade", "--dry-run", "--db", store_url])
    assert dry.exit_code == 0, dry.stderr
    assert (
        f"-- locks: before its transaction, pipeline_trace_counts is rebuilt from pipeline_traces "
        f"({STORED:,} rows) a range of whole hours at a time"
    ) in dry.stdout
    assert "count(*) FROM pipeline_traces" not in dry.stdout  # not in the revision's own SQL
    index = (
        f"builds an index over all {STORED:,} rows of pipeline_traces in one go"
        if store_url.startswith("http")
        else f"before its transaction, pipeline_traces ({STORED:,} rows) is rebuilt with the new"
    )
    assert index in dry.stdout
    done = CliRunner().invoke(main, ["db", "upgrade", "--db", store_url])
    assert done.exit_code == 0, done.stderr
    assert "pipetrace: refilling pipeline_trace_counts (writers keep writing)" in done.stderr
    _assert_counts_exact(store_url)
