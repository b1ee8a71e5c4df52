"""auther's UUID ids as W3C trace and span ids, and back, for export and for typed prefixes.

A trace id is the UUID's 32 hex digits without its dashes (reversible: put the dashes back at
8-4-4-4-12). A span id is the first 16 hex digits of the span's UUID; the whole UUID travels
beside it in the `auther.span.uuid` attribute, which is what makes a span id reversible.
"""

from __future__ import annotations

import re

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SPAN_UUID_KEY = "auther.span.uuid"
_GROUPS = (8, 4, 4, 4, 12)


def is_uuid(text: str) -> bool:
    """Whether `text` is a UUID as JavaScript's crypto.randomUUID writes it."""
    return UUID_TEXT.fullmatch(text) is not None


def w3c_trace_id(trace_id: str) -> str:
    """A UUID trace id as 32 hex digits; any other id as it is."""
    return trace_id.replace("-", "") if is_uuid(trace_id) else trace_id


def w3c_span_id(span_id: str) -> str:
    """A UUID span id as its first 16 hex digits; any other id as it is."""
    return span_id.replace("-", "")[:16] if is_uuid(span_id) else span_id


def dashed(hex_text: str) -> str:
    """Hex digits typed without dashes (a whole W3C id or a prefix) put back in UUID form."""
    parts, start = [], 0
    for size in _GROUPS:
        if start >= len(hex_text):
            break
        parts.append(hex_text[start : start + size])
        start += size
    return "-".join(parts)


def stored_prefix(text: str) -> str:
    """The stored UUID prefix a typed id prefix means: as typed when it has dashes, dashed
    when it is more than 8 hex digits without them (an exported W3C id or part of one)."""
    text = text.strip().lower()
    if "-" in text or len(text) <= 8 or not re.fullmatch(r"[0-9a-f]+", text):
        return text
    return dashed(text)
