"""The command palette offers every action of the viewer from any screen: the current screen's
keys first, then those of the trace list (run there, after closing what covers it) and those of a
trace's detail (run on the trace under the list's cursor), so nothing is hidden."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode

from .keys import screen_actions
from .lifetime import bound
from .screens.trace_detail import TraceDetailScreen
from .screens.trace_list import TraceListScreen

ELSEWHERE = (
    ("list", TraceListScreen, "trace list"),
    ("detail", TraceDetailScreen, "trace under the list's cursor"),
)
"""Screens whose keys the palette offers from elsewhere: (kind, class, where it acts)."""

Command = tuple[str, str, Callable[[], None]]
"""(description, key, run)."""


class ScreenActions(Provider):
    """One command per action: the current screen's and the app's bindings, then the list's and a
    trace detail's that the current screen does not have."""

    def _commands(self) -> list[Command]:
        here = screen_actions(self.screen)
        commands: list[Command] = [
            (description, key, partial(self._run, node, action))
            for key, description, node, action in here
        ]
        known = {action for _key, _description, _node, action in here}
        for kind, screen_class, where in ELSEWHERE:
            if isinstance(self.screen, screen_class):
                continue
            for binding in _described(screen_class.BINDINGS):
                if binding.action not in known:
                    known.add(binding.action)
                    run = partial(self._run_elsewhere, kind, binding.action)
                    commands.append((f"{binding.description} ({where})", binding.key, run))
        return commands

    def _run(self, node: DOMNode, action: str) -> None:
        self.app.call_later(bound(node, self.app.run_action), action, node)

    def _run_elsewhere(self, kind: str, action: str) -> None:
        run: Callable[[str, str], object] | None = getattr(self.app, "run_elsewhere", None)
        if run is not None:
            self.app.call_later(run, kind, action)

    async def discover(self) -> Hits:
        """Everything, for an empty query."""
        for description, key, run in self._commands():
            yield DiscoveryHit(description, run, help=f"key: {key}")

    async def search(self, query: str) -> Hits:
        """Fuzzy matches on the action's description."""
        matcher = self.matcher(query)
        for description, key, run in self._commands():
            score = matcher.match(description)
            if score > 0:
                yield Hit(score, matcher.highlight(description), run, help=f"key: {key}")


def _described(bindings: Sequence[object]) -> Iterator[Binding]:
    """The bindings a palette can name (those with a description)."""
    for binding in bindings:
        if isinstance(binding, Binding) and binding.description:
            yield binding
