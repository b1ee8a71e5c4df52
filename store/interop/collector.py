"""Sends OTLP JSON to a collector over OTLP/HTTP (Jaeger, Tempo, the OpenTelemetry Collector)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..url import mask_credentials
from .errors import CollectorError

TRACES_PATH = "/v1/traces"


@dataclass(slots=True)
class SendStats:
    """Requests made and spans the collector said it rejected (OTLP partial success)."""

    requests: int = 0
    rejected_spans: int = 0


def traces_url(endpoint: str) -> str:
    """The collector's traces URL: a base URL gets /v1/traces appended."""
    shown = mask_credentials(endpoint)
    try:
        parsed = urllib.parse.urlsplit(endpoint.strip())
        parsed.port  # noqa: B018 - validates the port
    except ValueError as exc:
        raise CollectorError(f"endpoint {shown!r} is not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise CollectorError(f"endpoint {shown!r} is not an http:// or https:// URL")
    if "@" in parsed.netloc:
        raise CollectorError(
            f"endpoint {shown!r}: user:password in the URL is not sent; "
            "use --header 'Authorization=Basic ...' instead"
        )
    path = parsed.path.rstrip("/")
    if not path.endswith(TRACES_PATH):
        path += TRACES_PATH
    return urllib.parse.urlunsplit(parsed._replace(path=path))


def send_batches(
    lines: Iterable[tuple[str, int]],
    endpoint: str,
    *,
    batch_spans: int = 2000,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> SendStats:
    """POST exported (line, span count) pairs in requests of at most `batch_spans` spans.

    Whole traces share a request while they fit; a trace with more spans than that is split
    into parts of `batch_spans`, each span under its own resource and scope, as OpenTelemetry
    SDKs split traces across exports (collectors put a trace together by its id).
    """
    url = traces_url(endpoint)
    stats = SendStats()
    batch: list[str] = []
    count = 0
    for line, spans in lines:
        parts = [(line, spans)] if spans <= batch_spans else _split(line, batch_spans)
        for part, size in parts:
            if batch and count + size > batch_spans:
                _post(url, batch, headers, timeout, stats)
                batch, count = [], 0
            batch.append(_resource_spans(part))
            count += size
    if batch:
        _post(url, batch, headers, timeout, stats)
    return stats


def _split(line: str, size: int) -> Iterator[tuple[str, int]]:
    """A TracesData line as lines of at most `size` spans, in order, each span keeping the
    resource and scope (with their schema URLs) it had."""
    resources = json.loads(line)["resourceSpans"]
    flat = [
        (r, s, span)
        for r, rs in enumerate(resources)
        for s, ss in enumerate(rs["scopeSpans"])
        for span in ss["spans"]
    ]
    for start in range(0, len(flat), size):
        part = flat[start : start + size]
        out: list[dict[str, Any]] = []
        last = None
        for r, s, span in part:
            if last is None or last[0] != r:
                out.append({**resources[r], "scopeSpans": []})
            if last != (r, s):
                out[-1]["scopeSpans"].append({**resources[r]["scopeSpans"][s], "spans": []})
            out[-1]["scopeSpans"][-1]["spans"].append(span)
            last = (r, s)
        # ASCII JSON: a lone surrogate read back from its \u escape is written as one again.
        yield json.dumps({"resourceSpans": out}, separators=(",", ":")), len(part)


def _resource_spans(line: str) -> str:
    """The inside of a TracesData line's resourceSpans list, to splice into one request."""
    prefix = '{"resourceSpans":['
    if not line.startswith(prefix) or not line.endswith("]}"):
        raise ValueError("not an exported OTLP line")
    return line[len(prefix) : -2]


def _post(
    url: str,
    batch: list[str],
    headers: Mapping[str, str] | None,
    timeout: float,
    stats: SendStats,
) -> None:
    body = ('{"resourceSpans":[' + ",".join(b for b in batch if b) + "]}").encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = response.read()
    except urllib.error.HTTPError as exc:
        excerpt = " ".join(exc.read(300).decode("utf-8", "replace").split())
        detail = f": {excerpt}" if excerpt else ""
        raise CollectorError(
            f"collector at {mask_credentials(url)} refused the export: "
            f"HTTP {exc.code} {exc.reason}{detail}"
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CollectorError(
            f"cannot reach collector at {mask_credentials(url)}: {reason}"
        ) from None
    stats.requests += 1
    stats.rejected_spans += _rejected(answer)


def _rejected(answer: bytes) -> int:
    """Spans an OTLP partial-success answer says were rejected (0 for anything else)."""
    try:
        partial = json.loads(answer or b"{}").get("partialSuccess") or {}
        return int(partial.get("rejectedSpans") or 0)
    except (ValueError, AttributeError, TypeError):
        return 0
