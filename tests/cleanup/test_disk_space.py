"""Disk space on real stores: cleanup shrinks a new store's file, an old store keeps its pages
until `db vacuum` converts it, the vacuum's refusals, and what a libSQL server allows."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from click.testing import CliRunner
from factories import make_trace
from rich.filesize import decimal

from pipetrace.app.cli import main
from pipetrace.store import Repository, StoreSpace, TraceWithSpans, open_store
from pipetrace.store.migrate import split_sql_script

CLI = [sys.executable, "-c", "from pipetrace.app.cli import main; main()"]
ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "tests" / "store" / "fixtures" / "baseline_0001.sql"
DAY = 86_400 * 1_000_000_000
OLD, NEW = 1500, 100
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 " * 16


def run(*args: str):
    """The CLI in-process, with no terminal on stdin (as under cron)."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def bulky(n: int, started_at: int) -> TraceWithSpans:
    """A trace whose input carries a long user agent, as browsers send, so rows fill pages."""
    item = make_trace(n, started_at=started_at, user_id=f"user-{n}")
    item.trace.context_snapshot = {"email": f"u{n}@example.com", "user_agent": USER_AGENT}
    return item


def seed(repo: Repository, old: int = OLD, new: int = NEW, first: int = 100) -> None:
    """`old` traces 40 days old and `new` from the last day, numbered from `first`."""
    now = time.time_ns()
    items = [bulky(first + i, now - 40 * DAY + i) for i in range(old)]
    items += [bulky(first + old + i, now - DAY + i) for i in range(new)]
    repo.save_traces(items)


def pragma(path: Path, name: str) -> int:
    """One integer pragma, read on a connection of the test's own."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return int(conn.execute(f"PRAGMA {name}").fetchone()[0])


def digest(path: Path) -> str:
    """The database file's bytes, to prove a refusal changed nothing."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def old_store(tmp_path: Path) -> Path:
    """A store as pipetrace made it before incremental auto-vacuum: the baseline revision
    written by plain SQLite (auto_vacuum NONE), then upgraded and filled by this version."""
    path = tmp_path / "old.db"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        for statement in split_sql_script(BASELINE.read_text()):
            conn.execute(statement)
    repo = open_store(str(path))
    try:
        seed(repo)
    finally:
        repo.close()
    assert pragma(path, "auto_vacuum") == 0
    return path


def with_free_pages(tmp_path: Path) -> Path:
    """An old store whose expired traces were deleted: most of its file is free pages."""
    path = old_store(tmp_path)
    assert run("cleanup", "--yes", "--db", str(path)).exit_code == 0
    assert pragma(path, "freelist_count") > pragma(path, "page_count") // 2
    return path


def test_new_stores_start_with_incremental_auto_vacuum(tmp_path: Path) -> None:
    open_store(str(tmp_path / "opened.db")).close()
    upgraded = run("db", "upgrade", "--db", str(tmp_path / "upgraded.db"))

    assert upgraded.exit_code == 0, upgraded.output
    assert pragma(tmp_path / "opened.db", "auto_vacuum") == 2
    assert pragma(tmp_path / "upgraded.db", "auto_vacuum") == 2


def test_cleanup_of_most_rows_shrinks_the_file_while_the_store_is_open(tmp_path: Path) -> None:
    path = tmp_path / "traces.db"
    repo = open_store(str(path))
    seed(repo)
    repo.close()
    before = path.stat().st_size

    repo = open_store(str(path))
    try:
        result = repo.cleanup_old_traces(time.time_ns() - 30 * DAY, batch_size=200)
        while_open = path.stat().st_size
        left = repo.count_traces()
    finally:
        repo.close()
    after = path.stat().st_size

    assert (result.traces, result.spans) == (OLD, 3 * OLD)
    assert while_open == after < before // 5
    assert result.freed_bytes == before - after
    assert result.space == StoreSpace(after, 0, "incremental")
    assert pragma(path, "freelist_count") == 0
    assert left == NEW


