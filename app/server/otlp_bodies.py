"""A request body as the receiver reads it: refused past its size limit as its length says or
as it arrives, and inflated (gzip or deflate) no further than the decoded limit, so neither a
long body nor a small one that inflates to gigabytes is ever held whole."""

from __future__ import annotations

import zlib

from starlette.requests import Request

ENCODINGS = {"identity": 0, "gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16}
ENCODINGS["deflate"] = zlib.MAX_WBITS
"""Content-Encoding values taken, with the zlib window bits that undo them (0: as sent);
HTTP's deflate is the zlib format (RFC 9110)."""


DRAINED = 4
"""How many times its limit a body may run to and still be read to its end before the 413."""


class TooLarge(ValueError):
    """A body over a limit, sent or inflated (answered 413)."""


class BadBody(ValueError):
    """A compressed body that does not inflate (answered 400)."""


def content_encoding(request: Request) -> str | None:
    """The one Content-Encoding the body has (lower case; "identity" when none), or None when
    it is one the receiver cannot undo or is given more than once."""
    given = request.headers.getlist("content-encoding")
    if len(given) > 1:
        return None
    encoding = (given[0] if given else "identity").strip().lower() or "identity"
    return encoding if encoding in ENCODINGS else None


async def read_body(request: Request, limit: int) -> bytes:
    """The body as sent, refused (TooLarge) past `limit` bytes without holding more. The rest of
    a body not far over the limit is still read (and dropped), so the client, which is sending
    it, gets to read the 413 instead of a reset connection it would take for an outage."""
    declared = request.headers.get("content-length", "")
    too_large = TooLarge(f"the body is over {limit} bytes; the receiver takes at most {limit}")
    if declared.isdigit() and int(declared) > DRAINED * limit:
        raise too_large
    body = bytearray()
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > DRAINED * limit:
            break
        if size <= limit:
            body += chunk
    if size > limit:
        raise too_large
    return bytes(body)


def inflated(body: bytes, encoding: str, limit: int) -> bytes:
    """The body with its Content-Encoding undone, refused (TooLarge) once it inflates past
    `limit` bytes; BadBody when it is not what its encoding says."""
    wbits = ENCODINGS[encoding]
    if not wbits:
        return body
    out = bytearray()
    rest = body
    while True:
        inflater = zlib.decompressobj(wbits)
        try:
            out += inflater.decompress(rest, limit + 1 - len(out))
        except zlib.error as exc:
            raise BadBody(f"the body is not valid {encoding} ({exc})") from None
        if len(out) > limit:
            raise TooLarge(f"the body inflates past {limit} bytes; the receiver takes at most that")
        if not inflater.eof:
            raise BadBody(f"the {encoding} body is cut short")
        rest = inflater.unused_data
        if not rest or encoding == "deflate":  # gzip may hold several members, one after another
            break
    if rest:
        raise BadBody(f"the {encoding} body has {len(rest)} bytes after its end")
    return bytes(out)
