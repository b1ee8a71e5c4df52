"""Keeping secrets out of traces: secret-named keys, known secret values and secret shapes."""

from pipetrace.engine.redaction.keys import DEFAULT_KEYS, DEFAULT_WORDS, KeyRules
from pipetrace.engine.redaction.patterns import REDACTED
from pipetrace.engine.redaction.scrub import Redactor, TraceScrub

__all__ = ["DEFAULT_KEYS", "DEFAULT_WORDS", "REDACTED", "KeyRules", "Redactor", "TraceScrub"]
