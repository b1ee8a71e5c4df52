"""Failure policy, trigger modes and input limits, with real Lua."""

from __future__ import annotations

import threading
import time

import pytest

ONE = """
[triggers.t]
mode = "{mode}"
failure = "{failure}"

[[scripts]]
id = "s"
trigger = "t"
file = "s.lua"
"""


def manifest(mode: str = "blocking", failure: str = "open") -> str:
    return ONE.format(mode=mode, failure=failure)


@pytest.mark.parametrize(
    "script",
    [
        'error("broken")',
        "while true do end",
        'return {allowed = "false"}',
        "return 42",
    ],
)
def test_errors_fail_open_by_default(make_engine, sink, script):
    engine = make_engine({"s.lua": script}, manifest())
    outcome = engine.execute_trigger("t", {})
    assert outcome.allowed and outcome.error is None
    [trace] = sink.after(engine)
    assert trace.status == "error" and trace.allowed
    assert trace.spans[1].status == "error" and trace.spans[1].status_message


def test_trigger_failure_closed_blocks_with_the_error(make_engine, sink):
    engine = make_engine({"s.lua": 'error("broken")'}, manifest(failure="closed"))
    outcome = engine.execute_trigger("t", {})
    assert not outcome.allowed and outcome.error == "s: s.lua:1: broken"
    [trace] = sink.after(engine)
    assert (trace.status, trace.allowed) == ("error", False)


def test_script_failure_closed_overrides_an_open_trigger(make_engine, sink):
    # A generous deadline, so a loaded machine still stops the loop by its instruction budget.
    text = manifest() + 'failure = "closed"\nlimits = { deadline_ms = 10000 }\n'
    engine = make_engine({"s.lua": "while true do end"}, text)
    outcome = engine.execute_trigger("t", {})
    assert not outcome.allowed and "instruction budget exceeded" in outcome.error


def test_only_a_real_false_blocks(make_engine, sink):
    engine = make_engine({"s.lua": "return {allowed = context.v}"}, manifest())
    assert engine.execute_trigger("t", {"v": True}).allowed
    assert not engine.execute_trigger("t", {"v": False}).allowed
    assert engine.execute_trigger("t", {}).allowed


def test_enrichment_returns_merged_data_in_order(make_engine, sink):
    text = """
    [triggers.token_build]
    mode = "enrichment"
    [[scripts]]
    id = "first"
    trigger = "token_build"
    file = "first.lua"
    [[scripts]]
    id = "second"
    trigger = "token_build"
    file = "second.lua"
    [[scripts]]
    id = "third"
    trigger = "token_build"
    file = "third.lua"
    depends_on = ["first", "second"]
    """
    engine = make_engine(
        {
            "first.lua": "return {data = {tier = 'basic', roles = {'user'}}}",
            "second.lua": "return {data = {tier = 'premium'}}",
            "third.lua": "local p = context.prev\n"
            "return {data = {scope = p.tier .. ' ' .. p.roles[1]}}",
        },
        text,
    )
    outcome = engine.execute_trigger("token_build", {})
    assert outcome.data == {"tier": "premium", "roles": ["user"], "scope": "premium user"}


def test_async_returns_at_once_and_runs_in_the_background(make_engine, sink):
    engine = make_engine(
        {
            "s.lua": "local n = 0 for i = 1, 300000 do n = n + i end\n"
            "return {allowed = false, data = {n = n}}"
        },
        manifest("async"),
    )
    caller = threading.get_ident()
    outcome = engine.execute_trigger("t", {"x": 1})
    assert outcome.allowed and outcome.data == {} and outcome.error is None
    [trace] = sink.after(engine)
    assert trace.trace_id == outcome.trace_id
    assert trace.spans[1].attributes["output.data"] == {"n": 45000150000}
    assert (trace.status, trace.result_data) == ("blocked", {})  # a block keeps no result
    assert threading.get_ident() == caller


def test_async_input_is_copied_before_the_caller_returns(make_engine, sink):
    engine = make_engine({"s.lua": "return {data = {v = context.nested.v}}"}, manifest("async"))
    payload = {"nested": {"v": 1}}
    engine.execute_trigger("t", payload)
    payload["nested"]["v"] = 2
    [trace] = sink.after(engine)
    assert trace.result_data == {"v": 1}


def test_close_drains_async_work(make_engine, sink):
    engine = make_engine({"s.lua": "return {data = {ok = true}}"}, manifest("async"))
    for _ in range(20):
        engine.execute_trigger("t", {})
    engine.close()
    assert len(sink.traces) == 20


