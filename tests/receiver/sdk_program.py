"""An instrumented program the receiver tests run in a child process: it sends its spans to a
`pipetrace receive` through the official OTLP exporters and writes the SDK's own view of every
span (ids, parents, times, attributes, events, links, status, resource, scope) to a JSON file,
which the tests compare with what the receiver stored.

Usage: python sdk_program.py --endpoint URL --protocol http|grpc --out FILE
       [--compression gzip] [--processor batch|simple] [--token TOKEN] [--traces N] [--twice]
Prints {"results": [...]} with each export call's result; exits 0 when every call succeeded.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

SECRET = "hunter2-very-secret"
"""A value the program sends under a secret-named attribute, and in an event's text."""
SESSION_TOKEN = "tok-1234567890"
"""A value the program sends under a secret-named attribute of an event."""
API_KEY = "key-0987654321"
"""A value the program sends under a secret-named attribute of a link."""
SECRET_KEYS = frozenset(("password", "session_token", "api_key"))


class Recording(SpanExporter):
    """Sends through `inner` and keeps every span and every result."""

    def __init__(self, inner: SpanExporter, twice: bool) -> None:
        self.inner = inner
        self.twice = twice
        self.spans: list[ReadableSpan] = []
        self.results: list[str] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        for _ in range(2 if self.twice else 1):
            result = self.inner.export(spans)
            self.results.append(result.name)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()


def exporter(args: argparse.Namespace) -> SpanExporter:
    """The official exporter the arguments ask for."""
    headers = {"authorization": f"Bearer {args.token}"} if args.token else None
    if args.protocol == "grpc":
        from grpc import Compression as GrpcCompression
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        compression = GrpcCompression.Gzip if args.compression == "gzip" else None
        return OTLPSpanExporter(
            endpoint=args.endpoint, insecure=True, headers=headers, compression=compression,
            timeout=30,
        )  # fmt: skip
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpExporter,
    )

    return HttpExporter(
        endpoint=f"{args.endpoint}/v1/traces",
        headers=headers,
        compression=Compression.Gzip if args.compression == "gzip" else Compression.NoCompression,
        timeout=30,
    )


def checkout(provider: TracerProvider, n: int) -> None:
    """A trace with every kind of data: typed and list attributes, events, a link, a failed
    child with an exception, an error status, and a secret."""
    tracer = provider.get_tracer("shop.checkout", "2.1")
    attributes = {
        "enduser.id": f"u-{n}",
        "http.request.method": "POST",
        "retries": 3,
        "ratio": 0.25,
        "cached": False,
        "skus": ["A1", "B2"],
        "sizes": [1, 2, 3],
        "password": SECRET,
    }
    with tracer.start_as_current_span(
        "POST /checkout", kind=SpanKind.SERVER, attributes=attributes
    ) as root:
        root.add_event("cart loaded", {"items": 3, "currency": "EUR"})
        root.add_event(
            "login", {"detail": f"the user typed {SECRET}", "session_token": SESSION_TOKEN}
        )
        with tracer.start_as_current_span("reserve stock", kind=SpanKind.INTERNAL) as reserve:
            reserve.add_event("reserved", {"warehouse": "ams"})
            reserve.set_status(Status(StatusCode.OK))
        link = Link(root.get_span_context(), {"link.reason": "retry", "api_key": API_KEY})
        try:
            with tracer.start_as_current_span("charge card", kind=SpanKind.CLIENT, links=[link]):
                raise ValueError("card declined")
        except ValueError:
            root.set_status(Status(StatusCode.ERROR, "payment failed"))
        with tracer.start_as_current_span("send receipt", kind=SpanKind.PRODUCER):
            pass


def sdk_view(span: ReadableSpan) -> dict[str, Any]:
    """What the SDK holds of a span, as plain JSON."""
    context = span.get_span_context()
    scope = span.instrumentation_scope
    return {
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "parent_id": f"{span.parent.span_id:016x}" if span.parent else None,
        "name": span.name,
        "kind": span.kind.name,
        "start": span.start_time,
        "end": span.end_time,
        "attributes": _plain(span.attributes),
        "events": [
            {"name": e.name, "time": e.timestamp, "attributes": _plain(e.attributes)}
            for e in span.events
        ],
        "links": [
            {
                "trace_id": f"{k.context.trace_id:032x}",
                "span_id": f"{k.context.span_id:016x}",
                "attributes": _plain(k.attributes),
            }
            for k in span.links
        ],
        "status": {"code": span.status.status_code.name, "message": span.status.description},
        "resource": _plain(span.resource.attributes),
        "scope": {"name": scope.name, "version": scope.version} if scope else None,
    }


def _plain(attributes: Any) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dict(attributes or {}).items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--protocol", choices=["http", "grpc"], default="http")
    parser.add_argument("--compression", choices=["none", "gzip"], default="none")
    parser.add_argument("--processor", choices=["batch", "simple"], default="batch")
    parser.add_argument("--token")
    parser.add_argument("--traces", type=int, default=2)
    parser.add_argument("--twice", action="store_true", help="Send every batch twice.")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    recording = Recording(exporter(args), args.twice)
    provider = TracerProvider(
        resource=Resource.create({"service.name": "shop", "deployment.environment": "test"})
    )
    processor = BatchSpanProcessor if args.processor == "batch" else SimpleSpanProcessor
    provider.add_span_processor(processor(recording))
    for n in range(args.traces):
        checkout(provider, n)
    provider.shutdown()
    with open(args.out, "w") as out:
        json.dump([sdk_view(span) for span in recording.spans], out)
    print(json.dumps({"results": recording.results}))
    sys.exit(0 if set(recording.results) == {"SUCCESS"} else 1)


if __name__ == "__main__":
    main()
