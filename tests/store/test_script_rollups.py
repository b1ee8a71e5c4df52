"""The script rollups the SQL triggers keep equal a recount from the stored spans and traces,
on random data, through saves, imports' merges, cleanup, raw deletes and replays, on SQLite and
sqld; and a store upgraded from 0005 gets them by its backfills."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
from pathlib import Path

import pytest
from factories import BASE_NS, SEC
from rollup_recount import random_traces, recounted, stored_rollups

from pipetrace.store import Repository, StoreError, TraceWithSpans, open_store
from pipetrace.store.backends import Backend, open_backend
from pipetrace.store.codec import SPAN_COLUMNS, TRACE_COLUMNS, span_to_tuple, trace_to_tuple
from pipetrace.store.interop import export_traces, import_file, select_trace_ids
from pipetrace.store.migrate import upgrade
from pipetrace.store.schema_check import open_schema
from pipetrace.store.sql import Statement
from pipetrace.store.upgrade_batches import BatchProgress
from pipetrace.store.url import parse_database_url


@pytest.mark.parametrize("seed", [1, 2])
def test_rollups_equal_a_recount_through_every_kind_of_write(repo: Repository, seed: int) -> None:
    rng = random.Random(seed)
    items = random_traces(rng, 120)
    for start in range(0, len(items), 40):
        repo.save_traces(items[start : start + 40])
    assert stored_rollups(repo) == recounted(repo)

    moved = rng.sample(items, 10)
    repo.backend.write(
        [
            Statement(
                "UPDATE pipeline_traces SET started_at = started_at + ?, trigger_event = ?, "
                "status = ?, replay_of = ?, duration_ms = ?, pipeline_version = ? WHERE id = ?",
                (
                    rng.randrange(-30, 30) * 3600 * SEC,
                    rng.choice(("before_signup", "token_build")),
                    rng.choice(("success", "error")),
                    rng.choice((None, "f" * 32)),
                    rng.choice((None, 3.5)),
                    rng.choice((None, "p9" * 8)),
                    item.trace.id,
                ),
            )
            for item in moved
        ]
    )
    assert stored_rollups(repo) == recounted(repo)

    doomed = rng.sample(items, 10)
    repo.backend.write(
        [
            Statement(
                "DELETE FROM pipeline_spans WHERE id = ? AND trace_id = ?", (s.id, s.trace_id)
            )
            for item in doomed
            for s in item.spans[1:2]
        ]
    )
    repo.backend.write(
        [Statement("UPDATE pipeline_spans SET status = 'error' WHERE script_id = ?", ("velocity",))]
    )
    assert stored_rollups(repo) == recounted(repo)

    repo.cleanup_old_traces(BASE_NS + 30 * 3600 * SEC, batch_size=25, verify=False)
    repo.save_traces(random_traces(rng, 30, first=1000))
    assert stored_rollups(repo) == recounted(repo)
    counts, _durations = stored_rollups(repo)
    assert all(n > 0 for n, _limits in counts.values())  # rows taken to zero are gone


def test_spans_stored_before_their_trace_are_counted_when_it_arrives(tmp_path: Path) -> None:
    path = tmp_path / "raw.db"
    open_store(str(path)).close()
    item = random_traces(random.Random(5), 1)[0]
    item.trace.replay_of = None
    for span in item.spans[1:]:
        span.attributes = {}
    with sqlite3.connect(path) as conn:  # a foreign writer, foreign keys off as SQLite's default
        for span in item.spans:
            conn.execute(
                f"INSERT INTO pipeline_spans ({', '.join(SPAN_COLUMNS)}) VALUES "
                f"({', '.join('?' * len(SPAN_COLUMNS))})",
                span_to_tuple(span),
            )
        conn.execute(
            f"INSERT INTO pipeline_traces ({', '.join(TRACE_COLUMNS)}) VALUES "
            f"({', '.join('?' * len(TRACE_COLUMNS))})",
            trace_to_tuple(item.trace, BASE_NS),
        )
    repo = open_store(str(path))
    try:
        assert stored_rollups(repo) == recounted(repo)
        counts, _durations = stored_rollups(repo)
        # the trace's own row and one per script span (the root span is no script's)
        assert sum(n for key, (n, _l) in counts.items() if key[0] == "a") == len(item.spans)
    finally:
        repo.close()


def test_the_repositorys_own_writes_file_what_foreign_writers_left(repo: Repository) -> None:
    rng = random.Random(6)
    orphans, *rest = random_traces(rng, 41)
    insert = (
        f"INSERT INTO pipeline_spans ({', '.join(SPAN_COLUMNS)}) VALUES "
        f"({', '.join('?' * len(SPAN_COLUMNS))})"
    )
    first = orphans
    if repo.backend.target.kind == "sqlite":  # a foreign writer, foreign keys off by default
        with sqlite3.connect(repo.backend.target.location) as conn:
            conn.executemany(insert, [span_to_tuple(span) for span in orphans.spans])
        first = TraceWithSpans(orphans.trace, [])  # sqld enforces the foreign key
    repo.save_traces([first, *rest[:20]])
    repo.create_trace(rest[20].trace)
    repo.create_spans(rest[20].spans)
    repo.save_traces(rest[21:])
    assert repo.backend.query(Statement("SELECT count(*) FROM pipeline_rollup_claim")) == [(0,)]
    assert stored_rollups(repo) == recounted(repo)
    counts, _durations = stored_rollups(repo)
    runs = sum(len([s for s in i.spans if s.script_id]) + 1 for i in [orphans, *rest])
    customs = sum(bool(s.attributes.get("custom")) for i in [orphans, *rest] for s in i.spans)
    replays = sum(
        len([s for s in i.spans if s.script_id and not s.attributes.get("custom")]) + 1
        for i in [orphans, *rest]
        if i.trace.replay_of
    )
    assert sum(n for key, (n, _l) in counts.items() if key[0] == "a") == runs - customs - replays
    repo.cleanup_old_traces(BASE_NS + 40 * 3600 * SEC, batch_size=7, verify=False)
    assert stored_rollups(repo) == recounted(repo)


BEFORE = "0006_script_sources"
"""The revision before the script runs and rollups."""


def _as_it_is(backend: Backend) -> Repository:
    """A repository over a store at an older revision, knowing it (as a writer that opened the
    store before an upgrade): its writes leave the runs and rollups to the triggers."""
    return Repository(backend, schema=open_schema(backend, migrate=False, create=False))


def _upgraded_store(url: str, rng: random.Random) -> Repository:
    """A store at the revision before the rollups with random traces, then upgraded to this
    version's head."""
    backend = open_backend(parse_database_url(url))
    upgrade(backend, BEFORE)
    _as_it_is(backend).save_traces(random_traces(rng, 150))
    backend.close()
    return open_store(url)


