"""Running the viewer, and `screenshots`: SVG pictures of every viewer state from a fixed store."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from textual.app import App


def run_viewer(app: App[object], *, headless: bool = False) -> None:
    """Run the viewer; a crash exits with its non-zero code, so scripts and shells see it."""
    app.run(headless=headless)
    if app.return_code:
        sys.exit(app.return_code)


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("screenshots"),
    show_default=True,
    help="Folder for the SVG files.",
)
def screenshots(out: Path) -> None:
    """Write an SVG of every viewer screen state (fixed data, fixed clock) to OUT."""
    from ..tui.shots import write_screenshots

    for path in asyncio.run(write_screenshots(out.resolve())):
        click.echo(str(path))
