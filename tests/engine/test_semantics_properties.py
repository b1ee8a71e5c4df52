"""Random pipelines and inputs against the documented semantics (README, "Engine semantics"):
an explicit denial always blocks, data read from the context survives, data merges in plan
order, and a failing script loses only its own data; derandomized, so CI sees the same cases."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from semantics_model import (
    Behaviour,
    Read,
    Source,
    expected_run,
    lua_literal,
    present,
    same,
    to_lua,
)

from pipetrace.engine import Engine, TraceRecord, load_pipelines

# Bounded by the number of examples (each run is bounded by the engine's own limits); the
# per-example deadline stays off, as in the suite's profile (tests/conftest.py).
BOUNDED = settings(
    max_examples=60,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TOP = ("user", "k1", "k2")
NAMES = ("a", "b", "name", "x", "y")
ALLOWS = ("", "return", "return nil", "return {}", "return {allowed = true}")
FAILS = (
    'error("boom")',
    "return 42",
    'return "no"',
    "return false",
    'return {allowed = "false"}',
    "return {allowed = 0}",
    "return {error = 7}",
    'return {data = "x"}',
    "return {data = {n = 0/0}}",
    "return {data = {[1.5] = 1}}",
    "context.k9 = 1",
    "local t = nil\nreturn t.x",
)
BAD_DATA = ('"x"', "5", "true", "{n = 0/0}", "{[1.5] = 1}", "{f = print}")

scalars = (
    st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
)


def json_like(depth: int = 3) -> st.SearchStrategy[Any]:
    """JSON-like values as a trigger's input holds them, at most `depth` containers deep; null
    only as an object's value (a null in a list would leave a hole in the Lua sequence)."""
    if depth == 0:
        return scalars
    inner = json_like(depth - 1)
    return (
        scalars
        | st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(NAMES), inner | st.none(), max_size=3)
    )


objects = st.dictionaries(st.sampled_from(NAMES), json_like(2) | st.none(), max_size=4)
inputs = st.fixed_dictionaries(
    {"user": objects}, optional={"k1": json_like() | st.none(), "k2": objects}
)
literal_data = st.dictionaries(st.sampled_from(NAMES), json_like(2), max_size=3) | st.lists(
    scalars, min_size=1, max_size=3
)
error_fields = st.none() | st.text(max_size=8) | st.sampled_from([42, True, {}])


def sources(ids: list[str]) -> st.SearchStrategy[Source]:
    """Data a script returns: a literal, or what it reads from the context (input, `prev`,
    `outputs`), as is, under a key, or copied with next or pairs."""
    reads = st.builds(
        lambda first, rest: Read((first, *rest)),
        st.sampled_from((*TOP, "prev", "outputs", "nope")),
        st.lists(st.sampled_from((*NAMES, 1, 2, *ids)), max_size=2),
    )
    return st.one_of(
        st.builds(Source, how=st.sampled_from(["read", "next", "pairs"]), read=reads),
        st.builds(Source, how=st.just("wrap"), read=reads, key=st.sampled_from(NAMES)),
        st.builds(Source, how=st.just("literal"), literal=literal_data),
    )


def behaviours(ids: list[str]) -> st.SearchStrategy[Behaviour]:
    """Any script: gives data (maybe with a note in `error`), denies (with any fields), allows
    or fails; giving comes first and thrice, so most pipelines run past their first layer."""
    data = sources(ids) | st.none()
    notes = st.none() | st.text(max_size=6)
    gives = st.builds(Behaviour, kind=st.just("give"), source=data, note=notes)
    return st.one_of(
        gives,
        gives,
        gives,
        denials(data),
        st.builds(Behaviour, kind=st.just("allow"), fixed_lua=st.sampled_from(ALLOWS)),
        st.builds(Behaviour, kind=st.just("fail"), fixed_lua=st.sampled_from(FAILS)),
    )


def denials(data: st.SearchStrategy[Source | None]) -> st.SearchStrategy[Behaviour]:
    """`allowed = false` with any error field and usable, unusable or no data."""
    return st.builds(
        Behaviour,
        kind=st.just("deny"),
        source=data,
        error_field=error_fields,
        bad_data=st.none() | st.sampled_from(BAD_DATA),
    )


