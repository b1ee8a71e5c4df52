"""A trace's spans kept as the rows they were read as, so a trace of any size opens without
making an object per span: a span becomes a `SpanRow` when it is asked for, its JSON columns
decoded only when it is read whole."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .codec import span_from_row
from .columns import SPAN_COLUMNS
from .models import SpanRow

_INDEX = {name: index for index, name in enumerate(SPAN_COLUMNS)}


def span_values(span: SpanRow) -> tuple[Any, ...]:
    """A span's values in SPAN_COLUMNS order, its attributes and extra as they are (not JSON)."""
    return tuple(getattr(span, name) for name in SPAN_COLUMNS)


class SpanOutline:
    """Spans in start order, each a row of SPAN_COLUMNS values (anything after them is ignored).

    A sound row (see `store/sound_span_sql.py`) stays as it was fetched; a damaged one is read
    whole at once, with its problems, and its row replaced by the values it was read as, so every
    column (`column`) holds what a reader would see."""

    def __init__(self, rows: list[tuple[Any, ...]], read: dict[int, SpanRow]) -> None:
        self._rows = rows
        self._read = read
        """Spans read whole: damaged ones from the start, the others once looked at."""
        for index, span in read.items():
            rows[index] = span_values(span)

    @classmethod
    def of(cls, spans: Sequence[SpanRow]) -> SpanOutline:
        """An outline of spans already read whole."""
        return cls([()] * len(spans), dict(enumerate(spans)))

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: int) -> SpanRow:
        """The span at `index`; one not read whole comes without its attributes and extra."""
        read = self._read.get(index)
        if read is not None:
            return read
        (trace_id, span_id, parent, name, kind, script_id, layer, parallel, status, message,
         started, ended, duration) = self._rows[index][:13]  # fmt: skip
        return SpanRow(
            trace_id, span_id, name, status, started, parent, kind, script_id, layer, parallel,
            message, ended, duration,
        )  # fmt: skip

    def __iter__(self) -> Iterator[SpanRow]:
        return (self[index] for index in range(len(self._rows)))

    def whole(self, index: int) -> SpanRow:
        """The span at `index` with its attributes and extra, decoded the first time."""
        read = self._read.get(index)
        if read is None:
            read = self._read[index] = span_from_row(self._rows[index][: len(SPAN_COLUMNS)])
        return read

    def damaged(self) -> set[int]:
        """Indices of the spans whose rows could only be read in part."""
        return {index for index, span in self._read.items() if span.problems}

    def column(self, name: str) -> list[Any]:
        """Every span's value of column `name` (one of SPAN_COLUMNS but the JSON ones)."""
        index = _INDEX[name]
        return [row[index] for row in self._rows]
