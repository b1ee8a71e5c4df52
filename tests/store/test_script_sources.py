"""Every script version the engine ran is kept once by its sha256, in the write that stores its
trace, on both backends; cleanup drops a version once no remaining trace uses it; a store from
before the table is read and written as it is."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from factories import BASE_NS, make_trace

from pipetrace.app.engine_sink import recording_engine
from pipetrace.engine import bundled_pipelines_dir, load_pipelines
from pipetrace.store import Repository, StoreError, TraceWithSpans, open_store
from pipetrace.store.backends import open_backend
from pipetrace.store.migrate import upgrade
from pipetrace.store.schema import HOUR_NS
from pipetrace.store.sql import Statement
from pipetrace.store.url import parse_database_url

SIGNUP = {"email": "ana@example.com", "ip": "81.2.69.160", "country": "DE"}


def _kept(repo: Repository) -> dict[str, tuple[str, int]]:
    """sha256 -> (source, recorded_at) of every kept version."""
    rows = repo.backend.query(
        Statement("SELECT sha256, source, recorded_at FROM pipeline_script_sources")
    )
    return {str(sha): (str(text), int(at)) for sha, text, at in rows}


def _with_sources(n: int, started_at: int, *texts: str) -> TraceWithSpans:
    """Trace `n` whose script spans ran the versions `texts` (one span each)."""
    item = make_trace(n, started_at=started_at, spans=len(texts) + 1)
    shas = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
    for span, sha in zip(item.spans[1:], shas, strict=True):
        span.attributes["script.sha256"] = sha
    item.sources = dict(zip(shas, texts, strict=True))
    return item


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_recorded_trace_keeps_each_version_its_scripts_ran_once(
    repo: Repository, tmp_path: Path
) -> None:
    pipelines = load_pipelines(bundled_pipelines_dir())
    with recording_engine(repo, pipelines) as (engine, _writer):
        first = engine.execute_trigger("before_signup", SIGNUP, {})
    kept = _kept(repo)
    scripts = [s for layer in pipelines.triggers["before_signup"].layers for s in layer]
    assert {sha: text for sha, (text, _at) in kept.items()} == {
        s.sha256: (bundled_pipelines_dir() / s.file).read_text() for s in scripts
    }
    found = repo.get_trace_with_spans(first.trace_id)
    assert found is not None
    ran = {s.attributes["script.sha256"] for s in found.spans if "script.sha256" in s.attributes}
    assert ran == set(kept)

    folder = tmp_path / "candidate"
    shutil.copytree(bundled_pipelines_dir(), folder)
    risk = folder / "risk_scorer.lua"
    risk.write_text(risk.read_text().replace("THRESHOLD = 70", "THRESHOLD = 50"))
    with recording_engine(repo, folder) as (engine, _writer):
        engine.execute_trigger("before_signup", SIGNUP, {})
        engine.execute_trigger("before_signup", SIGNUP, {})
    again = _kept(repo)
    assert {sha: at for sha, (_t, at) in kept.items()} == {
        sha: again[sha][1] for sha in kept
    }  # written once: a later trace leaves a kept version as it was
    assert set(again) - set(kept) == {_sha(risk.read_text())}


def test_sources_are_written_in_the_same_transaction_as_their_traces(repo: Repository) -> None:
    repo.save_traces([make_trace(1)])
    with pytest.raises(StoreError):  # trace 1 again: the whole batch is refused
        repo.save_traces([_with_sources(2, BASE_NS, "return nil"), make_trace(1)])
    assert _kept(repo) == {}
    repo.save_traces([_with_sources(2, BASE_NS, "return nil")])
    assert set(_kept(repo)) == {_sha("return nil")}


def test_cleanup_removes_the_versions_no_remaining_trace_uses(repo: Repository) -> None:
    day = 24 * HOUR_NS
    repo.save_traces(
        [
            _with_sources(1, BASE_NS, "-- only old"),
            _with_sources(2, BASE_NS + 1, "-- both", "-- only old 2"),
            _with_sources(3, BASE_NS + 10 * day, "-- both"),
        ]
        + [_with_sources(10 + n, BASE_NS + n, "-- only old") for n in range(5)]
    )
    result = repo.cleanup_old_traces(BASE_NS + 5 * day, batch_size=2)
    assert result.traces == 7
    assert set(_kept(repo)) == {_sha("-- both")}
    repo.cleanup_old_traces(BASE_NS + 20 * day)
    assert _kept(repo) == {}


def test_a_version_cleanup_removed_is_kept_again_by_the_writer_that_wrote_it(
    store_url: str,
) -> None:
    writer, cleaner = open_store(store_url), open_store(store_url)
    try:
        writer.save_traces([_with_sources(1, BASE_NS, "-- rarely run")])
        cleaner.cleanup_old_traces(BASE_NS + 2 * HOUR_NS)
        assert _kept(cleaner) == {}
        writer.save_traces([_with_sources(2, BASE_NS + 3 * HOUR_NS, "-- rarely run")])
        assert set(_kept(cleaner)) == {_sha("-- rarely run")}
        assert cleaner.script_sources([_sha("-- rarely run"), "0" * 64]) == {
            _sha("-- rarely run"): "-- rarely run"
        }
    finally:
        writer.close()
        cleaner.close()


def test_a_store_from_before_the_table_is_read_and_written_as_it_is(tmp_path: Path) -> None:
    url = str(tmp_path / "old.db")
    backend = open_backend(parse_database_url(url))
    try:
        upgrade(backend, "0005")
    finally:
        backend.close()
    repo = open_store(url, migrate=False)
    try:
        assert not repo.keeps_sources
        repo.save_traces([_with_sources(1, BASE_NS, "return nil")])  # a viewer keeping a replay
        assert repo.script_sources([_sha("return nil")]) == {}
        repo.cleanup_old_traces(BASE_NS + 1)
        tables = repo.backend.query(Statement("SELECT name FROM sqlite_master"))
        assert ("pipeline_script_sources",) not in tables
    finally:
        repo.close()
    upgraded = open_store(url)
    try:
        assert upgraded.keeps_sources
        upgraded.save_traces([_with_sources(2, BASE_NS, "return nil")])
        assert upgraded.script_sources([_sha("return nil")]) == {_sha("return nil"): "return nil"}
    finally:
        upgraded.close()
