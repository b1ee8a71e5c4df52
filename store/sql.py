"""SQL text both backends run: statements built with SQLAlchemy Core and compiled once into the
SQLite dialect, or taken from the table of precompiled statements, so the everyday reads of a
command run without importing SQLAlchemy at all (store/precompiled_sql.json, written by
`python -m pipetrace.store.precompile`)."""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, cast

if TYPE_CHECKING:
    from sqlalchemy.sql import ClauseElement
    from sqlalchemy.sql.compiler import SQLCompiler

PRECOMPILED = Path(__file__).with_name("precompiled_sql")
"""One JSON file per named statement: its shape as JSON -> [SQL text, parameter names in order,
their default values]."""
Compiled = tuple[str, tuple[str, ...], dict[str, Any]]


class Statement(NamedTuple):
    """One SQL text with positional parameters."""

    sql: str
    params: tuple[Any, ...] = ()


class InsertMany(NamedTuple):
    """Rows for one table insert; each backend picks its fastest form (executemany, multi-row)."""

    table: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[Any, ...]]
    or_ignore: bool = False
    """Skip rows that break a unique index instead of failing (and do not count them)."""
    values: tuple[str, ...] = ()
    """Each column's value as SQL around its one parameter (`?` for all when empty)."""
    upsert: str = ""
    """What a row that breaks the primary key does instead (`ON CONFLICT ... DO UPDATE ...`)."""

    def single_row_sql(self) -> str:
        """The one-row INSERT text, for executemany."""
        return self.multi_row_sql(1)

    def multi_row_sql(self, count: int) -> str:
        """An INSERT of `count` rows in one statement, for batched remote writes."""
        group = "(" + ", ".join(self.values or "?" * len(self.columns)) + ")"
        verb = "INSERT OR IGNORE" if self.or_ignore else "INSERT"
        text = f"{verb} INTO {self.table} ({', '.join(self.columns)}) VALUES " + ", ".join(
            [group] * count
        )
        return f"{text} {self.upsert}" if self.upsert else text


Operation = Statement | InsertMany


def _compiled_sql(stmt: ClauseElement, **compile_kwargs: bool) -> SQLCompiler:
    """`stmt` compiled for SQLite: SQLAlchemy types compile() as any Compiled (DDL too), but a
    Core statement always compiles to a SQLCompiler, which knows its parameters' order."""
    return cast("SQLCompiler", stmt.compile(dialect=_dialect(), compile_kwargs=compile_kwargs))


@functools.cache
def _dialect() -> Any:
    """SQLite's dialect with ? parameters (importing SQLAlchemy, on the first compile only)."""
    from sqlalchemy.dialects import sqlite

    return sqlite.dialect(paramstyle="qmark")


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


def shape_key(shape: Sequence[Any]) -> str:
    """A statement's shape as the JSON that keys its precompiled text."""
    return json.dumps(list(shape), separators=(",", ":"))


def builder(book: str, name: str) -> Callable[..., ClauseElement]:
    """The function that builds `name` in `book`, a module of SQLAlchemy builders (relative to
    pipetrace.store, as ".queries"); importing it imports SQLAlchemy."""
    found: Callable[..., ClauseElement] = getattr(importlib.import_module(book, __package__), name)
    return found


def compile_named(book: str, name: str, shape: Sequence[Any]) -> Compiled:
    """A named statement's SQL text, parameter names and their defaults, compiled now."""
    compiled = _compiled_sql(builder(book, name)(*shape))
    names = tuple(compiled.positiontup or ())
    return compiled.string, names, {n: compiled.binds[n].value for n in names}


_compiled: dict[tuple[str, str, str], Compiled] = {}


def named_statement(
    book: str, name: str, shape: Sequence[Any], values: Mapping[str, Any]
) -> Statement:
    """Statement `name` of `book` for `shape` (what decides its text: a filter's shape, whether
    it continues after a cursor), with `values` bound by parameter name. Its text comes from
    the precompiled table or is compiled once per process (then SQLAlchemy is imported)."""
    key = (book, name, shape_key(shape))
    entry = _compiled.get(key)
    if entry is None:
        entry = load_precompiled(book, name).get(key[2]) or compile_named(book, name, shape)
        _compiled[key] = entry
    sql, names, defaults = entry
    return Statement(sql, tuple(_plain(values.get(n, defaults[n])) for n in names))


def built_statement(book: str, name: str, *args: Any) -> Statement:
    """Statement `name` of `book` built for `args` whose values shape its text (a list of ids),
    compiled each time; SQLAlchemy is imported."""
    return compile_statement(builder(book, name)(*args))


def precompiled_file(book: str, name: str) -> Path:
    """Where the precompiled shapes of statement `name` of `book` are kept."""
    return PRECOMPILED / f"{book.lstrip('.')}.{name}.json"


@functools.cache
def load_precompiled(book: str, name: str) -> dict[str, Compiled]:
    """The precompiled shapes of a statement (none for one that is always compiled)."""
    try:
        table = json.loads(precompiled_file(book, name).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return {shape: (sql, tuple(names), defaults) for shape, (sql, names, defaults) in table.items()}
