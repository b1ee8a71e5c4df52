"""A script's source as a trace store keeps it: a secret written into a script (a string literal
under a secret-named key, a helper's secret, a secret of a recognised shape) is masked, so
storing the versions that ran adds no secret to the store."""

from __future__ import annotations

import re

from pipetrace.engine.redaction.patterns import REDACTED
from pipetrace.engine.redaction.scrub import Redactor

_KEYED_LITERAL = re.compile(
    r"""(?P<key>\[\s*(?P<kq>["'])(?P<quoted>[^"'\n]*)(?P=kq)\s*\]|(?P<name>[A-Za-z_]\w*))"""
    r"""(?P<between>\s*=\s*)(?P<q>["'])(?P<value>(?:\\.|(?!(?P=q))[^\\\n])*)(?P=q)"""
)
"""`name = "text"` or `["name"] = 'text'` on one line: a Lua assignment or table field whose
value is a short string literal (not a comparison: `==` and `~=` do not match)."""


def masked_source(text: str, redactor: Redactor) -> str:
    """`text` with what redaction would mask in a trace masked: literals under secret-named keys
    (by the folder's key rules), then helpers' secrets and secret shapes anywhere."""

    def mask(found: re.Match[str]) -> str:
        key = found.group("quoted") if found.group("quoted") is not None else found.group("name")
        if not redactor.rules.is_secret(key):
            return found.group()
        quote = found.group("q")
        return f"{found.group('key')}{found.group('between')}{quote}{REDACTED}{quote}"

    return redactor.text(_KEYED_LITERAL.sub(mask, text))
