"""`pipetrace cleanup` end to end: JSON, dry run, --yes, the cron refusal, confirmation, Ctrl-C."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.filesize import decimal

from pipetrace.app.cli import main
from pipetrace.app.wording import counted
from pipetrace.store import open_store

CLI = [sys.executable, "-c", "from pipetrace.app.cli import main; main()"]
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str):
    """The CLI in-process, with no terminal on stdin (as under cron)."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def seeded(url: str, kit, old: int = 4, new: int = 2) -> str:
    repo = open_store(url)
    try:
        kit.seed(repo, old=old, new=new)
    finally:
        repo.close()
    return url


def counts(url: str, kit) -> tuple[int, int, dict[str, int]]:
    """(traces, orphan spans, spans per trace) as stored now."""
    repo = open_store(url)
    try:
        return repo.count_traces(), kit.orphan_spans(repo), kit.span_counts(repo)
    finally:
        repo.close()


def test_yes_json_deletes_and_reports_counts(store_url: str, kit) -> None:
    seeded(store_url, kit)

    result = run("cleanup", "--yes", "--json", "--batch-size", "3", "--db", store_url)

    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert {k: answer[k] for k in ("traces", "spans", "dry_run", "cancelled")} == {
        "traces": 4,
        "spans": 12,
        "dry_run": False,
        "cancelled": False,
    }
    assert answer["cutoff"].endswith("Z")
    assert isinstance(answer["cutoff_ns"], int)
    traces, orphans, per_trace = counts(store_url, kit)
    assert (traces, orphans, set(per_trace.values())) == (2, 0, {3})


def test_dry_run_previews_and_deletes_nothing(tmp_path: Path, kit) -> None:
    url = seeded(str(tmp_path / "t.db"), kit)

    as_json = run("cleanup", "--dry-run", "--json", "--db", url)
    as_text = run("cleanup", "--dry-run", "--db", url)

    assert as_json.exit_code == 0 and as_text.exit_code == 0
    answer = json.loads(as_json.stdout)
    assert (answer["traces"], answer["spans"], answer["dry_run"]) == (4, 12, True)
    size = Path(url).stat().st_size
    assert {k: answer[k] for k in ("freed_bytes", "size_bytes", "free_bytes", "space_mode")} == {
        "freed_bytes": 0,
        "size_bytes": size,
        "free_bytes": 0,
        "space_mode": "incremental",
    }
    assert as_text.stdout.startswith("4 traces and 12 spans older than 30d (before ")
    assert f"UTC) in {url}" in as_text.stdout
    assert as_text.stdout.splitlines()[1] == (
        f"the file is {decimal(size)} (0 bytes free); cleanup gives what it frees back to the disk"
    )
    assert counts(url, kit)[0] == 6
    assert Path(url).stat().st_size == size


def test_older_than_moves_the_cutoff(tmp_path: Path, kit) -> None:
    url = seeded(str(tmp_path / "t.db"), kit)

    result = run("cleanup", "--older-than", "12h", "--yes", "--db", url)

    assert result.exit_code == 0, result.output
    assert "deleted 6 traces and 18 spans older than 12h" in result.stdout
    assert counts(url, kit)[0] == 0


def test_without_yes_and_without_a_terminal_it_refuses(tmp_path: Path, kit) -> None:
    url = seeded(str(tmp_path / "t.db"), kit)

    result = run("cleanup", "--db", url)

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "pipetrace: cleanup: no terminal to confirm on; pass --yes to delete "
        "(or --dry-run to count)"
    ]
    assert counts(url, kit)[0] == 6


@pytest.mark.parametrize(
    ("age", "fragment"),
    [
        ("30days", "bad age '30days'"),
        ("100000000w", "age '100000000w' is too large"),
        pytest.param("1" + "0" * 400 + "d", "age '1000", id="1e400d"),
    ],
)
def test_bad_age_is_one_line_naming_the_option(tmp_path: Path, age: str, fragment: str) -> None:
    result = run("cleanup", "--older-than", age, "--yes", "--db", str(tmp_path / "t.db"))

    assert result.exit_code == 2
    assert result.stderr.startswith(f"pipetrace: --older-than: {fragment}")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("yes", [["--yes"], []], ids=["yes", "no-terminal-no-yes"])
