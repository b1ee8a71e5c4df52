"""The original's helper API in the sandbox: env through an allow-list, secret, fetch that
never reaches a network (a supplied response, else the script's error), metrics on the span,
trace(name, attributes, fn), and await; what they record is bounded and redacted."""

from __future__ import annotations

from typing import Any

import pytest

from pipetrace.engine import EngineError, FetchResponse, TraceRecord

ONE = """
[triggers.t]
mode = "blocking"

[[scripts]]
id = "s"
trigger = "t"
file = "s.lua"
"""
URL = "https://api.example.com/v1/sub"


def run(make_engine, sink, source: str, **kwargs: Any) -> tuple[Any, TraceRecord]:
    """Run `source` as the one script of trigger t; its outcome and its trace."""
    engine = make_engine({"s.lua": source}, ONE, **kwargs)
    outcome = engine.execute_trigger("t", {})
    return outcome, sink.after(engine)[-1]


def script_span(trace: TraceRecord):
    return next(s for s in trace.spans if s.script_id == "s" and not s.attributes.get("custom"))


def test_env_reads_only_the_allowed_names(make_engine, sink):
    outcome, _ = run(
        make_engine,
        sink,
        'return { data = { a = helpers.env("NODE_ENV"), b = helpers.env("HOME") } }',
        env={"NODE_ENV": "production"},
    )
    assert outcome.data == {"a": "production"}


def test_secret_and_await_as_the_original_scripts_write_them(make_engine, sink):
    outcome, trace = run(
        make_engine,
        sink,
        'local key = await(helpers.secret("STRIPE_KEY"))\n'
        'helpers.log("key is " .. key)\n'
        "return { data = { n = #key, missing = helpers.secret('NOPE') } }",
        secrets={"STRIPE_KEY": "sk_live_canary42"},
    )
    assert outcome.data == {"n": 16}
    assert script_span(trace).attributes["logs"] == ["key is [REDACTED]"]


def test_fetch_without_a_supplied_response_fails_the_script_in_one_line(make_engine, sink):
    outcome, trace = run(
        make_engine,
        sink,
        f'local r = await(helpers.fetch("{URL}", {{ method = "GET" }}))\n'
        "return { allowed = false }",
    )
    assert outcome.allowed  # fails open, as every script error does by default
    span = script_span(trace)
    assert span.status == "error"
    assert span.status_message == (
        f"s.lua:1: helpers.fetch: no network in the sandbox and no response supplied for '{URL}'"
    )
    assert span.attributes["lua.line"] == 1


def test_fetch_refuses_plain_http_like_the_original(make_engine, sink):
    _, trace = run(make_engine, sink, 'helpers.fetch("http://api.example.com/x")')
    assert "only https URLs are allowed, got 'http://api.example.com/x'" in (
        script_span(trace).status_message or ""
    )


def test_fetch_returns_the_supplied_response_read_only(make_engine, sink):
    outcome, _ = run(
        make_engine,
        sink,
        f'local r = await(helpers.fetch("{URL}"))\n'
        "local ok, err = pcall(function() r.body.plan = 'x' end)\n"
        "return { allowed = r.ok, data = { status = r.status, plan = r.body.plan, "
        "write = ok, items = #r.body.items } }",
        fetch_responses={URL: FetchResponse(200, {"plan": "pro", "items": [1, 2, 3]})},
    )
    assert outcome.allowed
    assert outcome.data == {"status": 200, "plan": "pro", "write": False, "items": 3}
    _, failing = run(
        make_engine,
        sink,
        f'local r = helpers.fetch("{URL}")\nreturn {{ allowed = r.ok }}',
        fetch_responses={URL: FetchResponse(503)},
    )
    assert failing.status == "blocked"