def test_unknown_trigger_allows_and_is_traced(make_engine, sink):
    engine = make_engine({"s.lua": "return"}, manifest())
    outcome = engine.execute_trigger("nope", {"a": 1})
    assert outcome.allowed and outcome.data == {}
    [trace] = sink.after(engine)
    assert trace.status == "error" and trace.status_message == "unknown trigger 'nope'"
    assert len(trace.spans) == 1


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"blob": "x" * 70_000}, "input too large"),
        ({"a": {"b": {"c": {"d": 1}}}}, "input too deep"),
        ({"when": object()}, "input contains a object value"),
        ({"big": 1 << 70}, "64-bit range"),
        ({"a": "\ud800"}, "input key 'a' holds text that is not valid Unicode (a lone surrogate)"),
        ({"a": {"b": ["ok", "x\udfff"]}}, "input key 'a.b.1' holds text that is not valid Unicode"),
        ({"\udc80": 1}, "input key '\\udc80' is not valid Unicode (a lone surrogate)"),
        ({"a": [{"b" * 100 + "\udc80": 1}]}, f"input key 'a.0.{'b' * 64}' is not valid Unicode"),
    ],
)
def test_input_limits_are_checked_before_running(make_engine, sink, payload, message):
    text = manifest(failure="closed") + "\n[limits]\nmax_input_depth = 3\n"
    engine = make_engine({"s.lua": "return"}, text)
    outcome = engine.execute_trigger("t", payload)
    assert not outcome.allowed and message in outcome.error
    [trace] = sink.after(engine)
    assert [s.status for s in trace.spans] == ["error", "skipped"]


@pytest.mark.parametrize(
    "payload",
    [{"email": "a@b.c", "pad": "x" * 70_000}, {"a": {"b": {"c": {"d": {"e": 1}}}}}],
)
def test_a_padded_input_blocks_a_fail_open_trigger_and_says_so(make_engine, sink, payload):
    """Every script failing open on an input none of them saw would let padding past them."""
    engine = make_engine({"s.lua": "return"}, manifest() + "\n[limits]\nmax_input_depth = 4\n")
    outcome = engine.execute_trigger("t", payload)
    assert not outcome.allowed and outcome.error.startswith("input too ")
    [trace] = sink.after(engine)
    assert (trace.status, trace.allowed) == ("error", False)
    root = trace.spans[0].attributes
    assert root["input.refused"] == outcome.error and root["input.refused_policy"] == "block"
    assert "input.bytes" not in root


def test_a_trigger_may_allow_a_refused_input_and_the_trace_says_so(make_engine, sink):
    text = manifest().replace('failure = "open"', 'failure = "closed"\nrefused_input = "allow"')
    engine = make_engine({"s.lua": "return"}, text)
    outcome = engine.execute_trigger("t", {"pad": "x" * 70_000})
    assert outcome.allowed and outcome.error is None
    [trace] = sink.after(engine)
    assert (trace.status, trace.allowed) == ("error", True)
    assert trace.spans[0].attributes["input.refused_policy"] == "allow"


def test_an_input_within_the_limits_is_not_marked_refused(make_engine, sink):
    engine = make_engine({"s.lua": "return"}, manifest())
    assert engine.execute_trigger("t", {"email": "a@b.c"}).allowed
    [trace] = sink.after(engine)
    assert "input.refused" not in trace.spans[0].attributes


@pytest.mark.timing
def test_deadline_is_enforced_and_named(make_engine, sink):
    text = manifest() + "limits = { instruction_budget = 1000000000, deadline_ms = 30 }\n"
    engine = make_engine({"s.lua": "while true do end"}, text)
    start = time.perf_counter()
    engine.execute_trigger("t", {})
    assert time.perf_counter() - start < 1.0
    [trace] = sink.after(engine)
    assert trace.spans[1].status_message == "deadline exceeded (30 ms)"
    assert trace.spans[1].attributes["limit"] == "deadline_ms"


def test_output_caps(make_engine, sink):
    deep = "local t = {} local c = t for i = 1, 20 do c.x = {} c = c.x end return {data = t}"
    engine = make_engine({"s.lua": deep}, manifest())
    engine.execute_trigger("t", {})
    [trace] = sink.after(engine)
    assert trace.spans[1].status_message == "output too deep (max 8)"
    assert trace.spans[1].attributes["limit"] == "max_output_depth"


def test_a_failing_clock_or_id_source_does_not_raise(make_engine, sink):
    def bad_clock() -> int:
        raise RuntimeError("clock broke")

    engine = make_engine({"s.lua": "return {data = {ok = 1}}"}, manifest(), clock=bad_clock)
    outcome = engine.execute_trigger("t", {})
    assert outcome.allowed and outcome.data == {"ok": 1}


@pytest.mark.parametrize(
    ("raised", "outcome"),
    [(KeyboardInterrupt(), "interrupt"), (ValueError("odd text"), "host function failed")],
)
def test_ctrl_c_inside_a_helper_stops_the_caller(make_engine, sink, monkeypatch, raised, outcome):
    """Ctrl-C is delivered where Python code runs, which inside a trigger is helpers.hash: it
    must stop the caller, not end as the script's error (a demo then ran on to the end)."""

    def interrupted(text: str) -> tuple[int, int, int, int]:
        raise raised

    monkeypatch.setattr("pipetrace.engine.sandbox._sha256_words", interrupted)
    engine = make_engine({"s.lua": "return {data = {h = helpers.hash('x')}}"}, manifest())
    if outcome == "interrupt":
        with pytest.raises(KeyboardInterrupt):
            engine.execute_trigger("t", {})
        return
    result = engine.execute_trigger("t", {})
    [trace] = sink.after(engine)
    assert result.allowed and trace.spans[1].status_message == "host function failed: ValueError"
