"""A backtest of an auther database: its traces were not recorded by the engine, so none has an
input to replay; each matching trace is counted as skipped, and no worker is started."""

from __future__ import annotations

import json
from pathlib import Path

from auther_samples import AutherStore
from click.testing import CliRunner

from pipetrace.app.cli import main


def test_every_trace_is_skipped_as_imported(auther_store: AutherStore, tmp_path: Path) -> None:
    folder = tmp_path / "candidate"
    made = CliRunner().invoke(main, ["pipelines", "init", str(folder)])
    assert made.exit_code == 0, made.output
    args = ["backtest", "--pipelines", str(folder), "--db", auther_store.url, "--json"]

    shown = CliRunner().invoke(main, args)

    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.stdout)
    assert report["matched"] == 3
    assert report["replayed"] == 0
    assert report["skipped"] == {"imported (no stored input)": 3}
    blocked = CliRunner().invoke(main, [*args, "--status", "blocked"])
    assert json.loads(blocked.stdout)["skipped"] == {"imported (no stored input)": 1}
