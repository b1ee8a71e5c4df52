"""Engine.execute_untraced against a traced run of the same input: the same decision, status and
script outcomes (blocked, skipped, errors and limit hits included), an async trigger run on the
spot, and the trace built on demand with secrets masked as the traced one masks them."""

from __future__ import annotations

from typing import Any

import pytest

from pipetrace.engine import (
    Engine,
    ScriptOutcome,
    SeededIds,
    TraceRecord,
    bundled_pipelines_dir,
    load_pipelines,
)

ALLOWED = {
    "email": "ana@example.com",
    "ip": "81.2.69.160",
    "country": "DE",
    "attempts_last_hour": 1,
}
INPUTS: list[tuple[str, dict[str, Any]]] = [
    ("before_signup", ALLOWED),
    ("before_signup", {**ALLOWED, "email": "ana@mailinator.com"}),  # blocked
    ("before_signup", {**ALLOWED, "email": 42}),  # a script error, still allowed
    ("before_signup", {**ALLOWED, "stress": "pattern"}),  # a limit hit
    ("before_signin", {**ALLOWED, "ip": 7}),  # fails closed: the risk layer is skipped
    ("after_signup", ALLOWED),  # async
    ("token_build", {"roles": "admin"}),
]
SECRET = "cnryUntracedSecret42"


def own_spans(trace: TraceRecord) -> list[tuple[str | None, str, Any]]:
    """Script id, status and limit hit of each script's own span of a traced run."""
    return [
        (span.script_id, span.status, span.attributes.get("limit"))
        for span in trace.spans
        if span.script_id and not span.attributes.get("custom")
    ]


@pytest.mark.parametrize(("trigger", "payload"), INPUTS)
def test_the_same_outcomes_as_a_traced_run(
    trigger: str, payload: dict[str, Any], sink: Any
) -> None:
    pipelines = load_pipelines(bundled_pipelines_dir())
    traced = Engine(pipelines, sink=sink, ids=SeededIds(3))
    untraced = Engine(pipelines, ids=SeededIds(3))
    try:
        traced.execute_trigger(trigger, payload, {"user_id": "u1"}, replay_of="a" * 32)
        [trace] = sink.after(traced)
        run = untraced.execute_untraced(trigger, payload, {"user_id": "u1"}, replay_of="a" * 32)
    finally:
        traced.close()
        untraced.close()

    assert (run.trace_id, run.allowed, run.status) == (trace.trace_id, trace.allowed, trace.status)
    assert [(s.script_id, s.status, s.limit) for s in run.scripts] == own_spans(trace)
    assert all((s.duration_ms is None) == (s.status == "skipped") for s in run.scripts)
    assert all(s.duration_ms is None or s.duration_ms >= 0 for s in run.scripts)
    record = run.record()
    assert record is not None
    assert (record.trace_id, record.replay_of, record.user_id) == (trace.trace_id, "a" * 32, "u1")
    assert [(s.script_id, s.status, s.status_message) for s in record.spans] == [
        (s.script_id, s.status, s.status_message)
        for s in trace.spans
        if not s.attributes.get("custom")
    ]


def test_messages_are_masked_in_the_trace_built_on_demand(tmp_path) -> None:
    folder = tmp_path / "pipelines"
    folder.mkdir()
    (folder / "pipelines.toml").write_text(
        '[triggers.t]\nmode = "blocking"\n\n[[scripts]]\nid = "leak"\ntrigger = "t"\n'
        'file = "leak.lua"\n'
    )
    (folder / "leak.lua").write_text(
        'error("token " .. helpers.secret("api") .. ", Bearer cnryBearer77 and " .. '
        "context.api_key)\n"
    )
    engine = Engine(load_pipelines(folder), secrets={"api": SECRET})
    run = engine.execute_untraced("t", {"api_key": "cnryInputKey99"})

    assert run.status == "error" and run.allowed
    assert run.scripts == (ScriptOutcome("leak", "error", run.scripts[0].duration_ms, None),)
    record = run.record()
    assert record is not None
    message = record.spans[1].status_message or ""
    assert message.startswith("leak.lua:1: token [REDACTED]")
    for canary in (SECRET, "cnryBearer77", "cnryInputKey99"):
        assert canary not in message


def test_an_unknown_trigger_runs_no_script() -> None:
    engine = Engine(load_pipelines(bundled_pipelines_dir()))
    run = engine.execute_untraced("no_such_trigger", {})
    assert (run.allowed, run.status, run.scripts) == (True, "error", ())
    record = run.record()
    assert record is not None and record.status_message == "unknown trigger 'no_such_trigger'"
