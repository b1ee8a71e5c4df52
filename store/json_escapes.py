"""JSON that stays JSON and shows safely: NaN and infinities as the strings proto3 JSON uses, and
lone surrogates and the characters a terminal would obey as \\u escapes; plain Python, so the
command line can escape text without loading the store's rows."""

from __future__ import annotations

import math
import re
from typing import Any

_NONFINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
OBEYED_BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
"""Characters past the C0 controls that a terminal may obey instead of showing, as a regex class
body: DEL, the C1 controls (U+009B starts an escape sequence on some terminals), Unicode's
bidirectional controls (which can show a name reversed) and the line and paragraph separators.
JSON escapes the C0 controls itself; these it leaves as they are."""
_JSON_ESCAPED = f"[{OBEYED_BEYOND_C0}\ud800-\udfff]"
"""What `escape_json_text` escapes (compiled on first use, by `re`'s own cache)."""


def json_safe(value: Any) -> Any:
    """`value` with NaN and infinities as the strings proto3 JSON uses, so output stays JSON."""
    if type(value) is float:
        return value if math.isfinite(value) else _NONFINITE[str(value)]
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def escape_json_text(text: str) -> str:
    """JSON text with lone surrogates (UTF-8 cannot carry them) and the characters a terminal
    would obey (OBEYED_BEYOND_C0) as \\u escapes (in JSON text both only occur inside strings),
    so a reader gets the same strings back and a terminal shows them instead of obeying them."""
    return re.sub(_JSON_ESCAPED, lambda m: f"\\u{ord(m.group()):04x}", text)
