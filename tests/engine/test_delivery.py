"""Determinism, sink isolation, redaction and caps."""

from __future__ import annotations

import threading
import time

import pytest

from pipetrace.engine import Engine, SeededIds, TraceRecord, bundled_pipelines_dir, load_pipelines

SIGNUP = {
    "email": "ana+test@example.com",
    "ip": "81.2.69.160",
    "country": "XX",
    "attempts_last_hour": 7,
}


def spans_without_times(trace: TraceRecord) -> list[tuple]:
    return [
        (s.span_id, s.parent_span_id, s.name, s.status, s.status_message, s.attributes)
        for s in trace.spans
    ]


def test_replay_with_same_ids_and_clock_is_identical(sink):
    pipelines = load_pipelines(bundled_pipelines_dir())
    runs = []
    for _ in range(2):
        with Engine(
            pipelines, sink=sink, clock=lambda: 1_700_000_000_000_000_000, ids=SeededIds(7)
        ) as engine:
            runs.append(engine.execute_trigger("before_signup", SIGNUP, {"user_id": "u"}))
            engine.flush()
    assert runs[0] == runs[1]
    first, second = sink.traces
    assert first.trace_id == second.trace_id
    assert spans_without_times(first) == spans_without_times(second)


def test_seeded_span_ids_depend_on_their_trace_only(sink):
    """A resumed demo fill skips the traces it stored before (taking their trace ids to keep in
    step), and async runs finish out of order: neither may change another trace's span ids."""
    pipelines = load_pipelines(bundled_pipelines_dir())
    calls = [
        ("before_signup", SIGNUP),
        ("after_signup", {"email": "ana@example.com"}),
        ("token_build", {"roles": ["admin", "billing"], "plan": "pro"}),
        ("before_signup", dict(SIGNUP, ip="203.0.113.7")),
        ("before_signin", dict(SIGNUP, session_token="tok_1")),
    ]
    with Engine(pipelines, sink=sink, ids=SeededIds(4), clock=lambda: 0) as engine:
        for trigger, payload in calls:
            engine.execute_trigger(trigger, payload)
    ids = SeededIds(4)
    with Engine(pipelines, sink=sink, ids=ids, clock=lambda: 0) as engine:
        for n, (trigger, payload) in enumerate(calls):
            if n % 2 == 0:
                ids.trace_id()
            else:
                engine.execute_trigger(trigger, payload)

    def span_ids(traces: list[TraceRecord]) -> dict[str, list[tuple[str, str | None]]]:
        return {t.trace_id: [(s.span_id, s.parent_span_id) for s in t.spans] for t in traces}

    every, resumed = span_ids(sink.traces[: len(calls)]), span_ids(sink.traces[len(calls) :])
    assert len(every) == len(calls) and len(resumed) == 2
    assert resumed == {trace_id: every[trace_id] for trace_id in resumed}
    assert all(len(spans) > 1 for spans in resumed.values())
    assert len({span for spans in every.values() for span, _ in spans}) == sum(
        len(spans) for spans in every.values()
    )


def test_random_is_seeded_from_the_trace_id(make_engine, sink):
    manifest = '[triggers.t]\n[[scripts]]\nid = "r"\ntrigger = "t"\nfile = "r.lua"\n'
    engine = make_engine(
        {"r.lua": "return {data = {r = math.random(1, 1 << 40)}}"}, manifest, ids=SeededIds(1)
    )
    values = [engine.execute_trigger("t", {}).data["r"] for _ in range(3)]
    assert len(set(values)) == 3
    again = make_engine(
        {"r.lua": "return {data = {r = math.random(1, 1 << 40)}}"}, manifest, ids=SeededIds(1)
    )
    assert [again.execute_trigger("t", {}).data["r"] for _ in range(3)] == values


class HangingSink:
    def __init__(self) -> None:
        self.release = threading.Event()

    def submit(self, trace: TraceRecord) -> None:
        self.release.wait()


class RaisingSink:
    def submit(self, trace: TraceRecord) -> None:
        raise RuntimeError("database is down")


@pytest.mark.timing
def test_a_hanging_sink_neither_delays_nor_changes_the_outcome():
    pipelines = load_pipelines(bundled_pipelines_dir())
    reference = Engine(pipelines, ids=SeededIds(3), clock=lambda: 0)
    expected = [reference.execute_trigger("before_signup", SIGNUP) for _ in range(50)]
    hanging = HangingSink()
    engine = Engine(
        pipelines, sink=hanging, ids=SeededIds(3), clock=lambda: 0, max_pending_traces=10
    )
    start = time.perf_counter()
    got = [engine.execute_trigger("before_signup", SIGNUP) for _ in range(50)]
    assert time.perf_counter() - start < 2.0
    assert got == expected
    assert engine.counters["dropped"] >= 39
    hanging.release.set()
    engine.close()


