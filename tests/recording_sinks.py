"""Sinks the recorder-process tests hand to a child process (so in an importable module)."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

from pipetrace.engine import TraceRecord


class JsonLinesSink:
    """Appends every record as one JSON line, so the test can read what the child built."""

    def __init__(self, path: str) -> None:
        self.file = Path(path).open("a", encoding="utf-8")  # noqa: SIM115 (closed by close())

    def submit(self, trace: TraceRecord) -> None:
        self.file.write(json.dumps(dataclasses.asdict(trace)) + "\n")
        self.file.flush()

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()


class HangingSink:
    """Never returns from submit, like a sink stuck on a dead network peer."""

    def submit(self, trace: TraceRecord) -> None:
        time.sleep(3600)


class SlowFlushSink:
    """Takes two seconds to flush and says why meanwhile, like a writer retrying a store that
    comes back."""

    def __init__(self) -> None:
        self.stall: str | None = None

    def submit(self, trace: TraceRecord) -> None:
        pass

    def flush(self) -> None:
        self.stall = "the collector is not answering"
        time.sleep(2)
        self.stall = None


def broken_factory() -> JsonLinesSink:
    """A factory that fails when the recorder process starts."""
    raise ConnectionError("collector refused the connection")
