"""Loading a pipelines folder (pipelines.toml plus .lua files) into an immutable, checked plan."""

from __future__ import annotations

import hashlib
import tomllib
import zlib
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path, PurePosixPath
from typing import Any

from engine.errors import PipelineError
from engine.limits import SCRIPT_LIMITS, Limits
from engine.sandbox import syntax_errors

MANIFEST = "pipelines.toml"
MODES = ("blocking", "async", "enrichment")
FAILURES = ("open", "closed")
_TOP_KEYS = {"triggers", "scripts", "limits"}
_TRIGGER_KEYS = {"mode", "failure", "description"}
_SCRIPT_KEYS = {"id", "trigger", "file", "depends_on", "failure", "limits", "description"}


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

    def sources(self) -> dict[str, tuple[str, str]]:
        """Map script ids to (source, chunk name) for compiling."""
        return {s.id: (s.source, s.file) for s in self.scripts.values()}


def load_pipelines(path: str | Path) -> Pipelines:
    """Read and check a pipelines folder, raising one PipelineError for the first problem."""
    root = Path(path)
    manifest_path = root / MANIFEST
    try:
        raw = manifest_path.read_bytes()
    except OSError:
        raise PipelineError(f"{MANIFEST}: not found in {root}") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PipelineError(f"{MANIFEST}: invalid TOML: {exc}") from None
    _check_keys(doc, _TOP_KEYS, "")
    limits = Limits().with_overrides(
        _table(doc.get("limits", {}), "[limits]"), f"{MANIFEST}: [limits]"
    )
    triggers_raw = _table(doc.get("triggers", {}), "[triggers]")
    entries = doc.get("scripts", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise PipelineError(f"{MANIFEST}: 'scripts' must be an array of tables ([[scripts]])")
    settings = {name: _trigger_settings(name, value) for name, value in triggers_raw.items()}
    parsed = [
        _parse_script(root, entry, index, settings, limits) for index, entry in enumerate(entries)
    ]
    by_id: dict[str, dict[str, Any]] = {}
    for entry in parsed:
        if entry["id"] in by_id:
            raise PipelineError(f"{MANIFEST}: duplicate script id '{entry['id']}'")
        by_id[entry["id"]] = entry
    compile_errors = syntax_errors({e["id"]: (e["source"], e["file"]) for e in parsed})
    for entry in parsed:
        if entry["id"] in compile_errors:
            raise PipelineError(compile_errors[entry["id"]])
    triggers, scripts = {}, {}
    for name, (mode, failure) in settings.items():
        members = [e for e in parsed if e["trigger"] == name]
        layers = _plan(name, members, by_id, limits)
        triggers[name] = Trigger(name, mode, failure, layers)
        scripts.update({s.id: s for layer in layers for s in layer})
    digest = hashlib.sha256(raw)
    for script_id in sorted(scripts):
        digest.update(f"\0{script_id}\0{scripts[script_id].sha256}".encode())
    return Pipelines(root, triggers, scripts, limits, digest.hexdigest()[:16])


def _table(value: object, where: str) -> dict[str, Any]:
    """Insist on a TOML table so later code can rely on dict access."""
    if not isinstance(value, dict):
        raise PipelineError(f"{MANIFEST}: {where} must be a table")
    return value


def _check_keys(table: dict[str, Any], allowed: set[str], where: str) -> None:
    """Reject unknown keys, which are almost always typos that would silently do nothing."""
    for key in table:
        if key not in allowed:
            raise PipelineError(f"{MANIFEST}: {where}unknown key '{key}'")


def _text(table: dict[str, Any], key: str, default: str | None, where: str) -> Any:
    """Read an optional string field, refusing other TOML types before they reach a lookup."""
    value = table.get(key, default)
    if value is not None and not isinstance(value, str):
        raise PipelineError(
            f"{MANIFEST}: {where}'{key}' must be a string, got {type(value).__name__} {value!r}"
        )
    return value


def _trigger_settings(name: str, value: object) -> tuple[str, str]:
    """Validate one [triggers.NAME] table and return its mode and failure policy."""
    table = _table(value, f"[triggers.{name}]")
    where = f"trigger '{name}': "
    _check_keys(table, _TRIGGER_KEYS, where)
    _text(table, "description", None, where)
    mode = _text(table, "mode", "blocking", where)
    if mode not in MODES:
        raise PipelineError(
            f"{MANIFEST}: trigger '{name}': bad mode {mode!r} (use {', '.join(MODES)})"
        )
    failure = _text(table, "failure", "open", where)
    if failure not in FAILURES:
        raise PipelineError(
            f"{MANIFEST}: trigger '{name}': bad failure {failure!r} (use open, closed)"
        )
    return mode, failure


def _parse_script(
    root: Path,
    entry: dict[str, Any],
    index: int,
    settings: dict[str, tuple[str, str]],
    limits: Limits,
) -> dict[str, Any]:
    """Validate one [[scripts]] entry and read its file."""
    script_id = _text(entry, "id", None, f"script #{index + 1}: ")
    if not script_id:
        raise PipelineError(f"{MANIFEST}: script #{index + 1} has no 'id'")
    where = f"script '{script_id}': "
    _check_keys(entry, _SCRIPT_KEYS, where)
    _text(entry, "description", None, where)
    trigger = _text(entry, "trigger", None, where)
    if trigger not in settings:
        raise PipelineError(f"{MANIFEST}: {where}unknown trigger {trigger!r}")
    file = entry.get("file", f"{script_id}.lua")
    pure = PurePosixPath(file) if isinstance(file, str) else None
    if pure is None or pure.is_absolute() or ".." in pure.parts or not file.endswith(".lua"):
        raise PipelineError(f"{MANIFEST}: {where}'file' must be a relative .lua path, got {file!r}")
    depends = entry.get("depends_on", [])
    if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
        raise PipelineError(f"{MANIFEST}: {where}'depends_on' must be a list of script ids")
    failure = _text(entry, "failure", settings[trigger][1], where)
    if failure not in FAILURES:
        raise PipelineError(f"{MANIFEST}: {where}bad failure {failure!r} (use open, closed)")
    overrides = _table(entry.get("limits", {}), f"script '{script_id}' limits")
    for key in overrides:
        if key not in SCRIPT_LIMITS:
            raise PipelineError(f"{MANIFEST}: {where}limit '{key}' cannot be set per script")
    own = limits.with_overrides(overrides, f"{MANIFEST}: {where.rstrip(': ')}")
    data = _read_script(root, file, where)
    if len(data) > limits.max_script_bytes:
        raise PipelineError(
            f"{file}: script too large ({len(data)} > {limits.max_script_bytes} bytes)"
        )
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PipelineError(f"{file}: not valid UTF-8") from None
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


def _read_script(root: Path, file: str, where: str) -> bytes:
    """Read a script file, refusing folders and links that lead outside the pipelines folder."""
    try:
        path = (root / file).resolve(strict=True)
    except ValueError:  # a NUL character, which no file name can hold
        raise PipelineError(f"{MANIFEST}: {where}file {file!r} is not a valid file name") from None
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        raise PipelineError(f"{MANIFEST}: {where}file '{file}' not found") from None
    if not path.is_relative_to(root.resolve()):
        raise PipelineError(f"{MANIFEST}: {where}file '{file}' leads outside the pipelines folder")
    if path.is_dir():
        raise PipelineError(f"{MANIFEST}: {where}file '{file}' is a folder, not a .lua file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PipelineError(
            f"{MANIFEST}: {where}file '{file}' cannot be read: {exc.strerror}"
        ) from None


def _plan(
    trigger: str, members: list[dict[str, Any]], by_id: dict[str, dict[str, Any]], limits: Limits
) -> tuple[tuple[Script, ...], ...]:
    """Turn a trigger's dependency graph into layers, checking references and limits."""
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for entry in members:
        for dep in entry["depends_on"]:
            if dep not in by_id:
                raise PipelineError(
                    f"{MANIFEST}: script '{entry['id']}' depends on unknown script '{dep}'"
                )
            if by_id[dep]["trigger"] != trigger:
                raise PipelineError(
                    f"{MANIFEST}: script '{entry['id']}' depends on '{dep}' of trigger "
                    f"'{by_id[dep]['trigger']}' (only scripts of '{trigger}' are allowed)"
                )
        sorter.add(entry["id"], *entry["depends_on"])
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise PipelineError(f"{MANIFEST}: trigger '{trigger}': dependency cycle {cycle}") from None
    layers = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda i: by_id[i]["order"])
        sorter.done(*ready)
        layer_index = len(layers)
        if layer_index >= limits.max_layers:
            raise PipelineError(
                f"{MANIFEST}: trigger '{trigger}' needs more layers than max_layers = "
                f"{limits.max_layers} allows"
            )
        if len(ready) > limits.max_scripts_per_layer:
            raise PipelineError(
                f"{MANIFEST}: trigger '{trigger}' layer {layer_index} has {len(ready)} scripts "
                f"(max {limits.max_scripts_per_layer}): {', '.join(ready)}"
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
