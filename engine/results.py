"""Reading what the sandbox's run() returns: status, message, flags, trace extras, then data."""

from __future__ import annotations

from typing import Any, NamedTuple

from pipetrace.engine.values import decode

DATA, INT_KEYS, NESTED, EXTRAS, DROPS, USED, IGNORED, MEASURES = 1, 2, 4, 8, 16, 32, 64, 128
_LOW32 = (1 << 32) - 1


class Extras(NamedTuple):
    """What one run recorded for its trace besides its result (see sandbox.lua's add_extras)."""

    used: int
    dropped_spans: int
    dropped_logs: int
    logs: tuple[str, ...]
    spans: tuple[Any, ...]
    """Flat custom spans: name, depth, begin, end, then True or the error, each."""
    metrics: tuple[Any, ...]
    """Flat metrics: kind, name, value, each."""
    attributes: tuple[Any, ...]
    """Flat attributes: owner (a custom span's number from 1, or minus a metric's), key, value."""
    dropped_metrics: int
    dropped_attributes: int
    end: int
    """Where what follows begins (what a denial ignored, or the data)."""


NO_EXTRAS = Extras(0, 0, 0, (), (), (), (), 0, 0, 3)


def data_start(res: tuple[Any, ...]) -> int:
    """Index where the data's keys and values begin (after the extras and what a denial
    ignored, when there are any)."""
    flags: int = res[2]
    pos = 3
    if flags & EXTRAS:
        counts: int = res[3]
        pos = 4 + (flags & DROPS and 2) + (flags & USED and 1)
        pos += (counts & _LOW32) + 5 * (counts >> 32)
        if flags & MEASURES:
            measures: int = res[pos]
            pos += 3 + 3 * ((measures & _LOW32) + (measures >> 32))
    return pos + 1 if flags & IGNORED else pos


def script_data(res: tuple[Any, ...], pos: int) -> dict[Any, Any]:
    """The data a script returned, keyed by its raw Lua keys (strings or integers)."""
    if not res[2] & NESTED:
        return dict(zip(res[pos::2], res[pos + 1 :: 2], strict=True))
    return nested_data(res, pos, len(res))


def nested_data(tokens: tuple[Any, ...], pos: int, end: int) -> dict[Any, Any]:
    """Keys and flattened values in tokens[pos:end] (see flatten in sandbox.lua) as a dict."""
    out: dict[Any, Any] = {}
    while pos < end:
        key = tokens[pos]
        out[key], pos = decode(tokens, pos + 1)
    return out


def shaped(data: dict[Any, Any], int_keys: bool) -> dict[str, Any] | list[Any]:
    """Present data as the sandbox's flattening does: a list for keys 1..n, else sorted by key."""
    if not int_keys:
        return dict(sorted(data.items()))
    count = len(data)
    if all(type(k) is int for k in data) and all(i in data for i in range(1, count + 1)):
        return [data[i] for i in range(1, count + 1)]
    # A string key wins over an integer key with the same text, as in the sandbox.
    return {k: data[k] if k in data else data[int(k)] for k in sorted({str(k) for k in data})}


def extras(res: tuple[Any, ...]) -> Extras:
    """The trace extras of one run (all empty when it recorded none)."""
    flags = res[2]
    if not flags & EXTRAS:
        return NO_EXTRAS
    counts, pos = res[3], 4
    dropped = dropped_logs = used = 0
    if flags & DROPS:
        dropped, dropped_logs = res[4], res[5]
        pos = 6
    if flags & USED:
        used = res[pos]
        pos += 1
    logs_end = pos + (counts & _LOW32)
    spans_end = logs_end + 5 * (counts >> 32)
    if not flags & MEASURES:
        return Extras(
            used, dropped, dropped_logs, res[pos:logs_end], res[logs_end:spans_end], (), (),
            0, 0, spans_end,
        )  # fmt: skip
    measures, dropped_metrics, dropped_attributes = res[spans_end : spans_end + 3]
    metrics_end = spans_end + 3 + 3 * (measures & _LOW32)
    end = metrics_end + 3 * (measures >> 32)
    return Extras(
        used, dropped, dropped_logs, res[pos:logs_end], res[logs_end:spans_end],
        res[spans_end + 3 : metrics_end], res[metrics_end:end], dropped_metrics,
        dropped_attributes, end,
    )  # fmt: skip


def merged_data(
    datas: list[tuple[dict[Any, Any], bool] | None],
) -> dict[str, Any] | list[Any]:
    """The trigger's data from each run's raw data and integer-key flag (None: no data), in
    plan order, merged as the engine merges it."""
    merged: dict[Any, Any] = {}
    int_keys = False
    for data in datas:
        if data is not None:
            merged.update(data[0])
            int_keys = int_keys or data[1]
    return shaped(merged, int_keys)
