"""`screenshots`: SVG pictures of every viewer state, from a fixed sample store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click


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