def test_cleanup_in_another_process_gives_space_back_while_traces_are_written(
    tmp_path: Path, kit
) -> None:
    path = tmp_path / "traces.db"
    repo = open_store(str(path))
    seed(repo)
    repo.close()
    before = path.stat().st_size
    written: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def write() -> None:
        writer = open_store(str(path))
        try:
            while not stop.is_set():
                item = bulky(10_000 + len(written), time.time_ns())
                writer.save_traces([item])
                written.append(item.trace.id)
                time.sleep(0.005)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        cleanup = subprocess.run(
            [*CLI, "cleanup", "--yes", "--json", "--batch-size", "100", "--db", str(path)],
            capture_output=True,
            cwd=ROOT,
            timeout=120,
        )
    finally:
        stop.set()
        thread.join()

    assert cleanup.returncode == 0, cleanup.stderr
    assert errors == []
    answer = json.loads(cleanup.stdout)
    assert (answer["traces"], answer["space_mode"]) == (OLD, "incremental")
    assert answer["freed_bytes"] > before // 2
    repo = open_store(str(path))
    try:
        assert repo.count_traces() == NEW + len(written)
        assert repo.existing_trace_ids(written) == set(written)
        assert kit.orphan_spans(repo) == 0
    finally:
        repo.close()
    assert len(written) > 10
    # What is left is about as dense as before: the file holds the kept traces, not the deleted.
    per_trace = before / (OLD + NEW)
    assert path.stat().st_size < 1.3 * per_trace * (NEW + len(written)) + 64 * 1024
    assert pragma(path, "freelist_count") * pragma(path, "page_size") < before // 50


def test_an_old_store_keeps_freed_pages_until_db_vacuum_converts_it(tmp_path: Path) -> None:
    path = old_store(tmp_path)
    before = path.stat().st_size

    cleaned = run("cleanup", "--yes", "--db", str(path))

    assert cleaned.exit_code == 0, cleaned.output
    assert f"deleted {OLD + 5} traces" in cleaned.stdout  # the baseline's 5 are old too
    assert f"the file stays {decimal(before)}: this store predates" in cleaned.stdout
    assert "run `pipetrace db vacuum` once" in cleaned.stdout
    assert path.stat().st_size == before
    free = pragma(path, "freelist_count") * pragma(path, "page_size")
    assert free > before // 2

    vacuumed = run("db", "vacuum", "--json", "--db", str(path))

    assert vacuumed.exit_code == 0, vacuumed.output
    answer = json.loads(vacuumed.stdout)
    after = path.stat().st_size
    assert (answer["vacuumed"], answer["converted"], answer["space_mode"]) == (
        True,
        True,
        "incremental",
    )
    assert (answer["before_bytes"], answer["after_bytes"]) == (before, after)
    assert answer["freed_bytes"] == before - after >= free * 0.9
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    assert (pragma(path, "auto_vacuum"), pragma(path, "freelist_count")) == (2, 0)
    repo = open_store(str(path))
    try:
        assert repo.count_traces() == NEW
        seed(repo, old=OLD, new=0, first=50_000)
    finally:
        repo.close()
    grown = path.stat().st_size

    again = run("cleanup", "--yes", "--json", "--db", str(path))

    assert json.loads(again.stdout)["freed_bytes"] == grown - path.stat().st_size > grown // 2


def test_db_vacuum_text_says_what_it_gave_back_and_then_that_nothing_is_left(
    tmp_path: Path,
) -> None:
    path = with_free_pages(tmp_path)
    before = path.stat().st_size

    first = run("db", "vacuum", "--db", str(path))
    second = run("db", "vacuum", "--db", str(path))

    after = path.stat().st_size
    assert first.exit_code == 0 and second.exit_code == 0
    assert first.stdout.strip() == (
        f"vacuumed {path}: {decimal(before)} -> {decimal(after)} on disk "
        f"({decimal(before - after)} given back); switched to incremental auto-vacuum: "
        "cleanup now shrinks the file as it deletes"
    )
    assert first.stderr.startswith(f"vacuuming {path} (")
    assert second.stdout.strip() == (
        f"{path}: nothing to give back ({decimal(after)}, no free pages); "
        "cleanup already gives space back as it deletes"
    )
    assert second.stderr == ""


