"""Schema migrations on both backends: from empty, from the baseline with rows, and refusals."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from baseline_store import load_baseline
from click.testing import CliRunner
from conftest import wipe_sqld
from factories import BASE_NS

from pipetrace.app.cli import main
from pipetrace.store import SchemaError, TraceFilter, open_store
from pipetrace.store.backends import open_backend
from pipetrace.store.migrate import current_revision, head_revision, upgrade
from pipetrace.store.schema import HOUR_NS
from pipetrace.store.sql import Statement
from pipetrace.store.url import parse_database_url

RACE_ROUNDS = 6


def test_upgrade_from_empty(empty_sqld_url: str, tmp_path: Path) -> None:
    for url in (str(tmp_path / "new.db"), empty_sqld_url):
        backend = open_backend(parse_database_url(url))
        try:
            assert current_revision(backend) is None
            assert upgrade(backend) == (None, head_revision())
            assert current_revision(backend) == head_revision()
            assert upgrade(backend) == (head_revision(), head_revision())
        finally:
            backend.close()


def test_upgrade_keeps_rows_written_by_the_baseline(store_url: str) -> None:
    url = store_url
    load_baseline(url)
    repo = open_store(url)
    try:
        assert current_revision(repo.backend) == head_revision()
        assert repo.count_traces() == 5
        hours = TraceFilter(started_from=BASE_NS - 3 * HOUR_NS, started_until=BASE_NS + 3 * HOUR_NS)
        assert repo.count_traces(hours) == 5  # the hourly counts were filled from the old rows
        assert repo.count_traces(TraceFilter(statuses=("blocked",))) == 2
        found = repo.get_trace_with_spans(f"{2:032x}")
        assert found is not None
        assert found.trace.status == "blocked"
        assert found.trace.context_snapshot == {
            "email": "u1@example.com",
            "password": "[REDACTED]",
        }
        assert len(found.spans) == 3 and found.trace.problems == ()
    finally:
        repo.close()


def test_a_newer_database_is_refused(store_url: str) -> None:
    url = store_url
    open_store(url).close()
    backend = open_backend(parse_database_url(url))
    backend.write([Statement("UPDATE alembic_version SET version_num = '9999'")])
    backend.close()
    with pytest.raises(SchemaError, match=r"revision 9999, newer than this pipetrace"):
        open_store(url)


def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    with pytest.raises(SchemaError, match=r"not a pipetrace database \(it has tables: orders\)"):
        open_store(str(path))
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("orders",)]


def test_db_upgrade_command(tmp_path: Path, empty_sqld_url: str) -> None:
    runner = CliRunner()
    for url in (str(tmp_path / "cli.db"), empty_sqld_url):
        first = runner.invoke(main, ["db", "upgrade", "--db", url])
        assert first.exit_code == 0, first.output
        assert f"upgraded from empty to {head_revision()}" in first.output
        again = runner.invoke(main, ["db", "upgrade", "--db", url])
        assert f"already at revision {head_revision()}" in again.output


def _open_at_once(url: str, clients: int) -> list[BaseException]:
    """`clients` threads open the store at the same moment; what each one raised."""
    start = threading.Barrier(clients)
    errors: list[BaseException] = []

    def open_one() -> None:
        start.wait()
        try:
            open_store(url).close()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.parametrize("start", ["empty", "baseline"])
def test_clients_upgrading_at_once_all_succeed(start: str, store_url: str, tmp_path: Path) -> None:
    for round_ in range(RACE_ROUNDS):
        url = store_url if store_url.startswith("http") else str(tmp_path / f"race{round_}.db")
        if url == store_url and round_:
            wipe_sqld(url)
        if start == "baseline":
            load_baseline(url)
        assert _open_at_once(url, clients=5) == []
        backend = open_backend(parse_database_url(url))
        try:
            assert current_revision(backend) == head_revision()
        finally:
            backend.close()


def test_an_empty_version_table_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "nover.db"
    open_store(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM alembic_version")
        conn.execute("DELETE FROM pipetrace_revision")
    with pytest.raises(SchemaError, match=r"schema version is missing") as caught:
        open_store(str(path))
    assert "not a pipetrace database" not in caught.value.message
    assert f"INSERT INTO alembic_version VALUES ('{head_revision()}')" in caught.value.message


def _trace_indexes(url: str) -> set[str]:
    backend = open_backend(parse_database_url(url))
    try:
        rows = backend.query(
            Statement(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND name LIKE 'ix_%'",
                ("pipeline_traces",),
            )
        )
    finally:
        backend.close()
    return {str(r[0]) for r in rows}


def test_upgrade_gives_user_and_ip_indexes_with_the_start_time(store_url: str) -> None:
    load_baseline(store_url)
    assert {"ix_pipeline_traces_user_id", "ix_pipeline_traces_request_ip"} <= _trace_indexes(
        store_url
    )
    repo = open_store(store_url)
    try:
        assert repo.count_traces(TraceFilter(user_id="user-1")) == 1
        assert repo.count_traces(TraceFilter(ip_network="10.0.0.0/24")) == 5
    finally:
        repo.close()
    indexes = _trace_indexes(store_url)
    assert {"ix_pipeline_traces_user_started", "ix_pipeline_traces_ip_started"} <= indexes
    assert not {"ix_pipeline_traces_user_id", "ix_pipeline_traces_request_ip"} & indexes


def test_a_missing_version_is_told_from_the_indexes(tmp_path: Path) -> None:
    path = tmp_path / "at0002.db"
    open_store(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE pipeline_script_sources")
        conn.execute("DROP TABLE pipeline_script_runs")
        conn.execute("DROP TABLE pipeline_import_spans")
        conn.execute("DROP TABLE pipeline_import_traces")
        conn.execute("DROP INDEX ix_pipeline_traces_replays_started")
        conn.execute("DROP INDEX ix_pipeline_traces_user_started")
        conn.execute("DROP INDEX ix_pipeline_traces_ip_started")
        conn.execute("CREATE INDEX ix_pipeline_traces_user_id ON pipeline_traces (user_id)")
        conn.execute("DELETE FROM alembic_version")
        conn.execute("DELETE FROM pipetrace_revision")
    with pytest.raises(SchemaError, match=r"look like revision 0002: record it"):
        open_store(str(path))
