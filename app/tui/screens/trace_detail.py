"""One trace: header, span waterfall, find, next failure, and the selected span's pane."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Static

from pipetrace.gc_pause import gc_paused
from pipetrace.store import Repository, SpanRow, StoreError, TraceRow
from pipetrace.store.interop import ExportReport, InteropError, write_export

from ...script_source import RanSource, is_script_span, ran_sources
from ...untrusted import shown
from ...wording import counted
from ..app_data import app_data
from ..export_path import suggested_export_path
from ..filter_state import FilterState
from ..lifetime import Bound, bound
from ..span_tree import SpanTree
from ..widgets.footer import KeyFooter
from ..widgets.span_pane import SpanPane
from ..widgets.trace_header import TraceHeader
from ..widgets.waterfall import Waterfall
from ..worker_errors import ShowsWorkerBugs
from .filter_dialogs import pick_one
from .path_dialog import PathDialog
from .replay_diff import ReplayDiffScreen

PANE_DELAY = 0.06
"""Seconds the cursor rests before the span pane is filled: laying the pane out costs ~55 ms."""
STACK_BELOW = 100
"""On a terminal narrower than this the span pane goes under the waterfall, not beside it."""


def show_span_of(pane: SpanPane, tree: SpanTree, node: int) -> None:
    """Show `tree`'s span at `node` in `pane`, its data decoded only now the cursor rests."""
    pane.show_span(tree.span(node), tree.trace)