@pytest.mark.parametrize(
    ("responses", "message"),
    [
        ({URL: FetchResponse(42)}, "status must be an integer from 100 to 599"),
        ({URL: FetchResponse(200, "x" * 70_000)}, "input too large"),
    ],
)
def test_unusable_responses_are_refused_before_anything_runs(make_engine, responses, message):
    with pytest.raises(EngineError, match=message):
        make_engine({"s.lua": "return nil"}, ONE, fetch_responses=responses)


def test_metrics_are_recorded_on_the_span_with_tags_redacted(make_engine, sink):
    _, trace = run(
        make_engine,
        sink,
        'helpers.metrics.count("signup.checked", 1, { country = "DE", api_token = "t0ken-xyz" })\n'
        'helpers.metrics.gauge("queue.length", 4.5)\n'
        'helpers.metrics.count("plain")\n'
        'helpers.log("t0ken-xyz")',
    )
    span = script_span(trace)
    assert span.attributes["metrics"] == [
        {
            "kind": "count",
            "name": "signup.checked",
            "value": 1,
            "tags": {"api_token": "[REDACTED]", "country": "DE"},
        },
        {"kind": "gauge", "name": "queue.length", "value": 4.5},
        {"kind": "count", "name": "plain", "value": 1},
    ]
    assert span.attributes["logs"] == ["[REDACTED]"]


def test_metrics_past_their_limit_are_counted_as_dropped(make_engine, sink):
    _, trace = run(
        make_engine,
        sink,
        'for i = 1, 60 do helpers.metrics.count("n", i) end',
    )
    span = script_span(trace)
    assert len(span.attributes["metrics"]) == 50
    assert span.attributes["metrics.dropped"] == 10


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("helpers.metrics.count(1)", "helpers.metrics.count: name must be a string"),
        ('helpers.metrics.gauge("q")', "helpers.metrics.gauge: value must be a number"),
        ('helpers.metrics.count("q", 1, "x")', "helpers.metrics.count: tags must be a table"),
    ],
)
def test_metrics_with_bad_arguments_fail_the_script(make_engine, sink, call, message):
    _, trace = run(make_engine, sink, call)
    assert script_span(trace).status_message == f"s.lua:1: {message}"


def test_trace_with_attributes_as_the_original_calls_it(make_engine, sink):
    outcome, trace = run(
        make_engine,
        sink,
        'local n = helpers.trace("lookup", { db = "users", rows = 3, ok = true, '
        'password = "hunter2hunter2", nested = {} }, function() return 7 end)\n'
        'local m = helpers.trace("plain", function(a, b) return a + b end, 1, 2)\n'
        'local k = helpers.trace("no attrs", nil, function() return 1 end)\n'
        'helpers.log("pw hunter2hunter2")\n'
        "return { data = { n = n, m = m, k = k } }",
    )
    assert outcome.data == {"n": 7, "m": 3, "k": 1}
    custom = {s.name: s for s in trace.spans if s.attributes.get("custom")}
    assert custom["lookup"].attributes == {
        "custom": True,
        "db": "users",
        "nested": "<table>",
        "ok": True,
        "password": "[REDACTED]",
        "rows": 3,
    }
    assert custom["plain"].attributes == custom["no attrs"].attributes == {"custom": True}
    assert custom["lookup"].parent_span_id == script_span(trace).span_id
    assert script_span(trace).attributes["logs"] == ["pw [REDACTED]"]


def test_trace_attributes_are_bounded(make_engine, sink):
    _, trace = run(
        make_engine,
        sink,
        "local t = {}\nfor i = 1, 40 do t['k' .. i] = i end\n"
        'helpers.trace("many", t, function() end)\n'
        'helpers.trace("long", { a = string.rep("x", 5000) }, function() end)',
    )
    custom = {s.name: s for s in trace.spans if s.attributes.get("custom")}
    assert len(custom["many"].attributes) == 32 + 1
    assert custom["long"].attributes == {"custom": True}
    assert script_span(trace).attributes["attributes.dropped"] == 8 + 1
