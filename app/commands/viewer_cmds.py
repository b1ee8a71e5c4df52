"""`screenshots`: SVG pictures of every viewer state from a fixed store."""

from __future__ import annotations

from pathlib import Path

import click

from ..frontends import Frontends
from .common import say
from .context import pass_frontends


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("screenshots"),
    show_default=True,
    help="Folder for the SVG files.",
)
@pass_frontends
def screenshots(frontends: Frontends, out: Path) -> None:
    """Write an SVG of every viewer screen state (fixed data, fixed clock) to OUT."""
    for path in frontends.write_screenshots(out.resolve()):
        say(str(path))
