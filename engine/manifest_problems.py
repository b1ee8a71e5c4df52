"""What msgspec refused in pipelines.toml, in the manifest's own words and at the key at fault."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from pipetrace.engine.limits import MAX_LIMITS
from pipetrace.engine.manifest_schema import FAILURES, MODES, REFUSED_INPUTS
from pipetrace.engine.toml_lines import Path as KeyPath

_AT = re.compile(r" - at `\$((?:\.\w+|\[\d+\])*)`$")
_STEP = re.compile(r"\.(\w+)|\[(\d+)\]")
_UNKNOWN = "Object contains unknown field `"
_MISSING = "Object missing required field `"
_ENUM = "Invalid enum value "
_CHOICES = {"mode": MODES, "failure": FAILURES, "refused_input": REFUSED_INPUTS}


def refusal(
    exc: msgspec.ValidationError, doc: dict[str, Any], base: KeyPath
) -> tuple[KeyPath, str]:
    """The key at fault and what is wrong with it, for `exc` from converting the value at `base`
    of the parsed file `doc` (msgspec names the place as `$.scripts[2].failure`)."""
    text = str(exc)
    found = _AT.search(text)
    problem = text[: found.start()] if found else text
    steps = _STEP.findall(found[1]) if found else []
    path: KeyPath = base + tuple(int(index) if index else name for name, index in steps)
    if problem.startswith(_UNKNOWN):
        key = problem[len(_UNKNOWN) : -1]
        return (*path, key), _unknown(path, key, doc)
    if problem.startswith(_MISSING):
        return path, f"{_owner(path, doc)} has no '{problem[len(_MISSING) : -1]}'"
    return path, _bad(path, value_at(doc, path), problem.startswith(_ENUM), doc)


def _unknown(path: KeyPath, key: str, doc: dict[str, Any]) -> str:
    """A key the table at `path` does not have, most likely a typo that would do nothing."""
    match path:
        case ():
            return f"unknown key '{key}'"
        case ("limits",):
            return f"[limits]: unknown limit '{key}'"
        case ("redact",):
            return f"[redact]: unknown key '{key}'"
        case ("scripts", int(), "limits"):
            return f"{_owner(path, doc)}: limit '{key}' cannot be set per script"
    return f"{_owner(path, doc)}: unknown key '{key}'"


def _bad(path: KeyPath, value: Any, enum: bool, doc: dict[str, Any]) -> str:
    """A value of the wrong type, out of range, or not one of its choices."""
    match path:
        case ("scripts",) | ("scripts", int()):
            return "'scripts' must be an array of tables ([[scripts]])"
        case (str(table),):
            return f"[{table}] must be a table"
        case ("triggers", str(name)):
            return f"[triggers.{name}] must be a table"
        case ("limits", str(key)):
            return f"[limits]: {_limit(key, value)}"
        case ("redact", str(key), *_):
            return f"[redact]: '{key}' must be a list of key names"
        case ("scripts", int(), "limits"):
            return f"{_owner(path, doc)}: 'limits' must be a table"
        case ("scripts", int(), "limits", str(key)):
            return f"{_owner(path, doc)}: {_limit(key, value)}"
        case ("scripts", int(), "depends_on", *_):
            return f"{_owner(path, doc)}: 'depends_on' must be a list of script ids"
        case ("scripts", int(), "id") if value == "":
            return f"{_owner(path, doc)} has no 'id'"
        case ("scripts", int(), "file"):
            return f"{_owner(path, doc)}: 'file' must be a relative .lua path, got {value!r}"
    field = path[-1]
    if enum:
        choices = ", ".join(_CHOICES[str(field)])
        return f"{_owner(path, doc)}: bad {field} {value!r} (use {choices})"
    return f"{_owner(path, doc)}: '{field}' must be a string, got {type(value).__name__} {value!r}"


def _limit(key: str, value: Any) -> str:
    """A limit that is not a whole number in its range."""
    return f"limit '{key}' must be an integer from 1 to {MAX_LIMITS[key]}, got {value!r}"


def _owner(path: KeyPath, doc: dict[str, Any]) -> str:
    """The trigger or script a path is in: by id, or by position for a script without one."""
    if path[0] == "triggers":
        return f"trigger '{path[1]}'"
    index = int(path[1])
    entry = doc["scripts"][index]
    script_id = entry.get("id")
    return (
        f"script '{script_id}'"
        if isinstance(script_id, str) and script_id
        else f"script #{index + 1}"
    )


def value_at(doc: dict[str, Any], path: KeyPath) -> Any:
    """The parsed value at `path`."""
    value: Any = doc
    for step in path:
        value = value[step]
    return value
