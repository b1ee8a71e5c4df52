"""`db indexes` on an auther database: it prints what it would add and asks; only a yes (or
--yes) creates the indexes, which the repository's queries then read; --drop takes them away."""

from __future__ import annotations

import sqlite3

import pytest
from auther_db import file_digest
from auther_samples import AutherStore
from click.testing import CliRunner

from pipetrace.app.cli import main
from pipetrace.store import Repository, TraceFilter, open_store
from pipetrace.store.auther import AutherRepository
from pipetrace.store.auther.file_backend import AutherFileBackend
from pipetrace.store.auther.indexes import INDEXES


def present(url: str) -> list[str]:
    """The names of pipetrace's optional indexes the database has."""
    repo = open_store(url, create=False)
    try:
        assert isinstance(repo, AutherRepository)
        return [i.name for i in repo.optional_indexes() if i.present]
    finally:
        repo.close()


def test_it_prints_and_asks_and_a_no_changes_nothing(auther_file: AutherStore) -> None:
    assert auther_file.path is not None
    digest = file_digest(auther_file.path)
    for answer in ("n\n", ""):
        result = CliRunner().invoke(main, ["db", "indexes", "--db", auther_file.url], input=answer)
        assert result.exit_code == 1, result.output
        for index in INDEXES:
            assert index.create_sql in result.stdout
        assert "Add them now? [y/N]" in result.stderr
        assert "nothing changed" in result.stderr
        assert file_digest(auther_file.path) == digest
    assert sorted(p.name for p in auther_file.path.parent.iterdir()) == ["auther.db"]


def test_a_yes_creates_them_on_either_backend(auther_store: AutherStore) -> None:
    result = CliRunner().invoke(main, ["db", "indexes", "--db", auther_store.url], input="y\n")
    assert result.exit_code == 0, result.output
    assert "added 4 indexes" in result.stdout
    assert present(auther_store.url) == [i.name for i in INDEXES]
    again = CliRunner().invoke(main, ["db", "indexes", "--db", auther_store.url])
    assert again.exit_code == 0 and "all of them are there already" in again.stdout
    dropped = CliRunner().invoke(
        main, ["db", "indexes", "--drop", "--yes", "--db", auther_store.url]
    )
    assert dropped.exit_code == 0, dropped.output
    assert present(auther_store.url) == []


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        (TraceFilter(triggers=("before_signup",)), "pipetrace_traces_trigger_created"),
        (TraceFilter(statuses=("blocked",)), "pipetrace_traces_status_created"),
        (TraceFilter(user_id="user_456"), "pipetrace_traces_user_created"),
    ],
)
def test_filtered_first_pages_read_them_when_present(
    auther_file: AutherStore, filters: TraceFilter, index: str
) -> None:
    result = CliRunner().invoke(main, ["db", "indexes", "--yes", "--db", auther_file.url])
    assert result.exit_code == 0, result.output
    repo = open_store(auther_file.url, create=False)
    try:
        assert isinstance(repo.backend, AutherFileBackend)
        sent: list[str] = []
        repo.backend.conn.set_trace_callback(sent.append)
        assert repo.list_traces(filters).rows
        (page_sql,) = [s for s in sent if "ORDER BY" in s and "LIMIT" in s]
    finally:
        repo.close()
    with sqlite3.connect(f"file:{auther_file.path}?mode=ro", uri=True) as conn:
        plan = " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {page_sql}"))
    assert f"USING INDEX {index}" in plan


def test_on_pipetraces_own_store_there_is_nothing_to_do(sqlite_repo: Repository) -> None:
    url = sqlite_repo.backend.target.location
    result = CliRunner().invoke(main, ["db", "indexes", "--db", url])
    assert result.exit_code == 0, result.output
    assert "pipetrace's own store has these indexes already; nothing to do" in result.stdout
