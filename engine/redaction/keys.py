"""Which keys name secrets: default lists as broad as Sentry's, matched ignoring case and
separators, extended and reduced by a pipelines folder's `[redact]` table."""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT_KEYS = (
    "password", "passwd", "passphrase", "passcode", "secret", "token", "credential", "bearer",
    "authorization", "cookie", "csrf", "xsrf", "sessid", "sessionid", "sessionkey", "apikey",
    "accesskey", "privatekey", "privkey", "signingkey", "encryptionkey", "verifier",
    "cardnumber", "ccnumber", "forwardedfor",
)  # fmt: skip
"""Names that make a key secret wherever they appear in it (`newPassword`, `X-CSRFToken`,
`PHPSESSID`, `AWSAccessKeyId`)."""

DEFAULT_WORDS = (
    "auth", "pass", "pw", "pwd", "pin", "otp", "totp", "hotp", "cvc", "cvc2", "cvv", "cvv2",
    "cvn", "sid", "session", "jwt", "sig", "signature", "dsn", "symfony",
)  # fmt: skip
"""Names too short or too common to match inside other words: a key is secret when one of its
words is one (`totp_code`, `card.pin`, `connect.sid`), not `shipping` or `author`."""

_SEPARATORS = re.compile(r"[\W_]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")
_MAX_KNOWN = 4096


def words_of(key: str) -> list[str]:
    """A key's words, lowercased: split at anything but letters and digits and at camelCase
    humps (`X-Api-Key` and `xApiKey` both give x, api, key)."""
    words: list[str] = []
    for part in _SEPARATORS.split(key):
        if part.isascii():
            words += [word.lower() for word in _CAMEL.findall(part)]
        elif part:
            words.append(part.lower())
    return words


def normalized(name: str) -> str:
    """A name as the rules compare it: lowercase letters and digits only."""
    return "".join(words_of(name))


class KeyRules:
    """Decides which keys are secret; remembers each key's verdict, since the same keys recur."""

    def __init__(
        self,
        keys: Iterable[str] = DEFAULT_KEYS,
        words: Iterable[str] = DEFAULT_WORDS,
        keep: Iterable[str] = (),
    ) -> None:
        kept = {normalized(name) for name in keep}
        self.keys = tuple(dict.fromkeys(k for k in map(normalized, keys) if k not in kept))
        self.words = frozenset(w for w in map(normalized, words) if w not in kept)
        self.keep = frozenset(kept)
        self.known: dict[str, bool] = {}
        """The verdict of each key seen so far (bounded), read directly by hot loops."""
        self.clean: set[str] = set()
        """The keys of `known` that are not secret, so a dict's keys are judged in one test."""

    @classmethod
    def configured(
        cls, keys: Iterable[str] = (), words: Iterable[str] = (), keep: Iterable[str] = ()
    ) -> KeyRules:
        """The defaults plus a folder's own keys and words, minus what it keeps."""
        return cls((*DEFAULT_KEYS, *keys), (*DEFAULT_WORDS, *words), keep)

    def is_secret(self, key: str) -> bool:
        """Whether a value stored under this key must be redacted."""
        verdict = self.known.get(key)
        if verdict is None:
            if len(self.known) >= _MAX_KNOWN:
                self.known.clear()
                self.clean.clear()
            verdict = self.known[key] = self._judge(key)
            if not verdict:
                self.clean.add(key)
        return verdict

    def _judge(self, key: str) -> bool:
        """The verdict for a key not seen before."""
        words = words_of(key)
        flat = "".join(words)
        if flat in self.keep:
            return False
        if any(name in flat for name in self.keys):
            return True
        # A word entry may itself be several words (member_pin): match runs of whole words.
        entries = self.words
        for start in range(len(words)):
            run = ""
            for word in words[start:]:
                run += word
                if run in entries:
                    return True
        return False
