"""What screens and widgets read from the viewer app, typed, without importing the app module
(which imports them); to make the app act they post messages instead."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

from textual.message_pump import MessagePump


@runtime_checkable
class AppData(Protocol):
    """The viewer app's settings and counters, as its screens and widgets see them."""

    @property
    def clock(self) -> Callable[[], int]:
        """Unix ns now; fixed in tests and screenshots, so ages and relative ranges are too."""

    @property
    def local_time(self) -> bool:
        """Times shown in the machine's local time instead of UTC (the default; z toggles)."""

    @property
    def page_size(self) -> int:
        """Rows per list page."""

    @property
    def poll_interval(self) -> float:
        """Seconds between live mode's polls."""

    @property
    def pipelines_dir(self) -> Path | None:
        """The pipelines replays run (the bundled ones when None)."""

    def writer_stats_text(self) -> str:
        """'writer: N dropped, M failed' when either is not zero, else empty."""


def app_data(node: MessagePump) -> AppData:
    """The data of the app `node` runs in; anything but the viewer app is a programming error."""
    app = node.app
    if not isinstance(app, AppData):
        raise TypeError(f"{type(node).__name__} runs in {type(app).__name__}, not the viewer app")
    return app
