"""Pipelines given as layers of script sources (auther's plans): the original's limits and its
verdicts for scripts it cannot run (missing, too large, not Lua), and spans named by scripts."""

from __future__ import annotations

import pytest

from pipetrace.engine import Engine, GivenScript, PipelineError, given_pipelines


def scripts(**sources: str) -> dict[str, GivenScript]:
    return {sid: GivenScript(sid, f"Script {sid.upper()}", code) for sid, code in sources.items()}


def run(sink, plans, given):
    with Engine(given_pipelines(plans, given, "test database"), sink=sink) as engine:
        outcome = engine.execute_trigger("t", {"email": "a@example.com"})
    return outcome, sink.after(engine)[-1]


def test_layers_run_in_order_and_spans_take_the_scripts_names(sink):
    given = scripts(
        a="return { data = { tier = 'gold' } }",
        b="return { allowed = false, error = 'tier ' .. context.prev.tier }",
    )
    outcome, trace = run(sink, {"t": [["a"], ["b"]]}, given)
    assert (outcome.allowed, outcome.error) == (False, "tier gold")
    named = {s.script_id: (s.name, s.layer_index, s.status) for s in trace.spans if s.script_id}
    assert named == {"a": ("Script A", 0, "success"), "b": ("Script B", 1, "blocked")}


def test_a_script_the_host_lacks_is_skipped_as_the_original_does(sink):
    outcome, trace = run(sink, {"t": [["gone", "a"]]}, scripts(a="return nil"))
    assert outcome.allowed and trace.status == "success"
    gone = next(s for s in trace.spans if s.script_id == "gone")
    assert (gone.name, gone.status) == ("Unknown", "skipped")
    assert gone.status_message == "Script not found"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("return nil -- " + "x" * 5200, "Script size limit exceeded"),
        ("return {", "big.lua:1: unexpected symbol near <eof>"),
    ],
)
def test_a_script_that_cannot_run_fails_open_at_each_run(sink, source, message):
    outcome, trace = run(sink, {"t": [["big"], ["a"]]}, scripts(big=source, a="return nil"))
    assert outcome.allowed
    big = next(s for s in trace.spans if s.script_id == "big")
    assert (big.status, big.status_message) == ("error", message)
    assert next(s for s in trace.spans if s.script_id == "a").status == "success"


def test_custom_spans_follow_the_originals_limits(sink):
    many = "for i = 1, 120 do helpers.trace('s' .. i, function() end) end"
    deep = (
        "helpers.trace('one', function() helpers.trace('two', function() "
        "helpers.trace('three', function() end) end) end)"
    )
    _, trace = run(sink, {"t": [["many", "deep"]]}, scripts(many=many, deep=deep))
    spans = {sid: [s for s in trace.spans if s.script_id == sid] for sid in ("many", "deep")}
    assert len(spans["many"]) == 1 + 100
    assert spans["many"][0].attributes["custom_spans.dropped"] == 20
    assert [s.name for s in spans["deep"]] == ["Script DEEP", "one", "two"]
    assert spans["deep"][0].attributes["custom_spans.dropped"] == 1


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([[f"s{i}"] for i in range(11)], "has 11 layers \\(max 10\\)"),
        ([[f"s{i}" for i in range(6)]], "layer 1 of 't' has 6 scripts \\(max 5\\)"),
        ([["a"], ["a"]], "names script 'a' more than once"),
    ],
)
def test_plans_past_the_originals_limits_are_refused_in_one_line(layers, message):
    with pytest.raises(PipelineError, match=f"^test database: .*{message}"):
        given_pipelines({"t": layers}, scripts(a="return nil"), "test database")
