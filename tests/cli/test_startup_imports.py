"""What everyday commands import, seen in a fresh process: `--help` loads no Alembic, Textual,
Lua, SQLAlchemy or Rich; `traces` (a script filter too), `show`, `stats` and `run` on an up-to-date
store load no Alembic and no SQLAlchemy, and all but `run` printing to a pipe no Rich
(bench/startup.py times them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import make_trace
from startup_probe import HEAVY, imported_by

from pipetrace.store import open_store


@pytest.fixture
def store(tmp_path: Path) -> str:
    """An up-to-date store holding one trace."""
    path = str(tmp_path / "traces.db")
    repo = open_store(path)
    repo.save_traces([make_trace(1)])
    repo.close()
    return path


def test_help_imports_no_migration_tool_viewer_engine_or_sql_toolkit(tmp_path: Path) -> None:
    assert not imported_by(tmp_path, "--help") & set(HEAVY)


@pytest.mark.parametrize(
    "args",
    [
        ["traces", "--limit", "50"],
        ["show", f"{1:032x}"],
        ["show", "0001", "--json"],
        ["stats"],
        ["traces", "--script", "risk_scorer", "--script-status", "error"],
    ],
)
def test_reading_an_up_to_date_store_imports_none_of_them(
    tmp_path: Path, store: str, args: list[str]
) -> None:
    assert not imported_by(tmp_path, *args, "--db", store) & set(HEAVY)


def test_run_on_an_up_to_date_store_imports_no_migration_tool_or_sql_toolkit(
    tmp_path: Path, store: str
) -> None:
    imported = imported_by(tmp_path, "run", "after_signup", "--input", "{}", "--db", store)
    assert "lupa" in imported
    assert not imported & {"alembic", "sqlalchemy", "textual"}


def test_a_store_that_needs_a_migration_is_migrated_with_alembic(tmp_path: Path) -> None:
    new = str(tmp_path / "new.db")
    imported = imported_by(tmp_path, "run", "after_signup", "--input", "{}", "--db", new)
    assert {"alembic", "sqlalchemy"} <= imported
    repo = open_store(new, migrate=False, create=False)
    try:
        assert repo.count_traces() == 1
    finally:
        repo.close()


@pytest.mark.parametrize("args", [["traces", "--limit", "50"], ["show", f"{1:032x}"]])
def test_reads_load_none_of_the_rollups_writes_or_stats(
    tmp_path: Path, store: str, args: list[str]
) -> None:
    """Saves file runs and rollups and `stats` reads them; `traces` and `show` need neither."""
    imported = imported_by(tmp_path, *args, "--db", store, top_level=False)
    writers_and_stats = {
        "pipetrace.store.batch_runs",
        "pipetrace.store.rollup_writes",
        "pipetrace.store.script_stats",
        "pipetrace.store.stats_models",
    }
    assert not imported & writers_and_stats