@dataclass(frozen=True)
class Pipeline:
    """A generated trigger: scripts per layer, their dependencies, behaviours and policies."""

    layers: tuple[tuple[str, ...], ...]
    depends_on: dict[str, tuple[str, ...]]
    behaviour: dict[str, Behaviour]
    failure: dict[str, str | None]
    trigger_failure: str
    mode: str
    order: tuple[str, ...]

    def planned(self) -> list[list[str]]:
        """Each layer's scripts in parallel-index order, which is their order in the manifest."""
        return [sorted(layer, key=self.order.index) for layer in self.layers]

    def model_layers(self) -> list[list[tuple[str, Behaviour, str]]]:
        return [
            [(s, self.behaviour[s], self.failure[s] or self.trigger_failure) for s in layer]
            for layer in self.planned()
        ]

    def write(self, root: Path) -> Path:
        lines = [f'[triggers.t]\nmode = "{self.mode}"\nfailure = "{self.trigger_failure}"\n']
        for script_id in self.order:
            deps = ", ".join(f'"{d}"' for d in self.depends_on[script_id])
            lines.append(
                f'[[scripts]]\nid = "{script_id}"\ntrigger = "t"\nfile = "{script_id}.lua"\n'
                f"depends_on = [{deps}]\n"
            )
            if self.failure[script_id]:
                lines.append(f'failure = "{self.failure[script_id]}"\n')
            (root / f"{script_id}.lua").write_text(self.behaviour[script_id].lua())
        (root / "pipelines.toml").write_text("\n".join(lines))
        return root


@st.composite
def pipelines(draw: st.DrawFn, scripts: st.SearchStrategy[Behaviour] | None = None) -> Pipeline:
    """One to three layers of one to three scripts; each script after the first layer depends
    on at least one script of the layer before, so the layers are exactly these."""
    widths = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    layers, count = [], 0
    for width in widths:
        layers.append(tuple(f"s{count + i}" for i in range(width)))
        count += width
    ids = [s for layer in layers for s in layer]
    depends_on: dict[str, tuple[str, ...]] = {}
    for number, layer in enumerate(layers):
        earlier = [s for before in layers[: number - 1] for s in before] if number else []
        for script_id in layer:
            if number == 0:
                depends_on[script_id] = ()
                continue
            last = draw(st.lists(st.sampled_from(layers[number - 1]), min_size=1, unique=True))
            more = draw(st.lists(st.sampled_from(earlier), unique=True)) if earlier else []
            depends_on[script_id] = (*last, *more)
    made = scripts if scripts is not None else behaviours(ids)
    return Pipeline(
        layers=tuple(layers),
        depends_on=depends_on,
        behaviour={s: draw(made) for s in ids},
        failure={s: draw(st.sampled_from([None, "open", "closed"])) for s in ids},
        trigger_failure=draw(st.sampled_from(["open", "closed"])),
        mode=draw(st.sampled_from(["blocking", "enrichment"])),
        order=tuple(draw(st.permutations(ids))),
    )


class KeptTraces:
    """A sink that keeps every trace."""

    def __init__(self) -> None:
        self.traces: list[TraceRecord] = []

    def submit(self, trace: TraceRecord) -> None:
        self.traces.append(trace)


def run(pipeline: Pipeline, given_input: dict[str, Any]) -> tuple[Any, TraceRecord]:
    """Load the pipeline from a fresh folder, run trigger t once and return outcome and trace."""
    sink = KeptTraces()
    with tempfile.TemporaryDirectory() as folder:
        loaded = load_pipelines(pipeline.write(Path(folder)))
    layers = [[s.id for s in layer] for layer in loaded.triggers["t"].layers]
    assert layers == pipeline.planned()
    with Engine(loaded, sink=sink) as engine:
        outcome = engine.execute_trigger("t", given_input)
    [trace] = sink.traces
    return outcome, trace


@settings(BOUNDED, max_examples=150)
@given(pipelines(), inputs)
def test_the_engine_agrees_with_the_model(pipeline, given_input):
    outcome, trace = run(pipeline, given_input)
    expected = expected_run(pipeline.model_layers(), given_input)
    assert (outcome.allowed, trace.allowed, trace.status) == (
        expected.allowed,
        expected.allowed,
        expected.status,
    )
    if expected.error_prefix:
        assert outcome.error.startswith(expected.error_prefix)
    else:
        assert outcome.error == expected.error
    assert same(outcome.data, expected.data) and same(trace.result_data, expected.data)
    spans = {span.name: span for span in trace.spans[1:]}
    assert set(spans) == set(expected.results) | set(expected.skipped)
    for script_id in expected.skipped:
        assert spans[script_id].status == "skipped"
    for script_id, result in expected.results.items():
        span = spans[script_id]
        assert span.status == result.status, (script_id, span.status_message)
        if result.status != "error":
            assert span.status_message == result.message
        output = span.attributes.get("output.data")
        assert same(output, None if result.data is None else present(result.data)), script_id
        assert ("result.ignored" in span.attributes) == result.ignored, script_id


