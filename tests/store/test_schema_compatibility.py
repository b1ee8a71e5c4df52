"""Several pipetrace versions on one store, on both backends: an older version keeps using a
store a newer one only added to and says so once, a breaking revision locks it out naming the
version it needs, commands that only read never migrate, and `db upgrade --dry-run` says what
an upgrade would run and lock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from baseline_store import load_baseline
from click.testing import CliRunner, Result
from factories import make_trace
from future_versions import FUTURE_REVISION, FUTURE_VERSION, future_version

from pipetrace.app.cli import main
from pipetrace.store import Repository, SchemaError, open_store
from pipetrace.store.backends import open_backend
from pipetrace.store.bookkeeping import LEGACY_REVISIONS, pipetrace_version
from pipetrace.store.interop import import_file
from pipetrace.store.migrate import head_revision, known_revisions, script_directory, upgrade
from pipetrace.store.sql import Statement
from pipetrace.store.url import parse_database_url

HEAD = head_revision()
MARKER = LEGACY_REVISIONS[-1]
"""What `alembic_version` holds on a store at HEAD: the newest revision older versions must
know, which the additive revisions after it (0006_script_sources on) leave as it is."""


def _values(url: str, sql: str) -> list[tuple[object, ...]]:
    backend = open_backend(parse_database_url(url))
    try:
        return backend.query(Statement(sql))
    finally:
        backend.close()


def _tables(url: str) -> set[str]:
    rows = _values(url, "SELECT name FROM sqlite_master WHERE type = 'table'")
    return {str(r[0]) for r in rows}


def _revisions(url: str) -> tuple[str, str]:
    """(the store's revision, the revision a version must know to use it)."""
    (revision,) = _values(url, "SELECT version_num FROM pipetrace_revision")[0]
    (marker,) = _values(url, "SELECT version_num FROM alembic_version")[0]
    return str(revision), str(marker)


def _cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _saved(url: str, *numbers: int) -> None:
    repo = open_store(url)
    try:
        repo.save_traces([make_trace(n) for n in numbers])
    finally:
        repo.close()


def test_a_new_store_logs_each_revision_and_who_applied_it(store_url: str) -> None:
    open_store(store_url).close()
    log = _values(
        store_url, "SELECT revision, breaking, pipetrace_version FROM pipetrace_migrations"
    )
    assert sorted((str(r), bool(b), str(v)) for r, b, v in log) == [
        (rev, False, pipetrace_version()) for rev in sorted(known_revisions())
    ]
    assert _revisions(store_url) == (HEAD, MARKER)


def test_an_older_version_uses_a_store_a_newer_one_only_added_to(
    store_url: str, tmp_path: Path
) -> None:
    _saved(store_url, 1)
    with future_version(tmp_path):
        _saved(store_url, 2)
    assert _revisions(store_url) == (FUTURE_REVISION, MARKER)
    repo: Repository = open_store(store_url)
    try:
        assert repo.schema_notice is not None
        assert f"last upgraded by pipetrace {FUTURE_VERSION}" in repo.schema_notice
        assert f"revision {FUTURE_REVISION}" in repo.schema_notice
        repo.save_traces([make_trace(3)])
        assert repo.count_traces() == 3
    finally:
        repo.close()
    listed = _cli("traces", "--db", store_url, "--json")
    assert listed.exit_code == 0, listed.stderr
    assert json.loads(listed.stdout)["total"] == 3
    notes = [line for line in listed.stderr.splitlines() if "note:" in line]
    assert len(notes) == 1 and FUTURE_VERSION in notes[0]
    assert _revisions(store_url) == (FUTURE_REVISION, MARKER)
    with future_version(tmp_path):
        again = open_store(store_url)
        assert again.schema_notice is None and again.count_traces() == 3
        again.close()


def test_a_breaking_revision_waits_for_db_upgrade_then_locks_older_versions_out(
    store_url: str, tmp_path: Path
) -> None:
    _saved(store_url, 1)
    with future_version(tmp_path, breaking=True):
        with pytest.raises(SchemaError, match=f"needs revision {FUTURE_REVISION}, a breaking"):
            open_store(store_url)
        assert _revisions(store_url) == (HEAD, MARKER)
        upgraded = _cli("db", "upgrade", "--db", store_url)
        assert upgraded.exit_code == 0, upgraded.stderr
        assert f"upgraded from {HEAD} to {FUTURE_REVISION}" in upgraded.stdout
    assert _revisions(store_url) == (FUTURE_REVISION, FUTURE_REVISION)
    needed = f"install pipetrace {FUTURE_VERSION} or newer"
    for migrate_ in (True, False):
        with pytest.raises(SchemaError, match=needed):
            open_store(store_url, migrate=migrate_)
    for command in (["traces"], ["show", "1"], ["cleanup", "--yes"], ["db", "upgrade"]):
        result = _cli(*command, "--db", store_url)
        assert result.exit_code == 2, (command, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and needed in lines[0] and "breaking change" in lines[0]


def test_commands_that_only_read_never_migrate(store_url: str) -> None:
    load_baseline(store_url)
    before = _tables(store_url)
    for command in (
        ["traces", "--json"],
        ["traces", "--status", "blocked", "--since", "2026-01-01", "--json"],
        ["show", f"{2:032x}", "--json"],
        ["export"],
    ):
        result = _cli(*command, "--db", store_url)
        assert result.exit_code == 0, (command, result.stderr)
    listed = json.loads(_cli("traces", "--db", store_url, "--json").stdout)
    assert listed["total"] == 5  # counted row by row: revision 0001 has no hourly counts
    blocked = _cli("traces", "--status", "blocked", "--since", "2026-01-01", "--db", store_url)
    assert "2 of 2 traces" in blocked.stdout
    assert _tables(store_url) == before
    assert _values(store_url, "SELECT version_num FROM alembic_version") == [("0001",)]


def test_a_writer_applies_additive_revisions(store_url: str) -> None:
    load_baseline(store_url)
    result = _cli("cleanup", "--older-than", "1d", "--dry-run", "--db", store_url)
    assert result.exit_code == 0, result.stderr
    assert _revisions(store_url) == (HEAD, MARKER)
    assert "pipeline_trace_counts" in _tables(store_url)


def test_a_command_that_only_reads_asks_for_db_upgrade_when_it_must(
    store_url: str, tmp_path: Path
) -> None:
    _saved(store_url, 1)
    with future_version(tmp_path, needed_to_read=True):
        result = _cli("traces", "--db", store_url)
        assert result.exit_code == 2
        needs = f"older than this pipetrace reads (it needs revision {FUTURE_REVISION}); run "
        assert needs in result.stderr
        assert _revisions(store_url) == (HEAD, MARKER)
        assert _cli("run", "before_signup", "--db", store_url).exit_code == 0
        assert _revisions(store_url) == (FUTURE_REVISION, MARKER)
        assert _cli("traces", "--db", store_url).exit_code == 0


def test_an_empty_database_is_no_store_for_commands_that_do_not_create_one(
    store_url: str, tmp_path: Path
) -> None:
    url = store_url
    if not url.startswith("http"):
        url = str(tmp_path / "blank.db")
        backend = open_backend(parse_database_url(url))
        backend.write([Statement("PRAGMA user_version = 7")])  # a SQLite file with no tables
        backend.close()
    for command in (["traces"], ["show", "1"], ["export"], ["cleanup", "--yes"]):
        result = _cli(*command, "--db", url)
        assert result.exit_code == 2, (command, result.output)
        assert "not a pipetrace store (the database has no tables)" in result.stderr
    assert _tables(url) == set()


def test_dry_run_prints_each_revisions_sql_and_what_it_locks(store_url: str) -> None:
    load_baseline(store_url)
    result = _cli("db", "upgrade", "--dry-run", "--db", store_url)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    pending = len(known_revisions()) - 1
    assert (
        f"at revision 0001; upgrading to {HEAD} applies {pending} revisions (all additive)" in out
    )
    assert "-- revision 0002 (additive): Hourly trace counts" in out
    assert "CREATE TABLE pipeline_trace_counts" in out
    assert "-- locks: reads all 5 rows of pipeline_traces in one go" in out
    assert "INSERT INTO pipetrace_revision SELECT version_num FROM alembic_version" in out
    assert "CREATE INDEX IF NOT EXISTS ix_pipeline_traces_user_started" in out
    if store_url.startswith("http"):
        assert "-- locks: builds an index over all 5 rows of pipeline_traces in one go" in out
    else:
        assert "-- locks: before its transaction, pipeline_traces (5 rows) is rebuilt" in out
    assert _values(store_url, "SELECT version_num FROM alembic_version") == [("0001",)]
    assert "pipeline_trace_counts" not in _tables(store_url)
    upgraded = _cli("db", "upgrade", "--db", store_url)
    assert upgraded.exit_code == 0, upgraded.stderr
    done = _cli("db", "upgrade", "--dry-run", "--db", store_url)
    assert f"already at revision {HEAD}; nothing to do" in done.stdout


def test_every_migration_declares_what_it_does_to_other_versions() -> None:
    for script in script_directory().walk_revisions():
        assert isinstance(script.module.breaking, bool), script.revision
        assert isinstance(script.module.needed_to_read, bool), script.revision


def test_an_import_from_a_store_opened_as_it_is_brings_it_up_first(
    store_url: str, tmp_path: Path
) -> None:
    backend = open_backend(parse_database_url(store_url))
    try:
        upgrade(backend, "0004_replays")
    finally:
        backend.close()
    zipkin = tmp_path / "zipkin.json"
    zipkin.write_text('[{"traceId": "1", "id": "2", "name": "n", "timestamp": 1}]')
    repo = open_store(store_url, migrate=False, create=False)  # as the viewer opens it
    try:
        repo.apply_additive_revisions()
        assert import_file(repo, str(zipkin)).traces_added == 1
    finally:
        repo.close()
    assert _revisions(store_url) == (HEAD, MARKER)