def test_a_raising_sink_is_counted_and_ignored():
    engine = Engine.load(bundled_pipelines_dir(), sink=RaisingSink())
    outcome = engine.execute_trigger("before_signup", SIGNUP)
    assert outcome.allowed
    engine.flush()
    assert engine.counters["sink_errors"] == 1
    engine.close()


def test_secrets_are_redacted_in_the_snapshot_but_seen_by_scripts(make_engine, sink):
    manifest = '[triggers.t]\n[[scripts]]\nid = "s"\ntrigger = "t"\nfile = "s.lua"\n'
    engine = make_engine(
        {"s.lua": "return {data = {pw = context.password, auth = context.headers.Authorization}}"},
        manifest,
    )
    payload = {
        "email": "a@b.c",
        "password": "hunter2",
        "headers": {"Authorization": "Bearer abc", "Accept": "json"},
        "devices": [{"refresh_token": "r1", "name": "phone"}],
        "Client_Secret": "s",
        "API_KEY": "k",
    }
    outcome = engine.execute_trigger("t", payload)
    assert outcome.data == {"pw": "hunter2", "auth": "Bearer abc"}
    [trace] = sink.after(engine)
    snap = trace.context_snapshot
    assert snap["password"] == snap["Client_Secret"] == snap["API_KEY"] == "[REDACTED]"
    assert snap["headers"] == {"Authorization": "[REDACTED]", "Accept": "json"}
    assert snap["devices"] == [{"refresh_token": "[REDACTED]", "name": "phone"}]
    assert snap["email"] == "a@b.c"
    assert sorted(snap["_redacted"]) == sorted(
        ["password", "headers.Authorization", "devices.0.refresh_token", "Client_Secret", "API_KEY"]
    )
    assert payload["password"] == "hunter2"


def test_redaction_keys_are_configurable(make_engine, sink):
    manifest = (
        '[triggers.t]\n[[scripts]]\nid = "s"\ntrigger = "t"\nfile = "s.lua"\n'
        '[redact]\nkeys = ["ssn"]\nkeep = ["password"]\n'
    )
    engine = make_engine({"s.lua": "return"}, manifest)
    engine.execute_trigger("t", {"ssn": "1", "password": "p"})
    [trace] = sink.after(engine)
    assert trace.context_snapshot == {"ssn": "[REDACTED]", "password": "p", "_redacted": ["ssn"]}


def test_snapshot_and_output_attributes_are_size_capped(make_engine, sink):
    manifest = (
        '[triggers.t]\n[[scripts]]\nid = "s"\ntrigger = "t"\nfile = "s.lua"\n'
        "[limits]\nmax_snapshot_bytes = 100\nmax_attribute_bytes = 50\n"
    )
    engine = make_engine({"s.lua": "return {data = {blob = string.rep('y', 200)}}"}, manifest)
    outcome = engine.execute_trigger("t", {"blob": "x" * 500, "token": "t"})
    assert outcome.data == {"blob": "y" * 200}
    [trace] = sink.after(engine)
    snap = trace.context_snapshot
    assert snap["_truncated"] is True and snap["size"] > 500 and snap["_redacted"] == ["token"]
    assert set(snap) == {"_truncated", "size", "_redacted"}
    output = trace.spans[1].attributes["output.data"]
    assert output["_truncated"] is True and output["size"] > 200
    assert trace.result_data == {"_truncated": True, "size": output["size"]}


def test_each_output_is_capped_on_its_own_size(make_engine, sink):
    manifest = (
        '[triggers.t]\n[[scripts]]\nid = "a"\ntrigger = "t"\nfile = "a.lua"\n'
        '[[scripts]]\nid = "b"\ntrigger = "t"\nfile = "b.lua"\n'
        '[[scripts]]\nid = "c"\ntrigger = "t"\nfile = "c.lua"\n'
        "[limits]\nmax_attribute_bytes = 40\n"
    )
    scripts = {
        "a.lua": "return {data = {a = string.rep('a', 20)}}",
        "b.lua": "return {data = {b = string.rep('b', 20)}}",
        "c.lua": "return {data = {c = string.rep('c', 60)}}",
    }
    engine = make_engine(scripts, manifest)
    engine.execute_trigger("t", {})
    [trace] = sink.after(engine)
    outputs = {span.name: span.attributes["output.data"] for span in trace.spans[1:]}
    # Together a and b are over the cap, but each is under it and stays whole.
    assert outputs["a"] == {"a": "a" * 20} and outputs["b"] == {"b": "b" * 20}
    assert outputs["c"]["_truncated"] is True and outputs["c"]["size"] > 60


def test_engine_threads_share_nothing(sink):
    pipelines = load_pipelines(bundled_pipelines_dir())
    with Engine(pipelines, sink=sink) as engine:
        results: list[bool] = []

        def work() -> None:
            for _ in range(30):
                results.append(engine.execute_trigger("before_signup", SIGNUP).allowed)

        threads = [threading.Thread(target=work) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        engine.flush()
    assert results == [True] * 90
    assert len(sink.traces) == 90
