"""The store's data version, which live mode polls before reading: the same while nothing is
committed, another after any commit (another process's, this one's), unknown on libSQL; an
auther file's is tested in tests/auther/test_auther_read.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from factories import make_trace

from pipetrace.store import Repository, open_store
from pipetrace.store.columns import TRACE_COLUMNS

INSERT_ELSEWHERE = """\
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
columns = sys.argv[2].split(",")
values = {c: None for c in columns}
values.update(id="f" * 32, trigger_event="before_signup", status="success", started_at=1,
              created_at=1, span_count=0, source="engine")
db.execute(f"INSERT INTO pipeline_traces ({', '.join(columns)}) VALUES "
           f"({', '.join('?' * len(columns))})", [values[c] for c in columns])
db.commit()
"""


def test_reads_leave_it_and_every_commit_moves_it(sqlite_repo: Repository, tmp_path: Path) -> None:
    path = sqlite_repo.backend.target.location
    first = sqlite_repo.data_version()
    sqlite_repo.list_traces()
    sqlite_repo.count_traces()
    assert sqlite_repo.data_version() == first
    subprocess.run(
        [sys.executable, "-c", INSERT_ELSEWHERE, path, ",".join(TRACE_COLUMNS)], check=True
    )
    second = sqlite_repo.data_version()
    assert second != first
    assert sqlite_repo.count_traces() == 1
    sqlite_repo.save_traces([make_trace(1)])
    assert sqlite_repo.data_version() not in (first, second)


def test_a_reader_sees_a_writer_s_commits(tmp_path: Path) -> None:
    path = str(tmp_path / "traces.db")
    writer = open_store(path)
    reader = open_store(path, migrate=False, create=False)
    try:
        before = reader.data_version()
        writer.save_traces([make_trace(1)])
        assert reader.data_version() != before
    finally:
        writer.close()
        reader.close()


def test_libsql_cannot_tell(empty_sqld_url: str) -> None:
    repo = open_store(empty_sqld_url)
    try:
        assert repo.data_version() is None
    finally:
        repo.close()
