"""What a running app shows, as plain text lines, so a test can read the screen as a person does."""

from __future__ import annotations

import io

from rich.console import Console
from textual.app import App


def screen_lines(app: App[object]) -> list[str]:
    """Every line of the current screen (dialogs over what they cover), as App.export_screenshot
    composes it, without the styling."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, safe_box=False)
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text().splitlines()
