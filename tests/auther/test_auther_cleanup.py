"""Retention on an auther database as its cleanupOldTraces does it (spans by started_at, traces
by created_at, the cutoff in milliseconds), in our batches, touching nothing but those tables;
and every read-only command leaving the file byte for byte as it was."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from auther_db import file_digest
from auther_samples import DAY_MS, NOW_MS, AutherStore
from click.testing import CliRunner

from pipetrace.app.cli import main
from pipetrace.store import CleanupProgress, open_store

MS = 1_000_000
OTHER_TABLES = ("user", "pipeline_scripts", "pipeline_execution_plan", "pipeline_secrets")


def other_tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables cleanup must not touch."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return {t: conn.execute(f"SELECT * FROM `{t}` ORDER BY 1").fetchall() for t in OTHER_TABLES}


def test_cleanup_follows_the_originals_semantics(auther_store: AutherStore) -> None:
    repo = open_store(auther_store.url, create=False)
    try:
        cutoff = (NOW_MS - 30 * DAY_MS) * MS
        assert repo.count_older_than(cutoff) == (2, 2)
        progress: list[CleanupProgress] = []
        result = repo.cleanup_old_traces(cutoff, batch_size=1, on_progress=progress.append)
        assert (result.traces, result.spans, result.cancelled) == (2, 2, False)
        assert progress[-1] == CleanupProgress(2, 2, 2)
        assert len(progress) == 4  # one per batch of one row
        assert [r.id for r in repo.list_traces().rows] == [auther_store.fresh]
        assert repo.get_trace_with_spans(auther_store.old) is None
        fresh = repo.get_trace_with_spans(auther_store.fresh)
        assert fresh is not None and len(fresh.spans) == 4
    finally:
        repo.close()


def test_cleanup_cutoff_is_whole_milliseconds_on_created_at(auther_store: AutherStore) -> None:
    repo = open_store(auther_store.url, create=False)
    try:
        old = repo.get_trace(auther_store.old)
        assert old is not None and old.created_at is not None
        assert repo.count_older_than(old.created_at)[0] == 1
        assert repo.count_older_than(old.created_at + 1)[0] == 2
    finally:
        repo.close()


def test_cli_cleanup_changes_only_the_trace_tables(auther_file: AutherStore) -> None:
    assert auther_file.path is not None
    before = other_tables(auther_file.path)
    result = CliRunner().invoke(
        main, ["cleanup", "--older-than", "1d", "--yes", "--json", "--db", auther_file.url]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["traces"], report["spans"]) == (3, 6)
    assert other_tables(auther_file.path) == before
    with sqlite3.connect(f"file:{auther_file.path}?mode=ro", uri=True) as conn:
        assert conn.execute("SELECT count(*) FROM pipeline_spans").fetchone() == (0,)
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert not any(n.startswith(("alembic", "pipeline_trace_counts", "ix_")) for n in names)


def test_read_only_commands_leave_the_file_unchanged(auther_file: AutherStore) -> None:
    path = auther_file.path
    assert path is not None
    digest = file_digest(path)
    runner = CliRunner()
    commands = [
        ["traces"],
        ["traces", "--json", "--trigger", "before_signup", "--since", "2020-01-01"],
        ["show", auther_file.fresh[:8]],
        ["show", "--json", auther_file.old],
        ["export", "--limit", "5"],
        ["cleanup", "--older-than", "1d", "--dry-run", "--json"],
        ["replay", auther_file.fresh[:8]],
        ["replay", "--json", "--no-store", auther_file.old],
    ]
    for args in commands:
        result = runner.invoke(main, [*args, "--db", auther_file.url])
        assert result.exit_code == 0, (args, result.output)
        assert file_digest(path) == digest, args
    declined = runner.invoke(main, ["db", "indexes", "--db", auther_file.url], input="n\n")
    assert declined.exit_code == 1, declined.output
    assert file_digest(path) == digest
    assert sorted(p.name for p in path.parent.iterdir()) == ["auther.db"]
