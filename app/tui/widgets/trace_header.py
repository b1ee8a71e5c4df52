"""The trace detail header: decision, timing, who, and links to replays."""

from __future__ import annotations

from textual.content import Content
from textual.style import Style
from textual.widgets import Static

from store import TraceRow

from ...short_ids import short_ids
from ...timeparse import format_duration, format_ns
from ..look import status_colour


def decision(trace: TraceRow) -> str:
    """The decision returned to the caller, as markup."""
    if trace.allowed is None:
        return "[grey62]no decision recorded[/]"
    return "[bold green]allowed[/]" if trace.allowed else "[bold yellow]denied[/]"


def trace_link(trace_id: str, shown: str) -> Content:
    """`shown`, clickable to open `trace_id`; the id goes as an argument, never parsed as text."""
    return Content(shown).stylize(Style.from_meta({"@click": ("screen.open_trace", (trace_id,))}))


def header_content(trace: TraceRow, replays: list[TraceRow]) -> Content:
    """The header; stored text goes in as template values, so it is never read as markup."""
    colour = status_colour(trace.status)
    lines = [
        Content.from_markup(
            f"[b]$trigger[/b]  [{colour}]$status[/]  {decision(trace)}  "
            "[grey62]$duration · started $started[/]",
            trigger=trace.trigger_event,
            status=trace.status,
            duration=format_duration(trace.duration_ms),
            started=format_ns(trace.started_at, precise=True),
        ),
        Content.from_markup(
            "[grey62]user[/] $user  [grey62]ip[/] $ip  [grey62]trace[/] $id  [grey62]spans[/] $n",
            user=trace.user_id or "-",
            ip=trace.request_ip or "-",
            id=trace.id,
            n=trace.span_count,
        ),
    ]
    if trace.status_message:
        lines.append(Content.styled(trace.status_message, colour))
    links: list[Content] = []
    if trace.replay_of:
        links.append(Content.assemble("replay of ", trace_link(trace.replay_of, trace.replay_of)))
    if replays:
        short = short_ids(r.id for r in replays[:4])
        shown = Content(", ").join(trace_link(r.id, f"{short[r.id]}…") for r in replays[:4])
        more = f" (+{len(replays) - 4})" if len(replays) > 4 else ""
        links.append(Content.assemble("replayed by ", shown, more))
    if links:
        cyan = Content("  ").join(links).stylize("cyan")
        lines.append(Content.assemble(cyan, Content.from_markup("  [grey62](o to open)[/]")))
    if trace.problems:
        lines.append(
            Content.from_markup(
                "[b magenta]! damaged row:[/] [magenta]$problems[/]",
                problems="; ".join(trace.problems),
            )
        )
    return Content("\n").join(lines)


class TraceHeader(Static):
    """Shows one trace's summary; the screen hands it the trace when loaded."""

    def show_trace(self, trace: TraceRow, replays: list[TraceRow]) -> None:
        """Replace the header with `trace`'s."""
        self.update(header_content(trace, replays))
