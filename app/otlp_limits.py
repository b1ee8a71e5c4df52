"""What the OTLP receiver takes, in one place: the `receive` command states these limits in its
help and the receiver enforces them, so the two never disagree."""

from __future__ import annotations

DEFAULT_HTTP_PORT = 4318
"""OTLP/HTTP's registered port, where exporters send by default."""
DEFAULT_GRPC_PORT = 4317
"""OTLP/gRPC's registered port."""
MAX_BODY_BYTES = 4 * 2**20
"""A request body as sent (compressed or not); a larger one is answered 413 (gRPC's default
largest message, and far more than an SDK's batch of 512 spans takes)."""
MAX_DECODED_BYTES = 16 * 2**20
"""A body once gzip or deflate is undone; one that inflates past this is answered 413. (A gRPC
message may be MAX_BODY_BYTES once gRPC has undone its compression.)"""
MAX_SPANS_PER_REQUEST = 10_000
"""Spans in one request; more is answered 413 (SDKs send 512 at a time by default)."""
MAX_ATTRIBUTES = 1_000
"""Attributes on a span, and on each of its events and links, its resource and its scope; a
span with more is left out and reported in the answer's partial success (SDKs keep 128)."""
MAX_CONCURRENT_CALLS = 64
"""gRPC calls served at once; more are answered RESOURCE_EXHAUSTED (OTLP/HTTP has the same cap
on connections)."""
DEFAULT_QUEUE_SPANS = 50_000
"""Spans received and not yet written that the receiver holds; past it, requests are answered
429 (or 503 while the store is unreachable) with Retry-After, and exporters send them again."""
BATCH_REQUESTS = 8
"""Requests merged into the store in one transaction."""
STORE_RETRIES = 30
"""Attempts at a batch while the store is unreachable, with backoff up to 5 s between them:
about two minutes before its spans are counted as failed (and logged)."""
RETRY_AFTER_BUSY_S = 1
"""Retry-After of a 429: the writer is behind but writing."""
RETRY_AFTER_STALLED_S = 5
"""Retry-After of a 503: the store cannot be reached, and the writer waits for it."""
