"""Compatibility with the previous release, built from git, on both backends: its stores open
in this version without a migration, and this version's stores, even after a newer version's
additive revision, open in it; a breaking revision locks it out with its own message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from baseline_store import load_baseline
from click.testing import CliRunner
from factories import make_trace
from future_versions import FUTURE_REVISION, future_version
from previous_release import export_previous_release, run_previous

from pipetrace.app.cli import main
from pipetrace.store import open_store
from pipetrace.store.backends import open_backend
from pipetrace.store.sql import Statement
from pipetrace.store.url import parse_database_url


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_previous_release(tmp_path_factory.mktemp("old"))


def _listed(url: str) -> list[str]:
    result = CliRunner().invoke(main, ["traces", "--db", url, "--json", "--limit", "1000"])
    assert result.exit_code == 0, result.stderr
    return sorted(t["trace_id"] for t in json.loads(result.stdout)["traces"])


def _column_names(url: str) -> set[str]:
    backend = open_backend(parse_database_url(url))
    try:
        rows = backend.query(Statement("SELECT name FROM pragma_table_info('pipeline_traces')"))
    finally:
        backend.close()
    return {str(r[0]) for r in rows}


def test_the_previous_releases_store_opens_here_and_there_again(
    release: Path, store_url: str
) -> None:
    made = run_previous(release, "write", store_url, 1, 2, 3)
    assert made.get("total") == 3, made
    assert _listed(store_url) == made["ids"]
    repo = open_store(store_url)
    try:
        assert repo.schema_notice is None
        repo.save_traces([make_trace(4)])
    finally:
        repo.close()
    back = run_previous(release, "read", store_url)
    assert back.get("total") == 4, back
    assert f"{4:032x}" in back["ids"]


def test_an_older_store_is_read_here_as_it_is_then_still_upgraded_by_the_previous_release(
    release: Path, store_url: str
) -> None:
    load_baseline(store_url)
    assert len(_listed(store_url)) == 5
    upgraded = run_previous(release, "write", store_url, 10)
    assert upgraded.get("total") == 6, upgraded
    assert len(_listed(store_url)) == 6


def test_this_versions_store_opens_in_the_previous_release_after_an_additive_revision(
    release: Path, store_url: str, tmp_path: Path
) -> None:
    repo = open_store(store_url)
    repo.save_traces([make_trace(1), make_trace(2)])
    repo.close()
    assert run_previous(release, "write", store_url, 3).get("total") == 3
    with future_version(tmp_path):
        repo = open_store(store_url)
        repo.save_traces([make_trace(4)])
        repo.close()
    assert "future_note" in _column_names(store_url)
    old = run_previous(release, "write", store_url, 5)
    assert old.get("total") == 5, old
    assert _listed(store_url) == old["ids"]
    with future_version(tmp_path):
        newer = open_store(store_url)
        assert newer.count_traces() == 5
        newer.close()


def test_a_breaking_revision_locks_the_previous_release_out(
    release: Path, store_url: str, tmp_path: Path
) -> None:
    open_store(store_url).close()
    with future_version(tmp_path, breaking=True):
        result = CliRunner().invoke(main, ["db", "upgrade", "--db", store_url])
        assert result.exit_code == 0, result.stderr
    refused = run_previous(release, "read", store_url)
    refusal = f"schema revision {FUTURE_REVISION}, newer than this pipetrace knows (up to "
    assert refusal in refused.get("error", ""), refused
