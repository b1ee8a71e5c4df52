"""What an operator hands a replay's script helpers: secret values, the environment values the
scripts may read, and the responses helpers.fetch returns (the sandbox has no network)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipetrace.bounded_read import RefusedFile, read_regular_file
from pipetrace.engine import FetchResponse
from pipetrace.errors import PipetraceError

MAX_FILE_BYTES = 1024 * 1024
"""The largest secrets or responses file read (the original's limit on one fetch response)."""


class HelperValuesError(PipetraceError):
    """A secrets or responses file that cannot be used; the message names it."""

    title = "Bad helper values"


@dataclass(frozen=True, slots=True)
class HelperValues:
    """helpers.secret, helpers.env and helpers.fetch read these during a replay; nothing of them
    is stored, and secret values are masked wherever a replay shows text."""

    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    env: Mapping[str, str] = field(default_factory=dict)
    responses: Mapping[str, FetchResponse] = field(default_factory=dict)


def read_secrets(path: Path) -> dict[str, str]:
    """A JSON object of secret names to their text values."""
    value = _json_file(path, "--secrets")
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise HelperValuesError(
            f"--secrets {path}: expected a JSON object of secret names to text values"
        )
    return value


def read_responses(path: Path) -> dict[str, FetchResponse]:
    """A JSON object of https URLs to {"status": 200, "body": ...}: what helpers.fetch returns
    for each (`ok` follows from the status, as in the original)."""
    value = _json_file(path, "--fetch-responses")
    shape = 'expected a JSON object of URLs to {"status": 100..599, "body": ...}'
    if not isinstance(value, dict):
        raise HelperValuesError(f"--fetch-responses {path}: {shape}")
    responses = {}
    for url, given in value.items():
        status = given.get("status") if isinstance(given, dict) else None
        if type(status) is not int or not 100 <= status <= 599 or set(given) - {"status", "body"}:
            raise HelperValuesError(f"--fetch-responses {path}: {url!r}: {shape}")
        responses[url] = FetchResponse(status, given.get("body"))
    return responses


def _json_file(path: Path, option: str) -> Any:
    """A small JSON file's value, or one line saying why it cannot be read."""
    try:
        data = read_regular_file(path, MAX_FILE_BYTES)
    except RefusedFile as exc:
        raise HelperValuesError(f"{option} {path}: {exc}") from None
    except OSError as exc:
        raise HelperValuesError(f"{option} {path}: cannot read it ({exc.strerror})") from None
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise HelperValuesError(f"{option} {path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise HelperValuesError(
            f"{option} {path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})"
        ) from None
    except RecursionError:
        raise HelperValuesError(f"{option} {path}: nested too deeply to read") from None
