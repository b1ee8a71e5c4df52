"""Stores that are not what they seem: files that are no store are refused, never turned into
one; a store on a read-only mount is still read; a damaged store is named so in one line,
checked by `db check`, and left alone by cleanup and vacuum."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import make_trace

from pipetrace.store import open_store
from pipetrace.store.backends import open_backend
from pipetrace.store.integrity import PAGES_STEP, CheckStep, integrity_problems
from pipetrace.store.url import parse_database_url

READ_COMMANDS = (["traces"], ["show", "abc"], ["export"])


def run_cli(
    *args: str, env: dict[str, str] | None = None, read_only: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The real command in a subprocess, as a person or cron runs it; with `read_only`, that
    folder is a read-only mount for it (root bind-mounts it so in a mount namespace of the
    command's own; anyone else is refused writing by the folder's permissions)."""
    command = [sys.executable, "-m", "pipetrace", *args]
    if read_only is not None and os.geteuid() == 0:
        remount = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"'
        command = ["unshare", "-m", "--", "sh", "-c", remount, str(read_only), *command]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def one_line(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The one line of a refusal (exit status 2), holding every needle."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _fingerprint(folder: Path) -> dict[str, tuple[int, str]]:
    """Each file in `folder`: its type bits and (for regular files) a hash of its bytes."""
    shown = {}
    for path in sorted(folder.iterdir()):
        mode = path.lstat().st_mode
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(mode) else ""
        shown[path.name] = (stat.S_IFMT(mode), digest)
    return shown


def _store(path: Path, count: int = 20) -> Path:
    repo = open_store(str(path))
    try:
        repo.save_traces([make_trace(n) for n in range(1, count + 1)])
    finally:
        repo.close()
    return path


def _damaged(path: Path, object_name: str) -> Path:
    """The store with the first page of a table or index overwritten, as a bad disk would."""
    with sqlite3.connect(path) as conn:
        root = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (object_name,)
        ).fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(path, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\x00" * 16)
    return path


def test_commands_that_only_read_refuse_what_is_not_a_store(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "empty.db").write_bytes(b"")
    os.mkfifo(folder / "pipe.db")
    (folder / "notes.txt").write_text("not a database at all, but long enough to be read\n" * 4)
    with sqlite3.connect(folder / "shop.db") as shop:
        shop.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    shop.close()
    with sqlite3.connect(folder / "blank.db") as blank:
        blank.execute("PRAGMA user_version = 7")
    blank.close()
    cases = {
        "empty.db": "is an empty file (0 bytes), not a pipetrace store; make one with",
        "pipe.db": "is a named pipe, not a pipetrace store",
        "notes.txt": "not a SQLite database",
        "shop.db": "not a pipetrace database (it has tables: orders)",
        "blank.db": "not a pipetrace store (the database has no tables)",
    }
    before = _fingerprint(folder)
    for name, needle in cases.items():
        for command in READ_COMMANDS:
            one_line(run_cli(*command, "--db", str(folder / name)), str(folder / name), needle)
    assert _fingerprint(folder) == before


def test_dev_null_is_no_store_for_any_command() -> None:
    journal = Path("/dev/null-journal")
    existed = journal.exists()
    for command in ([*READ_COMMANDS[0]], ["run", "before_signup"], ["cleanup", "--yes"]):
        result = run_cli(*command, "--db", "/dev/null")
        assert "/dev/null: is a character device, not a pipetrace store" in result.stderr
        assert result.returncode == 2, result.stderr
    assert stat.S_ISCHR(Path("/dev/null").stat().st_mode)
    if not existed:
        assert not journal.exists()


def test_a_command_that_creates_stores_refuses_a_pipe(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.db"
    os.mkfifo(pipe)
    zipkin = tmp_path / "zipkin.json"
    zipkin.write_text('[{"traceId": "1", "id": "2", "name": "n", "timestamp": 1}]')
    one_line(run_cli("import", str(zipkin), "--db", str(pipe)), "is a named pipe")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.db", "zipkin.json"]


def test_commands_that_only_read_never_create_the_default_store(tmp_path: Path) -> None:
    data = tmp_path / "xdg"
    default = data / "pipetrace" / "traces.db"
    for command in (*READ_COMMANDS, ["cleanup", "--yes"], ["db", "vacuum"]):
        line = one_line(
            run_cli(*command, env={"XDG_DATA_HOME": str(data)}), f"no store at {default}"
        )
        assert "make one with pipetrace demo" in line
    assert not data.exists()


@pytest.fixture
def read_only_folder() -> Iterator[Path]:
    """A folder to make read-only; without root, by its permissions (restored afterwards)."""
    folder = Path(tempfile.mkdtemp(prefix="pipetrace-ro-"))
    if os.geteuid() == 0 and shutil.which("unshare") is None:
        pytest.skip("running as root without unshare: no way to make a read-only mount")
    try:
        yield folder
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


@pytest.mark.parametrize("with_log", [False, True], ids=["clean", "snapshot-with-log"])
def test_a_store_on_a_read_only_mount_can_be_browsed_shown_and_exported(
    read_only_folder: Path, tmp_path: Path, with_log: bool
) -> None:
    folder = read_only_folder
    source = _store(tmp_path / "traces.db")
    path = folder / "traces.db"
    if with_log:
        writer = sqlite3.connect(source)  # a snapshot taken while a writer had the store open
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("UPDATE pipeline_traces SET status_message = 'in the log' WHERE rowid = 1")
        writer.commit()
        for suffix in ("", "-wal", "-shm"):
            shutil.copyfile(f"{source}{suffix}", f"{path}{suffix}")
        writer.close()
    else:
        shutil.copyfile(source, path)
    for file in folder.iterdir():
        file.chmod(0o444)
    folder.chmod(0o555)
    before = _fingerprint(folder)
    listed = run_cli("traces", "--db", str(path), "--json", read_only=folder)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["total"] == 20
    shown = run_cli("show", f"{1:032x}", "--db", str(path), "--json", read_only=folder)
    assert shown.returncode == 0, shown.stderr
    if with_log:
        assert json.loads(shown.stdout)["trace"]["status_message"] == "in the log"
    exported = run_cli("export", "--db", str(path), read_only=folder)
    assert exported.returncode == 0, exported.stderr
    documents = [json.loads(line) for line in exported.stdout.splitlines()]
    assert sum(len(d["resourceSpans"]) for d in documents) >= 1
    one_line(run_cli("cleanup", "--yes", "--db", str(path), read_only=folder), "read-only")
    assert _fingerprint(folder) == before


def test_a_malformed_store_is_named_so_in_one_line(tmp_path: Path) -> None:
    path = _damaged(_store(tmp_path / "traces.db"), "pipeline_traces")
    line = one_line(run_cli("traces", "--db", str(path)), str(path), "the store is damaged")
    assert "malformed" in line and "pipetrace db check" in line


def test_db_check_finds_damage_and_passes_a_sound_store(tmp_path: Path) -> None:
    sound = _store(tmp_path / "sound.db")
    result = run_cli("db", "check", "--db", str(sound))
    assert result.returncode == 0, result.stderr
    assert "sound (SQLite's integrity check found no problems)" in result.stdout
    steps: list[CheckStep] = []
    backend = open_backend(parse_database_url(str(sound)), create=False)
    try:
        assert integrity_problems(backend, steps.append) == []
    finally:
        backend.close()
    assert [s.number for s in steps] == list(range(1, len(steps) + 1))
    assert {"pipeline_traces", "pipeline_spans"} <= {s.name for s in steps}
    assert steps[-1].name == PAGES_STEP and steps[-1].total == len(steps)

    damaged = _damaged(_store(tmp_path / "damaged.db"), "ix_pipeline_traces_user_started")
    result = run_cli("db", "check", "--db", str(damaged))
    assert result.returncode == 1, result.stderr
    assert "damaged: SQLite's integrity check found" in result.stdout
    assert "btreeInitPage() returns error code 11" in result.stdout
    as_json = json.loads(run_cli("db", "check", "--db", str(damaged), "--json").stdout)
    assert as_json["ok"] is False and as_json["problems"]


@pytest.mark.parametrize(
    "command",
    [["cleanup", "--older-than", "1s", "--yes"], ["db", "vacuum"]],
    ids=["cleanup", "vacuum"],
)
def test_cleanup_and_vacuum_leave_a_damaged_store_alone(tmp_path: Path, command: list[str]) -> None:
    path = _damaged(_store(tmp_path / "traces.db", count=300), "ix_pipeline_traces_user_started")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    listed = run_cli("traces", "--db", str(path), "--json")
    assert json.loads(listed.stdout)["total"] == 300, "the damage leaves the list readable"
    line = one_line(run_cli(*command, "--db", str(path)), "quick check finds the store damaged")
    assert "changes nothing in a damaged store" in line and "pipetrace db check" in line
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