class TraceDetailScreen(ShowsWorkerBugs, Screen[None]):
    """Loads its trace in a worker; the waterfall and pane are filled when it arrives."""

    HELP_TITLE = "trace detail"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("e", "next_failure(1)", "Next failure"),
        Binding("E", "next_failure(-1)", "Prev failure", show=False),
        Binding("R", "replay", "Replay this trace"),
        Binding("v", "view_source", "Script source as it ran", show=False),
        Binding("slash", "find", "Find"),
        Binding("n", "find_next(1)", "Next match", show=False),
        Binding("N", "find_next(-1)", "Prev match", show=False),
        Binding("u", "traces_of('user')", "Traces of this user", show=False),
        Binding("i", "traces_of('ip')", "Traces of this IP", show=False),
        Binding("y", "copy_trace_id", "Copy trace id"),
        Binding("Y", "copy_span_id", "Copy span id", show=False),
        Binding("o", "open_link", "Open link", show=False),
        Binding("x", "export", "Export trace as OTLP JSON…", show=False),
        Binding("tab", "switch_pane", "Span pane", show=False),
        Binding("ctrl+r", "reload", "Reload", show=False),
    ]

    @dataclass
    class Loaded(Message):
        """The trace, its span tree and its replays."""

        tree: SpanTree | None
        replays: list[TraceRow]

    @dataclass
    class LoadFailed(Message):
        """Loading the trace failed; the app offers `retry`, which loads it again."""

        error: StoreError
        retry: Bound[[], object]

    @dataclass
    class TraceChosen(Message):
        """Open this trace's detail over this one (a replay link)."""

        trace_id: str

    @dataclass
    class ListRequested(Message):
        """Close every screen over the trace list and show it with `filters`."""

        filters: FilterState

    @dataclass
    class SourceRead(Message):
        """The stored source of the selected script span (or why there is none)."""

        source: RanSource

    @dataclass
    class Found(Message):
        """The nodes matching a find query."""

        query: str
        nodes: list[int]

    @dataclass
    class Exported(Message):
        """The trace was written to `path`."""

        path: str
        report: ExportReport

    @dataclass
    class ExportFailed(Message):
        """Writing the export failed, in one line."""

        title: str
        message: str

    def __init__(self, trace_id: str, repo: Repository) -> None:
        super().__init__()
        self.trace_id = trace_id
        self.repo = repo
        self.span_tree: SpanTree | None = None
        self.replays: list[TraceRow] = []
        self.query_text = ""
        self.matches: list[int] = []
        self.pending_action: str | None = None
        """An action to run once the trace has loaded (see `run_when_loaded`)."""

    def compose(self) -> ComposeResult:
        """Header over a waterfall beside (or above) the span pane, a find bar and the footer."""
        yield TraceHeader(Content(f"loading trace {shown(self.trace_id)}…"), id="trace-header")
        with Horizontal(id="detail-body"):
            yield Waterfall(id="waterfall")
            yield SpanPane(id="span-pane")
        yield Input(placeholder="find in span names and attributes, enter to search", id="find")
        yield Static(id="find-status")
        yield KeyFooter()

    def on_resize(self, event: events.Resize) -> None:
        """Stack the span pane under the waterfall when beside it the bars would be too short."""
        self.set_class(event.size.width < STACK_BELOW, "stacked")

    def on_mount(self) -> None:
        """Start loading; the waterfall shows a loading state meanwhile."""
        self.query_one("#find", Input).display = False
        self.waterfall.loading = True
        self.waterfall.focus()
        self.load()

    def on_unmount(self) -> None:
        """Let go of the trace: a thread that ran one of this screen's workers may keep the
        screen itself referenced until it runs another (Textual leaves it as the thread's
        current worker), but never its spans."""
        self.span_tree = None
        self.replays = []
        self.matches = []

    @property
    def waterfall(self) -> Waterfall:
        """The span rows."""
        return self.query_one(Waterfall)

    # -- loading ----------------------------------------------------------------------------

    def load(self) -> None:
        """(Re)load the trace."""
        self.waterfall.loading = True
        self.fetch(self.repo, self.trace_id)

    @work(thread=True, exclusive=True, group="detail-load", exit_on_error=False)
    def fetch(self, repo: Repository, trace_id: str) -> None:
        """Read the trace and build its tree off the UI thread (O(spans), done once)."""
        with gc_paused():
            try:
                found = repo.get_trace_outline(trace_id)
                replays = repo.replays_of(trace_id) if found else []
            except StoreError as exc:
                self.post_message(self.LoadFailed(exc, bound(self, self.load)))
                return
            tree = SpanTree(found.trace, found.spans) if found else None
        self.post_message(self.Loaded(tree, replays))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.waterfall.loading = False
        header = self.query_one(TraceHeader)
        if message.tree is None:
            header.show_message(
                Content(f"trace {shown(self.trace_id)} is not in the store (deleted?)")
            )
            return
        self.span_tree, self.replays = message.tree, message.replays
        header.show_trace(self.span_tree.trace, self.replays)
        self.waterfall.show_tree(self.span_tree)
        self.waterfall.focus()
        self.refresh_bindings()
        if self.pending_action is not None:
            action, self.pending_action = self.pending_action, None
            self.call_after_refresh(bound(self, self.run_action), action)

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        # The message goes on to the app, which shows the error dialog.
        self.waterfall.loading = False
        if self.span_tree is None:
            self.query_one(TraceHeader).show_message(
                Content.from_markup(
                    "[b red]$title[/]: $message  (ctrl+r retries)",
                    title=shown(message.error.title),
                    message=shown(message.error.message),
                )
            )

    def action_reload(self) -> None:
        """Load the trace again."""
        self.load()

    def run_when_loaded(self, action: str) -> None:
        """Run `action` on this screen once its trace has loaded (the palette asked for it from
        the list)."""
        self.pending_action = action

    def show_times(self) -> None:
        """Show the header's and the span pane's times in the zone now chosen."""
        self.query_one(TraceHeader).show_times()
        node = self.waterfall.current_node
        if self.span_tree is not None and node >= 0:
            show_span_of(self.query_one(SpanPane), self.span_tree, node)

    # -- span pane --------------------------------------------------------------------------

    @on(Waterfall.Highlighted)
    def _highlighted(self, message: Waterfall.Highlighted) -> None:
        if self.span_tree is not None:
            pane = self.query_one(SpanPane)
            show = partial(show_span_of, pane, self.span_tree, message.node)
            self.show_span_later(bound(pane, show))

    @work(exclusive=True, group="span-pane", exit_on_error=False)
    async def show_span_later(self, show: Bound[[], object]) -> None:
        """Fill the pane once the cursor rests; each new move cancels the previous wait."""
        await asyncio.sleep(PANE_DELAY)
        show()

    def action_view_source(self) -> None:
        """Show the selected script span's source as it ran in the span pane, or back to the
        span's details."""
        pane = self.query_one(SpanPane)
        node = self.waterfall.current_node
        if pane.source_shown and self.span_tree is not None and node >= 0:
            pane.show_span(self.span_tree.span(node), self.span_tree.trace)
            return
        if self.span_tree is None or node < 0:
            self.notify("the trace has not loaded yet", severity="warning")
            return
        span = self.span_tree.span(node)
        if not is_script_span(span):
            self.notify("pick a script's own span (not the trigger or a custom span)")
            return
        self.read_source(self.repo, self.span_tree.trace, span)

    @work(thread=True, exclusive=True, group="span-source", exit_on_error=False)
    def read_source(self, repo: Repository, trace: TraceRow, span: SpanRow) -> None:
        """Read the version the span ran off the UI thread."""
        try:
            (source,) = ran_sources(repo, trace, [span])
        except StoreError as exc:
            retry = bound(self, lambda: self.read_source(repo, trace, span))
            self.post_message(self.LoadFailed(exc, retry))
            return
        self.post_message(self.SourceRead(source))

    @on(SourceRead)
    def _source_read(self, message: SourceRead) -> None:
        pane = self.query_one(SpanPane)
        pane.show_source(message.source)

    def action_switch_pane(self) -> None:
        """Move focus between the waterfall and the span pane (to scroll long data)."""
        pane = self.query_one(SpanPane)
        (self.waterfall if pane.has_focus else pane).focus()

    # -- find -------------------------------------------------------------------------------

    def action_find(self) -> None:
        """Open the find bar."""
        find = self.query_one("#find", Input)
        find.display = True
        find.focus()

    @on(Input.Submitted, "#find")
    def _find_submitted(self, event: Input.Submitted) -> None:
        event.input.display = False
        self.waterfall.focus()
        if self.span_tree is not None:
            self.query_text = event.value
            self.search(self.span_tree, event.value)

    @work(thread=True, exclusive=True, group="detail-find", exit_on_error=False)
    def search(self, tree: SpanTree, query: str) -> None:
        """Match names and attributes off the UI thread (attributes can be large)."""
        self.post_message(self.Found(query, tree.find(query)))

    @on(Found)
    def _found(self, message: Found) -> None:
        self.matches = message.nodes
        self.waterfall.set_matches(message.nodes)
        if message.nodes:
            self._go(self._after(self.matches, 1, inclusive=True))
        self._show_find_status()

    def _after(self, nodes: list[int], step: int, inclusive: bool = False) -> int | None:
        if self.span_tree is None:
            return None
        node = self.waterfall.current_node
        if inclusive and node in nodes:
            return node
        return self.span_tree.next_in_order(node, nodes, step)

    def _go(self, node: int | None) -> None:
        if node is not None:
            self.waterfall.select_node(node)
        self._show_find_status()

    def action_find_next(self, step: int) -> None:
        """Go to the next (1) or previous (-1) match."""
        if not self.matches:
            self.notify("no matches: press / to find", severity="warning")
            return
        self._go(self._after(self.matches, step))

    def action_next_failure(self, step: int) -> None:
        """Go to the next (1) or previous (-1) errored, blocked or damaged span."""
        if self.span_tree is None:
            return
        failures = self.span_tree.failures()
        if not failures:
            self.notify("no errored, blocked or damaged spans in this trace")
            return
        self._go(self._after(failures, step))

    def _show_find_status(self) -> None:
        status = self.query_one("#find-status", Static)
        if not self.query_text:
            status.update("")
            return
        node = self.waterfall.current_node
        if not self.matches:
            status.update(
                Content.from_markup("find [b]$query[/b]: no matches", query=shown(self.query_text))
            )
            return
        where = f"{self.matches.index(node) + 1}/" if node in self.matches else ""
        status.update(
            Content.from_markup(
                "find [b]$query[/b]: $where$count matches · n next · N previous",
                query=shown(self.query_text),
                where=where,
                count=len(self.matches),
            )
        )

    # -- copy, links, back ------------------------------------------------------------------

    def action_copy_trace_id(self) -> None:
        """Send the trace id to the clipboard."""
        self.send_to_clipboard("trace id", self.trace_id)

    def action_copy_span_id(self) -> None:
        """Send the selected span's id to the clipboard."""
        node = self.waterfall.current_node
        if self.span_tree is None or node < 0:
            return
        self.send_to_clipboard("span id", self.span_tree.spans[node].id)

    def send_to_clipboard(self, what: str, value: str) -> None:
        """Send `value` by OSC 52, which a terminal may ignore unseen: the toast says so honestly
        and shows the value, so it can be selected by hand."""
        self.app.copy_to_clipboard(value)
        self.notify(f"{what} {value} sent to the clipboard (OSC 52)", markup=False)

    def links(self) -> list[str]:
        """Trace ids this trace links to: what it replays, then its replays."""
        replayed = self.span_tree.trace.replay_of if self.span_tree else None
        return ([replayed] if replayed else []) + [r.id for r in self.replays]

    def action_open_link(self) -> None:
        """Open the replayed trace or a replay (choosing when there are several)."""
        links = self.links()
        if not links:
            self.notify("this trace has no replay links")
        elif len(links) == 1:
            self.action_open_trace(links[0])
        else:
            pick_one(self, "Open linked trace", links, self.action_open_trace)

    def action_open_trace(self, trace_id: str) -> None:
        """Open another trace on top of this one (header links call this)."""
        self.post_message(self.TraceChosen(trace_id))

    def action_traces_of(self, field: str) -> None:
        """Back to the list, showing every trace of this trace's user ("user") or IP ("ip");
        the list's other filters are cleared, so nothing of theirs hides a trace."""
        if self.span_tree is None:
            self.notify("the trace has not loaded yet", severity="warning")
            return
        trace = self.span_tree.trace
        if field == "user" and trace.user_id:
            filters = FilterState(user_id=trace.user_id)
        elif field == "ip" and trace.request_ip:
            filters = FilterState(request_ip=trace.request_ip)
        else:
            what = "user id" if field == "user" else "request IP"
            self.notify(f"this trace has no {what}", severity="warning")
            return
        self.post_message(self.ListRequested(filters))

    # -- replay and export -------------------------------------------------------------------

    def action_replay(self) -> None:
        """Run this trace's trigger again and show the diff; the header then links the replay."""
        if self.span_tree is None:
            self.notify("the trace has not loaded yet", severity="warning")
            return
        replay = ReplayDiffScreen(self.trace_id, self.repo, app_data(self).pipelines_dir)
        self.app.push_screen(replay, bound(self, lambda _: self.load()))

    def action_export(self) -> None:
        """Ask for a file name and write this trace there as OTLP JSON."""
        dialog = PathDialog(
            "Export trace as OTLP JSON",
            "one TracesData object per line; asks before replacing a file",
            suggested_export_path(self.trace_id),
            ok="Export",
            confirm_overwrite=True,
        )

        def chosen(path: str | None) -> None:
            if path:
                self.export(self.repo, path)

        self.app.push_screen(dialog, bound(self, chosen))

    @work(thread=True, exclusive=True, group="detail-export", exit_on_error=False)
    def export(self, repo: Repository, path: str) -> None:
        """Write the file off the UI thread."""
        try:
            report = write_export(repo, [self.trace_id], path)
        except (InteropError, StoreError) as exc:
            self.post_message(self.ExportFailed(exc.title, exc.message))
            return
        self.post_message(self.Exported(path, report))

    @on(Exported)
    def _exported(self, message: Exported) -> None:
        report = message.report
        if report.missing:
            self.notify(
                f"trace {self.trace_id} is no longer in the store", severity="warning", markup=False
            )
            return
        self.notify(
            f"wrote {counted(report.traces, 'trace')}, {counted(report.spans, 'span')} "
            f"to {message.path}",
            markup=False,
        )

    @on(ExportFailed)
    def _export_failed(self, message: ExportFailed) -> None:
        self.notify(
            message.message, title=message.title, severity="error", timeout=10, markup=False
        )

    def action_back(self) -> None:
        """Close the find bar, or go back to where this trace was opened from."""
        find = self.query_one("#find", Input)
        if find.display:
            find.display = False
            self.waterfall.focus()
            return
        self.dismiss()
