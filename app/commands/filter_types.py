"""click parameter types for the filter options, so click refuses a bad value as it parses it."""

from __future__ import annotations

from typing import NamedTuple

import click

from ..address_filter import read_address
from ..durations import DurationError, read_bound
from ..timeparse import TimeFormatError, parse_time

MAX_SEARCH_CHARS = 1000
"""Longer than any id, IP or message anyone searches for, and far below SQLite's LIKE limit."""
MAX_USER_CHARS = 1000
"""Longer than any user id an auth server hands over (the column holds 200)."""
MAX_SCRIPT_CHARS = 200
"""What the store keeps of a script id."""
HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class TypedTime(NamedTuple):
    """A time as typed, which a cursor's filters are compared by, and the Unix ns it means now."""

    text: str
    ns: int


class TimeType(click.ParamType["TypedTime | None"]):
    """--since and --until: an age (7d), 'now' or an ISO time; empty means no bound."""

    name = "when"

    def convert(
        self, value: str, param: click.Parameter | None, ctx: click.Context | None
    ) -> TypedTime | None:
        """The time the text means now, or None for an empty one."""
        if not value:
            return None
        try:
            return TypedTime(value, parse_time(value))
        except TimeFormatError as exc:
            self.fail(str(exc), param, ctx)


class DurationType(click.ParamType[float]):
    """--min-ms and --max-ms: milliseconds, read as the viewer's duration dialog reads them."""

    name = "ms"

    def convert(
        self, value: str, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        """The bound in milliseconds."""
        try:
            return read_bound(value)
        except DurationError as exc:
            self.fail(str(exc), param, ctx)


class BoundedText(click.ParamType[str]):
    """Text of a length a user id or a search can have, so the store never meets an absurd one."""

    name = "text"

    def __init__(self, most: int, empty: str | None = None) -> None:
        """At most `most` characters; `empty` names what an empty value lacks ("user id"), or
        is None where empty text is a value."""
        self.most = most
        self.empty = empty

    def convert(self, value: str, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """The text as typed."""
        if self.empty is not None and not value:
            self.fail(f"the {self.empty} is empty", param, ctx)
        if len(value) > self.most:
            self.fail(f"{len(value)} characters is too long (at most {self.most})", param, ctx)
        return value


class IpType(click.ParamType[str]):
    """An IP address to match exactly as typed, or, where `networks`, an IPv4 network."""

    name = "ip"

    def __init__(self, *, networks: bool) -> None:
        self.networks = networks

    def convert(self, value: str, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """The address or network as typed."""
        try:
            _address, network = read_address(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if network is not None and not self.networks:
            self.fail(f"{value!r} is a network; a request comes from one address", param, ctx)
        return value


class VersionType(click.ParamType[str]):
    """--script-version: a script's sha256 or the start of it, in hex, as the stats print it."""

    name = "sha"

    def convert(self, value: str, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """The digits, lower case."""
        if not value:
            self.fail("the version is empty", param, ctx)
        if len(value) > 64 or not set(value) <= HEX_DIGITS:
            self.fail(
                f"{value[:70]!r} is not a script version (hex digits of its sha256)", param, ctx
            )
        return value.lower()
