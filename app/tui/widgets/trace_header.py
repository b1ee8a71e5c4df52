"""The trace detail header: decision, timing, who, and links to replays."""

from __future__ import annotations

from textual.content import Content
from textual.markup import escape
from textual.widgets import Static

from store import TraceRow

from ...timeparse import format_duration, format_ns
from ..look import status_colour


def decision(trace: TraceRow) -> str:
    """The decision returned to the caller, as markup."""
    if trace.allowed is None:
        return "[grey62]no decision recorded[/]"
    return "[bold green]allowed[/]" if trace.allowed else "[bold yellow]denied[/]"


def header_markup(trace: TraceRow, replays: list[TraceRow]) -> str:
    """The header as Textual markup; trace links are clickable and open that trace."""
    colour = status_colour(trace.status)
    lines = [
        f"[b]{escape(trace.trigger_event)}[/b]  [{colour}]{escape(trace.status)}[/]  "
        f"{decision(trace)}  [grey62]{format_duration(trace.duration_ms)} · "
        f"started {format_ns(trace.started_at, precise=True)}[/]",
        f"[grey62]user[/] {escape(trace.user_id or '-')}  [grey62]ip[/] "
        f"{escape(trace.request_ip or '-')}  [grey62]trace[/] {trace.id}  "
        f"[grey62]spans[/] {trace.span_count}",
    ]
    if trace.status_message:
        lines.append(f"[{colour}]{escape(trace.status_message)}[/]")
    links = []
    if trace.replay_of:
        links.append(
            f"replay of [@click=screen.open_trace('{trace.replay_of}')]{trace.replay_of}[/]"
        )
    if replays:
        shown = ", ".join(
            f"[@click=screen.open_trace('{r.id}')]{r.id[:12]}…[/]" for r in replays[:4]
        )
        more = f" (+{len(replays) - 4})" if len(replays) > 4 else ""
        links.append(f"replayed by {shown}{more}")
    if links:
        lines.append("[cyan]" + "  ".join(links) + "[/]  [grey62](o to open)[/]")
    if trace.problems:
        lines.append(
            "[b magenta]! damaged row:[/] [magenta]" + escape("; ".join(trace.problems)) + "[/]"
        )
    return "\n".join(lines)


class TraceHeader(Static):
    """Shows one trace's summary; the screen hands it the trace when loaded."""

    def show_trace(self, trace: TraceRow, replays: list[TraceRow]) -> None:
        """Replace the header with `trace`'s."""
        self.update(Content.from_markup(header_markup(trace, replays)))
