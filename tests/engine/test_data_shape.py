"""Script data merged on the host keeps the sandbox's shapes, and traces hold plain values only."""

from __future__ import annotations

import dataclasses

MANIFEST = """
[triggers.t]
mode = "blocking"

[[scripts]]
id = "a"
trigger = "t"
file = "a.lua"

[[scripts]]
id = "b"
trigger = "t"
file = "b.lua"
"""

A = """
helpers.log("a ran")
helpers.trace("outer", function() helpers.trace("inner", function() end) end)
return {data = {[1] = "int", ["2"] = "str", nested = {b = {1, 2, {c = true}}}}}
"""
B = 'return {data = {"l1", "l2"}}'
PLAIN = (str, int, float, bool, type(None))


def test_integer_keys_lists_and_nesting_merge_like_the_sandbox(make_engine, sink):
    engine = make_engine({"a.lua": A, "b.lua": B}, MANIFEST)
    outcome = engine.execute_trigger("t", {})
    # b's list overwrites a's integer key 1; a's string key "2" wins over b's integer key 2.
    assert outcome.data == {"1": "l1", "2": "str", "nested": {"b": [1, 2, {"c": True}]}}
    assert list(outcome.data) == ["1", "2", "nested"]
    spans = {s.name: s for s in sink.after(engine)[0].spans}
    assert spans["a"].attributes["output.data"] == {
        "1": "int",
        "2": "str",
        "nested": {"b": [1, 2, {"c": True}]},
    }
    assert spans["b"].attributes["output.data"] == ["l1", "l2"]


def test_data_that_is_only_a_list_stays_a_list(make_engine):
    manifest = MANIFEST.split("[[scripts]]")[0] + '[[scripts]]\nid = "b"\ntrigger = "t"\n'
    engine = make_engine({"b.lua": B}, manifest + 'file = "b.lua"\n')
    assert engine.execute_trigger("t", {}).data == ["l1", "l2"]


def test_caller_changes_to_nested_data_do_not_reach_the_script_spans(make_engine, sink):
    engine = make_engine({"a.lua": A, "b.lua": B}, MANIFEST)
    outcome = engine.execute_trigger("t", {})
    outcome.data["nested"]["b"].append("changed by caller")
    spans = {s.name: s for s in sink.after(engine)[0].spans}
    assert spans["a"].attributes["output.data"]["nested"]["b"] == [1, 2, {"c": True}]


def test_traces_hold_only_plain_python_values(make_engine, sink):
    engine = make_engine({"a.lua": A, "b.lua": 'error("bad")'}, MANIFEST)
    engine.execute_trigger("t", {"user": {"token": "x", "tags": ["a", 1]}})
    trace = sink.after(engine)[0]
    assert [s.name for s in trace.spans] == ["t", "a", "outer", "inner", "b"]
    seen = []

    def walk(value):
        if isinstance(value, dict):
            assert all(isinstance(k, str) for k in value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            assert type(value) in PLAIN, type(value)
            seen.append(value)

    walk(dataclasses.asdict(trace))
    assert "a ran" in seen and "[REDACTED]" in seen
