"""The sockets `serve` and `receive` listen on, bound before anything is served, so a bad host or
a busy port is one line naming the command's options."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from collections.abc import Iterator
from typing import NamedTuple

from pipetrace.errors import PipetraceError


class ListenError(PipetraceError):
    """The host or port cannot be listened on; the command line prints it as one line, exit 2."""

    title = "Cannot listen"


UNAVAILABLE = (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT)
"""Binding errors of an address this machine does not have (::1 without IPv6): skipped."""


@contextlib.contextmanager
def listening_sockets(
    host: str, port: int, command: str = "serve"
) -> Iterator[list[socket.socket]]:
    """A bound socket for every address `host` resolves to (localhost: ::1 and 127.0.0.1), so a
    bad host or a port busy on any of them is one line (naming `command` and its options)
    before anything is served."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else "not a valid host name"
        raise ListenError(
            f"{command}: --host {host!r} is neither an address nor a name that resolves ({reason})"
        ) from None
    where = _Where(command, host, port)
    with contextlib.ExitStack() as stack:
        bound: list[socket.socket] = []
        unavailable = OSError(errno.EADDRNOTAVAIL, os.strerror(errno.EADDRNOTAVAIL))
        for family, address in dict.fromkeys((info[0], info[4]) for info in found):
            if bound and port == 0:  # every address on the port the first one was given
                address = (address[0], bound[0].getsockname()[1], *address[2:])
            try:
                bound.append(stack.enter_context(socket.create_server(address, family=family)))
            except OSError as exc:
                if exc.errno not in UNAVAILABLE:
                    raise ListenError(_cannot_listen(where, exc, str(address[0]))) from None
                unavailable = exc
        if not bound:
            raise ListenError(_cannot_listen(where, unavailable, host))
        yield bound


class _Where(NamedTuple):
    """The command and option values a listening error names."""

    command: str
    host: str
    port: int


def _cannot_listen(where: _Where, exc: OSError, address: str) -> str:
    """One line naming the option values, the reason and (if not the --host) the address."""
    # create_server adds the address to strerror; the line already names it.
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    on = "" if address == where.host else f" (on {address})"
    options = f"--host {where.host} --port {where.port}"
    return f"{where.command}: cannot listen on {options}: {reason}{on}"


def url_of(sock: socket.socket) -> str:
    """The http:// URL a bound socket answers on."""
    address, port = sock.getsockname()[:2]
    return (
        f"http://[{address}]:{port}"
        if sock.family == socket.AF_INET6
        else f"http://{address}:{port}"
    )
