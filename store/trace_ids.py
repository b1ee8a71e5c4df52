"""Trace ids as people type and read them: Zipkin and Jaeger 64-bit ids are stored padded."""

from __future__ import annotations

ID_DIGITS = 32
"""Hex digits of a stored (W3C, 128-bit) trace id."""
PADDING = "0" * 16
"""What a 64-bit id is left-padded with to be stored as 128 bits."""


def significant_id(trace_id: str) -> str:
    """The digits that tell a trace apart: the 16 of a 64-bit id stored zero-padded, else all."""
    if len(trace_id) == ID_DIGITS and trace_id.startswith(PADDING):
        return trace_id[len(PADDING) :]
    return trace_id


def lookup_prefixes(text: str) -> list[str]:
    """The stored-id prefixes a typed id prefix may mean, each one index range.

    The text itself; a 64-bit id (16 digits) or a prefix of one, as Zipkin prints it, behind
    the padding; and an id typed whole without its leading zeros, as Jaeger and Zipkin print
    one (`227` for 0…0227), padded back to 32 digits.
    """
    text = text.lower()
    prefixes = [text]
    if len(text) <= len(PADDING):
        prefixes.append(PADDING + text)
    if len(text) < ID_DIGITS and not text.startswith("0"):
        prefixes.append(text.rjust(ID_DIGITS, "0"))
    return list(dict.fromkeys(prefixes))
