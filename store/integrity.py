"""SQLite's own checks of a store: the quick check that cleanup and vacuum pass before they
change anything, and the full integrity check that `pipetrace db check` runs a table at a time,
so it can show how far it is (SQLite runs each check as one step it does not report on)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .backends import Backend
from .errors import StoreDamaged
from .sql import Statement

MAX_PROBLEMS = 100
"""SQLite stops listing problems after this many."""
PAGES_STEP = "pages and free list"


@dataclass(frozen=True, slots=True)
class CheckStep:
    """The part of the check about to run: a table and its indexes, or the whole file's pages."""

    name: str
    number: int
    """1 for the first step."""
    total: int


def _problems(backend: Backend, pragma: str) -> list[str]:
    """The problems a check pragma lists, one a line; none when it answers "ok"."""
    rows = backend.query(Statement(pragma))
    lines = [line for row in rows for line in str(row[0]).splitlines()]
    return [line for line in lines if line != "ok" and not line.startswith("*** in database")]


def quick_problems(backend: Backend) -> list[str]:
    """SQLite's quick check: every page of every table and index read once (no comparison of
    indexes with their tables), the free list and pages used twice or never."""
    return _problems(backend, f"PRAGMA quick_check({MAX_PROBLEMS})")


def refuse_if_damaged(backend: Backend, doing: str) -> None:
    """Raise StoreDamaged naming the first problem when the quick check finds any, before
    `doing` (cleanup, vacuum) changes a store it could damage further."""
    problems = quick_problems(backend)
    if problems:
        more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
        raise StoreDamaged(
            f"{backend.target.display}: SQLite's quick check finds the store damaged "
            f"({problems[0]}{more}); {doing} changes nothing in a damaged store: run "
            "pipetrace db check to see what is wrong"
        )


def integrity_problems(
    backend: Backend, on_step: Callable[[CheckStep], None] | None = None
) -> list[str]:
    """SQLite's full integrity check, a table (with its indexes) at a time, then the pages and
    free list of the whole file; every problem found, up to MAX_PROBLEMS per step."""
    rows = backend.query(
        Statement(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' "
            "ORDER BY name"
        )
    )
    tables = [str(row[0]) for row in rows]
    total = len(tables) + 1
    problems: list[str] = []
    for number, table in enumerate(tables, start=1):
        if on_step is not None:
            on_step(CheckStep(table, number, total))
        quoted = '"' + table.replace('"', '""') + '"'
        try:
            problems += _problems(backend, f"PRAGMA integrity_check({quoted})")
        except StoreDamaged as exc:
            problems.append(f"{table} or its indexes: SQLite stopped checking ({exc.sqlite_says})")
    if on_step is not None:
        on_step(CheckStep(PAGES_STEP, total, total))
    try:
        problems += [p for p in quick_problems(backend) if p not in problems]
    except StoreDamaged as exc:
        problems.append(f"{PAGES_STEP}: SQLite stopped checking ({exc.sqlite_says})")
    return problems
