"""The original system's three tracing checks, plus span details."""

from __future__ import annotations

import re
import time

import pytest

from pipetrace.engine.sandbox import Sandbox

MANIFEST_ONE = """
[triggers.before_signup]
mode = "blocking"

[[scripts]]
id = "check"
trigger = "before_signup"
file = "check.lua"
"""


def test_success_path_records_root_and_script_span(make_engine, sink):
    engine = make_engine(
        {"check.lua": 'helpers.log("looked at " .. context.email)\nreturn {data = {ok = 1}}'},
        MANIFEST_ONE,
    )
    outcome = engine.execute_trigger(
        "before_signup", {"email": "a@example.com"}, {"user_id": "u1", "request_ip": "10.0.0.1"}
    )
    assert outcome.allowed and outcome.error is None
    assert outcome.data == {"ok": 1}
    [trace] = sink.after(engine)
    assert trace.trace_id == outcome.trace_id and re.fullmatch("[0-9a-f]{32}", trace.trace_id)
    assert (trace.status, trace.allowed, trace.user_id, trace.request_ip) == (
        "success", True, "u1", "10.0.0.1",
    )  # fmt: skip
    root, span = trace.spans
    assert root.parent_span_id is None and root.name == "before_signup"
    assert span.parent_span_id == root.span_id and re.fullmatch("[0-9a-f]{16}", span.span_id)
    assert (span.name, span.script_id, span.layer_index, span.parallel_index, span.status) == (
        "check", "check", 0, 0, "success",
    )  # fmt: skip
    assert span.kind == root.kind == "INTERNAL"
    assert span.attributes["logs"] == ["looked at a@example.com"]
    assert span.attributes["output.data"] == {"ok": 1}
    assert len(span.attributes["script.sha256"]) == 64
    assert root.started_at <= span.started_at < span.ended_at <= root.ended_at
    assert trace.result_data == {"ok": 1}
    assert trace.pipeline_version == engine.pipelines.version


def test_blocked_path_records_the_blocking_message(make_engine, sink):
    engine = make_engine(
        {"check.lua": 'return {allowed = false, error = "disposable email"}'}, MANIFEST_ONE
    )
    outcome = engine.execute_trigger("before_signup", {"email": "x@mailinator.com"})
    assert not outcome.allowed and outcome.error == "disposable email"
    [trace] = sink.after(engine)
    assert (trace.status, trace.status_message, trace.allowed) == (
        "blocked", "disposable email", False,
    )  # fmt: skip
    assert trace.spans[1].status == "blocked"
    assert trace.spans[1].status_message == "disposable email"


DAG = """
[triggers.t]
mode = "blocking"

[[scripts]]
id = "a1"
trigger = "t"
file = "s.lua"
[[scripts]]
id = "a2"
trigger = "t"
file = "s.lua"
[[scripts]]
id = "a3"
trigger = "t"
file = "s.lua"
[[scripts]]
id = "b1"
trigger = "t"
file = "s.lua"
depends_on = ["a1", "a2"]
[[scripts]]
id = "b2"
trigger = "t"
file = "s.lua"
depends_on = ["a3"]
[[scripts]]
id = "c1"
trigger = "t"
file = "last.lua"
depends_on = ["b1", "b2"]
"""


def test_multi_layer_dag_gives_six_spans_in_three_layers(make_engine, sink):
    engine = make_engine(
        {
            "s.lua": "local n = 0 for _ in pairs(context.outputs) do n = n + 1 end\n"
            "return {data = {seen = n}}",
            "last.lua": "return {data = {a = context.outputs.a1.seen, b = context.prev.seen}}",
        },
        DAG,
    )
    outcome = engine.execute_trigger("t", {})
    assert outcome.allowed
    assert outcome.data == {"seen": 3, "a": 0, "b": 3}
    [trace] = sink.after(engine)
    root, *scripts = trace.spans
    assert len(scripts) == 6
    assert all(s.parent_span_id == root.span_id for s in scripts)
    layout = [(s.script_id, s.layer_index, s.parallel_index) for s in scripts]
    assert layout == [
        ("a1", 0, 0), ("a2", 0, 1), ("a3", 0, 2), ("b1", 1, 0), ("b2", 1, 1), ("c1", 2, 0),
    ]  # fmt: skip
    ends_of_layer = {i: max(s.ended_at for s in scripts if s.layer_index == i) for i in range(3)}
    for span in scripts:
        if span.layer_index:
            assert span.started_at >= ends_of_layer[span.layer_index - 1]


def test_scripts_after_a_block_are_skipped(make_engine, sink):
    engine = make_engine(
        {"block.lua": "return {allowed = false}", "s.lua": "return nil", "last.lua": "return"},
        DAG.replace(
            'id = "a2"\ntrigger = "t"\nfile = "s.lua"',
            'id = "a2"\ntrigger = "t"\nfile = "block.lua"',
        ),
    )
    outcome = engine.execute_trigger("t", {})
    assert not outcome.allowed and outcome.error == "blocked by a2"
    [trace] = sink.after(engine)
    statuses = {s.name: s.status for s in trace.spans[1:]}
    assert statuses == {
        "a1": "success", "a2": "blocked", "a3": "success",
        "b1": "skipped", "b2": "skipped", "c1": "skipped",
    }  # fmt: skip


def test_scripts_of_one_layer_see_the_same_read_only_snapshot(make_engine, sink):
    manifest = DAG.split('[[scripts]]\nid = "b1"')[0]
    engine = make_engine(
        {
            "s.lua": "local before = context.n\n"
            "local ok = pcall(function() context.n = before + 1 end)\n"
            "local nested = pcall(function() context.user.name = 'x' end)\n"
            "return {data = {[tostring(before) .. context.user.name] = ok or nested}}"
        },
        manifest,
    )
    outcome = engine.execute_trigger("t", {"n": 5, "user": {"name": "ana"}})
    assert outcome.data == {"5ana": False}