def test_db_vacuum_refuses_without_room_for_two_copies(tmp_path: Path, monkeypatch) -> None:
    path = with_free_pages(tmp_path)
    in_use = (pragma(path, "page_count") - pragma(path, "freelist_count")) * pragma(
        path, "page_size"
    )
    temp = tmp_path / "sqlite-tmp"
    temp.mkdir()
    monkeypatch.setenv("SQLITE_TMPDIR", str(temp))
    real = shutil.disk_usage
    # The disk itself is large; report it as holding one and a half copies, not the two needed.
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=in_use * 3 // 2))
    unchanged = digest(path)

    result = run("db", "vacuum", "--db", str(path))

    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"pipetrace: {path}: not enough free disk space to vacuum: ")
    assert f"VACUUM writes it twice (a copy in {temp.resolve()} and one in the log)" in line
    assert f"free in {tmp_path.resolve()}, but only {decimal(in_use * 3 // 2)} is" in line
    assert digest(path) == unchanged
    assert pragma(path, "auto_vacuum") == 0


def test_db_vacuum_refuses_a_busy_store_and_changes_nothing(tmp_path: Path) -> None:
    path = with_free_pages(tmp_path)
    free = pragma(path, "freelist_count")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        busy = run("db", "vacuum", "--wait", "0.2", "--db", str(path))
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert busy.exit_code == 2
    assert busy.stderr.splitlines()[-1] == (
        f"pipetrace: {path}: the store is busy: another connection kept its write lock for "
        "0.2 s (a cleanup, an import or a long write); nothing was changed; try again when it "
        "is done, or give a longer --wait"
    )
    assert (pragma(path, "auto_vacuum"), pragma(path, "freelist_count")) == (0, free)
    assert run("db", "vacuum", "--db", str(path)).exit_code == 0
    assert (pragma(path, "auto_vacuum"), pragma(path, "freelist_count")) == (2, 0)


def test_on_a_libsql_server_space_is_left_to_the_server(empty_sqld_url: str) -> None:
    repo = open_store(empty_sqld_url)
    try:
        seed(repo, old=200, new=10)
    finally:
        repo.close()

    cleaned = run("cleanup", "--yes", "--json", "--db", empty_sqld_url)
    preview = run("cleanup", "--dry-run", "--db", empty_sqld_url)
    vacuum = run("db", "vacuum", "--db", empty_sqld_url)

    answer = json.loads(cleaned.stdout)
    assert (answer["traces"], answer["space_mode"], answer["freed_bytes"]) == (200, "server", 0)
    assert 0 < answer["free_bytes"] < answer["size_bytes"]
    assert preview.stdout.splitlines()[-1].startswith(
        "disk space is managed by the libSQL server (it takes no VACUUM from clients)"
    )
    assert vacuum.exit_code == 2
    assert vacuum.stderr.splitlines() == [
        f"pipetrace: {empty_sqld_url}: a libSQL server manages its own disk space and refuses "
        "VACUUM from clients; nothing was changed (free pages are reused for new traces)"
    ]


def test_a_store_in_full_auto_vacuum_shrinks_at_each_commit_and_vacuum_switches_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "full.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA auto_vacuum = FULL")
        conn.execute("PRAGMA journal_mode = WAL")
    repo = open_store(str(path))
    try:
        seed(repo)
    finally:
        repo.close()
    before = path.stat().st_size

    cleaned = run("cleanup", "--yes", "--db", str(path))

    after = path.stat().st_size
    assert cleaned.stdout.splitlines()[-1] == (
        f"SQLite gave the freed pages back as it committed; the file is now {decimal(after)}"
    )
    assert after < before // 5
    assert run("db", "vacuum", "--db", str(path)).exit_code == 0
    assert pragma(path, "auto_vacuum") == 2
