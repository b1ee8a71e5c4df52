"""One installable package: a wheel holds only `pipetrace`; the embedding example runs."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_holds_one_top_level_package(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("pipetrace-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    tops = {name.split("/")[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"pipetrace"}
    for data in (
        "app/tui/app.tcss",
        "engine/lua/sandbox.lua",
        "engine/pipelines/pipelines.toml",
        "store/precompiled_sql/queries.trace_page.json",
    ):
        assert f"pipetrace/{data}" in names


def test_only_pipetrace_is_importable_outside_the_clone(tmp_path: Path) -> None:
    code = (
        "import importlib.util as u\n"
        "print([n for n in ('app', 'engine', 'store') if u.find_spec(n)])\n"
        "import pipetrace.app.cli, pipetrace.engine, pipetrace.store\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_embedding_example_runs_as_written(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Embedding the engine") :]
    example = re.search(r"```python\n(.*?)```", section, re.S)
    assert example is not None
    (tmp_path / "embed.py").write_text(example.group(1))
    result = subprocess.run(
        [sys.executable, "embed.py"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert result.returncode == 0, result.stderr
    decision, trace_id = result.stdout.split()
    assert decision == "allowed"
    with sqlite3.connect(tmp_path / "traces.db") as db:
        stored = db.execute("SELECT count(*) FROM pipeline_traces").fetchone()[0]
    assert stored == 1
    assert len(trace_id) == 32
