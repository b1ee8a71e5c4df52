"""Secrets recognised by their shape rather than by a key: card numbers (Luhn-checked), JWTs,
Bearer and Basic credentials, and credentials in URLs and in `name=value` pairs."""

from __future__ import annotations

import base64
import binascii
import re
import string
from collections.abc import Callable

REDACTED = "[REDACTED]"

PAIR_NAMES = frozenset({"key", "sig", "signature", "token"})
"""Query and `name=value` names masked even where the key rules would not call them secret."""

# Each pattern starts only where its first part starts and never gives back what a run took
# (possessive quantifiers), so long text costs one pass.
_USERINFO = re.compile(
    r"(?<![A-Za-z0-9+.-])(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*+://)[^\s/?#@:]*+:[^\s/?#@]++@"
)
_PAIR = re.compile(
    r"(?<![A-Za-z0-9_.-])(?P<name>[A-Za-z_][A-Za-z0-9_.-]{0,63}+)=(?P<value>[^\s&#;,\"'<>]++)"
)
_NAME_BYTES = (string.ascii_letters + string.digits + "_.-").encode()
_FOREIGN_BYTES = 4
"""The most bytes of a MessagePack string's header that can read as name characters (the
length of a str32)."""
_NAME_START_BYTES = frozenset((string.ascii_letters + "_").encode())
_LONGEST_NAME = 64
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"\b(?i:bearer)(?P<gap>\s+)(?P<credential>[A-Za-z0-9._~+/-]{8,}=*)")
_BASIC = re.compile(r"\bBasic(?P<gap>\s+)(?P<credential>[A-Za-z0-9+/]{8,}={0,2})")
_CARD = re.compile(r"(?<![0-9])[2-6][0-9]{3}(?:[ -]?[0-9]){9,15}(?![\w])")
_CARD_RUN = b"\x01" * 13
_MAX_PAIRS = 4096
_NOT_DIGIT = re.compile(r"[^0-9]")
_GROUP_BREAK = re.compile(r"[ -]")
_CARD_BEFORE = frozenset("_.-")
_SYMBOL_OR_DIGIT = re.compile(r"[0-9._~+/=-]")
_LONG_CREDENTIAL = 20
_SHORTEST = 13
"""No secret shape but a pair or a URL fits in fewer characters (a card number has 13)."""


def _fold_table() -> bytes:
    """A bytes.translate table that lowers ASCII letters and turns digits, spaces and dashes
    into one byte, \\x01 (which itself becomes \\x00), so one search finds a card number."""
    table = bytearray(range(256))
    table[ord("A") : ord("Z") + 1] = range(ord("a"), ord("z") + 1)
    table[1] = 0
    for char in b"0123456789 -":
        table[char] = 1
    return bytes(table)


_FOLD = _fold_table()


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


class ShapeFilter:
    """Says cheaply whether mask_patterns could change a string whose UTF-8 bytes lie
    somewhere in a block of bytes, between bytes of any other kind (a packed record, say):
    never wrong when it says no. It remembers what the names before each `=` came to, as
    they recur from block to block."""

    def __init__(self, secret_name: Callable[[str], bool]) -> None:
        self._secret_name = secret_name
        self._pairs: dict[bytes, bool] = {}

    def may_match(self, data: bytes) -> bool:
        """Whether some pattern could match text in data."""
        folded = data.translate(_FOLD)
        # The rarest marks first: a search for one byte is a quarter of one for a word.
        if (b"@" in folded and b"://" in folded) or b"eyj" in folded or b"basic" in folded:
            return True
        # "bearer" in any case, and a card number: 13 digits, spaces and dashes at least.
        if b"bearer" in folded or _CARD_RUN in folded:
            return True
        at = data.find(b"=")
        while at >= 0:
            if self._name_before(data[max(0, at - _LONGEST_NAME - _FOREIGN_BYTES - 1) : at]):
                return True
            at = data.find(b"=", at + 1)
        return False

    def _name_before(self, before: bytes) -> bool:
        """Whether the name characters that end `before` make a name _PAIR would mask (a
        run that fills `before` is longer than a name, whatever bytes it starts with)."""
        run = before[len(before.rstrip(_NAME_BYTES)) :]
        verdict = self._pairs.get(run)
        if verdict is None:
            if len(self._pairs) >= _MAX_PAIRS:
                self._pairs.clear()
            verdict = self._pairs[run] = any(
                self._secret_pair_name(run[start:])
                for start in range(min(len(run), _FOREIGN_BYTES + 1))
            )
        return verdict

    def _secret_pair_name(self, name: bytes) -> bool:
        """Whether _PAIR would take these bytes as a name and mask its value."""
        if not name or name[0] not in _NAME_START_BYTES or len(name) > _LONGEST_NAME:
            return False
        text = name.decode("ascii")
        return text.lower() in PAIR_NAMES or self._secret_name(text)


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
    if "bearer" in text.lower():
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
