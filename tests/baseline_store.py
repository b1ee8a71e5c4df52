"""The store migration 0001 (the baseline) left, rows included, recreated on any backend."""

from __future__ import annotations

from pathlib import Path

from pipetrace.store.backends import open_backend
from pipetrace.store.migrate import split_sql_script
from pipetrace.store.sql import Statement
from pipetrace.store.url import parse_database_url

BASELINE = Path(__file__).parent / "store" / "fixtures" / "baseline_0001.sql"


def load_baseline(url: str) -> None:
    """Recreate the database the baseline revision left: 5 traces and 15 spans."""
    backend = open_backend(parse_database_url(url))
    try:
        backend.write([Statement(sql) for sql in split_sql_script(BASELINE.read_text())])
    finally:
        backend.close()
