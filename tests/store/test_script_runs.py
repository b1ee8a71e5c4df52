"""Repository.script_runs on both backends: each script's own span, its status, duration and
limit hit, read without decoding attributes, agrees with the full spans."""

from __future__ import annotations

from factories import BLOCKED_SIGNUP

from pipetrace.app.engine_sink import recording_engine
from pipetrace.store import Repository, ScriptRun


def test_script_runs_agree_with_the_full_spans(repo: Repository) -> None:
    looping = {**BLOCKED_SIGNUP, "email": "ana@example.com", "stress": "loop"}
    with recording_engine(repo) as (engine, _):
        ids = [
            engine.execute_trigger("before_signup", payload, {}).trace_id
            for payload in (BLOCKED_SIGNUP, looping)
        ]

    runs = repo.script_runs([ids[0].upper(), *ids, "f" * 32])

    assert set(runs) == set(ids)
    for trace_id in ids:
        full = repo.get_trace_with_spans(trace_id)
        assert full is not None
        own = [s for s in full.spans if s.script_id and not s.attributes.get("custom")]
        assert any(s.attributes.get("custom") for s in full.spans)  # scripts opened spans
        assert runs[trace_id] == [
            ScriptRun(s.script_id or "", s.status, s.duration_ms, s.attributes.get("limit"))
            for s in own
        ]
    limits = {run.script_id: run.limit for run in runs[ids[1]]}
    assert "instruction_budget" in limits.values()
    assert repo.script_runs([]) == {}
    assert [t.id for t in repo.get_traces([ids[1], ids[0], "0" * 32])] == [ids[1], ids[0]]
