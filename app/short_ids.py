"""Trace ids shortened for display so that distinct traces never look alike and each still
resolves with `pipetrace show`: the significant part (a 64-bit id without its zero padding),
cut to a length that keeps some digits after any run of leading zeros."""

from __future__ import annotations

from collections.abc import Iterable

from pipetrace.store.trace_ids import significant_id

SHORT_DIGITS = 12
"""Digits shown of an id, when that many tell it apart."""
AFTER_ZEROS = 4
"""Digits kept after an id's leading zeros, so ids such as 0…01000… and 0…02000… differ."""


def short_id(trace_id: str) -> str:
    """`trace_id` as lists and links show it: a prefix of its significant part."""
    significant = significant_id(trace_id)
    zeros = len(significant) - len(significant.lstrip("0"))
    return significant[: max(SHORT_DIGITS, zeros + AFTER_ZEROS)]


def short_ids(trace_ids: Iterable[str]) -> dict[str, str]:
    """Each id's short form, lengthened where two would look the same (as git abbreviates)."""
    ids = list(dict.fromkeys(trace_ids))
    shown = {trace_id: short_id(trace_id) for trace_id in ids}
    while True:
        seen: dict[str, list[str]] = {}
        for trace_id in ids:
            seen.setdefault(shown[trace_id], []).append(trace_id)
        alike = [group for group in seen.values() if len(group) > 1]
        if not alike:
            return shown
        for group in alike:
            for trace_id in group:
                longer = significant_id(trace_id)[: len(shown[trace_id]) + 1]
                # A foreign id equal to another's significant part: only the whole ids differ.
                shown[trace_id] = longer if longer != shown[trace_id] else trace_id
