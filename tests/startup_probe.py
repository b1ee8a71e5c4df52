"""Runs `pipetrace` in a fresh process and reports which packages it imported, for the tests
that keep start-up light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """\
import json, sys
out, args = sys.argv[1], json.loads(sys.argv[2])
sys.argv = ["pipetrace", *args]
try:
    from pipetrace.app.cli import main
    main()
except SystemExit:
    pass
finally:
    with open(out, "w") as f:
        json.dump(sorted(sys.modules), f)
"""
HEAVY = ("alembic", "sqlalchemy", "textual", "lupa", "rich")


def imported_by(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, top_level: bool = True
) -> set[str]:
    """The packages (or with `top_level` False, the modules) a fresh `pipetrace ARGS` imported,
    its output sent to a pipe; `env` adds to the environment."""
    out = tmp_path / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    names = json.loads(out.read_text())
    return {name.split(".")[0] for name in names} if top_level else set(names)
