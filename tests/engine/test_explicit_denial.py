"""Only `allowed == false` blocks, and it always does: unusable fields beside it are dropped and
recorded on the span, never turned into an allow; a block hands no data to the caller."""

from __future__ import annotations

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
    ("fields", "message", "ignored"),
    [
        ("error = 42", "blocked by s", "field 'error' must be a string, got number"),
        ("error = {}", "blocked by s", "field 'error' must be a string, got table"),
        ('data = "x"', "blocked by s", "field 'data' must be a table, got string"),
        ("data = 5", "blocked by s", "field 'data' must be a table, got number"),
        ('error = "no", data = {n = 0/0}', "no", "output contains NaN or infinity"),
        ('error = "no", data = {f = print}', "no", "output contains a function value"),
        ('error = "no", data = {[1.5] = 1}', "no", "output has a number key"),
    ],
)
def test_an_explicit_denial_blocks_whatever_else_it_carries(
    make_engine, sink, fields, message, ignored
):
    engine = make_engine({"s.lua": f"return {{allowed = false, {fields}}}"}, manifest())
    outcome = engine.execute_trigger("t", {})
    assert (outcome.allowed, outcome.error, outcome.data) == (False, message, {})
    [trace] = sink.after(engine)
    assert (trace.status, trace.status_message, trace.allowed) == ("blocked", message, False)
    span = trace.spans[1]
    assert (span.status, span.status_message) == ("blocked", message)
    assert ignored in span.attributes["result.ignored"]
    assert "output.data" not in span.attributes


def test_both_unusable_fields_are_recorded(make_engine, sink):
    engine = make_engine({"s.lua": "return {allowed = false, error = 1, data = 2}"}, manifest())
    assert not engine.execute_trigger("t", {}).allowed
    ignored = sink.after(engine)[0].spans[1].attributes["result.ignored"]
    assert ignored == (
        "result field 'error' must be a string, got number: the default message is used; "
        "result field 'data' must be a table, got number: the data is dropped"
    )


def test_a_denial_with_usable_fields_records_nothing_ignored(make_engine, sink):
    engine = make_engine(
        {"s.lua": 'return {allowed = false, error = "bad ip", data = {score = 90}}'}, manifest()
    )
    outcome = engine.execute_trigger("t", {})
    assert (outcome.allowed, outcome.error, outcome.data) == (False, "bad ip", {})
    [trace] = sink.after(engine)
    span = trace.spans[1]
    assert span.attributes["output.data"] == {"score": 90}
    assert "result.ignored" not in span.attributes
    assert trace.result_data == {}


def test_a_denial_read_from_the_context_blocks(make_engine, sink):
    engine = make_engine({"s.lua": "return context.verdict"}, manifest())
    outcome = engine.execute_trigger("t", {"verdict": {"allowed": False, "error": "listed"}})
    assert (outcome.allowed, outcome.error) == (False, "listed")


@pytest.mark.parametrize("mode", ["blocking", "enrichment"])
def test_a_block_hands_no_data_to_the_caller(make_engine, sink, mode):
    text = manifest(mode) + '\n[[scripts]]\nid = "b"\ntrigger = "t"\nfile = "b.lua"\n'
    text += 'depends_on = ["s"]\n'
    engine = make_engine(
        {"s.lua": "return {data = {tier = 'pro'}}", "b.lua": "return {allowed = false}"}, text
    )
    outcome = engine.execute_trigger("t", {})
    assert (outcome.allowed, outcome.error, outcome.data) == (False, "blocked by b", {})
    [trace] = sink.after(engine)
    assert trace.result_data == {}
    assert trace.spans[1].attributes["output.data"] == {"tier": "pro"}


def test_a_closed_failure_hands_no_data_to_the_caller(make_engine, sink):
    text = manifest(failure="closed") + '\n[[scripts]]\nid = "b"\ntrigger = "t"\nfile = "b.lua"\n'
    engine = make_engine({"s.lua": "return {data = {tier = 'pro'}}", "b.lua": "error('x')"}, text)
    outcome = engine.execute_trigger("t", {})
    assert (outcome.allowed, outcome.data) == (False, {})
    assert sink.after(engine)[0].result_data == {}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("allowed = true, error = 42", "field 'error' must be a string, got number"),
        ('data = "x"', "field 'data' must be a table, got string"),
        ('allowed = "false"', "field 'allowed' must be a boolean, got string"),
    ],
)
def test_unusable_fields_without_a_denial_are_the_scripts_error(make_engine, sink, fields, message):
    engine = make_engine({"s.lua": f"return {{{fields}}}"}, manifest(failure="closed"))
    outcome = engine.execute_trigger("t", {})
    assert (outcome.allowed, outcome.error) == (False, f"s: result {message}")
    assert sink.after(engine)[0].spans[1].status == "error"
