"""Pictures of every screen state, compared with the accepted SVGs in __snapshots__."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from pipetrace.app.sample_store import SampleStore
from pipetrace.app.tui.scenes import SCENES, Scene, settle, unreachable_url
from pipetrace.app.tui.shots import STORE_FILE
from pipetrace.store import open_store

SNAPSHOT_SCENES = [s for s in SCENES if s.name not in ("detail_help", "filter_range_error")]


@pytest.mark.parametrize("scene", SNAPSHOT_SCENES, ids=[s.name for s in SNAPSHOT_SCENES])
def test_screen_state(
    scene: Scene,
    sample: SampleStore,
    tmp_path: Path,
    viewer: Callable[..., object],
    snap_compare: Callable[..., bool],
) -> None:
    """Each scene looks as accepted: fixed clock, ids, size; no blink or animation."""
    url = STORE_FILE
    if scene.store == "empty":
        (tmp_path / STORE_FILE).unlink()
        open_store(STORE_FILE).close()
    elif scene.store == "unreachable":
        url = unreachable_url()

    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await scene.script(pilot, sample)
        await settle(pilot)

    assert snap_compare(viewer(url), terminal_size=scene.size, run_before=run)


def test_every_accepted_picture_belongs_to_a_scene() -> None:
    """No picture outlives its scene: syrupy's check for unused snapshots does not run under
    pytest-xdist."""
    folder = Path(__file__).parent / "__snapshots__" / Path(__file__).stem
    pictures = {path.name for path in folder.glob("*.svg")}
    assert pictures == {f"test_screen_state[{scene.name}].svg" for scene in SNAPSHOT_SCENES}
