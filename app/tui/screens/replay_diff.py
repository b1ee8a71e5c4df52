"""The replay diff: runs a trace again in a worker, shows what changed against the original, and
stores the replay only when the operator keeps it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from pipetrace.errors import PipetraceError
from pipetrace.store import Repository

from ...replay import Replay, ReplayDiff, keep_replay, run_replay
from ...untrusted import shown
from ..widgets.footer import KeyFooter
from ..widgets.replay_diff import diff_renderable
from ..worker_errors import ShowsWorkerBugs


class ReplayDiffScreen(ShowsWorkerBugs, Screen[None]):
    """Shows a loading state while the engine runs; a failure closes it with a notification.

    A replay run here is not stored until `k` keeps it: most replays answer "would this pass
    now?" and are then thrown away, so leaving them out of the store is the default."""

    HELP_TITLE = "replay diff"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("k", "keep", "Keep (store) the replay"),
        Binding("o,enter", "open_replay", "Open the replay"),
    ]

    @dataclass
    class Replayed(Message):
        """The replay ran (not stored yet); here is how it differs."""

        replay: Replay

    class Kept(Message):
        """The replay the operator kept is stored."""

    @dataclass
    class Failed(Message):
        """The replay could not run: a title and one line saying why."""

        title: str
        message: str

    @dataclass
    class TraceChosen(Message):
        """Open the replay's detail over this diff."""

        trace_id: str

    def __init__(
        self,
        trace_id: str,
        repo: Repository,
        pipelines_dir: Path | None = None,
        diff: ReplayDiff | None = None,
    ) -> None:
        super().__init__()
        self.trace_id = trace_id
        self.repo = repo
        self.pipelines_dir = pipelines_dir
        self.diff = diff
        self.replay: Replay | None = None
        """The replay run here, until it is kept; a given `diff` is of a replay already stored."""
        self.stored = diff is not None

    def compose(self) -> ComposeResult:
        """A title line over the scrollable diff, and the footer."""
        yield Static(id="replay-title")
        with VerticalScroll(id="replay-body"):
            yield Static(id="replay-diff")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Show a given diff at once, or run the replay behind a loading state."""
        if self.diff is not None:
            self._show(self.diff)
            return
        self._title("replaying trace $id through the current pipelines…", id=shown(self.trace_id))
        self.query_one("#replay-body").loading = True
        self.run_replay(self.repo, self.trace_id, self.pipelines_dir)

    @work(thread=True, exclusive=True, group="replay", exit_on_error=False)
    def run_replay(self, repo: Repository, trace_id: str, pipelines_dir: Path | None) -> None:
        """Run the engine off the UI thread, storing nothing; every failure is a message."""
        try:
            replay = run_replay(repo, trace_id, pipelines_dir)
        except PipetraceError as exc:  # a store, pipelines or replay error; a bug is a bug
            self._fail(exc)
            return
        self.post_message(self.Replayed(replay))

    @work(thread=True, exclusive=True, group="replay", exit_on_error=False)
    def store_replay(self, repo: Repository, replay: Replay) -> None:
        """Store the kept replay off the UI thread."""
        try:
            keep_replay(repo, replay)
        except PipetraceError as exc:
            self._fail(exc)
            return
        self.post_message(self.Kept())

    def _fail(self, exc: PipetraceError) -> None:
        self.post_message(self.Failed(exc.title, (exc.message.splitlines() or [exc.title])[0]))

    @on(Replayed)
    def _replayed(self, message: Replayed) -> None:
        self.query_one("#replay-body").loading = False
        self.replay = message.replay
        self._show(message.replay.diff)

    @on(Kept)
    def _kept(self) -> None:
        self.stored, self.replay = True, None
        if self.diff is not None:
            self._show(self.diff)
        self.app.notify("the replay is stored, marked as a replay (not counted as traffic)")

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self.app.notify(
            message.message, title=message.title, severity="error", timeout=10, markup=False
        )
        self.dismiss()

    def _title(self, markup: str, **values: object) -> None:
        self.query_one("#replay-title", Static).update(Content.from_markup(markup, **values))

    def _show(self, diff: ReplayDiff) -> None:
        self.diff = diff
        self._title(
            "[b]Replay diff[/b]  [b]$trigger[/b]  $original [grey62]->[/] [cyan]$replay[/]"
            + (
                "  [grey62](o opens the replay)[/]"
                if self.stored
                else "  [yellow]not stored[/] [grey62](k keeps it)[/]"
            ),
            trigger=shown(diff.trigger),
            original=shown(diff.original_id),
            replay=shown(diff.replay_id),
        )
        self.query_one("#replay-diff", Static).update(diff_renderable(diff))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Opening the replay needs a stored replay; keeping one, a replay not stored yet."""
        if action == "open_replay":
            return self.diff is not None and self.stored
        if action == "keep":
            return self.replay is not None
        return True

    def action_keep(self) -> None:
        """Store the replay shown, marked as a replay of the original."""
        if self.replay is not None:
            self.store_replay(self.repo, self.replay)

    def action_open_replay(self) -> None:
        """Open the new trace; its header links back to the original."""
        if self.diff is not None:
            self.post_message(self.TraceChosen(self.diff.replay_id))

    def action_back(self) -> None:
        """Back to the original trace; a replay not kept is dropped."""
        self.dismiss()
