"""Shared helpers for engine tests: a collecting sink and a tiny pipelines-folder writer."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from pipetrace.engine import Engine, TraceRecord, load_pipelines


class CollectingSink:
    """A real sink that keeps every trace in a list."""

    def __init__(self) -> None:
        self.traces: list[TraceRecord] = []

    def submit(self, trace: TraceRecord) -> None:
        self.traces.append(trace)

    def after(self, engine: Engine) -> list[TraceRecord]:
        """Wait for the engine's dispatcher and return what reached this sink."""
        assert engine.flush(10)
        return self.traces


def write_pipelines(
    root: Path,
    scripts: dict[str, str],
    manifest: str,
) -> Path:
    """Write pipelines.toml and one .lua file per entry of scripts into root."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pipelines.toml").write_text(textwrap.dedent(manifest))
    for name, source in scripts.items():
        (root / name).write_text(textwrap.dedent(source))
    return root


@pytest.fixture
def sink() -> CollectingSink:
    return CollectingSink()


@pytest.fixture
def make_engine(tmp_path: Path, sink: CollectingSink):
    """Build an engine from inline scripts and manifest, closed after the test."""
    engines: list[Engine] = []

    def build(scripts: dict[str, str], manifest: str, **kwargs: Any) -> Engine:
        folder = write_pipelines(tmp_path / f"p{len(engines)}", scripts, manifest)
        kwargs.setdefault("sink", sink)
        engine = Engine(load_pipelines(folder), **kwargs)
        engines.append(engine)
        return engine

    yield build
    for engine in engines:
        engine.close()
