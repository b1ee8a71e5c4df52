"""`pipelines init DIR`: a copy of the bundled pipelines to edit, replay and backtest with."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from pipetrace.engine.bundled import bundled_pipelines_dir

from .common import fail, say


@click.group()
def pipelines() -> None:
    """The bundled pipelines: where they are, and a copy to edit."""


@pipelines.command("init")
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
def pipelines_init(folder: Path) -> None:
    """Copy the bundled auth pipelines (pipelines.toml and its .lua files) into DIR to edit.

    DIR must not exist yet or be empty; nothing is overwritten. Then run, replay or backtest
    with --pipelines DIR.
    """
    source = bundled_pipelines_dir()
    if folder.exists() and any(folder.iterdir()):
        fail(f"{folder}: not empty; pipelines init copies only into a new or empty folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for item in sorted(source.iterdir()):
            if item.is_file():
                shutil.copyfile(item, folder / item.name)
    except OSError as exc:
        fail(f"{folder}: cannot copy the bundled pipelines there ({exc.strerror or exc})", 1)
    say(f"copied the bundled pipelines from {source} to {folder}")
    say(f"edit them, then: pipetrace replay ID --pipelines {folder}")
