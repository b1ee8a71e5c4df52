"""The selected span's details: status, Lua error location, attributes and pretty JSON data."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.json import JSON
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from store import SpanRow

from ...timeparse import format_duration, format_ns
from ..look import status_colour

DATA_KEYS = ("input", "output")
LUA_KEYS = ("lua.error", "lua.line", "lua.source")
MAX_JSON_CHARS = 20_000


def pretty_json(value: Any) -> RenderableType:
    """Indented, highlighted JSON, cut short when a value is huge."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if len(text) > MAX_JSON_CHARS:
        return Text(text[:MAX_JSON_CHARS] + "\n… (cut)", style="grey70")
    return JSON(text)


def span_details(span: SpanRow) -> RenderableType:
    """Everything known about one span, most useful first."""
    parts: list[RenderableType] = []
    title = Text(span.name, style="bold")
    title.append(f"  {span.status}", style=f"bold {status_colour(span.status)}")
    parts.append(title)
    ids = Text(f"span {span.id}", style="grey70")
    if span.parent_span_id:
        ids.append(f" · parent {span.parent_span_id}")
    parts.append(ids)
    where = []
    if span.script_id:
        where.append(f"script {span.script_id}")
    if span.layer_index is not None:
        where.append(f"layer {span.layer_index}")
    if span.parallel_index is not None:
        where.append(f"parallel {span.parallel_index}")
    where.append(span.kind)
    parts.append(Text(" · ".join(where), style="cyan"))
    parts.append(
        Text(f"{format_ns(span.started_at, precise=True)} · {format_duration(span.duration_ms)}")
    )
    if span.status_message:
        parts.append(Text(span.status_message, style=status_colour(span.status)))
    attrs = span.attributes or {}
    if "lua.error" in attrs or "lua.line" in attrs:
        source = attrs.get("lua.source", span.script_id or "script")
        line = attrs.get("lua.line", "?")
        parts.append(
            Text(f"Lua error at {source}:{line}: {attrs.get('lua.error', '')}", "bold red")
        )
    if span.problems:
        parts.append(Text("stored row is damaged:", style="bold magenta"))
        parts.extend(Text(f"  ! {p}", style="magenta") for p in span.problems)
    rest = {k: v for k, v in attrs.items() if k not in DATA_KEYS and k not in LUA_KEYS}
    if rest:
        table = Table.grid(padding=(0, 1))
        table.add_column(style="grey70", no_wrap=True)
        table.add_column()
        for key in sorted(rest):
            value = rest[key]
            shown = value if isinstance(value, str) else json.dumps(value, default=str)
            table.add_row(Text(key), Text(shown))
        parts += [Text("\nattributes", style="bold underline"), table]
    for key in DATA_KEYS:
        if key in attrs:
            parts += [Text(f"\n{key}", style="bold underline"), pretty_json(attrs[key])]
    return Group(*parts)


class SpanPane(VerticalScroll, can_focus=True):
    """Scrolls when a span's data is longer than the screen."""

    def compose(self):
        """One static body, replaced as the cursor moves."""
        yield Static(Text("no span selected", style="dim"), id="span-body")

    def show_span(self, span: SpanRow) -> None:
        """Show `span` from its top."""
        self.query_one("#span-body", Static).update(span_details(span))
        self.scroll_home(animate=False)
