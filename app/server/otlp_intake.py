"""Where received spans enter the store: a request's spans are checked against the receiver's
limits, then queued whole or not at all on the store's bounded writer, whose thread merges each
batch of requests into the store as an import does (one transaction, duplicates stored once),
scrubbed of secrets first. The request thread never waits for the database."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipetrace.store import Repository, SpanRow, TraceWithSpans
from pipetrace.store.interop.importer import store_items
from pipetrace.store.interop.received import Received
from pipetrace.store.interop.spans import CarrierSpan, Item
from pipetrace.store.writer import TraceWriter

from ..otlp_limits import (
    BATCH_REQUESTS,
    DEFAULT_QUEUE_SPANS,
    MAX_SPANS_PER_REQUEST,
    STORE_RETRIES,
)
from .attribute_limit import over_limit

log = logging.getLogger("uvicorn.error")
"""uvicorn's own log, where `receive` shows its messages (escaped, see commands/server_logs)."""


class TooManySpans(Exception):
    """A request holding more spans than the receiver takes at once (answered 413)."""


class QueueFull(Exception):
    """The writer's queue has no room for a request's spans: the sender should send them again
    later; `stalled` says why the writer cannot write, when the store is unreachable."""

    def __init__(self, message: str, stalled: str | None) -> None:
        super().__init__(message)
        self.stalled = stalled


@dataclass(frozen=True, slots=True)
class Delivery:
    """The spans of one request, queued as one item (its weight is its span count)."""

    items: list[Item]
    source: str


@dataclass(frozen=True, slots=True)
class Taken:
    """What became of a request's spans: `accepted` queued, `rejected` left out (and why)."""

    accepted: int
    rejected: int
    problem: str | None


@dataclass(frozen=True, slots=True)
class IntakeCounts:
    """Spans taken (queued), rejected, refused while the queue was full (their senders send them
    again), written, failed and pending, and why the writer is stalled if it is."""

    received: int
    rejected: int
    refused: int
    written: int
    failed: int
    pending: int
    stalled: str | None
    last_error: str | None

    def as_json(self) -> dict[str, Any]:
        """The counts as a JSON object (the health check's `spans`)."""
        return {
            "received": self.received,
            "rejected": self.rejected,
            "refused": self.refused,
            "written": self.written,
            "failed": self.failed,
            "pending": self.pending,
            "stalled": self.stalled,
            "last_error": self.last_error,
        }


Scrub = Callable[[TraceWithSpans], None]


class Intake:
    """The receiver's way into the store: a TraceWriter counted in spans that merges batches."""

    def __init__(
        self,
        repo: Repository,
        scrub: Scrub,
        *,
        queue_spans: int = DEFAULT_QUEUE_SPANS,
        max_retries: int = STORE_RETRIES,
    ) -> None:
        self.repo = repo
        self.scrub = scrub
        self.writer = TraceWriter(
            repo,
            save=self._save,
            weight=lambda delivery: len(delivery.items),
            max_queue=queue_spans,
            batch_size=BATCH_REQUESTS,
            max_retries=max_retries,
        )
        self._lock = threading.Lock()
        self._received = self._rejected = self._refused = 0
        self._failed_logged = 0

    def take(self, received: Received, source: str) -> Taken:
        """Queue a request's spans within the limits; raises TooManySpans for a request over
        the span limit and QueueFull when the queue cannot take them all (nothing is queued)."""
        offered = len(received.items) + received.rejected
        if offered > MAX_SPANS_PER_REQUEST:
            raise TooManySpans(
                f"the request holds {offered} spans; the receiver takes at most "
                f"{MAX_SPANS_PER_REQUEST} a request (lower the exporter's batch size)"
            )
        items: list[Item] = []
        rejected, problem = received.rejected, received.problem
        for item in received.items:
            too_many = over_limit(_span(item))
            if too_many is None:
                items.append(item)
            else:
                rejected += 1
                problem = problem or too_many
        if len(items) > self.writer.max_queue:
            raise TooManySpans(
                f"the request holds {len(items)} spans; the receiver holds at most "
                f"{self.writer.max_queue} not yet written (its --queue-spans)"
            )
        if items and not self.writer.offer(Delivery(items, source)):
            stats = self.writer.stats()
            with self._lock:
                self._refused += len(items)
            raise QueueFull(
                f"the receiver holds {stats.pending} spans not yet written and cannot take "
                f"{len(items)} more; send them again later",
                stats.stalled,
            )
        with self._lock:
            self._received += len(items)
            self._rejected += rejected
        self._report_failures()
        return Taken(len(items), rejected, problem)

    def counts(self) -> IntakeCounts:
        """A snapshot of what the receiver took and what its writer did with it."""
        stats = self.writer.stats()
        with self._lock:
            taken = (self._received, self._rejected, self._refused)
        return IntakeCounts(
            *taken, stats.written, stats.failed, stats.pending, stats.stalled, stats.last_error
        )

    def close(self) -> IntakeCounts:
        """Write what is queued (waiting for the store up to the writer's limit), then stop."""
        self.writer.close()
        self._report_failures()
        return self.counts()

    def _save(self, deliveries: list[Delivery]) -> None:
        """Merge a batch of requests into the store, one transaction per source; each trace's
        spans of the batch together, so the scrub masks a secret one of them names in all."""
        for source in dict.fromkeys(d.source for d in deliveries):
            items = [item for d in deliveries if d.source == source for item in d.items]
            items.sort(key=lambda item: _span(item).trace_id)
            store_items(self.repo, items, source, f"spans received over {source}", self.scrub)

    def _report_failures(self) -> None:
        """Log spans the writer gave up on since the last report, so none is lost silently."""
        stats = self.writer.stats()
        with self._lock:
            new = stats.failed - self._failed_logged
            self._failed_logged = stats.failed
        if new > 0:
            log.error("could not store %d received spans: %s", new, stats.last_error)


def _span(item: Item) -> SpanRow:
    """The span an item holds (OTLP requests hold spans only, never trace notes)."""
    row = item.row if isinstance(item, CarrierSpan) else item
    assert isinstance(row, SpanRow), "an OTLP request holds spans only"
    return row
