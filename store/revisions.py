"""The packaged migration history, read from each script's declarations without importing it, so
a command tells whether a store needs a migration without loading Alembic and SQLAlchemy."""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import NamedTuple

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
"""Alembic's script location; its `versions` folder holds one script per revision."""
DECLARED = ("revision", "down_revision", "needed_to_read")
"""The module-level `name = value` (or `name: type = value`) lines read from each script."""


class Revision(NamedTuple):
    """One migration script as it declares itself (the attributes Alembic and the runner read)."""

    revision: str
    down_revision: str | None
    needed_to_read: bool
    """True if this version's reads fail on a store without it (the runner's default)."""


def history() -> tuple[Revision, ...]:
    """Every revision in MIGRATIONS_DIR, oldest first (read once per folder)."""
    return _history(str(MIGRATIONS_DIR))


@functools.cache
def _history(folder: str) -> tuple[Revision, ...]:
    scripts = [
        _declared(path)
        for path in sorted(Path(folder, "versions").glob("*.py"))
        if path.name != "__init__.py"
    ]
    after = {script.down_revision: script for script in scripts}
    ordered: list[Revision] = []
    while (step := after.pop(ordered[-1].revision if ordered else None, None)) is not None:
        ordered.append(step)
    if after or len(ordered) != len(scripts):
        raise RuntimeError(f"{folder}: the migrations are not one line of revisions")
    return tuple(ordered)


def _declared(path: Path) -> Revision:
    """A script's revision, the one it follows and whether reads need it, from its source."""
    values = {}
    for line in path.read_text().splitlines():
        target, equals, value = line.partition("=")
        name = target.partition(":")[0].strip()
        if equals and name in DECLARED and line.startswith(name):
            values[name] = ast.literal_eval(value.strip())
    revision, down = values.get("revision"), values.get("down_revision")
    if not isinstance(revision, str) or not isinstance(down, str | None):
        raise RuntimeError(f"{path}: no `revision = '...'` and `down_revision = ...` lines")
    return Revision(revision, down, bool(values.get("needed_to_read", True)))


def known_revisions() -> list[str]:
    """Every revision this version of pipetrace knows, oldest first."""
    return [step.revision for step in history()]


def head_revision() -> str:
    """The newest revision this version of pipetrace knows."""
    return history()[-1].revision


def includes(store_revision: str | None, revision: str) -> bool:
    """Whether a store at `store_revision` has `revision` applied."""
    if store_revision is None:
        return False
    known = known_revisions()
    if store_revision not in known:
        return True
    return known.index(store_revision) >= known.index(revision)


def pending(before: str | None, target: str | None = None) -> list[Revision]:
    """The revisions that bring a store at `before` (a known one, or None for an empty
    database) to `target` (the head by default), oldest first."""
    known = known_revisions()
    start = 0 if before is None else known.index(before) + 1
    end = len(known) if target is None else known.index(target) + 1
    return list(history()[start:end])


def pipetrace_version() -> str:
    """This installation's version, recorded with every revision it applies."""
    from importlib import metadata  # about 15 ms, paid only where a message or a log row needs it

    try:
        return metadata.version("pipetrace")
    except metadata.PackageNotFoundError:
        return "unknown"
