"""`show`'s lines under its span table: the trigger's input and result, each script's output and
where a failed script stopped, one line each and bounded so a huge value cannot flood the screen."""

from __future__ import annotations

from typing import Any

from pipetrace.store import TraceWithSpans

from ..span_attributes import OUTPUT_KEY, lua_failure
from ..styled import Styled
from ..untrusted import shown_json, shown_styled

MAX_JSON_CHARS = 2000
"""Characters of one JSON value `show` prints; `show --json` has the rest."""
MAX_MESSAGE_CHARS = 2000
"""Characters of one status or error message `show` prints."""
MAX_NAME_CHARS = 200
"""Characters of one name (trigger, span, user, IP) `show` prints."""


def trace_details(found: TraceWithSpans) -> list[Styled]:
    """The input, result, outputs and Lua failures of a trace, each as a labelled line."""
    trace = found.trace
    lines = []
    if trace.context_snapshot is not None:
        lines.append(_line("input:", one_line_json(trace.context_snapshot)))
    if trace.result_data is not None:
        lines.append(_line("result:", one_line_json(trace.result_data)))
    for span in found.spans:
        attrs = span.attributes or {}
        name = cut(span.name, MAX_NAME_CHARS)
        if OUTPUT_KEY in attrs:
            lines.append(_line(f"{name} output:", one_line_json(attrs[OUTPUT_KEY])))
        failure = lua_failure(span)
        if failure is not None:
            limit = f" (limit {attrs['limit']})" if attrs.get("limit") else ""
            lines.append(_line(f"{name} error at", cut(failure, MAX_MESSAGE_CHARS) + limit, "red"))
    return lines


def one_line_json(value: Any) -> str:
    """Stored data as one line of JSON, cut at MAX_JSON_CHARS with a note of its whole size."""
    return cut(shown_json(value), MAX_JSON_CHARS)


def cut(text: str, limit: int) -> str:
    """Text cut at `limit` characters with a note of its whole size, so one huge stored name,
    message or value cannot flood the terminal; `show --json` has it whole."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… (cut: {len(text)} characters in all; show --json has them)"


def _line(label: str, value: str, style: str = "") -> Styled:
    """`label value`, both literal: stored names and values never become markup or controls."""
    return Styled.of(shown_styled(label, "bold"), " ", shown_styled(value, style))
