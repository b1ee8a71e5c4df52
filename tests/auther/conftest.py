"""An auther database on each backend, built the way auther builds and fills one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from auther_db import AutherWriter, migrate, sqld_runner, sqlite_runner
from auther_samples import AutherStore, fill
from conftest import wipe_sqld


@pytest.fixture(params=["sqlite", "sqld"])
def auther_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AutherStore]:
    """An auther database with three traces, on a SQLite file and on sqld."""
    if request.param == "sqlite":
        path = tmp_path / "auther.db"
        run = sqlite_runner(path)
        url: str = str(path)
    else:
        url = request.getfixturevalue("sqld_url")
        wipe_sqld(url)
        run = sqld_runner(url)
        path = None
    migrate(run)
    store = fill(AutherWriter(run))
    store.url, store.path = url, path
    yield store


@pytest.fixture
def auther_file(tmp_path: Path) -> AutherStore:
    """The same database on a SQLite file only (for byte-for-byte checks)."""
    path = tmp_path / "auther.db"
    run = sqlite_runner(path)
    migrate(run)
    store = fill(AutherWriter(run))
    store.url, store.path = str(path), path
    return store
