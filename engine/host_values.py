"""What the host hands scripts through the helpers (secrets, allowed environment values and
supplied fetch responses), checked once, so the sandbox can take them as they are."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipetrace.engine.errors import EngineError
from pipetrace.engine.limits import Limits
from pipetrace.engine.values import InputError, measure_input

MIN_STATUS, MAX_STATUS = 100, 599


@dataclass(frozen=True, slots=True)
class FetchResponse:
    """What helpers.fetch returns for one URL, as the original's safeFetch shapes it; the
    sandbox has no network, so a response is only ever one the host supplied."""

    status: int
    body: Any = None

    @property
    def ok(self) -> bool:
        """Whether the status is a success (200 to 299), as fetch's `ok` says."""
        return 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class HostValues:
    """helpers.secret(name), helpers.env(name) and helpers.fetch(url) read these; names and
    URLs not given read as nil (fetch: the script's error)."""

    secrets: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    """The operator's allow-list: only these names, with these values, reach scripts."""
    responses: Mapping[str, FetchResponse] = field(default_factory=dict)

    @classmethod
    def checked(
        cls,
        limits: Limits,
        secrets: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        responses: Mapping[str, FetchResponse] | None = None,
    ) -> HostValues:
        """Copies of the values, refusing what Lua and the store cannot take: names and values
        that are not text, and responses larger or deeper than an input may be (they live in
        the runtime beside it, so max_memory's room for an input covers them)."""
        given = dict(responses or {})
        for url, response in given.items():
            if not isinstance(url, str) or not isinstance(response, FetchResponse):
                raise EngineError(f"fetch response {url!r}: give a URL and a FetchResponse")
            if type(response.status) is not int or not (
                MIN_STATUS <= response.status <= MAX_STATUS
            ):
                raise EngineError(
                    f"fetch response {url!r}: status must be an integer from {MIN_STATUS} to "
                    f"{MAX_STATUS}"
                )
        try:
            measure_input(
                {url: r.body for url, r in given.items()},
                limits.max_input_bytes,
                limits.max_input_depth,
            )
        except InputError as exc:
            raise EngineError(f"fetch responses: {exc} (bounded as an input is)") from None
        return cls(_texts("secret", secrets), _texts("env", env), given)


def _texts(what: str, values: Mapping[str, str] | None) -> dict[str, str]:
    """A copy of name-to-text values, refusing what is not text or not valid Unicode."""
    copied = dict(values or {})
    for name, value in copied.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise EngineError(f"{what} {name!r}: names and values must be strings")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise EngineError(f"{what} {name!r}: the value is not valid Unicode") from None
    return copied
