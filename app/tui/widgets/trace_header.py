"""The trace detail header: decision, timing, who, and links to replays."""

from __future__ import annotations

from textual.content import Content
from textual.style import Style
from textual.widgets import Static

from pipetrace.store import TraceRow

from ...short_ids import short_ids
from ...timeparse import format_duration, format_ns
from ...untrusted import shown
from ..app_data import app_data
from ..status_colours import status_colour


def decision(trace: TraceRow) -> str:
    """The decision returned to the caller, as markup."""
    if trace.allowed is None:
        return "[grey62]no decision recorded[/]"
    return "[bold green]allowed[/]" if trace.allowed else "[bold yellow]denied[/]"


def trace_link(trace_id: str, label: str) -> Content:
    """`label`, clickable to open `trace_id`; the id goes as an argument, never parsed as text."""
    return Content(label).stylize(Style.from_meta({"@click": ("screen.open_trace", (trace_id,))}))


def pack(chunks: list[Content], width: int) -> Content:
    """Chunks two spaces apart, starting a new line where the next would not fit, so a label is
    never parted from its value (a chunk wider than the line is left to the widget to fold)."""
    lines: list[Content] = []
    for chunk in chunks:
        if lines and lines[-1].cell_length + 2 + chunk.cell_length <= width:
            lines[-1] = Content.assemble(lines[-1], "  ", chunk)
        else:
            lines.append(chunk)
    return Content("\n").join(lines)


def header_content(
    trace: TraceRow, replays: list[TraceRow], width: int = 10**6, local: bool = False
) -> Content:
    """The header in `width` cells; stored text goes in shown (`shown`) as template values, never
    read as markup or obeyed by the terminal."""
    colour = status_colour(trace.status)
    grey = "[grey62]$label[/] $value"
    lines = [
        pack(
            [
                Content.from_markup("[b]$trigger[/b]", trigger=shown(trace.trigger_event)),
                Content.from_markup(f"[{colour}]$status[/]", status=shown(trace.status)),
                Content.from_markup(decision(trace)),
                Content.from_markup(
                    "[grey62]$duration · started $started[/]",
                    duration=format_duration(trace.duration_ms),
                    started=format_ns(trace.started_at, precise=True, local=local),
                ),
            ],
            width,
        ),
        pack(
            [
                Content.from_markup(grey, label="user", value=shown(trace.user_id or "-")),
                Content.from_markup(grey, label="ip", value=shown(trace.request_ip or "-")),
                Content.from_markup(grey, label="trace", value=shown(trace.id)),
                Content.from_markup(grey, label="spans", value=str(trace.span_count)),
            ],
            width,
        ),
    ]
    if trace.status_message:
        lines.append(Content.styled(shown(trace.status_message), colour))
    if trace.warnings:
        lines.append(
            Content.from_markup(
                "[b yellow]! warnings:[/] [yellow]$warnings[/]",
                warnings=shown("; ".join(trace.warnings)),
            )
        )
    links: list[Content] = []
    if trace.replay_of:
        links.append(
            Content.assemble("replay of ", trace_link(trace.replay_of, shown(trace.replay_of)))
        )
    if replays:
        short = short_ids(r.id for r in replays[:4])
        listed = Content(", ").join(trace_link(r.id, f"{shown(short[r.id])}…") for r in replays[:4])
        more = f" (+{len(replays) - 4})" if len(replays) > 4 else ""
        links.append(Content.assemble("replayed by ", listed, more))
    if links:
        links = [link.stylize("cyan") for link in links]
        lines.append(pack([*links, Content.from_markup("[grey62](o to open)[/]")], width))
    if trace.problems:
        lines.append(
            Content.from_markup(
                "[b magenta]! damaged row:[/] [magenta]$problems[/]",
                problems=shown("; ".join(trace.problems)),
            )
        )
    return Content("\n").join(lines)


class TraceHeader(Static):
    """Shows one trace's summary; the screen hands it the trace when loaded."""

    DEFAULT_CSS = """
    TraceHeader {
        height: auto;
        max-height: 6;
        padding: 0 1;
        background: $boost;
    }
    """

    def __init__(self, content: Content, *, id: str | None = None) -> None:
        super().__init__(content, id=id)
        self.shown: tuple[TraceRow, list[TraceRow]] | None = None

    def show_trace(self, trace: TraceRow, replays: list[TraceRow]) -> None:
        """Replace the header with `trace`'s."""
        self.shown = (trace, replays)
        self._fill()

    def show_message(self, content: Content) -> None:
        """Replace the header with a message (loading, missing, failed)."""
        self.shown = None
        self.update(content)

    def on_resize(self) -> None:
        """Pack the header's lines again for the new width."""
        if self.shown is not None:
            self._fill()

    def show_times(self) -> None:
        """Show the start again in the zone now chosen (nothing while it shows a message)."""
        if self.shown is not None:
            self._fill()

    def _fill(self) -> None:
        assert self.shown is not None
        width = self.content_region.width or 10**6
        self.update(header_content(*self.shown, width=width, local=app_data(self).local_time))
