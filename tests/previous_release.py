"""The previous release, built from git: main before schema compatibility, which knows
revisions up to 0005, reads only `alembic_version` and migrates every store it opens. Its
source is exported from this repository's history and run with the same interpreter and
dependencies, so what it does to a store is what that release does, not a replica of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PREVIOUS_RELEASE = "3b90e985ddd687914f9f89ca5e43147231a9dae9"
"""main before this change; the package is pipetrace.* there (renamed at dd10949)."""
ROOT = Path(__file__).resolve().parents[1]
SCRIPT = r"""
import json, sys
import pipetrace
from pipetrace.store import SpanRow, TraceRow, TraceWithSpans, open_store

action, url, *numbers = sys.argv[1:]
out = {"package": pipetrace.__file__}


def trace(n):
    start = 1_780_000_000_000_000_000 + n * 1_000_000_000
    tid = f"{n:032x}"
    row = TraceRow(id=tid, trigger_event="before_signup", status="success", started_at=start,
                   ended_at=start + 1_000_000, duration_ms=1.0, user_id=f"old-{n}")
    span = SpanRow(trace_id=tid, id=f"{n:016x}", name="before_signup", status="success",
                   started_at=start, ended_at=start + 1_000_000)
    return TraceWithSpans(row, [span])


try:
    repo = open_store(url)
except Exception as exc:
    out["error"] = str(exc)
else:
    try:
        if action == "write":
            repo.save_traces([trace(int(n)) for n in numbers])
        out["ids"] = sorted(t.id for t in repo.list_traces(None, limit=1000).rows)
        out["total"] = repo.count_traces()
    finally:
        repo.close()
print(json.dumps(out))
"""


def export_previous_release(folder: Path) -> Path:
    """The previous release's files under `folder` (skips the test where git or the commit is
    missing, as in a source archive without history)."""
    target = folder / "previous-release"
    if (target / "pipetrace").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", PREVIOUS_RELEASE],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        pytest.skip(f"cannot export the previous release from git: {archive.stderr[:200]!r}")
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def run_previous(release: Path, action: str, url: str, *numbers: int) -> dict[str, Any]:
    """Open the store at `url` with the previous release (which migrates it as it always did),
    `action` "write" to save traces `numbers` first; what it then lists, or its error."""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, action, url, *map(str, numbers)],
        cwd=release,
        env={**os.environ, "PYTHONPATH": str(release)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out: dict[str, Any] = json.loads(result.stdout)
    assert Path(out["package"]).resolve().is_relative_to(release.resolve()), out["package"]
    return out
