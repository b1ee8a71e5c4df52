"""The --pipelines option and its help, which names where the bundled set lives."""

from __future__ import annotations

from pathlib import Path

import click

from pipetrace.engine.bundled import bundled_pipelines_dir


def bundled_help(what: str) -> str:
    """Help for a --pipelines option that names where the bundled set lives."""
    return (
        f"{what} [default: the bundled auth set, {bundled_pipelines_dir()}; "
        "copy it to edit with `pipetrace pipelines init DIR`]."
    )


pipelines_option = click.option(
    "--pipelines",
    "pipelines_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=bundled_help("A pipelines folder (pipelines.toml and .lua files)"),
)
"""--pipelines DIR, handed to the command as `pipelines_dir: Path | None`."""
