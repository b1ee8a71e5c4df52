"""IPv4 networks as ranges of request_ip text, so a network filter reads an index, not the table.

Stored IPs are text, and dotted-decimal text does not sort like the numbers it writes ("10.0.2.9"
sorts between "10.0.16.1" and "10.0.32.1"), so only networks of whole octets are one text range:
/8, /16 and /24 are the texts starting with a prefix such as "10.1."; a network inside a /24 (/25
to /31) is its /24's range narrowed to its addresses, and a /32 is its one address.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import NamedTuple


class NetworkText(NamedTuple):
    """How a network's addresses are written: the texts starting with `prefix` (which ends in a
    dot, so "10.1." never takes in "10.10.0.1"), and of those only `addresses`, if given."""

    prefix: str | None = None
    addresses: tuple[str, ...] = ()


@functools.lru_cache(maxsize=64)
def network_text(network: str) -> NetworkText:
    """The texts of an IPv4 network in CIDR form; host bits are ignored (10.1.2.3/16 is
    10.1.0.0/16). Raises ValueError naming what is wrong, for IPv6 networks too."""
    try:
        net = ipaddress.IPv4Network(network, strict=False)
    except ValueError:
        raise ValueError(f"{network!r} is not an IPv4 network such as 10.0.0.0/8") from None
    bits = net.prefixlen
    octets = [str(octet) for octet in net.network_address.packed]
    if bits == 32:
        return NetworkText(addresses=(str(net.network_address),))
    if bits > 24:
        # The /24's range is what SQLite reads by; the addresses then pick the smaller network.
        addresses = tuple(str(address) for address in net)
        return NetworkText(prefix=".".join(octets[:3]) + ".", addresses=addresses)
    if bits in (8, 16, 24):
        return NetworkText(prefix=".".join(octets[: bits // 8]) + ".")
    raise ValueError(
        f"{network!r} is not one range of stored IP text: give a network of whole octets "
        "(/8, /16, /24) or one inside a /24 (/25 to /32)"
    )


def prefix_end(prefix: str) -> str:
    """The first text after every text that starts with `prefix` (which ends in a dot)."""
    return prefix[:-1] + "/"