def test_nothing_to_delete_says_so(tmp_path: Path, kit, yes: list[str]) -> None:
    url = seeded(str(tmp_path / "t.db"), kit, old=0, new=2)

    result = run("cleanup", *yes, "--db", url)

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith("nothing to delete: 0 traces and 0 spans older than 30d")


def _on_terminal(url: str, answer: bytes, batch_size: str = "1000") -> tuple[int, str, bytes]:
    """Cleanup with a pseudo-terminal on stdin and stderr; answers its question; (exit, stdout,
    what the terminal received)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*CLI, "cleanup", "--db", url, "--batch-size", batch_size],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=follower,
        cwd=ROOT,
    )
    os.close(follower)
    os.write(leader, answer)
    screen = b""
    try:
        while select.select([leader], [], [], 60)[0] and (chunk := os.read(leader, 4096)):
            screen += chunk
    except OSError:  # EIO once the child has closed the terminal
        pass
    finally:
        os.close(leader)
    stdout, _ = process.communicate(timeout=60)
    assert b"4 traces and 12 spans older than 30d" in screen
    assert b"Delete them? [y/N]" in screen
    return process.returncode, stdout.decode(), screen


def test_on_a_terminal_it_previews_and_asks(tmp_path: Path, kit) -> None:
    url = seeded(str(tmp_path / "t.db"), kit)

    declined, _, _ = _on_terminal(url, b"n\n")
    assert declined == 1
    assert counts(url, kit)[0] == 6

    accepted, stdout, _ = _on_terminal(url, b"y\n")
    assert accepted == 0
    assert "deleted 4 traces and 12 spans older than 30d" in stdout
    assert counts(url, kit)[0] == 2


def test_on_a_terminal_the_hint_is_its_own_line_above_the_bar(tmp_path: Path, kit) -> None:
    url = seeded(str(tmp_path / "t.db"), kit)

    _, _, screen = _on_terminal(url, b"y\n", batch_size="1")

    hint = screen.index(b"deleting (Ctrl-C stops after the current batch)\r\n")
    assert b"deleting traces" not in screen[:hint]


@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"]
)
def test_ctrl_c_stops_between_batches_and_reports(
    tmp_path: Path, kit, signum: signal.Signals, status: int
) -> None:
    url = seeded(str(tmp_path / "t.db"), kit, old=6, new=1)
    writer = sqlite3.connect(url, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # holds the write lock so the first batch must wait
    process = subprocess.Popen(
        [*CLI, "cleanup", "--yes", "--batch-size", "1", "--db", url],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stderr is not None
    assert process.stderr.readline().startswith(b"deleting (Ctrl-C stops")
    process.send_signal(signum)
    writer.execute("ROLLBACK")
    writer.close()
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == status, stderr
    assert b"stopping after the current batch" in stderr
    line = stdout.decode().strip()
    assert line.startswith("cancelled after deleting ")
    traces, orphans, per_trace = counts(url, kit)
    assert line.startswith(f"cancelled after deleting {counted(7 - traces, 'trace')} and ")
    assert traces >= 6  # at most the one batch that was waiting went
    assert (orphans, set(per_trace.values())) == (0, {3})


def _failing_at_third_oldest(url: str) -> None:
    """A real SQLite trigger that makes the batch holding the third oldest trace fail."""
    with sqlite3.connect(url) as conn:
        conn.execute(
            f"CREATE TRIGGER refuse BEFORE DELETE ON pipeline_traces WHEN old.id = '{3:032x}' "
            "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
        )


@pytest.mark.parametrize("as_json", [True, False])
def test_a_store_failure_midway_reports_what_was_deleted(
    tmp_path: Path, kit, as_json: bool
) -> None:
    url = seeded(str(tmp_path / "t.db"), kit)
    _failing_at_third_oldest(url)

    flags = ["--json"] if as_json else []
    result = run("cleanup", "--yes", "--batch-size", "2", *flags, "--db", url)

    assert result.exit_code == 2
    [line] = result.stderr.splitlines()[-1:]
    assert line.startswith("pipetrace: cleanup stopped: ")
    assert "disk I/O error" in line and "(after deleting 2 traces and 6 spans)" in line
    if as_json:
        answer = json.loads(result.stdout)
        assert (answer["traces"], answer["spans"], answer["cancelled"]) == (2, 6, False)
        assert answer["error"] in line
    assert counts(url, kit)[0] == 4