@BOUNDED
@given(
    st.data(),
    st.lists(behaviours([]).filter(lambda b: b.kind != "deny"), max_size=4),
    denials(st.none() | st.builds(Source, how=st.just("literal"), literal=literal_data)),
    inputs,
)
def test_an_explicit_denial_always_blocks(data, others, denial, given_input):
    """Whatever else a denial carries, whatever runs beside it, under either failure policy:
    the trigger is blocked with the denial's message (or the default one), and no data."""
    scripts = [*others]
    at = data.draw(st.integers(0, len(scripts)))
    scripts.insert(at, denial)
    ids = [f"s{i}" for i in range(len(scripts))]
    pipeline = Pipeline(
        layers=(tuple(ids),),
        depends_on={s: () for s in ids},
        behaviour=dict(zip(ids, scripts, strict=True)),
        failure={s: data.draw(st.sampled_from([None, "open", "closed"])) for s in ids},
        trigger_failure=data.draw(st.sampled_from(["open", "closed"])),
        mode=data.draw(st.sampled_from(["blocking", "enrichment"])),
        order=tuple(ids),
    )
    outcome, trace = run(pipeline, given_input)
    message = denial.error_field if isinstance(denial.error_field, str) else None
    message = message or f"blocked by s{at}"
    assert (outcome.allowed, outcome.error, outcome.data) == (False, message, {})
    assert (trace.status, trace.status_message, trace.result_data) == ("blocked", message, {})
    assert trace.spans[1 + at].status == "blocked"


@BOUNDED
@given(json_like(), st.sampled_from(["read", "wrap", "next", "pairs"]))
def test_data_read_from_the_context_survives_the_round_trip(value, how):
    """Read from the input in layer 0, then from `prev` and `outputs` in layer 1: what comes
    out is the input as the sandbox holds it (null is nil, an empty list an empty table)."""
    first = Behaviour("give", Source(how, read=Read(("v",)), key="v"))
    later = (
        "return {data = {p = context.prev, o = context.outputs.s0, w = context.prev.v}}\n"
        if how == "wrap"
        else "return {data = {p = context.prev, o = context.outputs.s0}}\n"
    )
    pipeline = Pipeline(
        layers=(("s0",), ("s1",)),
        depends_on={"s0": (), "s1": ("s0",)},
        behaviour={"s0": first, "s1": Behaviour("allow", fixed_lua=later)},
        failure={"s0": "closed", "s1": "closed"},
        trigger_failure="closed",
        mode="enrichment",
        order=("s0", "s1"),
    )
    outcome, trace = run(pipeline, {"v": value})
    held = to_lua(value)
    if how != "wrap" and not isinstance(held, dict):
        assert trace.spans[1].status == "error"  # data must be a table
        return
    copied = {"v": held} if how == "wrap" else held
    assert trace.status == "success", [s.status_message for s in trace.spans]
    assert same(trace.spans[1].attributes.get("output.data"), present(copied))
    second_data = {"p": copied, "o": copied, **({"w": held} if how == "wrap" else {})}
    assert same(trace.spans[2].attributes["output.data"], present(second_data))
    assert same(outcome.data, present({**copied, **second_data}))


@BOUNDED
@given(
    st.lists(
        st.tuples(st.booleans(), st.dictionaries(st.sampled_from(NAMES), scalars, max_size=3)),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from(FAILS),
)
def test_data_merges_in_plan_order_and_a_failure_loses_only_its_own(layer, failing):
    """One layer of scripts that return data or fail (open); the next layer's prev, its
    outputs and the trigger's data are the working scripts' data merged left to right."""
    ids = [f"s{i}" for i in range(len(layer))]
    behaviour = {
        s: Behaviour("fail", fixed_lua=failing)
        if fails
        else Behaviour("allow", fixed_lua=f"return {{data = {lua_literal(data)}}}")
        for s, (fails, data) in zip(ids, layer, strict=True)
    }
    behaviour["last"] = Behaviour(
        "allow", fixed_lua="return {data = {prev = context.prev, outputs = context.outputs}}"
    )
    pipeline = Pipeline(
        layers=(tuple(ids), ("last",)),
        depends_on={**{s: () for s in ids}, "last": tuple(ids)},
        behaviour=behaviour,
        failure={s: None for s in [*ids, "last"]},
        trigger_failure="open",
        mode="enrichment",
        order=(*ids, "last"),
    )
    outcome, trace = run(pipeline, {})
    merged: dict[str, Any] = {}
    outputs = {}
    for script_id, (fails, data) in zip(ids, layer, strict=True):
        if not fails:
            merged.update(data)
            outputs[script_id] = data
    last = trace.spans[-1].attributes["output.data"]
    assert same(last, present({"prev": merged, "outputs": outputs}))
    assert same(outcome.data, present({**merged, "prev": merged, "outputs": outputs}))
    assert outcome.allowed and [s.status for s in trace.spans[1:-1]] == [
        "error" if fails else "success" for fails, _ in layer
    ]
