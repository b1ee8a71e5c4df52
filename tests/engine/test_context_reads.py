"""Scripts read the context through read-only views: whatever they read and return is kept in
full, and raw iteration (next, rawget, rawlen) sees what the views hold."""

from __future__ import annotations

import pytest

TWO_LAYERS = """
[triggers.t]
mode = "enrichment"

[[scripts]]
id = "first"
trigger = "t"
file = "first.lua"

[[scripts]]
id = "second"
trigger = "t"
file = "second.lua"
depends_on = ["first"]
"""
FIRST = "return {data = {a = {b = 1, list = {'x', 'y'}}}}"
USER = {"user": {"name": "bob", "roles": ["user"]}}


@pytest.mark.parametrize(
    ("script", "data"),
    [
        ("return {data = context.user}", {"name": "bob", "roles": ["user"]}),
        ("return {data = {u = context.user}}", {"u": {"name": "bob", "roles": ["user"]}}),
        ("return {data = context.user.roles}", ["user"]),
        (
            "return {data = {r = context.user.roles, n = context.user.name}}",
            {"n": "bob", "r": ["user"]},
        ),
        ("return {data = context.prev}", {"a": {"b": 1, "list": ["x", "y"]}}),
        ("return {data = {p = context.prev.a.list}}", {"p": ["x", "y"]}),
        ("return {data = {o = context.outputs.first}}", {"o": {"a": {"b": 1, "list": ["x", "y"]}}}),
        (
            "return {data = {o = context.outputs}}",
            {"o": {"first": {"a": {"b": 1, "list": ["x", "y"]}}}},
        ),
    ],
)
def test_data_read_from_the_context_is_kept_in_full(make_engine, sink, script, data):
    engine = make_engine({"first.lua": FIRST, "second.lua": script}, TWO_LAYERS)
    outcome = engine.execute_trigger("t", USER)
    assert outcome.allowed
    [trace] = sink.after(engine)
    assert trace.spans[2].status == "success", trace.spans[2].status_message
    assert trace.spans[2].attributes["output.data"] == data


def test_next_and_raw_reads_see_through_the_views(make_engine, sink):
    script = """
    local keys = {}
    for k in next, context.user do keys[#keys + 1] = k end
    table.sort(keys)
    return {data = {
      prev_empty = next(context.prev) == nil,
      keys = table.concat(keys, ","),
      name = rawget(rawget(context, "user"), "name"),
      roles = rawlen(context.user.roles),
      first = select(2, next(context.outputs)).a.b,
    }}
    """
    engine = make_engine({"first.lua": FIRST, "second.lua": script}, TWO_LAYERS)
    engine.execute_trigger("t", USER)
    assert sink.after(engine)[0].spans[2].attributes["output.data"] == {
        "prev_empty": False,
        "keys": "name,roles",
        "name": "bob",
        "roles": 1,
        "first": 1,
    }


def test_views_stay_read_only_through_next(make_engine, sink):
    script = """
    local _, user = next(context)
    local ok = pcall(function() user.name = "eve" end)
    local raw = pcall(rawset, user, "name", "eve")
    return {data = {ok = ok, raw = raw, name = context.user.name}}
    """
    engine = make_engine({"first.lua": "return", "second.lua": script}, TWO_LAYERS)
    assert engine.execute_trigger("t", {"user": {"name": "bob"}}).data == {
        "ok": False,
        "raw": False,
        "name": "bob",
    }


def test_library_tables_are_not_handed_out_by_iteration(make_engine, sink):
    """pairs(string) used to return the library's own table, so one run could replace
    string.upper or helpers.hash for every later run."""
    script = """
    local before = ("a"):upper()
    for _, lib in ipairs({string, helpers, table, math}) do
      local _, inner = pairs(lib)
      pcall(rawset, inner, "upper", function() return "hijacked" end)
      pcall(function() inner.hash = function() return "hijacked" end end)
    end
    return {data = {upper = before, hash = #helpers.hash("x")}}
    """
    engine = make_engine({"first.lua": "return", "second.lua": script}, TWO_LAYERS)
    engine.execute_trigger("t", {})
    assert engine.execute_trigger("t", {}).data == {"upper": "A", "hash": 64}


def test_a_later_script_sees_returned_data_as_plain_read_only_tables(make_engine, sink):
    """Data is kept as the script returned it when it is plain, and copied without metatables
    when it is not: either way a later script reads plain values and cannot write them."""
    first = """
    local shared = {n = 1}
    local odd = setmetatable({x = 1}, {__index = function() return "from a metatable" end})
    return {data = {shared = shared, again = shared, odd = odd, inner = {odd = odd}}}
    """
    second = """
    local out = context.outputs.first
    local wrote = pcall(function() context.prev.shared.n = 2 end)
    return {data = {
      missing = tostring(out.odd.missing), inner = tostring(out.inner.odd.missing),
      n = context.prev.again.n, wrote = wrote, x = out.odd.x,
    }}
    """
    engine = make_engine({"first.lua": first, "second.lua": second}, TWO_LAYERS)
    data = engine.execute_trigger("t", {}).data
    assert data == {
        "again": {"n": 1},
        "inner": "nil",
        "missing": "nil",
        "n": 1,
        "odd": {"x": 1},
        "shared": {"n": 1},
        "wrote": False,
        "x": 1,
    }
