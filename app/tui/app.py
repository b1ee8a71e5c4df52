"""The viewer application: opens the store in a worker and routes between the screens."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import events, on, work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widgets import Input

from pipetrace.store import DatabaseTarget, Repository, StoreError, open_store, parse_database_url
from pipetrace.store.writer import WriterStats

from ..timeparse import zone_name
from ..untrusted import shown
from .commands import ScreenActions
from .filter_state import FilterState
from .keys import screen_actions
from .lifetime import bound
from .screens.bug import BugScreen
from .screens.error import ErrorScreen
from .screens.flip_traces import FlipTracesScreen
from .screens.help import HelpScreen
from .screens.replay_diff import ReplayDiffScreen
from .screens.script_stats import ScriptStatsScreen
from .screens.trace_detail import TraceDetailScreen
from .screens.trace_list import TraceListScreen
from .worker_errors import BugMet, ShowsWorkerBugs

LIVE_POLL_S = 0.5
"""How often live mode polls: a trace committed elsewhere is on screen within a second, and a
poll while nothing was committed asks SQLite one PRAGMA (see TraceListScreen.action_poll)."""


class PipetraceApp(ShowsWorkerBugs, App[None]):
    """Trace list first; trace details stack on top and Escape pops them.

    Screens and widgets read the settings through `app_data` and ask for everything else by
    posting the messages handled here.
    """

    CSS_PATH = "app.tcss"
    TITLE = "pipetrace"
    COMMANDS = App.COMMANDS | {ScreenActions}
    BINDINGS = [
        Binding("question_mark", "help", "Help"),
        Binding("S", "script_stats", "Script stats", show=False),
        Binding("z", "toggle_zone", "Times in local time / UTC", show=False),
        Binding("ctrl+p", "command_palette", "Commands", show=False),
        Binding("q", "quit", "Quit"),
    ]

    @dataclass
    class StoreOpened(Message):
        """The store is open and migrated."""

        repo: Repository

    @dataclass
    class StoreFailed(Message):
        """Opening the store failed."""

        error: StoreError

    def __init__(
        self,
        store: str | DatabaseTarget,
        *,
        repository: Repository | None = None,
        clock: Callable[[], int] | None = None,
        writer_stats: Callable[[], WriterStats] | None = None,
        poll_interval: float = LIVE_POLL_S,
        page_size: int = 100,
        pipelines_dir: Path | None = None,
        show_tracebacks: bool = False,
    ) -> None:
        super().__init__()
        self.store = store
        self.repo = repository
        self._owns_repo = repository is None
        self.clock = clock or time.time_ns
        self.writer_stats = writer_stats
        self.poll_interval = poll_interval
        self.page_size = page_size
        self.pipelines_dir = pipelines_dir
        self.show_tracebacks = show_tracebacks
        self.local_time = False
        """Times shown in local time rather than UTC (z toggles)."""
        """Show a bug's traceback in its dialog (PIPETRACE_DEBUG)."""
        self._shutting_down = threading.Event()
        self._error_screen: ErrorScreen | None = None
        self.list_screen = TraceListScreen(self._display_url())

    def _display_url(self) -> str:
        if self.repo is not None:
            return self.repo.url
        if isinstance(self.store, DatabaseTarget):
            return self.store.display
        try:
            return parse_database_url(self.store).display
        except StoreError:
            return self.store or "?"

    def on_mount(self) -> None:
        """Show the list at once and open the store behind it."""
        self.push_screen(self.list_screen)
        if self.repo is None:
            self.open_repository()
        else:
            self.list_screen.connect(self.repo)
        if self.writer_stats is not None:
            self.set_interval(1.0, bound(self.list_screen, self.list_screen.refresh_status))

    def on_unmount(self) -> None:
        """Close the store if this app opened it (the libSQL client holds a thread)."""
        self._shutting_down.set()
        if self._owns_repo and self.repo is not None:
            self.repo.close()

    @work(thread=True, exclusive=True, group="open-store", exit_on_error=False)
    def open_repository(self) -> None:
        """Connect off the UI thread (a slow or dead server never freezes it); the viewer reads
        the store as it is and never migrates it."""
        try:
            repo = open_store(self.store, migrate=False, create=False)
        except StoreError as exc:
            self.post_message(self.StoreFailed(exc))
            return
        if self._shutting_down.is_set():
            repo.close()
            return
        self.post_message(self.StoreOpened(repo))

    @on(StoreOpened)
    def _store_opened(self, message: StoreOpened) -> None:
        self.repo = message.repo
        self.list_screen.connect(message.repo)
        if message.repo.schema_notice:
            self.notify(message.repo.schema_notice, title="Newer schema", timeout=10)

    @on(StoreFailed)
    def _store_failed(self, message: StoreFailed) -> None:
        self.list_screen.problem = message.error.message
        self.list_screen.table.loading = False
        self.list_screen.refresh_status()
        self.show_store_error(message.error, self.open_repository)

    @on(TraceListScreen.LoadFailed)
    @on(TraceDetailScreen.LoadFailed)
    @on(ScriptStatsScreen.LoadFailed)
    def _load_failed(
        self,
        message: TraceListScreen.LoadFailed
        | TraceDetailScreen.LoadFailed
        | ScriptStatsScreen.LoadFailed,
    ) -> None:
        if message.retry is not None and message.retry.live:
            self.show_store_error(message.error, message.retry)

    @on(TraceListScreen.ReconnectRequested)
    def _reconnect(self) -> None:
        self.open_repository()

    @on(TraceListScreen.TraceChosen)
    @on(TraceDetailScreen.TraceChosen)
    @on(ReplayDiffScreen.TraceChosen)
    @on(FlipTracesScreen.TraceChosen)
    def _trace_chosen(
        self,
        message: TraceListScreen.TraceChosen
        | TraceDetailScreen.TraceChosen
        | ReplayDiffScreen.TraceChosen
        | FlipTracesScreen.TraceChosen,
    ) -> None:
        self.open_trace(message.trace_id)

    @on(TraceDetailScreen.ListRequested)
    @on(ScriptStatsScreen.ListRequested)
    def _list_requested(
        self, message: TraceDetailScreen.ListRequested | ScriptStatsScreen.ListRequested
    ) -> None:
        self.show_list(message.filters)

    def show_store_error(self, error: StoreError, retry: Callable[[], object]) -> None:
        """The error dialog; Retry runs `retry`. A second failure updates the open dialog."""
        if self._error_screen is not None:
            self._error_screen.show(error.title, error.message)
            return
        screen = ErrorScreen(error.title, error.message)
        self._error_screen = screen

        def done(again: bool | None) -> None:
            self._error_screen = None
            if again:
                retry()

        self.push_screen(screen, done)

    @on(BugMet)
    def _bug_met(self, message: BugMet) -> None:
        """The bug dialog for an exception no code expected; the viewer carries on."""
        self.push_screen(BugScreen(message.error, show_traceback=self.show_tracebacks))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast, whichever screen asks for it, with stored, imported and typed text it
        quotes (a path, an id, a replay's error) shown, never obeyed by the terminal."""
        super().notify(
            shown(message), title=shown(title), severity=severity, timeout=timeout, markup=markup
        )

    def writer_stats_text(self) -> str:
        """'writer: N dropped, M failed' when either is not zero, for the status line."""
        if self.writer_stats is None:
            return ""
        stats = self.writer_stats()
        if not stats.dropped and not stats.failed:
            return ""
        return f"writer: {stats.dropped} dropped, {stats.failed} failed"

    def open_trace(self, trace_id: str) -> None:
        """Push the detail screen of one trace."""
        if self.repo is not None:
            self.push_screen(TraceDetailScreen(trace_id, self.repo))

    def show_list(self, filters: FilterState) -> None:
        """Close every screen over the trace list and show it with `filters`."""
        self.list_screen.pop_until_active()
        self.list_screen.set_filters(filters)

    def run_elsewhere(self, kind: str, action: str) -> None:
        """Run an action the current screen lacks (from the palette) where it belongs: on the
        trace list ("list"), closing what covers it first, or on the detail of the trace under
        the list's cursor ("detail"), once that trace has loaded."""
        if kind == "list":
            self.list_screen.pop_until_active()
            self.call_after_refresh(
                bound(self.list_screen, self.run_action), action, self.list_screen
            )
            return
        trace_id = self.list_screen.table.current_id
        if self.repo is None or trace_id is None:
            self.notify("no trace under the list's cursor to act on", severity="warning")
            return
        self.list_screen.pop_until_active()
        detail = TraceDetailScreen(trace_id, self.repo)
        detail.run_when_loaded(action)
        self.push_screen(detail)

    def action_toggle_zone(self) -> None:
        """Show times in local time, or in UTC again; every open screen shows them again."""
        self.local_time = not self.local_time
        for screen in self.screen_stack:
            shown_again = getattr(screen, "show_times", None)
            if callable(shown_again):
                shown_again()
        self.notify(f"times in {zone_name(self.local_time, self.clock())}")

    def action_script_stats(self) -> None:
        """Per trigger, script and version stats for the list's filters, over the screens."""
        if isinstance(self.screen, ScriptStatsScreen):
            return
        if self.repo is None:
            self.notify("not connected to a store yet", severity="warning")
            return
        self.push_screen(ScriptStatsScreen(self.repo, self.list_screen.filters))

    def action_help(self) -> None:
        """Show every key of the current screen."""
        if isinstance(self.screen, HelpScreen):
            return
        keys = [(k, d) for k, d, _, _ in screen_actions(self.screen)]
        title = getattr(self.screen, "HELP_TITLE", "trace list")
        self.push_screen(HelpScreen(title, keys))

    def on_ready(self) -> None:
        """Headless (tests, screenshots): no animation, so output never depends on time."""
        if self.is_headless:
            self.animation_level = "none"

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Headless: a focused input's cursor stays drawn instead of blinking, for the same
        reason (it takes focus before its blink timer first fires, half a second later)."""
        if self.is_headless and isinstance(event.widget, Input):
            event.widget.cursor_blink = False
