"""The shape of pipelines.toml as msgspec Structs, so msgspec refuses unknown keys, wrong types
and values out of range before any other check runs."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

import msgspec

from pipetrace.engine.limits import Limits, ScriptLimits

Mode = Literal["blocking", "async", "enrichment"]
Failure = Literal["open", "closed"]
RefusedInput = Literal["block", "allow"]
"""What a trigger decides for an input refused before any script saw it (over max_input_bytes
or max_input_depth, or not JSON-like): padding an input must not get it past the scripts."""
MODES: tuple[str, ...] = get_args(Mode)
FAILURES: tuple[str, ...] = get_args(Failure)
REFUSED_INPUTS: tuple[str, ...] = get_args(RefusedInput)


class TriggerTable(msgspec.Struct, forbid_unknown_fields=True):
    """One [triggers.NAME] table: how the trigger runs and what a failing script means."""

    mode: Mode = "blocking"
    failure: Failure = "open"
    refused_input: RefusedInput = "block"
    description: str = ""


class ScriptEntry(msgspec.Struct, forbid_unknown_fields=True):
    """One [[scripts]] entry; `file` defaults to ID.lua and `failure` to its trigger's."""

    id: Annotated[str, msgspec.Meta(min_length=1)]
    trigger: str
    file: str | None = None
    depends_on: list[str] = []
    failure: Failure | None = None
    limits: ScriptLimits = msgspec.field(default_factory=ScriptLimits)
    description: str = ""


class RedactTable(msgspec.Struct, forbid_unknown_fields=True):
    """The [redact] table: secret key names added to the defaults, and names to keep."""

    keys: list[str] = []
    words: list[str] = []
    keep: list[str] = []


class Manifest(msgspec.Struct, forbid_unknown_fields=True):
    """The whole file. Each trigger's table is converted on its own, since msgspec's error path
    does not name the key of a dict's value (`$.triggers[...]`)."""

    triggers: dict[str, Any] = {}
    scripts: list[ScriptEntry] = []
    limits: Limits = msgspec.field(default_factory=Limits)
    redact: RedactTable = msgspec.field(default_factory=RedactTable)
