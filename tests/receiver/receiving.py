"""Helpers for the receiver tests: a real `pipetrace receive` in its own process on an ephemeral
loopback port, and the instrumented program (`sdk_program.py`) run in another."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROGRAM = Path(__file__).with_name("sdk_program.py")
START_TIMEOUT = 60.0
_LISTENING = re.compile(r"on (http://[^ ,]+)/v1/traces(?:, gRPC on port (\d+))?")


@dataclass
class Receiving:
    """A running receiver: its base URL, its gRPC address (when asked for) and its log."""

    url: str
    grpc: str | None
    log: Path
    process: subprocess.Popen[bytes]

    def health(self) -> dict[str, Any]:
        """The receiver's span counts."""
        with urllib.request.urlopen(f"{self.url}/healthz", timeout=10) as response:
            counts: dict[str, Any] = json.load(response)["spans"]
        return counts

    def settled(self, timeout: float = 60.0) -> dict[str, Any]:
        """The counts once nothing is pending (every span taken is written or failed)."""
        deadline = time.monotonic() + timeout
        while True:
            counts = self.health()
            if (
                counts["pending"] == 0
                and counts["written"] + counts["failed"] >= counts["received"]
            ):
                return counts
            assert time.monotonic() < deadline, f"the receiver never settled: {counts}"
            time.sleep(0.05)

    def post(
        self, body: bytes, content_type: str = "application/x-protobuf", **headers: str
    ) -> tuple[int, dict[str, str], bytes]:
        """POST a body to /v1/traces: (status, headers, body) whatever the status."""
        request = urllib.request.Request(
            f"{self.url}/v1/traces",
            data=body,
            method="POST",
            headers={"Content-Type": content_type, **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()


@contextlib.contextmanager
def receiving(
    folder: Path, store: str, *args: str, env: dict[str, str] | None = None
) -> Iterator[Receiving]:
    """`pipetrace receive --port 0` on `store` (more options in `args`) until the block ends,
    then stopped with SIGTERM as a service manager would."""
    log = folder / "receive.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipetrace", "receive", "--port", "0", "--db", store, *args],
            cwd=folder,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        found = _listening(process, log)
        grpc = f"127.0.0.1:{found.group(2)}" if found.group(2) else None
        yield Receiving(found.group(1), grpc, log, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def _listening(process: subprocess.Popen[bytes], log: Path) -> re.Match[str]:
    """The receiver's addresses, from the line it prints once it listens."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        found = _LISTENING.search(log.read_text(errors="replace"))
        if found and "Application startup complete" in log.read_text(errors="replace"):
            return found
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"pipetrace receive did not start: {log.read_text()[-2000:]}")
        time.sleep(0.05)


def run_program(
    endpoint: str, out: Path, *args: str
) -> tuple[int, list[str], list[dict[str, Any]]]:
    """Run the instrumented program against `endpoint`: (exit status, each export call's
    result, the SDK's view of every span it sent)."""
    done = subprocess.run(
        [sys.executable, str(PROGRAM), "--endpoint", endpoint, "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.stdout, done.stderr
    results = json.loads(done.stdout.splitlines()[-1])["results"]
    return done.returncode, results, json.loads(out.read_text())
