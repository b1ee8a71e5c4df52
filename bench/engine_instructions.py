"""Instructions per trigger (untraced, traced with nothing shipped, raw lupa) and per record
built, counted by callgrind: figures other tenants' load does not move, for weighing a change
to the trigger path or the recorder before paired bench/engine.py runs. Needs valgrind.

Usage: python bench/engine_instructions.py
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

_HERE = Path(__file__).resolve().parent
_FEWER, _MORE = 200, 1200
"""Each count is the difference of two runs, so start-up and warm-up cancel out."""
_WARM_UP = 200
_TOTALS = re.compile(rb"^(?:summary|totals): (\d+)", re.MULTILINE)
MODES = {
    "untraced": "untraced trigger",
    "traced": "traced trigger, facts packed and not shipped",
    "raw": "raw lupa, the same five chunks",
    "record": "record built from packed facts (redaction included)",
}


def _bench() -> ModuleType:
    """bench/engine.py, whose name the engine package shadows on the import path."""
    spec = importlib.util.spec_from_file_location("engine_bench", _HERE / "engine.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(mode: str, n: int) -> None:
    """Do mode's work n times after a warm-up (under callgrind, in a child process)."""
    bench = _bench()
    with tempfile.TemporaryDirectory() as tmp:
        pipelines = bench.build_pipelines(Path(tmp))
    if mode == "raw":
        call = bench.raw_lupa(pipelines)
        for _ in range(_WARM_UP + n):
            call()
        return
    engine = bench.Engine(pipelines, sink=None if mode == "untraced" else bench.DequeSink())
    if mode == "untraced":
        bench.run_engine(engine, _WARM_UP + n)
        return
    facts: list[bytes] = []
    engine._dispatcher.put = facts.append  # keep the packed facts instead of shipping them
    if mode == "traced":
        for _ in range(_WARM_UP + n):
            engine.execute_trigger("before_signup", bench.INPUT, bench.META)
            facts.clear()
        return
    bench.run_engine(engine, _WARM_UP + _MORE)  # the same triggers whatever n is
    build = engine._dispatcher._build
    for packed in facts[: _WARM_UP + n]:
        build(packed)


def count(mode: str, n: int, folder: Path) -> int:
    """Instructions callgrind counts for a child process doing mode's work n times."""
    out = folder / f"{mode}.{n}.out"
    subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
         __file__, "--run", mode, str(n)],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    found = _TOTALS.search(out.read_bytes())
    assert found, f"no totals in {out}"
    return int(found.group(1))


def main() -> None:
    """Print the instructions of each mode per trigger or record."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", nargs=2, metavar=("MODE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run(args.run[0], int(args.run[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        for mode, what in MODES.items():
            per = (count(mode, _MORE, Path(tmp)) - count(mode, _FEWER, Path(tmp))) // (
                _MORE - _FEWER
            )
            print(f"{what:52}: {per:9,} instructions")


if __name__ == "__main__":
    main()
