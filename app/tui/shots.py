"""Renders scenes to SVG with the real app on a fixed sample store and a fixed clock."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipetrace.store import open_store

from ..sample_store import SampleStore, build_sample_store
from . import make_app
from .scenes import FIXED_NOW, SCENES, Scene, settle, unreachable_url

STORE_FILE = "traces.db"


@contextmanager
def in_folder(folder: Path) -> Iterator[None]:
    """Run with `folder` as the working directory, so the store URL shows as a bare file name."""
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def prepare_store(folder: Path, kind: str, sample: Path) -> str:
    """Lay out the store a scene needs in `folder` and return the URL to open."""
    if kind == "unreachable":
        return unreachable_url()
    target = folder / STORE_FILE
    if kind == "sample":
        shutil.copyfile(sample, target)
    else:
        open_store(str(target)).close()
    return STORE_FILE


async def render_scene(scene: Scene, url: str, info: SampleStore) -> str:
    """Run the app through a scene headless and return the SVG of where it ended."""
    app = make_app(url, clock=lambda: FIXED_NOW)
    async with app.run_test(size=scene.size) as pilot:
        await settle(pilot)
        await scene.script(pilot, info)
        await settle(pilot)
        return app.export_screenshot(title=f"pipetrace: {scene.description}")


async def write_screenshots(out: Path) -> list[Path]:
    """Every scene as `out/<name>.svg`; the store and clock are fixed, so reruns match."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="pipetrace-shots-") as tmp:
        base = Path(tmp)
        sample = base / "sample.db"
        info = build_sample_store(str(sample), now_ns=FIXED_NOW)
        for scene in SCENES:
            folder = base / scene.name
            folder.mkdir()
            with in_folder(folder):
                url = prepare_store(folder, scene.store, sample)
                svg = await render_scene(scene, url, info)
            path = out / f"{scene.name}.svg"
            path.write_text(svg, encoding="utf-8")
            written.append(path)
    return written
