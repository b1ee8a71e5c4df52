"""Viewer fixtures: the fixed sample store copied into each test's folder, and the fixed clock."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.worker import Worker, WorkerState
from textual.worker_manager import WorkerManager

from pipetrace.app.sample_store import SampleStore, build_sample_store
from pipetrace.app.tui import PipetraceApp, make_app
from pipetrace.app.tui.scenes import FIXED_NOW
from pipetrace.app.tui.shots import STORE_FILE
from pipetrace.store import Repository, open_store

Viewer = Callable[..., PipetraceApp]


@pytest.fixture(scope="session")
def sample_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleStore]:
    """The sample store, built once per session."""
    path = tmp_path_factory.mktemp("sample") / "sample.db"
    return path, build_sample_store(str(path), now_ns=FIXED_NOW)


@pytest.fixture
def sample(
    sample_source: tuple[Path, SampleStore], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> SampleStore:
    """A private copy of the sample store as ./traces.db (so pictures show a fixed URL)."""
    shutil.copyfile(sample_source[0], tmp_path / STORE_FILE)
    monkeypatch.chdir(tmp_path)
    return sample_source[1]


@pytest.fixture
def sample_repo(sample: SampleStore) -> Iterator[Repository]:
    """A second connection to the test's sample store, for comparing and writing."""
    repo = open_store(STORE_FILE)
    try:
        yield repo
    finally:
        repo.close()


@pytest.fixture
def viewer() -> Viewer:
    """Builds the app as the tests run it: fixed clock, quick live polling."""

    def build(url: str = STORE_FILE, **kwargs: object) -> PipetraceApp:
        kwargs.setdefault("poll_interval", 0.05)
        return make_app(url, clock=lambda: FIXED_NOW, **kwargs)  # type: ignore[arg-type]

    return build


@pytest.fixture
def worker_errors(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[BaseException]]:
    """The exceptions the viewer's workers have ended on so far in the test. A worker's bug
    opens the bug dialog only while its screen still runs (the report is a message to that
    screen), so one on a screen being closed is seen here alone."""
    started: list[Worker[object]] = []
    add = WorkerManager.add_worker

    def recording(
        manager: WorkerManager, worker: Worker[object], start: bool = True, exclusive: bool = True
    ) -> None:
        started.append(worker)
        add(manager, worker, start=start, exclusive=exclusive)

    monkeypatch.setattr(WorkerManager, "add_worker", recording)
    return lambda: [w.error for w in started if w.state == WorkerState.ERROR and w.error]
