"""The cron secret checked in constant time on every request."""

from __future__ import annotations

import hmac


def bearer_matches(header: bytes, secret: str) -> bool:
    """Whether an Authorization header is `Bearer <secret>`, the secret compared in constant
    time; the scheme name is case-insensitive (RFC 7235), so `bearer` matches too."""
    scheme, _, credentials = header.partition(b" ")
    return hmac.compare_digest(credentials, secret.encode("utf-8")) and scheme.lower() == b"bearer"
