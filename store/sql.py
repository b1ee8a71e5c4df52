"""Compiles SQLAlchemy Core statements once into SQLite-dialect text that both backends run."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

DIALECT = sqlite.dialect(paramstyle="qmark")


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL text with positional parameters."""

    sql: str
    params: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class InsertMany:
    """Rows for one table insert; each backend picks its fastest form (executemany, multi-row)."""

    table: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[Any, ...]]
    or_ignore: bool = False
    """Skip rows that break a unique index instead of failing (and do not count them)."""

    def single_row_sql(self) -> str:
        """The one-row INSERT text, for executemany."""
        return self.multi_row_sql(1)

    def multi_row_sql(self, count: int) -> str:
        """An INSERT of `count` rows in one statement, for batched remote writes."""
        group = "(" + ", ".join("?" * len(self.columns)) + ")"
        verb = "INSERT OR IGNORE" if self.or_ignore else "INSERT"
        return f"{verb} INTO {self.table} ({', '.join(self.columns)}) VALUES " + ", ".join(
            [group] * count
        )


Operation = Statement | InsertMany


def _compiled_sql(stmt: ClauseElement, **compile_kwargs: bool) -> SQLCompiler:
    """`stmt` compiled for SQLite: SQLAlchemy types compile() as any Compiled (DDL too), but a
    Core statement always compiles to a SQLCompiler, which knows its parameters' order."""
    return cast(SQLCompiler, stmt.compile(dialect=DIALECT, compile_kwargs=compile_kwargs))


def compile_statement(stmt: ClauseElement) -> Statement:
    """Render a Core statement with its bound values as positional parameters."""
    compiled = _compiled_sql(stmt, render_postcompile=True)
    params = compiled.construct_params()
    order = compiled.positiontup or []
    return Statement(compiled.string, tuple(_plain(params[name]) for name in order))


def _plain(value: Any) -> Any:
    """Drivers differ on booleans; send them as integers everywhere."""
    if isinstance(value, bool):
        return int(value)
    return value


_compiled: dict[Hashable, tuple[str, tuple[str, ...], dict[str, Any]]] = {}


def cached_statement(
    key: Hashable, build: Callable[[], ClauseElement], values: dict[str, Any]
) -> Statement:
    """Compile `build()` once per `key` (a statement's shape), then only bind `values` by name."""
    entry = _compiled.get(key)
    if entry is None:
        compiled = _compiled_sql(build())
        names = tuple(compiled.positiontup or ())
        defaults = {name: compiled.binds[name].value for name in names}
        entry = (compiled.string, names, defaults)
        _compiled[key] = entry
    sql, names, defaults = entry
    return Statement(sql, tuple(_plain(values.get(name, defaults[name])) for name in names))
