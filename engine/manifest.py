"""Loading a pipelines folder (pipelines.toml plus .lua files) into an immutable, checked plan."""

from __future__ import annotations

import hashlib
import re
import tomllib
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path, PurePosixPath
from typing import Any

from pipetrace.engine.errors import PipelineError
from pipetrace.engine.limits import SCRIPT_LIMITS, Limits
from pipetrace.engine.sandbox import syntax_errors
from pipetrace.engine.toml_lines import Path as KeyPath
from pipetrace.engine.toml_lines import TomlLines

MANIFEST = "pipelines.toml"
MODES = ("blocking", "async", "enrichment")
FAILURES = ("open", "closed")
_TOP_KEYS = {"triggers", "scripts", "limits"}
_TRIGGER_KEYS = {"mode", "failure", "description"}
_SCRIPT_KEYS = {"id", "trigger", "file", "depends_on", "failure", "limits", "description"}
_TOML_POSITION = re.compile(r" \(at line (\d+), column (\d+)\)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class Script:
    """One script bound to a trigger, with its place in the trigger's plan."""

    id: str
    trigger: str
    file: str
    source: str
    sha256: str
    depends_on: tuple[str, ...]
    failure: str
    instruction_budget: int
    deadline_ms: int
    layer_index: int
    parallel_index: int
    seed: int


@dataclass(frozen=True, slots=True)
class Trigger:
    """A named hook with its mode, failure policy and scripts grouped into layers."""

    name: str
    mode: str
    failure: str
    layers: tuple[tuple[Script, ...], ...]


@dataclass(frozen=True, slots=True)
class Pipelines:
    """A fully checked pipelines folder; nothing in it is half-loaded."""

    root: Path
    triggers: dict[str, Trigger]
    scripts: dict[str, Script]
    limits: Limits
    version: str


def load_pipelines(path: str | Path) -> Pipelines:
    """Read and check a pipelines folder, raising one PipelineError for the first problem."""
    root = Path(path)
    manifest_path = root / MANIFEST
    try:
        raw = manifest_path.read_bytes()
    except OSError:
        raise PipelineError(f"{MANIFEST}: not found in {root}") from None
    doc, at = _parse_manifest(raw)
    _check_keys(at, doc, _TOP_KEYS, (), "")
    limits = Limits().with_overrides(
        _table(at, doc.get("limits", {}), ("limits",), "[limits]"),
        lambda key: f"{at.prefix(('limits', key))}[limits]",
    )
    triggers_raw = _table(at, doc.get("triggers", {}), ("triggers",), "[triggers]")
    entries = doc.get("scripts", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise at.error(("scripts",), "'scripts' must be an array of tables ([[scripts]])")
    settings = {name: _trigger_settings(at, name, value) for name, value in triggers_raw.items()}
    parsed = [
        _parse_script(root, at, entry, index, settings, limits)
        for index, entry in enumerate(entries)
    ]
    by_id: dict[str, dict[str, Any]] = {}
    for entry in parsed:
        first = by_id.get(entry["id"])
        if first is not None:
            raise at.error(
                ("scripts", entry["order"], "id"),
                f"script '{entry['id']}': duplicate id (first at line "
                f"{at.line(('scripts', first['order'], 'id'))})",
            )
        by_id[entry["id"]] = entry
    compile_errors = syntax_errors({e["id"]: e["source"] for e in parsed})
    for entry in parsed:
        if entry["id"] in compile_errors:
            line, message = compile_errors[entry["id"]]
            raise _one_line(f"{entry['file']}:{line}: script '{entry['id']}': {message}")
    triggers, scripts = {}, {}
    for name, (mode, failure) in settings.items():
        members = [e for e in parsed if e["trigger"] == name]
        layers = _plan(at, name, members, by_id, limits)
        triggers[name] = Trigger(name, mode, failure, layers)
        scripts.update({s.id: s for layer in layers for s in layer})
    digest = hashlib.sha256(raw)
    for script_id in sorted(scripts):
        digest.update(f"\0{script_id}\0{scripts[script_id].sha256}".encode())
    return Pipelines(root, triggers, scripts, limits, digest.hexdigest()[:16])


class _Lines:
    """Builds errors that name pipelines.toml and the line of the table or key at fault."""

    def __init__(self, text: str) -> None:
        self._lines = TomlLines(text)

    def line(self, path: KeyPath) -> int:
        """The line of the table or key at `path`."""
        return self._lines.line(path)

    def prefix(self, path: KeyPath) -> str:
        """The start of a message about the table or key at `path`: the file and the line."""
        return f"{MANIFEST}:{self.line(path)}: "

    def error(self, path: KeyPath, what: str) -> PipelineError:
        """A one-line error about the table or key at `path`."""
        return _one_line(self.prefix(path) + what)


def _one_line(message: str) -> PipelineError:
    """An error whose control characters (a newline in a script id or a Lua token) are
    escaped, so it stays one line."""
    return PipelineError(_CONTROL.sub(lambda m: repr(m.group())[1:-1], message))


def _parse_manifest(raw: bytes) -> tuple[dict[str, Any], _Lines]:
    """Decode and parse pipelines.toml, naming the line of a syntax error."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise PipelineError(f"{MANIFEST}:{line}: not valid UTF-8") from None
    try:
        return tomllib.loads(text), _Lines(text)
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc)
        found = _TOML_POSITION.search(reason)
        if found:
            where, reason = f"{found[1]}:{found[2]}", reason[: found.start()]
        else:  # "(at end of document)"
            where, reason = str(len(text.splitlines()) or 1), reason.replace(" (at ", " (")
        raise _one_line(f"{MANIFEST}:{where}: invalid TOML: {reason}") from None


def _table(at: _Lines, value: object, path: KeyPath, where: str) -> dict[str, Any]:
    """Insist on a TOML table so later code can rely on dict access."""
    if not isinstance(value, dict):
        raise at.error(path, f"{where} must be a table")
    return value


def _check_keys(
    at: _Lines, table: dict[str, Any], allowed: set[str], path: KeyPath, where: str
) -> None:
    """Reject unknown keys, which are almost always typos that would silently do nothing."""
    for key in table:
        if key not in allowed:
            raise at.error((*path, key), f"{where}unknown key '{key}'")


def _text(
    at: _Lines, table: dict[str, Any], key: str, default: str | None, path: KeyPath, where: str
) -> Any:
    """Read an optional string field, refusing other TOML types before they reach a lookup."""
    value = table.get(key, default)
    if value is not None and not isinstance(value, str):
        raise at.error(
            (*path, key), f"{where}'{key}' must be a string, got {type(value).__name__} {value!r}"
        )
    return value


def _trigger_settings(at: _Lines, name: str, value: object) -> tuple[str, str]:
    """Validate one [triggers.NAME] table and return its mode and failure policy."""
    path = ("triggers", name)
    table = _table(at, value, path, f"[triggers.{name}]")
    where = f"trigger '{name}': "
    _check_keys(at, table, _TRIGGER_KEYS, path, where)
    _text(at, table, "description", None, path, where)
    mode = _text(at, table, "mode", "blocking", path, where)
    if mode not in MODES:
        raise at.error((*path, "mode"), f"{where}bad mode {mode!r} (use {', '.join(MODES)})")
    failure = _text(at, table, "failure", "open", path, where)
    if failure not in FAILURES:
        raise at.error((*path, "failure"), f"{where}bad failure {failure!r} (use open, closed)")
    return mode, failure


def _parse_script(
    root: Path,
    at: _Lines,
    entry: dict[str, Any],
    index: int,
    settings: dict[str, tuple[str, str]],
    limits: Limits,
) -> dict[str, Any]:
    """Validate one [[scripts]] entry and read its file."""
    path = ("scripts", index)
    script_id = _text(at, entry, "id", None, path, f"script #{index + 1}: ")
    if not script_id:
        raise at.error((*path, "id"), f"script #{index + 1} has no 'id'")
    where = f"script '{script_id}': "
    _check_keys(at, entry, _SCRIPT_KEYS, path, where)
    _text(at, entry, "description", None, path, where)
    trigger = _text(at, entry, "trigger", None, path, where)
    if trigger not in settings:
        raise at.error((*path, "trigger"), f"{where}unknown trigger {trigger!r}")
    file = entry.get("file", f"{script_id}.lua")
    pure = PurePosixPath(file) if isinstance(file, str) else None
    if pure is None or pure.is_absolute() or ".." in pure.parts or not file.endswith(".lua"):
        raise at.error((*path, "file"), f"{where}'file' must be a relative .lua path, got {file!r}")
    depends = entry.get("depends_on", [])
    if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
        raise at.error((*path, "depends_on"), f"{where}'depends_on' must be a list of script ids")
    failure = _text(at, entry, "failure", settings[trigger][1], path, where)
    if failure not in FAILURES:
        raise at.error((*path, "failure"), f"{where}bad failure {failure!r} (use open, closed)")
    overrides = _table(at, entry.get("limits", {}), (*path, "limits"), f"{where}'limits'")
    for key in overrides:
        if key not in SCRIPT_LIMITS:
            raise at.error((*path, "limits", key), f"{where}limit '{key}' cannot be set per script")
    own = limits.with_overrides(
        overrides, lambda key: at.prefix((*path, "limits", key)) + where.rstrip(": ")
    )
    data = _read_script(root, file, lambda what: at.error((*path, "file"), where + what))
    if len(data) > limits.max_script_bytes:
        raise at.error(
            (*path, "file"),
            f"{where}file '{file}' is too large ({len(data)} > {limits.max_script_bytes} bytes, "
            "the limit max_script_bytes)",
        )
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _one_line(f"{file}:{line}: {where}not valid UTF-8") from None
    return {
        "id": script_id,
        "trigger": trigger,
        "file": file,
        "source": source,
        "sha256": hashlib.sha256(data).hexdigest(),
        "depends_on": tuple(depends),
        "failure": failure,
        "instruction_budget": own.instruction_budget,
        "deadline_ms": own.deadline_ms,
        "order": index,
    }


def _read_script(root: Path, file: str, error: Callable[[str], PipelineError]) -> bytes:
    """Read a script file, refusing folders and links that lead outside the pipelines folder."""
    try:
        path = (root / file).resolve(strict=True)
    except ValueError:  # a NUL character, which no file name can hold
        raise error(f"file {file!r} is not a valid file name") from None
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        raise error(f"file '{file}' not found") from None
    if not path.is_relative_to(root.resolve()):
        raise error(f"file '{file}' leads outside the pipelines folder")
    if path.is_dir():
        raise error(f"file '{file}' is a folder, not a .lua file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise error(f"file '{file}' cannot be read: {exc.strerror}") from None


def _plan(
    at: _Lines,
    trigger: str,
    members: list[dict[str, Any]],
    by_id: dict[str, dict[str, Any]],
    limits: Limits,
) -> tuple[tuple[Script, ...], ...]:
    """Turn a trigger's dependency graph into layers, checking references and limits."""
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for entry in members:
        depends_on = ("scripts", entry["order"], "depends_on")
        for dep in entry["depends_on"]:
            if dep not in by_id:
                raise at.error(
                    depends_on, f"script '{entry['id']}' depends on unknown script '{dep}'"
                )
            if by_id[dep]["trigger"] != trigger:
                raise at.error(
                    depends_on,
                    f"script '{entry['id']}' depends on '{dep}' of trigger "
                    f"'{by_id[dep]['trigger']}' (only scripts of '{trigger}' are allowed)",
                )
        sorter.add(entry["id"], *entry["depends_on"])
    try:
        sorter.prepare()
    except CycleError as exc:
        # Start the cycle at the script listed first, whose depends_on the line points at.
        ring = exc.args[1][:-1]
        first = min(range(len(ring)), key=lambda k: by_id[ring[k]]["order"])
        ring = ring[first:] + ring[:first]
        raise at.error(
            ("scripts", by_id[ring[0]]["order"], "depends_on"),
            f"script '{ring[0]}': dependency cycle {' -> '.join([*ring, ring[0]])} "
            f"in trigger '{trigger}'",
        ) from None
    layers: list[tuple[Script, ...]] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda i: by_id[i]["order"])
        sorter.done(*ready)
        layer_index = len(layers)
        if layer_index >= limits.max_layers:
            raise at.error(
                ("triggers", trigger),
                f"trigger '{trigger}' needs more layers than max_layers = {limits.max_layers} "
                "allows",
            )
        if len(ready) > limits.max_scripts_per_layer:
            raise at.error(
                ("triggers", trigger),
                f"trigger '{trigger}' layer {layer_index} has {len(ready)} scripts "
                f"(max {limits.max_scripts_per_layer}): {', '.join(ready)}",
            )
        layers.append(tuple(_script(by_id[i], layer_index, n) for n, i in enumerate(ready)))
    return tuple(layers)


def _script(entry: dict[str, Any], layer_index: int, parallel_index: int) -> Script:
    """Freeze a parsed entry once its layer and position are known."""
    return Script(
        id=entry["id"],
        trigger=entry["trigger"],
        file=entry["file"],
        source=entry["source"],
        sha256=entry["sha256"],
        depends_on=entry["depends_on"],
        failure=entry["failure"],
        instruction_budget=entry["instruction_budget"],
        deadline_ms=entry["deadline_ms"],
        layer_index=layer_index,
        parallel_index=parallel_index,
        seed=zlib.crc32(entry["id"].encode()),
    )
