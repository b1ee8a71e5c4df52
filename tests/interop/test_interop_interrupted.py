"""`import` stopped by Ctrl-C or SIGTERM says which file it stopped in and what to run again."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

SPANS_PER_TRACE = 50


def zipkin_file(path: Path, traces: int, first: int = 1) -> Path:
    """A Zipkin v2 JSON file of `traces` traces of SPANS_PER_TRACE spans each."""
    spans = [
        {
            "traceId": f"{t:016x}",
            "id": f"{t:08x}{s:08x}",
            "name": "op",
            "timestamp": 1_700_000_000_000_000 + s,
            "duration": 5,
            "localEndpoint": {"serviceName": "svc"},
        }
        for t in range(first, first + traces)
        for s in range(1, SPANS_PER_TRACE + 1)
    ]
    path.write_text(json.dumps(spans))
    return path


def _default_sigint() -> None:
    """In the child before it runs Python: SIGINT does what it does in a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"]
)
def test_an_interrupted_import_names_the_file_and_what_to_import_again(
    tmp_path: Path, signum: signal.Signals, status: int
) -> None:
    zipkin_file(tmp_path / "small.json", 1)
    zipkin_file(tmp_path / "big.json", 1000, first=2)  # long enough to be stopped in
    zipkin_file(tmp_path / "last.json", 1, first=5000)
    files = ["small.json", "big.json", "last.json"]
    process = subprocess.Popen(
        [sys.executable, "-m", "pipetrace", "import", *files, "--db", "t.db"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    assert process.stdout is not None
    try:
        first = process.stdout.readline()  # small.json is in: big.json is being read now
    finally:
        process.send_signal(signum)
        out, err = process.communicate(timeout=120)

    assert first == (
        "small.json: zipkin: added 1 trace (50 spans), merged 0 spans into 0 stored traces, "
        "skipped 0 duplicate spans\n"
    )
    assert process.returncode == status, err
    assert (out, err) == (
        "",
        "pipetrace: interrupted while importing big.json, after importing 1 file: import it and "
        "the 1 file after it again (a file is stored whole or not at all, and spans already "
        "stored are skipped)\n",
    )
