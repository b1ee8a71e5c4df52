"""The viewer on an auther database: the list and a detail with a custom span under its
script's span, a skipped span and the "auther store" status line, as accepted pictures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from auther_db import AutherWriter, file_digest, migrate, sqlite_runner
from auther_samples import fill
from textual.pilot import Pilot

from pipetrace.app.tui.scenes import FIXED_NOW, press, settle

AUTHER_FILE = "auther.db"
SIZE = (120, 32)


@pytest.fixture
def auther_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An auther database as ./auther.db (a fixed URL in the pictures), dated from the
    viewer's fixed clock."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / AUTHER_FILE
    run = sqlite_runner(path)
    migrate(run)
    fill(AutherWriter(run), now_ms=FIXED_NOW // 1_000_000)
    return path


@pytest.mark.parametrize("keys", [(), ("enter",)], ids=["list", "detail"])
def test_auther_store_pictures(
    keys: tuple[str, ...],
    auther_file: Path,
    viewer: Callable[..., object],
    snap_compare: Callable[..., bool],
) -> None:
    digest = file_digest(auther_file)

    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await press(pilot, *keys)
        await settle(pilot)

    assert snap_compare(viewer(AUTHER_FILE), terminal_size=SIZE, run_before=run)
    assert file_digest(auther_file) == digest
