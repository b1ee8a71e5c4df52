"""A file's spans held in memory by trace, so the traces the store does not have yet can be
written directly, without staging: each span once (a repeated delivery is dropped), in file
order within its trace, with what its trace's summary needs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from ..codec import dump_json
from .summary import SpanFacts


class HeldSpan(NamedTuple):
    """One span's row values (SPAN_COLUMNS order) and what its summary reads besides them."""

    values: tuple[Any, ...]
    carried: str | None
    user: str | None
    ip: str | None
    resource: str | None
    run: tuple[Any, Any, Any] | None
    """A script span's `script.sha256`, `limit` and `custom` attributes, which its rollups read
    (store/batch_runs.py); None for other spans."""

    def facts(self) -> SpanFacts:
        """What `summarize` needs of this span."""
        v = self.values
        return SpanFacts(
            v[1], v[2], v[3], v[4], v[8], v[9], v[10], v[11],
            self.user, self.ip, self.resource, self.carried,
        )  # fmt: skip

    def staged(self, identity: str) -> tuple[Any, ...]:
        """The span as `ImportStage.add_spans` takes it."""
        return (identity, self.carried, self.user, self.ip, *self.values)


def identity_key(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """What makes two deliveries one span: trace, id, kind, parent, name, times, attributes."""
    trace_id, span_id, parent, name, kind = values[:5]
    return (trace_id, span_id, kind, parent, name, values[10], values[11], values[13])


def identity_digest(values: tuple[Any, ...]) -> str:
    """The identity as the stage stores it (a unique index keeps one staged row per digest)."""
    text = "\x1f".join(map(str, identity_key(values))).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=16).hexdigest()


class HeldSpans:
    """The spans of a file read so far, by trace, each delivery once."""

    def __init__(self) -> None:
        self.traces: dict[str, dict[tuple[Any, ...], HeldSpan]] = {}
        self.count = 0
        """Spans held (repeated deliveries not counted)."""
        self._resources: dict[int, tuple[Any, str | None]] = {}

    def add(
        self,
        values: tuple[Any, ...],
        carried: str | None,
        hints: tuple[Any, ...],
        extra: Any,
        run: tuple[Any, Any, Any] | None,
    ) -> None:
        """Hold a span unless the same delivery is held already; `extra` is its row's extra."""
        spans = self.traces.setdefault(values[0], {})
        key = identity_key(values)
        if key in spans:
            return
        resource = self._resource_text(extra.get("resource")) if extra else None
        spans[key] = HeldSpan(values, carried, hints[0], hints[1], resource, run)
        self.count += 1

    def _resource_text(self, resource: Any) -> str | None:
        """A resource's JSON text, made once per resource object (the spans of one resource
        share it; the object is kept with its text so its id is not reused meanwhile)."""
        if resource is None:
            return None
        found = self._resources.get(id(resource))
        if found is None:
            found = (resource, dump_json(resource))
            self._resources[id(resource)] = found
        return found[1]

    def spans_of(self, trace_id: str) -> Iterable[HeldSpan]:
        """A held trace's spans, in file order."""
        return self.traces[trace_id].values()

    def pop(self, trace_id: str) -> list[HeldSpan]:
        """Take a trace's spans out of the hold."""
        spans = list(self.traces.pop(trace_id, {}).values())
        self.count -= len(spans)
        return spans

    def drain(self) -> Iterator[HeldSpan]:
        """Every held span, emptying the hold."""
        for trace_id in list(self.traces):
            yield from self.pop(trace_id)
        self._resources.clear()