def test_custom_spans_nest_and_excess_is_dropped_and_counted(make_engine, sink):
    script = """
    helpers.trace("outer", function()
      helpers.trace("inner", function() end)
    end)
    for i = 1, 10 do helpers.trace("n" .. i, function() end) end
    local ok = pcall(helpers.trace, "fails", function() error("boom") end)
    return {data = {ok = ok}}
    """
    manifest = MANIFEST_ONE + "\n[limits]\nmax_custom_spans = 5\n"
    engine = make_engine({"check.lua": script}, manifest)
    assert engine.execute_trigger("before_signup", {}).data == {"ok": False}
    [trace] = sink.after(engine)
    _root, script_span, *custom = trace.spans
    assert [c.name for c in custom] == ["outer", "inner", "n1", "n2", "n3"]
    assert custom[0].parent_span_id == script_span.span_id
    assert custom[1].parent_span_id == custom[0].span_id
    assert custom[2].parent_span_id == script_span.span_id
    assert script_span.attributes["custom_spans.dropped"] == 8
    assert all(c.script_id == "check" and c.status == "success" for c in custom)


def test_custom_span_depth_is_capped(make_engine, sink):
    script = """
    local function nest(n) if n > 0 then helpers.trace("d" .. n, function() nest(n - 1) end) end end
    nest(6)
    """
    engine = make_engine(
        {"check.lua": script}, MANIFEST_ONE + "\n[limits]\nmax_custom_span_depth = 2\n"
    )
    engine.execute_trigger("before_signup", {})
    [trace] = sink.after(engine)
    assert [s.name for s in trace.spans[2:]] == ["d6", "d5"]
    assert trace.spans[1].attributes["custom_spans.dropped"] == 4


def test_lua_error_line_is_recorded(make_engine, sink):
    engine = make_engine({"check.lua": "local x\n\nreturn x.field"}, MANIFEST_ONE)
    assert engine.execute_trigger("before_signup", {}).allowed
    [trace] = sink.after(engine)
    span = trace.spans[1]
    assert span.status == "error"
    assert span.attributes["lua.file"] == "check.lua" and span.attributes["lua.line"] == 3
    assert "attempt to index a nil value" in span.attributes["lua.error"]
    assert trace.status == "error" and trace.allowed


def test_timestamps_use_the_injected_clock(make_engine, sink):
    base = 1_600_000_000_000_000_000
    engine = make_engine(
        {"check.lua": "return {data = {now = helpers.now()}}"}, MANIFEST_ONE, clock=lambda: base
    )
    outcome = engine.execute_trigger("before_signup", {})
    assert outcome.data == {"now": base // 1_000_000}
    [trace] = sink.after(engine)
    assert trace.started_at == base
    assert all(base <= s.started_at <= s.ended_at for s in trace.spans)
    assert trace.spans[1].ended_at - trace.spans[1].started_at > 0


# Five large scripts of another trigger make the sandbox slow to start (tens of ms), so start-up
# inside a trace would stand out against a tiny script's run.
HEAVY = "local t = {}\n" + "".join(
    f"t[{i}] = function(x) local y = x * {i} if y > 3 then return y end return -y end\n"
    for i in range(700)
)


@pytest.mark.timing
@pytest.mark.parametrize("mode", ["blocking", "async"])
def test_sandbox_start_up_stays_out_of_the_first_trace(make_engine, sink, mode):
    scripts = {"check.lua": "return nil"} | {f"heavy{i}.lua": HEAVY for i in range(5)}
    manifest = MANIFEST_ONE.replace('"blocking"', f'"{mode}"') + "[triggers.other]\n"
    manifest += "".join(f'[[scripts]]\nid = "heavy{i}"\ntrigger = "other"\n' for i in range(5))
    engine = make_engine(scripts, manifest)
    before = time.perf_counter_ns()
    Sandbox(engine.pipelines.limits, engine.pipelines.scripts.values())
    start_up = time.perf_counter_ns() - before
    engine.execute_trigger("before_signup", {})
    [trace] = sink.after(engine)
    root, span = trace.spans
    assert root.started_at <= span.started_at <= span.ended_at <= root.ended_at
    assert span.started_at - root.started_at < start_up / 4
    assert root.ended_at - span.ended_at < start_up / 4


def test_every_trace_extra_of_a_run_arrives_together(make_engine, sink):
    script = """
    for i = 1, 3 do helpers.log("line " .. i) end
    local n = 0
    for i = 1, 30000 do n = n + i end
    pcall(helpers.trace, "fails", function() error("boom") end)
    helpers.trace("ok", function() end)
    helpers.trace("dropped", function() end)
    return {data = {n = n}}
    """
    manifest = MANIFEST_ONE + "\n[limits]\nmax_logs = 2\nmax_custom_spans = 2\n"
    engine = make_engine({"check.lua": script}, manifest)
    assert engine.execute_trigger("before_signup", {}).data == {"n": 450015000}
    [trace] = sink.after(engine)
    _root, span, fails, ok = trace.spans
    attrs = span.attributes
    assert attrs["logs"] == ["line 1", "line 2"] and attrs["logs.dropped"] == 1
    assert attrs["custom_spans.dropped"] == 1
    assert attrs["instructions.min"] >= 30000
    assert attrs["output.data"] == {"n": 450015000}
    assert (fails.name, fails.status) == ("fails", "error") and "boom" in fails.status_message
    assert (ok.name, ok.status, ok.status_message) == ("ok", "success", None)
    assert fails.parent_span_id == ok.parent_span_id == span.span_id
