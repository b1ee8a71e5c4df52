"""Text that would drive a terminal, one class of control each, and stores that carry it in every
field a trace has: recorded by the real engine from a pipelines folder whose trigger, script ids
and file names hold it and whose scripts quote their input, and imported from an OTLP file whose
resource, scope, span names and attributes hold it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipetrace.app.engine_sink import recording_engine
from pipetrace.store import Repository

CHECK = "return {allowed = false, error = 'invalid email: ' .. context.x}\n"
"""Blocks with a message that quotes its input, as scripts do."""
ENRICH = "return {data = {[context.x] = 'v', k = context.x}}\n"
"""Returns the input as a key and as a value of its data."""
CRASH = "error(context.x)\n"
"""Fails with its input as the Lua error text."""


@dataclass(frozen=True)
class Hostile:
    """A class of text a terminal obeys instead of showing, and how pipetrace must show it."""

    name: str
    raw: str
    """As an attacker writes it (an email field, a span name, a file name)."""
    shown: str
    """As text output and the viewer show it: each control a visible escape."""

    @property
    def in_json(self) -> str:
        """As JSON carries it, in JSON's own escapes (the standard library's, ASCII only)."""
        return json.dumps(self.raw)[1:-1]

    @property
    def in_names(self) -> str:
        """As a file name can hold it: anything but NUL."""
        return self.raw.replace("\x00", "")

    @property
    def names_shown(self) -> str:
        """`in_names` as pipetrace shows it."""
        return self.shown.replace("\\x00", "")

    def head(self, cells: int) -> str:
        """The start of `shown` that a column `cells` wide shows before its ellipsis."""
        return self.shown if len(self.shown) <= cells else self.shown[: cells - 1]

    def check(self, output: str, *expected: str) -> None:
        """`output` holds none of the raw characters (but line feeds, which also end its lines:
        the class's other characters tell whether it leaked) and each of `expected`."""
        raw = sorted({c for c in self.raw if not c.isprintable()} - {"\n"} & set(output))
        assert not raw, f"raw {raw!r} in output: {output!r}"
        for text in expected:
            assert text in output, f"{text!r} not in output: {output}"


HOSTILE = [
    Hostile("csi", "\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),
    Hostile("osc-title", "\x1b]2;t\x07", "\\x1b]2;t\\x07"),
    Hostile("osc-52", "\x1b]52;c;YQ==\x1b\\", "\\x1b]52;c;YQ==\\x1b\\"),
    Hostile("c0", "a\x00\x08\r\n\t\x0bb", "a\\x00\\x08\\x0d\\x0a\\x09\\x0bb"),
    Hostile("del", "a\x7fb", "a\\x7fb"),
    Hostile("c1", "\x9b2J\x9d0;t\x9c\x85", "\\x9b2J\\x9d0;t\\x9c\\x85"),
    Hostile("bidi", "\u202a\u202b\u202c\u202d\u202e", "\\u202a\\u202b\\u202c\\u202d\\u202e"),
    Hostile("isolates", "\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"),
]
"""Escape sequences (CSI: clear the screen; OSC: set the title, write the clipboard), NUL and
other C0 controls, DEL, C1 controls (a one-byte CSI and OSC), and the bidirectional embeddings,
overrides and isolates; short, so a span pane's line holds each whole."""
hostile_classes = pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])


def hostile_pipelines(folder: Path, hostile: Hostile, *, block: bool = True) -> Path:
    """A pipelines folder whose trigger is the hostile text and whose scripts' ids and file
    names hold it: one script blocks quoting the input (unless not `block`: the trigger then
    allows, with data), one returns it, one fails with it (failing open)."""
    folder.mkdir()
    trigger = json.dumps(hostile.raw)  # JSON's escapes are TOML's
    manifest = [f'[triggers.{trigger}]\nmode = "blocking"\nfailure = "open"\n']
    scripts = [("check", CHECK)] if block else []
    for name, source in [*scripts, ("enrich", ENRICH), ("crash", CRASH)]:
        file = f"{name}{hostile.in_names}.lua"
        (folder / file).write_text(source)
        manifest.append(
            f"[[scripts]]\nid = {json.dumps(name + hostile.raw)}\ntrigger = {trigger}\n"
            f"file = {json.dumps(file)}\n"
        )
    (folder / "pipelines.toml").write_text("\n".join(manifest))
    return folder


def hostile_input(hostile: Hostile) -> dict[str, str]:
    """An input whose field `x`, and one of whose keys, is the hostile text."""
    return {"x": hostile.raw, hostile.raw: "v"}


def record_hostile(repo: Repository, pipelines: Path, hostile: Hostile) -> str:
    """Run the hostile trigger through the real engine into `repo`, with the hostile text as
    user and IP too (an embedding server passes on what a client's headers say); its id."""
    with recording_engine(repo, pipelines) as (engine, _):
        outcome = engine.execute_trigger(
            hostile.raw,
            hostile_input(hostile),
            {"user_id": hostile.raw, "request_ip": hostile.raw},
        )
    return outcome.trace_id


def hostile_otlp(path: Path, hostile: Hostile) -> Path:
    """An OTLP JSON file from another service whose resource, scope, span name, status message,
    user, IP and attribute keys and values hold the hostile text."""
    text = {"stringValue": hostile.raw}
    span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": hostile.raw,
        "startTimeUnixNano": "1780000000000000000",
        "endTimeUnixNano": "1780000000002000000",
        "status": {"code": 2, "message": hostile.raw},
        "attributes": [
            {"key": hostile.raw, "value": text},
            {"key": "note", "value": text},
            {"key": "enduser.id", "value": text},
            {"key": "client.address", "value": text},
        ],
    }
    document = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": text}]},
                "scopeSpans": [{"scope": {"name": hostile.raw}, "spans": [span]}],
            }
        ]
    }
    path.write_text(json.dumps(document))
    return path
