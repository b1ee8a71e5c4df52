"""A reference model of the engine's documented semantics (README, "Engine semantics"), written
apart from the engine, so property tests can compare the two on random pipelines.

Lua tables are modelled as dicts keyed by strings and integers; a script is a behaviour that
knows its Lua source and what it returns for a given context.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH, MAX_BYTES, MAX_VALUES = 8, 16 * 1024, 2_000
"""The default output caps (Limits.max_output_depth, max_output_bytes, max_output_values)."""


class LuaError(Exception):
    """The script raised an error before returning."""


def to_lua(value: Any) -> Any:
    """A JSON-like input value as the sandbox sees it: null is nil, a list is keyed 1..n."""
    if isinstance(value, dict):
        return {k: to_lua(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return {i: to_lua(v) for i, v in enumerate(value, start=1)}
    return value


def present(value: Any) -> Any:
    """A Lua value as the engine hands it out: a table keyed exactly 1..n is a list, any other
    table an object with its keys as text, in key order."""
    if not isinstance(value, dict):
        return value
    if value and set(value) == set(range(1, len(value) + 1)):
        return [present(value[i]) for i in range(1, len(value) + 1)]
    return {str(k): present(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}


def same(a: Any, b: Any) -> bool:
    """Equal as JSON, so True is not 1 and 1 is not 1.0."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def lua_literal(value: Any) -> str:
    """Lua source for a modelled value (integer-keyed dicts and lists become table literals)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        body = "".join(
            chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else f"\\{b:03d}"
            for b in value.encode()
        )
        return f'"{body}"'
    if isinstance(value, list):
        return "{" + ", ".join(lua_literal(v) for v in value) + "}"
    return "{" + ", ".join(f"[{lua_literal(k)}] = {lua_literal(v)}" for k, v in value.items()) + "}"


def output_problem(data: Any) -> str | None:
    """Why data returned by a script cannot be kept (the sandbox's output check), or None."""
    if not isinstance(data, dict):
        return f"data must be a table, got {type(data).__name__}"
    count = {"bytes": 0, "values": 0}

    def walk(value: Any, depth: int) -> str | None:
        if isinstance(value, bool):
            count["bytes"] += 5
        elif isinstance(value, str):
            count["bytes"] += len(value.encode()) + 2
        elif isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                return "NaN or infinity"
            count["bytes"] += 8
        else:
            if depth > MAX_DEPTH:
                return "too deep"
            count["bytes"] += 2
            for key, item in value.items():
                count["values"] += 1
                if count["values"] > MAX_VALUES:
                    return "too many values"
                if isinstance(key, str):
                    count["bytes"] += len(key.encode()) + 3
                problem = walk(item, depth + 1)
                if problem:
                    return problem
        return "too large" if count["bytes"] > MAX_BYTES else None

    return walk(data, 1)


@dataclass(frozen=True)
class Read:
    """An expression that reads the context along a path of keys."""

    path: tuple[str | int, ...]

    def lua(self) -> str:
        return "context" + "".join(f"[{lua_literal(k)}]" for k in self.path)

    def value(self, ctx: dict[Any, Any]) -> Any:
        current: Any = ctx
        for key in self.path:
            if isinstance(current, dict):
                current = current.get(key)
            elif isinstance(current, str):
                current = None  # a string's metatable indexes the string library
            else:
                raise LuaError(f"attempt to index a {type(current).__name__} value")
        return current


@dataclass(frozen=True)
class Source:
    """Where a result's data comes from: a literal, a context read as is, wrapped under a key,
    or copied key by key with next or pairs."""

    how: str
    literal: Any = None
    read: Read | None = None
    key: str = "v"

    def prelude(self, name: str) -> str:
        if self.how in ("next", "pairs"):
            iterate = (
                f"next, {self.read_lua()}" if self.how == "next" else f"pairs({self.read_lua()})"
            )
            return f"local {name} = {{}}\nfor k, v in {iterate} do {name}[k] = v end\n"
        return ""

    def read_lua(self) -> str:
        assert self.read is not None
        return self.read.lua()

    def expression(self, name: str) -> str:
        if self.how == "literal":
            return lua_literal(self.literal)
        if self.how == "read":
            return self.read_lua()
        if self.how == "wrap":
            return f"{{[{lua_literal(self.key)}] = {self.read_lua()}}}"
        return name

    def value(self, ctx: dict[Any, Any]) -> Any:
        if self.how == "literal":
            return to_lua(self.literal)
        assert self.read is not None
        found = self.read.value(ctx)
        if self.how == "read":
            return found
        if self.how == "wrap":
            return {} if found is None else {self.key: found}
        if not isinstance(found, dict):
            raise LuaError(f"cannot iterate a {type(found).__name__} value")
        return dict(found)


@dataclass(frozen=True)
class Result:
    """What one script run ends as: its span's status and message, its data (None: none) and
    whether an explicit denial had to ignore a field."""

    status: str
    message: str | None = None
    data: Any = None
    ignored: bool = False


@dataclass(frozen=True)
class Behaviour:
    """One generated script: 'allow' or 'fail' (fixed Lua), 'give' (data, maybe with a note in
    `error`) or 'deny' (allowed = false, maybe with an error field of any type and data)."""

    kind: str
    source: Source | None = None
    note: str | None = None
    error_field: Any = None
    bad_data: str | None = None
    fixed_lua: str = ""

    def lua(self) -> str:
        if self.kind in ("allow", "fail"):
            return self.fixed_lua
        fields = ["allowed = false" if self.kind == "deny" else "allowed = true"]
        prelude = ""
        if self.note is not None:
            fields.append(f"error = {lua_literal(self.note)}")
        if self.error_field is not None:
            fields.append(f"error = {lua_literal(self.error_field)}")
        if self.bad_data is not None:
            fields.append(f"data = {self.bad_data}")
        elif self.source is not None:
            prelude = self.source.prelude("copied")
            fields.append(f"data = {self.source.expression('copied')}")
        return prelude + "return {" + ", ".join(fields) + "}\n"

    def run(self, script_id: str, ctx: dict[str, Any]) -> Result:
        if self.kind == "allow":
            return Result("success")
        if self.kind == "fail":
            return Result("error")
        source = self.source if self.bad_data is None else None  # bad data replaces the source
        try:
            data = source.value(ctx) if source is not None else None
        except LuaError:
            return Result("error")
        usable = data is None or output_problem(data) is None
        if self.kind == "give":
            return Result("success", self.note, data) if usable else Result("error")
        text = self.error_field if isinstance(self.error_field, str) else None
        ignored = self.bad_data is not None or not usable
        ignored = ignored or (self.error_field is not None and text is None)
        kept = data if usable and self.bad_data is None else None
        return Result("blocked", text or f"blocked by {script_id}", kept, ignored)


@dataclass
class Expected:
    """The model's outcome of one trigger: the decision, each script's result and the spans
    later layers leave skipped."""

    allowed: bool
    error: str | None
    error_prefix: str | None
    data: Any
    status: str
    results: dict[str, Result] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def expected_run(layers: list[list[tuple[str, Behaviour, str]]], given: dict[str, Any]) -> Expected:
    """Run the model: layers in order, each layer's scripts in parallel-index order, each seeing
    the input, `outputs` and `prev`; (script id, behaviour, failure policy) per script."""
    outputs: dict[str, Any] = {}
    prev: dict[Any, Any] = {}
    merged: dict[Any, Any] = {}
    results: dict[str, Result] = {}
    first_error = None
    for number, layer in enumerate(layers):
        ctx = {**to_lua(given), "outputs": outputs, "prev": prev}
        blocked = failed = None
        layer_data = []
        for script_id, behaviour, failure in layer:
            result = behaviour.run(script_id, ctx)
            results[script_id] = result
            if result.status == "blocked":
                blocked = blocked or result.message
            elif result.status == "error":
                first_error = first_error or script_id
                if failure == "closed":
                    failed = failed or script_id
            elif result.data is not None:
                layer_data.append((script_id, result.data))
        if blocked or failed:
            skipped = [s for later in layers[number + 1 :] for s, _, _ in later]
            if blocked:
                return Expected(False, blocked, None, {}, "blocked", results, skipped)
            return Expected(False, None, f"{failed}: ", {}, "error", results, skipped)
        prev = {}
        for script_id, data in layer_data:
            outputs = {**outputs, script_id: data}
            prev.update(data)
            merged.update(data)
    status = "error" if first_error else "success"
    return Expected(True, None, None, present(merged), status, results)
