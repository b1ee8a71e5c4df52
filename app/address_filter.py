"""An IP address or IPv4 network typed as a filter, checked the same way on the command line and
in the viewer: an address to match as typed, or a network the store can read as text ranges."""

from __future__ import annotations

import ipaddress

from pipetrace.store.ipv4 import network_text

MAX_IP_CHARS = 64
"""Longer than any IP address or network in text, scope id included."""


def read_address(text: str) -> tuple[str | None, str | None]:
    """(request IP, IPv4 network) for what was typed: one of them is set; ValueError in one line
    saying what is wrong (empty, too long, not an address, a network the store cannot read)."""
    if not text:
        raise ValueError("the IP is empty")
    if len(text) > MAX_IP_CHARS:
        raise ValueError(f"{len(text)} characters is too long for an IP (at most {MAX_IP_CHARS})")
    if "/" in text:
        network_text(text)
        return None, text
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an IP address (e.g. 203.0.113.9) or network (10.0.0.0/8)"
        ) from None
    return text, None
