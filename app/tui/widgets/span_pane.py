"""The selected span's details: status, Lua error location, pretty JSON data and attributes; or
the source of its script as it ran."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.highlighter import JSONHighlighter
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from pipetrace.store import SpanRow, TraceRow

from ...script_source import RanSource
from ...span_attributes import LUA_KEYS, OUTPUT_KEY, lua_failure
from ...timeparse import format_duration, format_ns
from ...untrusted import shown, shown_json, shown_text
from ..app_data import app_data
from ..lifetime import bound
from ..status_colours import status_colour
from .source_view import marked_row, source_renderable

MAX_JSON_CHARS = 20_000
SOURCE_LINES_ABOVE = 4
"""Rows of source kept above the marked line when the pane scrolls to it."""


def pretty_json(value: Any) -> Text:
    """Indented, highlighted JSON that wraps to the pane (rich's own never wraps, so long values
    were cut at the edge), cut short only when a value is huge; what a terminal would obey is
    a \\u escape (`shown_json`), which rich's JSON, parsing the text again, would undo."""
    text = shown_json(value, indent=2)
    if len(text) > MAX_JSON_CHARS:
        return Text(text[:MAX_JSON_CHARS] + "\n… (cut)", style="grey70", overflow="fold")
    return JSONHighlighter()(Text(text, overflow="fold"))


def data_section(title: str, value: Any) -> list[RenderableType]:
    """A titled block of pretty JSON, so data is read whole instead of squeezed into a cell."""
    return [Text(f"\n{shown(title)}", style="bold underline"), pretty_json(value)]


def trace_data(trace: TraceRow) -> list[RenderableType]:
    """The trigger's stored input and result: what the scripts saw and what they returned."""
    parts: list[RenderableType] = []
    if trace.context_snapshot is not None:
        parts += data_section("trigger input (secrets redacted)", trace.context_snapshot)
    if trace.result_data is not None:
        parts += data_section("result data", trace.result_data)
    return parts


def attribute_table(attrs: dict[str, Any]) -> Table:
    """Scalar attributes as key and value, both shown; long values wrap instead of being cut."""
    table = Table.grid(padding=(0, 1))
    table.add_column(style="grey70", no_wrap=True)
    table.add_column(overflow="fold")
    for key in sorted(attrs):
        value = attrs[key]
        text = shown(value) if isinstance(value, str) else shown_json(value)
        table.add_row(shown_text(key), Text(text))
    return table


def span_details(
    span: SpanRow, trace: TraceRow | None = None, local: bool = False
) -> RenderableType:
    """Everything known about one span, most useful first; a root span also shows `trace`'s data."""
    parts: list[RenderableType] = []
    title = shown_text(span.name, style="bold")
    title.append(f"  {shown(span.status)}", style=f"bold {status_colour(span.status)}")
    parts.append(title)
    ids = Text(f"span {shown(span.id)}", style="grey70")
    if span.parent_span_id:
        ids.append(f" · parent {shown(span.parent_span_id)}")
    parts.append(ids)
    where = []
    if span.script_id:
        where.append(f"script {span.script_id}")
    if span.layer_index is not None:
        where.append(f"layer {span.layer_index}")
    if span.parallel_index is not None:
        where.append(f"parallel {span.parallel_index}")
    where.append(span.kind)
    parts.append(shown_text(" · ".join(where), style="cyan"))
    parts.append(
        Text(
            f"{format_ns(span.started_at, precise=True, local=local)} · "
            f"{format_duration(span.duration_ms)}"
        )
    )
    if span.status_message:
        parts.append(shown_text(span.status_message, style=status_colour(span.status)))
    attrs = span.attributes or {}
    failure = lua_failure(span)
    if failure is not None:
        parts.append(shown_text(f"Lua error at {failure}", "bold red"))
    if span.problems:
        parts.append(Text("stored row is damaged:", style="bold magenta"))
        parts.extend(shown_text(f"  ! {p}", style="magenta") for p in span.problems)
    if trace is not None and span.parent_span_id is None:
        parts += trace_data(trace)
    rest = {k: v for k, v in attrs.items() if k not in LUA_KEYS}
    structured = sorted(
        (k for k, v in rest.items() if isinstance(v, dict | list)),
        key=lambda k: (k != OUTPUT_KEY, k),
    )
    for key in structured:
        parts += data_section("output data" if key == OUTPUT_KEY else key, rest.pop(key))
    if rest:
        parts += [Text("\nattributes", style="bold underline"), attribute_table(rest)]
    return Group(*parts)


class SpanPane(VerticalScroll, can_focus=True):
    """Scrolls when a span's data is longer than the screen."""

    DEFAULT_CSS = """
    SpanPane {
        width: 44;
        border-left: vkey $primary 50%;
        padding: 0 1;

        &:focus {
            border-left: vkey $accent;
        }
    }
    """

    source_shown = False
    """Whether the pane shows a script's source instead of the span's details."""

    def compose(self) -> ComposeResult:
        """One static body, replaced as the cursor moves."""
        yield Static(Text("no span selected", style="dim"), id="span-body")

    def show_span(self, span: SpanRow, trace: TraceRow | None = None) -> None:
        """Show `span` from its top (with `trace`'s input and result when it is the root)."""
        self.source_shown = False
        local = app_data(self).local_time
        self.query_one("#span-body", Static).update(span_details(span, trace, local))
        self.scroll_home(animate=False)

    def show_source(self, source: RanSource) -> None:
        """Show the script's source as it ran, scrolled so the marked line is in view."""
        self.source_shown = True
        self.query_one("#span-body", Static).update(source_renderable(source))
        row = marked_row(source, self.scrollable_content_region.width)
        above = SOURCE_LINES_ABOVE if row is not None else 0
        top = max((row or 0) - above, 0)
        self.call_after_refresh(bound(self, self.scroll_to), y=top, animate=False)
