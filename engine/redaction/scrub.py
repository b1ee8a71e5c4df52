"""Redaction of one trace: values under secret-named keys are replaced, then every value they
held and every secret a helper hands scripts is masked wherever else it appears, as are
secrets of a recognised shape."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pipetrace.engine.redaction.keys import KeyRules
from pipetrace.engine.redaction.patterns import (
    REDACTED,
    ShapeFilter,
    is_card_number,
    mask_patterns,
)

MIN_MASKED_CHARS = 3
"""Shorter values are too common to mask inside other text (they are still redacted by key)."""
_NUMBER = re.compile(r"[-+]?(?:[0-9.]+(?:[eE][-+]?[0-9]+)?|inf|nan)", re.IGNORECASE)
_SMALLEST_CARD = 10**12
_MAX_CLEAN = 4096
_MAX_CLEAN_CHARS = 256


class Redactor:
    """A pipelines folder's key rules plus the secrets helpers hand scripts; picklable, so a
    recorder process can hold one."""

    def __init__(self, rules: KeyRules, secrets: Iterable[str] = ()) -> None:
        self.rules = rules
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_MASKED_CHARS}, key=len)[::-1]
        self.secret_bytes = [s.encode("utf-8", "surrogatepass") for s in self.secrets]
        self.shapes = ShapeFilter(rules.is_secret)
        self.clean: set[str] = set()
        """Short texts seen to hold neither a helper's secret nor a secret shape: keys and
        many values recur from trace to trace."""

    def for_trace(self) -> TraceScrub:
        """A fresh scrub for one trace."""
        return TraceScrub(self)

    def text(self, text: str) -> str:
        """The text with every helper's secret and every secret of a recognised shape masked."""
        if text in self.clean:
            return text
        masked = text
        for secret in self.secrets:
            if secret in masked:
                masked = masked.replace(secret, REDACTED)
        masked = mask_patterns(masked, self.rules.is_secret)
        if masked == text and len(text) <= _MAX_CLEAN_CHARS:
            if len(self.clean) >= _MAX_CLEAN:
                self.clean.clear()
            self.clean.add(text)
        return masked


