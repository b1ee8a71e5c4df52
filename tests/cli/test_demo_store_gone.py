"""A demo fill whose libSQL server goes away stops in one line that says why, with its counts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner
from conftest import running_sqld

from pipetrace.app.cli import main
from pipetrace.store import StoreError, open_store

ROOT = Path(__file__).resolve().parents[2]
COUNT, SEED = 3000, 6


def stored(url: str) -> int:
    """The traces the server holds; 0 while the demo has not made its tables yet."""
    try:
        repo = open_store(url, migrate=False)
    except StoreError:
        return 0
    try:
        return repo.count_traces()
    except StoreError:
        return 0
    finally:
        repo.close()


def test_a_fill_whose_server_goes_away_stops_with_the_server_s_reason(tmp_path: Path) -> None:
    args = ["demo", "--traces", str(COUNT), "--seed", str(SEED), "--no-open"]
    env = {**os.environ, "PIPETRACE_DEMO_TIMEOUT": "2"}
    with running_sqld(tmp_path) as url:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipetrace", *args, "--db", url],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            while not stored(url):  # the fill is under way: now the server goes
                assert process.poll() is None, process.communicate()
                time.sleep(0.05)
        except BaseException:
            process.kill()
            raise
    started = time.monotonic()
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 2, stderr
    (line,) = stderr.decode().splitlines()
    where = re.escape(url)
    match = re.fullmatch(
        rf"pipetrace: stopped: stored at least (\d+) of {COUNT} demo traces of seed {SEED} in "
        rf"{where}, the rest may be lost: the store did not take the traces within 2 s: "
        rf"{where}: cannot connect \(.+\); run the same command again to add the rest",
        line,
    )
    assert match, line
    assert time.monotonic() - started < 60
    with running_sqld(tmp_path, port=int(url.rsplit(":", 1)[1])) as again:
        assert int(match[1]) <= stored(again) < COUNT


def test_a_bad_demo_timeout_is_refused_in_one_line(tmp_path: Path) -> None:
    for value in ("soon", "0", "-1", "nan", "inf"):
        result = CliRunner(env={"PIPETRACE_DEMO_TIMEOUT": value}).invoke(
            main, ["demo", "--no-open", "--db", str(tmp_path / "t.db")]
        )
        assert result.exit_code == 2
        assert result.stderr == (
            f"pipetrace: PIPETRACE_DEMO_TIMEOUT={value!r}: expected a number of seconds above 0\n"
        )
    assert not (tmp_path / "t.db").exists()
