"""The command palette lists every key binding of the current screen, so nothing is hidden."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode

from .keys import screen_actions
from .lifetime import bound


class ScreenActions(Provider):
    """One command per binding active on the screen the palette was opened over."""

    def _commands(self) -> list[tuple[str, str, DOMNode, str]]:
        return [
            (description, key, node, action)
            for key, description, node, action in screen_actions(self.screen)
        ]

    def _run(self, node: DOMNode, action: str) -> None:
        self.app.call_later(bound(node, self.app.run_action), action, node)

    async def discover(self) -> Hits:
        """Everything, for an empty query."""
        for description, key, node, action in self._commands():
            yield DiscoveryHit(description, partial(self._run, node, action), help=f"key: {key}")

    async def search(self, query: str) -> Hits:
        """Fuzzy matches on the action's description."""
        matcher = self.matcher(query)
        for description, key, node, action in self._commands():
            score = matcher.match(description)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(description),
                    partial(self._run, node, action),
                    help=f"key: {key}",
                )
