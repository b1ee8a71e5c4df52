"""Loading a pipelines folder (pipelines.toml plus .lua files) into an immutable, checked plan."""

from __future__ import annotations

import hashlib
import re
import tomllib
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

import msgspec

from pipetrace.bounded_read import RefusedFile, TooLarge, read_regular_file
from pipetrace.engine.errors import PipelineError
from pipetrace.engine.limits import Limits
from pipetrace.engine.manifest_problems import refusal, value_at
from pipetrace.engine.manifest_schema import (
    Failure,
    Manifest,
    Mode,
    RedactTable,
    RefusedInput,
    ScriptEntry,
    TriggerTable,
)
from pipetrace.engine.redaction.keys import KeyRules, normalized
from pipetrace.engine.sandbox import syntax_errors
from pipetrace.engine.toml_lines import Path as KeyPath
from pipetrace.engine.toml_lines import TomlLines

MANIFEST = "pipelines.toml"
MAX_MANIFEST_BYTES = 1024 * 1024
"""The largest pipelines.toml read; a real one is a few kilobytes."""
_TOML_POSITION = re.compile(r" \(at line (\d+), column (\d+)\)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Script:
    """One script bound to a trigger, with its place in the trigger's plan."""

    id: str
    trigger: str
    file: str
    source: str
    sha256: str
    depends_on: tuple[str, ...]
    failure: Failure
    instruction_budget: int
    deadline_ms: int
    layer_index: int
    parallel_index: int
    seed: int
    name: str = ""
    """What its span is called; its id when empty (a folder's scripts are named by their ids)."""
    verdict: tuple[str, str] | None = None
    """A status and message recorded without running the script: auther skips a script its
    plan names but its database lacks, and fails one over its size limit."""


@dataclass(frozen=True, slots=True)
class Trigger:
    """A named hook with its mode, failure policies and scripts grouped into layers."""

    name: str
    mode: Mode
    failure: Failure
    layers: tuple[tuple[Script, ...], ...]
    refused_input: RefusedInput = "block"


@dataclass(frozen=True, slots=True)
class Pipelines:
    """A fully checked pipelines folder; nothing in it is half-loaded."""

    root: Path
    triggers: dict[str, Trigger]
    scripts: dict[str, Script]
    limits: Limits
    version: str
    redaction: KeyRules = field(default_factory=KeyRules)
    """Which keys name secrets: the defaults as the `[redact]` table extends and reduces them."""


def load_pipelines(path: str | Path) -> Pipelines:
    """Read and check a pipelines folder, raising one PipelineError for the first problem."""
    root = Path(path)
    manifest_path = root / MANIFEST
    try:
        raw = read_regular_file(manifest_path, MAX_MANIFEST_BYTES)
    except RefusedFile as exc:
        raise PipelineError(f"{MANIFEST} in {root}: {exc}") from None
    except OSError:
        raise PipelineError(f"{MANIFEST}: not found in {root}") from None
    doc, at = _parse_manifest(raw)
    manifest = at.convert(doc, Manifest, ())
    limits = manifest.limits
    memory_problem = limits.memory_problem()
    if memory_problem:
        raise at.error(("limits", "max_memory"), f"[limits]: {memory_problem}")
    redaction = _redaction(at, manifest.redact)
    settings = {
        name: at.convert(doc, TriggerTable, ("triggers", name)) for name in manifest.triggers
    }
    parsed = [
        _parse_script(root, at, entry, index, settings, limits)
        for index, entry in enumerate(manifest.scripts)
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
    for name, table in settings.items():
        members = [e for e in parsed if e["trigger"] == name]
        layers = _plan(at, name, members, by_id, limits)
        triggers[name] = Trigger(name, table.mode, table.failure, layers, table.refused_input)
        scripts.update({s.id: s for layer in layers for s in layer})
    digest = hashlib.sha256(raw)
    for script_id in sorted(scripts):
        digest.update(f"\0{script_id}\0{scripts[script_id].sha256}".encode())
    return Pipelines(root, triggers, scripts, limits, digest.hexdigest()[:16], redaction)


class _Lines:
    """Builds errors that name pipelines.toml and the line of the table or key at fault."""

    def __init__(self, text: str) -> None:
        self._lines = TomlLines(text)

    def convert(self, doc: dict[str, Any], kind: type[_T], path: KeyPath) -> _T:
        """The value at `path` of the parsed file as `kind`, or the error msgspec's refusal
        means, at the line of the key at fault."""
        try:
            return msgspec.convert(value_at(doc, path), kind)
        except msgspec.ValidationError as exc:
            raise self.error(*refusal(exc, doc, path)) from None

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


def _redaction(at: _Lines, table: RedactTable) -> KeyRules:
    """The key rules of the [redact] table: key names to add (matched anywhere in a key or as
    whole words) and names to keep, on top of the defaults."""
    for key in ("keys", "words", "keep"):
        for name in getattr(table, key):
            if not normalized(name):
                raise at.error(
                    ("redact", key), f"[redact]: {name!r} in '{key}' has no letter or digit"
                )
    return KeyRules.configured(table.keys, table.words, table.keep)


def _parse_script(
    root: Path,
    at: _Lines,
    entry: ScriptEntry,
    index: int,
    settings: dict[str, TriggerTable],
    limits: Limits,
) -> dict[str, Any]:
    """Check what one [[scripts]] entry refers to, and read its file."""
    path = ("scripts", index)
    where = f"script '{entry.id}': "
    if entry.trigger not in settings:
        raise at.error((*path, "trigger"), f"{where}unknown trigger {entry.trigger!r}")
    file = f"{entry.id}.lua" if entry.file is None else entry.file
    pure = PurePosixPath(file)
    if pure.is_absolute() or ".." in pure.parts or not file.endswith(".lua"):
        raise at.error((*path, "file"), f"{where}'file' must be a relative .lua path, got {file!r}")
    own = limits.for_script(entry.limits)
    data = _read_script(
        root, file, limits.max_script_bytes, lambda what: at.error((*path, "file"), where + what)
    )
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _one_line(f"{file}:{line}: {where}not valid UTF-8") from None
    return {
        "id": entry.id,
        "trigger": entry.trigger,
        "file": file,
        "source": source,
        "sha256": hashlib.sha256(data).hexdigest(),
        "depends_on": tuple(entry.depends_on),
        "failure": entry.failure or settings[entry.trigger].failure,
        "instruction_budget": own.instruction_budget,
        "deadline_ms": own.deadline_ms,
        "order": index,
    }


def _read_script(
    root: Path, file: str, max_bytes: int, error: Callable[[str], PipelineError]
) -> bytes:
    """Read a script file, refusing links that lead outside the pipelines folder, anything but
    a regular file (a FIFO would hang the load) and a file over max_script_bytes."""
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
        return read_regular_file(path, max_bytes)
    except TooLarge as exc:
        size = f"{exc.size} > {max_bytes}" if exc.size is not None else f"over {max_bytes}"
        raise error(
            f"file '{file}' is too large ({size} bytes, the limit max_script_bytes)"
        ) from None
    except RefusedFile as exc:
        raise error(f"file '{file}' is {exc}") from None
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