class TraceScrub:
    """Redacts one trace's data in place: redact_keys on every keyed value first (which learns
    the values to mask), then mask on everything stored."""

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._rules = redactor.rules
        self._values: dict[str, int] = {}
        """Each value learned, with how many times redact_keys met it."""
        self._longest_first: list[str] = []
        self._numeric = False
        """Whether a value learned reads as a number (or was one)."""
        self._numbers: list[int] = []

    def redact_keys(self, value: Any, prefix: str = "", note: bool = False) -> list[str]:
        """Replace what secret-named keys hold, at any depth of a dict or list, remembering it
        for mask; return the dotted paths (under prefix) of the keys replaced. With note, the
        large integers kept are remembered for may_mask."""
        paths: list[str] = []
        self._redact(value, prefix, paths, self._numbers if note else None)
        if len(self._longest_first) != len(self._values):
            # Longest first, so a secret inside another is masked with it.
            self._longest_first = sorted(self._values, key=len, reverse=True)
            self._numeric = any(_NUMBER.fullmatch(value) for value in self._longest_first)
        return paths

    def redact_flat(self, value: dict[Any, Any]) -> list[str]:
        """redact_keys for a dict whose values are all scalars: one set test when every key
        is known not to be secret."""
        if self._rules.clean.issuperset(value):
            return []
        return self.redact_keys(value)

    def _redact(self, value: Any, prefix: str, paths: list[str], kept: list[int] | None) -> None:
        """Recursive part of redact_keys."""
        if type(value) is dict:
            known, is_secret = self._rules.known, self._rules.is_secret
            for key, item in value.items():
                secret = known.get(key)
                if secret is None and type(key) is str:
                    secret = is_secret(key)
                if secret:
                    if item != REDACTED:
                        self._learn(item)
                        value[key] = REDACTED
                    paths.append(f"{prefix}{key}")
                elif type(item) is dict or type(item) is list:
                    self._redact(item, f"{prefix}{key}.", paths, kept)
                elif kept is not None and type(item) is int and item >= _SMALLEST_CARD:
                    kept.append(item)
            if "value" in value:
                self._redact_named(value, prefix, paths)
        elif type(value) is list:
            for i, item in enumerate(value):
                if type(item) is dict or type(item) is list:
                    self._redact(item, f"{prefix}{i}.", paths, kept)
                elif kept is not None and type(item) is int and item >= _SMALLEST_CARD:
                    kept.append(item)

    def may_mask(self, packed: bytes, numbers: list[Any]) -> bool:
        """Whether mask could change anything stored for this trace. packed holds the UTF-8
        bytes of every occurrence of every string stored for it (the trace's facts packed by
        MessagePack, whose input went through redact_keys with note); numbers holds every
        number stored besides the input's. Searches of bytes instead of a walk, and never
        wrong when it says no."""
        if self._numeric:
            return True  # a script may store a number under a secret key again as a number
        big = [x for x in numbers if type(x) is int and x >= _SMALLEST_CARD]
        if any(is_card_number(x) for x in (*self._numbers, *big)):
            return True
        for value in self._longest_first:
            raw = value.encode("utf-8", "surrogatepass")
            if packed.count(raw) > self._values[value]:
                return True  # it is somewhere besides under the keys it was learned from
            packed = packed.replace(raw, b"\x00")
        if any(secret in packed for secret in self._redactor.secret_bytes):
            return True
        return self._redactor.shapes.may_match(packed)

    def _redact_named(self, value: dict[Any, Any], prefix: str, paths: list[str]) -> None:
        """A name/value pair spelled as a dict, as header lists and OTLP attributes are
        ({"name": "Cookie", "value": ...}, {"key": "db.password", "value": ...}): redact the
        value when the name is secret."""
        name = value.get("key", value.get("name"))
        if type(name) is str and self._rules.is_secret(name):
            if value["value"] != REDACTED:
                self._learn(value["value"])
                value["value"] = REDACTED
            paths.append(f"{prefix}value")

    def _learn(self, value: Any) -> None:
        """Remember every scalar under a redacted key as text to mask."""
        kind = type(value)
        if kind is dict:
            for item in value.values():
                self._learn(item)
        elif kind is list:
            for item in value:
                self._learn(item)
        elif kind is str or kind is int or kind is float:
            text = value if kind is str else str(value)
            if len(text) >= MIN_MASKED_CHARS and text != REDACTED:
                self._values[text] = self._values.get(text, 0) + 1

    def text(self, text: str) -> str:
        """The text with every known secret and every secret of a recognised shape masked."""
        for secret in self._longest_first:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return self._redactor.text(text)

    def mask(self, value: Any, paths: list[str] | None = None, prefix: str = "") -> Any:
        """The value with every known secret and every secret of a recognised shape masked,
        in text, keys and numbers; dicts and lists are changed in place. When paths is given,
        the dotted path (under prefix) of each masked scalar is added to it."""
        kind = type(value)
        if kind is str:
            return self.text(value)
        if kind is dict:
            text, clean = self.text, self._redactor.clean
            fast = not self._longest_first  # no value of this trace to look for
            renamed = False
            for key, item in value.items():
                kind = type(item)
                if kind is str:
                    masked = item if fast and item in clean else text(item)
                elif kind is dict or kind is list:
                    masked = self.mask(item, paths, "" if paths is None else f"{prefix}{key}.")
                elif kind is int or kind is float:
                    masked = self._number(item)
                else:
                    masked = item
                if masked is not item and masked != item:
                    value[key] = masked
                    if paths is not None:
                        paths.append(f"{prefix}{key}")
                if not (fast and key in clean) and type(key) is str and text(key) != key:
                    renamed = True
            if renamed:
                items = [(text(k) if type(k) is str else k, v) for k, v in value.items()]
                value.clear()
                value.update(items)
        elif kind is list:
            for i, item in enumerate(value):
                masked = self.mask(item, paths, "" if paths is None else f"{prefix}{i}.")
                if masked is not item and masked != item:
                    value[i] = masked
                    if paths is not None:
                        paths.append(f"{prefix}{i}")
        elif kind is int or kind is float:
            return self._number(value)
        return value

    def _number(self, value: float) -> Any:
        """[REDACTED] for a number that is a known secret or reads as a card number."""
        if type(value) is int and is_card_number(value):
            return REDACTED
        if self._values and str(value) in self._values:
            return REDACTED
        return value
