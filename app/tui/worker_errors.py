"""Shows a viewer worker's bug as a bug: workers catch only the errors users can act on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from textual.message import Message
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from textual.app import App


@dataclass
class BugMet(Message):
    """A worker ended on an exception nothing caught; the app shows the bug dialog."""

    error: BaseException


class _Node(Protocol):
    """What the mixin needs of the app or screen it is mixed into."""

    @property
    def app(self) -> App[Any]: ...


class ShowsWorkerBugs:
    """Mixin for the app and screens whose workers run with `exit_on_error=False`: a worker
    that ends on an exception nothing caught (a bug, since every user error is caught where it
    can be reported) has the app open the bug dialog, and the viewer carries on."""

    def on_worker_state_changed(self: _Node, event: Worker.StateChanged) -> None:
        """Report a worker that failed; other state changes need nothing."""
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None:
            self.app.post_message(BugMet(error))
