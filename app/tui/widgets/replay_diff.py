"""A replay diff as rich renderables: decision first, then data, then script by script, then how
each changed script's source differs from the version that ran."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ...replay import ReplayDiff, SpanChange
from ...timeparse import format_duration
from ...untrusted import shown, shown_json, shown_source_lines, shown_text
from ...wording import counted
from ..status_colours import status_colour

ARROW = " -> "
CHANGE_STYLE = {"same": "grey62", "changed": "bold yellow", "added": "green", "removed": "red"}
SOURCE_TEXT = {
    True: Text("changed", style="bold yellow"),
    False: Text("same", style="grey62"),
    None: Text("unknown", style="magenta"),
}
MAX_VALUE_CHARS = 60
DIFF_STYLE = {"+": "green", "-": "red", "@": "cyan"}
"""A unified diff line's colour by its first character (the two file headers are bold)."""


def decision_text(allowed: bool | None) -> Text:
    """allowed / blocked / no decision, coloured like the trace header."""
    if allowed is None:
        return Text("no decision", style="grey62")
    return Text("allowed", style="bold green") if allowed else Text("blocked", style="bold yellow")


def status_word(status: str | None) -> Text:
    """A status in its colour, or a dim dash when the script did not run on that side."""
    if status is None:
        return Text("-", style="grey50")
    return shown_text(status, style=status_colour(status))


def before_after(before: Text, after: Text) -> Text:
    """`before -> after`, bold when they differ."""
    line = Text.assemble(before, ARROW, after)
    if before.plain != after.plain:
        line.stylize("bold")
    return line


def _value(value: Any, missing: bool) -> Text:
    if missing:
        return Text("(absent)", style="grey50")
    text = shown_json(value, sort_keys=True)
    if len(text) > MAX_VALUE_CHARS:
        text = text[: MAX_VALUE_CHARS - 1] + "…"
    return Text(text)


def banner(diff: ReplayDiff) -> Text:
    """One line that answers "did anything change?" before the details."""
    if diff.identical:
        return Text(" ✓ identical: same decision, data and script results ", "bold black on green")
    changed = sum(1 for s in diff.spans if s.change != "same")
    what = []
    if diff.allowed_before != diff.allowed_after:
        what.append("the decision")
    if diff.data:
        what.append(counted(len(diff.data), "data key"))
    if changed:
        what.append(counted(changed, "script"))
    return Text(f" ✗ changed: {', '.join(what) or 'the status'} ", "bold black on yellow")


def overview(diff: ReplayDiff) -> Table:
    """Decision, status and error before and after."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="grey70", no_wrap=True)
    table.add_column()
    table.add_row(
        "decision",
        before_after(decision_text(diff.allowed_before), decision_text(diff.allowed_after)),
    )
    table.add_row(
        "status", before_after(status_word(diff.status_before), status_word(diff.status_after))
    )
    table.add_row(
        "error before",
        shown_text(diff.error_before or "-", style=status_colour(diff.status_before)),
    )
    table.add_row(
        "error after", shown_text(diff.error_after or "-", style=status_colour(diff.status_after))
    )
    return table


def data_table(diff: ReplayDiff) -> RenderableType:
    """The result data's changed keys, or a line saying there are none."""
    if not diff.data:
        return Text("data: no key changed", style="grey62")
    table = Table(title="data changes", title_justify="left", expand=False)
    for name in ("key", "before", "after"):
        table.add_column(name, no_wrap=name == "key")
    for change in diff.data:
        table.add_row(
            shown_text(change.key),
            _value(change.before, change.added),
            _value(change.after, change.removed),
        )
    return table


def _script_row(span: SpanChange) -> list[Text]:
    message = span.message_before if span.change == "removed" else span.message_after
    colour = status_colour(span.status_after or span.status_before or "")
    return [
        shown_text(span.label, style="bold"),
        Text(span.change, style=CHANGE_STYLE.get(span.change, "")),
        before_after(status_word(span.status_before), status_word(span.status_after)),
        Text(
            f"{format_duration(span.duration_before_ms)}{ARROW}"
            f"{format_duration(span.duration_after_ms)}"
        ),
        SOURCE_TEXT[span.source_changed],
        shown_text(message, style=colour if message else ""),
    ]


def scripts_table(diff: ReplayDiff) -> Table:
    """One row per script, matched by script id."""
    table = Table(title="scripts", title_justify="left", expand=True)
    for name in ("script", "change", "status", "duration", "source", "message"):
        table.add_column(name, no_wrap=name != "message", ratio=1 if name == "message" else None)
    for span in diff.spans:
        table.add_row(*_script_row(span))
    return table


def redacted_note(diff: ReplayDiff) -> RenderableType:
    """Which input fields the replay could only see redacted."""
    if not diff.redacted:
        return Text("no input field was redacted when stored", style="grey62")
    return Text.assemble(
        ("redacted when stored: ", "bold"),
        (shown(", ".join(diff.redacted)), "cyan"),
        (" (the replay saw these as [REDACTED])", "grey62"),
    )


def script_diffs(diff: ReplayDiff) -> list[RenderableType]:
    """Each changed script's unified diff against the version the trace ran, coloured as
    `git diff` colours one, or why that version cannot be shown."""
    parts: list[RenderableType] = []
    for script in diff.scripts:
        parts.append(Text())
        if script.missing is not None:
            parts.append(
                Text.assemble(
                    shown_text(script.file, "bold"),
                    " changed; the version that ran cannot be shown: ",
                    shown_text(script.missing, "grey62"),
                )
            )
            continue
        lines = shown_source_lines("\n".join(script.lines))
        parts += [
            Text(line, style=DIFF_STYLE.get(line[:1], "") if n > 1 else "bold", overflow="fold")
            for n, line in enumerate(lines)
        ]
    return parts


def diff_renderable(diff: ReplayDiff) -> Group:
    """The whole diff, top to bottom."""
    return Group(
        banner(diff),
        Text(),
        overview(diff),
        Text(),
        data_table(diff),
        Text(),
        scripts_table(diff),
        *script_diffs(diff),
        Text(),
        redacted_note(diff),
    )
