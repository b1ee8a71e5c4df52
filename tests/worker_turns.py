"""Turns between pytest-xdist workers, so a test that times itself can run while no other does."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def turn(folder: Path, alone: bool) -> Iterator[None]:
    """Hold a turn shared with the other workers' turns, or (`alone`) with none of them, through
    file locks in `folder` that end with the turn or its process; a worker waiting to be alone
    holds the gate, so new turns queue behind it instead of starving it."""
    with open(folder / "gate.lock", "a") as gate, open(folder / "turns.lock", "a") as turns:
        fcntl.flock(gate, fcntl.LOCK_EX)
        fcntl.flock(turns, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        fcntl.flock(gate, fcntl.LOCK_UN)
        yield
