"""Which script decided a trace: the first that blocked it, and the first that failed, so a
list row names the script behind its message (the commands and the viewer share this)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipetrace.store import Repository


@dataclass(frozen=True, slots=True)
class Decider:
    """The script that blocked a trace and the one that failed in it, if any."""

    blocked_by: str | None
    failed: str | None

    @property
    def shown(self) -> str:
        """What a list's "by" column says: the blocking script, else the failing one."""
        if self.blocked_by:
            return self.blocked_by
        return f"{self.failed} failed" if self.failed else ""


NOBODY = Decider(None, None)


def decided(runs: Sequence[tuple[str, str]]) -> Decider:
    """The first run (in start order) that blocked, and the first that ended in error, of
    (script id, status) pairs."""
    blocked = next((script for script, status in runs if status == "blocked"), None)
    failed = next((script for script, status in runs if status == "error"), None)
    return Decider(blocked, failed)


def deciders(repo: Repository, trace_ids: Sequence[str]) -> dict[str, Decider]:
    """Each listed trace's deciding scripts (one read of the runs that blocked or errored);
    traces whose scripts all passed are left out."""
    found = {}
    for trace_id, runs in repo.deciding_runs(trace_ids).items():
        decider = decided(runs)
        if decider != NOBODY:
            found[trace_id] = decider
    return found
