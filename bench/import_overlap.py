"""Import overlap: would running an import's SQLite writes on a second thread, beside its Python
side, make it faster on this machine? Measures the best a reader/writer pipeline could do,
without building one.

For a file of bench/interop.py's traces, each round times
  sequential: `import_file` into an empty SQLite store, split into its one write transaction
          (the statements captured) and the rest (reading, holding, summarising, tallying);
  overlapped: the import's Python side alone (its write made a no-op) on the main thread while
          a second thread runs the very statements it captured into another empty store: a
          perfect pipeline, which no real one beats (sqlite3 lets go of the interpreter while it
          steps a statement);
  batched: the same, with each large plain insert sent as one statement per 2,000 rows that reads
          them from a JSON array (json_each), so the writer lets go of the interpreter once per
          batch rather than once per row (a measurement only: JSON does not carry every value
          the store's rows can hold);
  two Python sides: the Python side twice, one after the other and then on two threads (the
          interpreter's lock lets one run at a time, so splitting decoding from building rows
          on threads cannot gain);
  free core: a SQLite query on a thread beside a Python loop, against the two one after the
          other: what the machine's second core gives at the moment, whatever Python does.
The load average (/proc/loadavg) is printed beside each round: on a shared machine the second
core is often someone else's.

Usage: python bench/import_overlap.py [--quick] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import _common  # noqa: F401  (puts the repository root on sys.path)
from interop import SPANS_PER_TRACE, build, decode_all

from pipetrace.store import Repository, open_store
from pipetrace.store.interop import import_file, write_export
from pipetrace.store.sql import InsertMany, Operation, Statement

BATCH = 2000


def loadavg() -> str:
    """The one-minute load average."""
    return Path("/proc/loadavg").read_text().split()[0]


def seconds(work: Callable[[], object]) -> float:
    """Wall-clock seconds of one call."""
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def together(main: Callable[[], object], side: Callable[[], object]) -> float:
    """Wall-clock seconds of `main` on this thread with `side` on another, until both end."""
    thread = threading.Thread(target=side)
    started = time.perf_counter()
    thread.start()
    main()
    thread.join()
    return time.perf_counter() - started


def captured_import(repo: Repository, path: Path) -> tuple[float, float, list[Operation]]:
    """(seconds of the whole import, seconds of its writes, the statements it wrote)."""
    operations: list[Operation] = []
    spent = [0.0]
    write = repo.backend.write

    def capture(ops: Sequence[Operation]) -> list[int]:
        operations.extend(ops)
        started = time.perf_counter()
        changed = write(ops)
        spent[0] += time.perf_counter() - started
        return changed

    repo.backend.write = capture  # type: ignore[method-assign,assignment]
    total = seconds(lambda: import_file(repo, path))
    return total, spent[0], operations


def python_side(repo: Repository, path: Path) -> None:
    """The import with its writes dropped: reading, holding, summarising and tallying only."""
    repo.backend.write = lambda ops: [0] * len(ops)  # type: ignore[method-assign,assignment]
    import_file(repo, path)


def batched(operations: Sequence[Operation]) -> list[Operation]:
    """`operations` with each plain insert of more than BATCH rows read from JSON arrays."""
    out: list[Operation] = []
    for op in operations:
        if not isinstance(op, InsertMany) or len(op.rows) <= BATCH or op.upsert or op.values:
            out.append(op)
            continue
        columns = ", ".join(op.columns)
        values = ", ".join(f"value ->> {i}" for i in range(len(op.columns)))
        sql = f"INSERT INTO {op.table} ({columns}) SELECT {values} FROM json_each(?)"
        for start in range(0, len(op.rows), BATCH):
            out.append(Statement(sql, (json.dumps(op.rows[start : start + BATCH]),)))
    return out


def cte() -> None:
    """About a second of SQLite work that holds no interpreter lock."""
    conn = sqlite3.connect(":memory:")
    sql = (
        "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 5000000) "
        "SELECT sum(i) FROM r"
    )
    conn.execute(sql).fetchall()
    conn.close()


def spin() -> None:
    """About a second of pure Python work."""
    total = 0
    for i in range(25_000_000):
        total += i


def one_round(path: Path, lines: list[str], store: Callable[[], Repository]) -> str:
    """One round of every measurement, as a line of figures."""
    decode = seconds(partial(decode_all, lines))
    total, written, operations = captured_import(store(), path)
    python = total - written
    overlapped = together(
        partial(python_side, store(), path), partial(store().backend.write, operations)
    )
    rows_json = seconds(partial(batched, operations))
    in_json = batched(operations)
    batch_alone = seconds(partial(store().backend.write, in_json))
    batch_overlapped = together(
        partial(python_side, store(), path), partial(store().backend.write, in_json)
    )
    first, second = partial(python_side, store(), path), partial(python_side, store(), path)
    alone = seconds(first) + seconds(second)
    split = together(partial(python_side, store(), path), partial(python_side, store(), path))
    apart = seconds(spin) + seconds(cte)
    beside = together(spin, cte)
    return (
        f"load {loadavg()}: sequential {total:.2f} (python {python:.2f} + writes "
        f"{written:.2f}) = {total / decode:.2f}; overlapped {overlapped:.2f} = "
        f"{overlapped / decode:.2f} ({overlapped / total:.0%} of sequential, perfect "
        f"{max(python, written) / total:.0%}); batched: writes {batch_alone:.2f} "
        f"(+ {rows_json:.2f} of JSON), overlapped {batch_overlapped:.2f} = "
        f"{batch_overlapped / total:.0%} of sequential; two python sides on threads "
        f"{split / alone:.0%} of one after the other; free core: C beside Python "
        f"{beside / apart:.0%} of one after the other (perfect ~50%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 spans instead of 100,000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n_traces = (10_000 if args.quick else 100_000) // SPANS_PER_TRACE
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        source = open_store(str(folder / "source.db"))
        try:
            items = build(n_traces)
            source.save_traces(items)
            path = folder / "export.jsonl"
            write_export(source, [t.trace.id for t in items], path)
        finally:
            source.close()
        lines = path.read_text().splitlines()
        print(f"{n_traces * SPANS_PER_TRACE:,} spans; seconds, ratios to json.loads of the file")
        opened: list[Repository] = []

        def store() -> Repository:
            opened.append(open_store(str(folder / f"t{len(opened)}.db")))
            return opened[-1]

        for _ in range(args.rounds):
            print(one_round(path, lines, store))
        for repo in opened:
            repo.close()


if __name__ == "__main__":
    main()
