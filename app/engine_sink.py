"""Connects the engine to the store: engine trace records become stored rows off the hot path."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from pipetrace.engine import (
    Engine,
    IdSource,
    Pipelines,
    TraceRecord,
    bundled_pipelines_dir,
    load_pipelines,
)
from pipetrace.store import (
    DatabaseTarget,
    Repository,
    SpanRow,
    StoreError,
    TraceRow,
    TraceWithSpans,
    open_store,
)
from pipetrace.store.writer import TraceWriter

from .wording import counted

log = logging.getLogger(__name__)


def record_to_rows(record: TraceRecord) -> TraceWithSpans:
    """The store's rows for one engine trace (writer thread; the store derives durations)."""
    trace = TraceRow(
        id=record.trace_id,
        trigger_event=record.trigger_event,
        status=record.status,
        status_message=record.status_message,
        started_at=record.started_at,
        ended_at=record.ended_at,
        user_id=record.user_id,
        request_ip=record.request_ip,
        context_snapshot=record.context_snapshot,
        result_data=record.result_data if isinstance(record.result_data, dict) else None,
        allowed=record.allowed,
        replay_of=record.replay_of,
        pipeline_version=record.pipeline_version,
        span_count=len(record.spans),
    )
    spans = [
        SpanRow(
            trace_id=record.trace_id,
            id=s.span_id,
            parent_span_id=s.parent_span_id,
            name=s.name,
            kind=s.kind,
            script_id=s.script_id,
            layer_index=s.layer_index,
            parallel_index=s.parallel_index,
            status=s.status,
            status_message=s.status_message,
            started_at=s.started_at,
            ended_at=s.ended_at,
            attributes=s.attributes,
        )
        for s in record.spans
    ]
    return TraceWithSpans(trace, spans, record.sources)


class StoreSink:
    """The store's writer for a recorder process (see engine.OutOfProcess): it opens its own
    connection there and closes it with the writer, reporting traces it could not write."""

    def __init__(self, store: str | DatabaseTarget) -> None:
        self.repository = open_store(store)
        if self.repository.schema_notice:
            log.warning(self.repository.schema_notice)
        self.writer = TraceWriter(self.repository, convert=record_to_rows)

    def submit(self, record: TraceRecord) -> None:
        """Queue one record for the writer thread."""
        self.writer.submit(record)

    @property
    def written(self) -> int:
        """Traces the writer committed to the store, which the engine passes on to the caller
        (engine.sink_written), so a fill counts its own writes, not what the store holds later."""
        return self.writer.stats().written

    @property
    def stall(self) -> str | None:
        """Why the writer cannot write just now (the store is unavailable), for the caller
        waiting on a flush (see engine.OutOfProcess)."""
        return self.writer.stats().stalled

    def flush(self) -> None:
        """Wait until the queued records are written; raise if some could not be."""
        self.writer.flush()
        self._check()

    def close(self) -> None:
        """Write what is queued, then release the connection; raise if some were lost."""
        self.writer.close()
        self.repository.close()
        self._check()

    def _check(self) -> None:
        """Turn the writer's losses into an error the recorder process reports."""
        stats = self.writer.stats()
        if stats.failed or stats.dropped:
            lost = stats.failed + stats.dropped
            raise StoreError(
                f"{counted(lost, 'trace')} not written to {self.repository.url}: {stats.last_error}"
            )


@contextmanager
def recording_engine(
    repository: Repository,
    pipelines: Pipelines | str | Path | None = None,
    *,
    clock: Callable[[], int] | None = None,
    ids: IdSource | None = None,
    secrets: Mapping[str, str] | None = None,
) -> Iterator[tuple[Engine, TraceWriter]]:
    """An engine whose traces go to `repository` through a background writer; both are
    drained and closed on exit, so every trace of the block is stored when it ends.

    `pipelines` is a folder to load (the bundled one when None) or pipelines already loaded;
    `secrets` are what helpers.secret hands the scripts."""
    writer = TraceWriter(repository, convert=record_to_rows)
    if not isinstance(pipelines, Pipelines):
        pipelines = load_pipelines(pipelines or bundled_pipelines_dir())
    engine = Engine(pipelines, sink=writer, clock=clock, ids=ids, secrets=secrets)
    try:
        yield engine, writer
    finally:
        engine.close()
        writer.close()
