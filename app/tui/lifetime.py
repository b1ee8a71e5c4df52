"""Callbacks tied to the node that made them, so none runs on a screen or widget that is gone.

Textual stops a node's timers and drops messages posted to it once it closes, but a callback
handed elsewhere (to `call_after_refresh`, the app's `call_later`, an error dialog's Retry, a
screen's result) still runs; and while a screen is being removed its children go first, so a
callback meeting it then finds them missing. Every such callback goes through `bound`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

from textual.dom import DOMNode

P = ParamSpec("P")
R = TypeVar("R", covariant=True)


def is_live(node: DOMNode) -> bool:
    """Whether `node` is in the running app and neither it nor anything above it is being
    removed (removing a node ends its message loop before its children are taken down)."""
    in_app = node.is_dom_root or node.is_attached
    return in_app and all(n.is_running for n in node.ancestors_with_self)


class Bound(Generic[P, R]):
    """`callback` for as long as `owner` is live; called after that, it does nothing (and
    returns None)."""

    def __init__(self, owner: DOMNode, callback: Callable[P, R]) -> None:
        self.owner = owner
        self.callback = callback

    @property
    def live(self) -> bool:
        """Whether calling it would still run the callback."""
        return is_live(self.owner)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R | None:
        """Run the callback if its owner is still live; what it returns, such as a coroutine
        for Textual to await."""
        return self.callback(*args, **kwargs) if self.live else None


def bound(owner: DOMNode, callback: Callable[P, R]) -> Bound[P, R]:
    """`callback`, run only while `owner` is live: give this, never the bare callback, to
    anything that calls back later."""
    return Bound(owner, callback)
