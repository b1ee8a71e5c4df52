"""Secrets recognised by their shape rather than by a key: card numbers (Luhn-checked), JWTs,
Bearer and Basic credentials, and credentials in URLs and in `name=value` pairs."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

REDACTED = "[REDACTED]"

PAIR_NAMES = frozenset({"key", "sig", "signature", "token"})
"""Query and `name=value` names masked even where the key rules would not call them secret."""

# Each pattern starts only where its first part starts and never gives back what a run took
# (possessive quantifiers), so long text costs one pass.
_USERINFO = re.compile(
    r"(?<![A-Za-z0-9+.-])(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*+://)[^\s/?#@:]*+:[^\s/?#@]++@"
)
_PAIR = re.compile(r"(?<![\w.-])(?P<name>[A-Za-z_][\w.-]{0,63}+)=(?P<value>[^\s&#;,\"'<>]++)")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"\b(?i:bearer)(?P<gap>\s+)(?P<credential>[A-Za-z0-9._~+/-]{8,}=*)")
_BASIC = re.compile(r"\bBasic(?P<gap>\s+)(?P<credential>[A-Za-z0-9+/]{8,}={0,2})")
_CARD = re.compile(r"(?<![0-9])[2-6][0-9]{3}(?:[ -]?[0-9]){9,15}(?![\w])")
_NOT_DIGIT = re.compile(r"[^0-9]")
_GROUP_BREAK = re.compile(r"[ -]")
_CARD_BEFORE = frozenset("_.-")
_SYMBOL_OR_DIGIT = re.compile(r"[0-9._~+/=-]")
_LONG_CREDENTIAL = 20
_SHORTEST = 13
"""No secret shape but a pair or a URL fits in fewer characters (a card number has 13)."""


def luhn_valid(digits: str) -> bool:
    """Whether a digit string passes the Luhn check that every payment card number passes."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def is_card_number(value: int) -> bool:
    """Whether an integer reads as a payment card number (13 to 19 digits, Luhn-valid)."""
    if not 10**12 <= value < 10**19:
        return False
    digits = str(value)
    return digits[0] in "23456" and luhn_valid(digits)


def mask_patterns(text: str, secret_name: Callable[[str], bool]) -> str:
    """The text with every secret of a recognised shape replaced by [REDACTED];
    secret_name(name) says whether a `name=value` pair holds a secret."""
    # Cheap tests first: most text is short and holds none of the marks a pattern needs.
    if "=" in text:
        text = _PAIR.sub(lambda m: _pair(m, secret_name), text)
    if "://" in text and "@" in text:
        text = _USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)
    if len(text) < _SHORTEST:
        return text
    if "eyJ" in text:
        text = _JWT.sub(REDACTED, text)
    if "earer" in text or "EARER" in text:
        text = _BEARER.sub(_bearer, text)
    if "Basic" in text:
        text = _BASIC.sub(_basic, text)
    return _CARD.sub(_card, text)


def _pair(match: re.Match[str], secret_name: Callable[[str], bool]) -> str:
    """`name=[REDACTED]` for a pair whose name is secret, else the pair as it was."""
    name = match["name"]
    if name.lower() in PAIR_NAMES or secret_name(name):
        return f"{name}={REDACTED}"
    return match[0]


def _bearer(match: re.Match[str]) -> str:
    """A Bearer credential masked, unless what follows the word is plainly prose."""
    credential = match["credential"]
    if len(credential) < _LONG_CREDENTIAL and not _SYMBOL_OR_DIGIT.search(credential):
        return match[0]
    return match[0][: match.start("credential") - match.start()] + REDACTED


def _basic(match: re.Match[str]) -> str:
    """A Basic credential masked when it decodes to user:password, as the header carries."""
    credential = match["credential"]
    try:
        decoded = base64.b64decode(credential + "=" * (-len(credential) % 4), validate=True)
    except (binascii.Error, ValueError):
        return match[0]
    if b":" not in decoded:
        return match[0]
    return f"Basic{match['gap']}{REDACTED}"


def _card(match: re.Match[str]) -> str:
    """The longest Luhn-valid card number at the start of a run of digits, masked; a run that
    continues a word, a number or an id is left alone."""
    text, start = match.string, match.start()
    if start and (text[start - 1].isalnum() or text[start - 1] in _CARD_BEFORE):
        return match[0]
    found = match[0]
    # A card number may be followed by more digit groups ("... 1111 5 times"): try each end.
    ends = [m.start() for m in _GROUP_BREAK.finditer(found)] + [len(found)]
    for end in reversed(ends):
        digits = _NOT_DIGIT.sub("", found[:end])
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return REDACTED + found[end:]
    return found