def test_an_upgraded_store_gets_its_rollups_from_the_backfills(store_url: str) -> None:
    repo = _upgraded_store(store_url, random.Random(3))
    try:
        assert repo.script_runs_missing() is None
        assert stored_rollups(repo) == recounted(repo)
    finally:
        repo.close()


SEVENTH_SPAN = "SELECT min(pk) + 7 FROM pipeline_spans"


def test_a_backfill_beside_a_writer_misses_nothing_and_counts_nothing_twice(
    tmp_path: Path,
) -> None:
    url = str(tmp_path / "busy.db")
    rng = random.Random(11)
    backend = open_backend(parse_database_url(url))
    upgrade(backend, BEFORE)
    _as_it_is(backend).save_traces(random_traces(rng, 400))
    writer = _as_it_is(open_backend(parse_database_url(url)))
    more = random_traces(rng, 200, first=5000)
    stop = threading.Event()

    def write() -> None:
        for item in more:
            writer.save_traces([item])
            writer.backend.write(
                [Statement(f"DELETE FROM pipeline_spans WHERE pk = ({SEVENTH_SPAN})")]
            )
            if stop.is_set():
                return

    thread = threading.Thread(target=write)
    thread.start()
    try:
        upgrade(backend)
    finally:
        stop.set()
        thread.join()
        writer.close()
    repo = Repository(backend)
    try:
        assert stored_rollups(repo) == recounted(repo)
    finally:
        repo.close()


def test_a_store_without_the_rollups_says_to_upgrade(tmp_path: Path) -> None:
    url = str(tmp_path / "old.db")
    backend = open_backend(parse_database_url(url))
    upgrade(backend, "0005")
    backend.close()
    repo = open_store(url, migrate=False, create=False)
    try:
        missing = repo.script_runs_missing()
        assert missing is not None and "pipetrace db upgrade" in missing
    finally:
        repo.close()


class _Stop(Exception):
    """Ends an upgrade part way through its backfill, as a killed process would."""


def test_an_interrupted_backfill_is_finished_by_the_next_upgrade(store_url: str) -> None:
    backend = open_backend(parse_database_url(store_url))
    upgrade(backend, BEFORE)
    _as_it_is(backend).save_traces(random_traces(random.Random(9), 300))

    def stop(progress: BatchProgress) -> None:
        if progress.phase == "backfill" and 0 < progress.done < progress.total:
            raise _Stop

    with pytest.raises(_Stop):
        upgrade(backend, on_progress=stop)
    backend.close()
    reader = open_store(store_url, migrate=False, create=False)
    try:
        missing = reader.script_runs_missing()
        assert missing is not None and "run pipetrace db upgrade" in missing
        with pytest.raises(StoreError, match="run pipetrace db upgrade"):
            reader.script_stats()
        assert reader.list_traces(limit=5).rows  # everything else reads as before
    finally:
        reader.close()
    repo = open_store(store_url)
    try:
        assert repo.script_runs_missing() is None
        assert stored_rollups(repo) == recounted(repo)
    finally:
        repo.close()


def test_imports_and_their_merges_keep_the_rollups(store_url: str, tmp_path: Path) -> None:
    """Traces exported as OTLP and imported in two files, each holding part of every trace's
    spans (the second merges into the traces the first stored), count as a recount says."""
    source = open_store(str(tmp_path / "source.db"))
    try:
        source.save_traces(random_traces(random.Random(13), 60))
        lines = list(export_traces(source, list(select_trace_ids(source))))
    finally:
        source.close()
    halves: list[list[dict[str, object]]] = [[], []]
    for line in lines:
        document = json.loads(line)
        for resource in document["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                spans = scope["spans"]
                for part, chosen in enumerate((spans[::2], spans[1::2])):
                    if chosen:
                        halves[part].append(
                            {
                                "resourceSpans": [
                                    {**resource, "scopeSpans": [{**scope, "spans": chosen}]}
                                ]
                            }
                        )
    repo = open_store(store_url)
    try:
        for part, documents in enumerate(halves):
            path = tmp_path / f"part{part}.jsonl"
            path.write_text("".join(json.dumps(d) + "\n" for d in documents))
            import_file(repo, str(path))
            assert stored_rollups(repo) == recounted(repo)
        counts, _durations = stored_rollups(repo)
        assert any(key[3] for key in counts)  # script rows came through the import
    finally:
        repo.close()
