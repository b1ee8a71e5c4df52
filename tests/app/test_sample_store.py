"""The sample store is the same every time, so screenshots and snapshots never drift."""

from __future__ import annotations

from pathlib import Path

from pipetrace.app.sample_store import build_sample_store
from pipetrace.app.tui.scenes import FIXED_NOW
from pipetrace.store import open_store


def test_same_seed_same_store(tmp_path: Path) -> None:
    """Two builds give identical rows; the notable traces are what their names say."""
    dumps = []
    for name in ("a.db", "b.db"):
        info = build_sample_store(str(tmp_path / name), now_ns=FIXED_NOW)
        repo = open_store(str(tmp_path / name))
        try:
            rows = repo.list_traces(limit=1000).rows
            dumps.append([(r.id, r.status, r.started_at, r.duration_ms, r.problems) for r in rows])
            assert repo.get_trace_with_spans(info.blocked_id).trace.status == "blocked"
            assert repo.get_trace_with_spans(info.error_id).trace.status == "error"
            assert repo.get_trace(info.replay_id).replay_of == info.blocked_id
            assert len(repo.get_trace_with_spans(info.large_id).spans) == 2000
            assert all(repo.get_trace_with_spans(t).trace.problems for t in info.corrupt_ids)
        finally:
            repo.close()
    assert dumps[0] == dumps[1]
