"""OTLP/gRPC's trace service (the optional extra `grpc`), answering as the OTLP specification
says: OK with an ExportTraceServiceResponse (a partial success names spans left out),
INVALID_ARGUMENT for a request over a limit or without a span that can be read, UNAUTHENTICATED
without the token, and RESOURCE_EXHAUSTED (UNAVAILABLE while the store is unreachable) with a
RetryInfo saying when to send again while the writer's queue is full."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import NoReturn

import grpc
from google.protobuf.duration_pb2 import Duration
from google.rpc.error_details_pb2 import RetryInfo
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceResponse,
)

from pipetrace.store.interop.errors import Invalid, MalformedRequest
from pipetrace.store.interop.otlp_proto import parse_request, request_document
from pipetrace.store.interop.received import read_document

from ..otlp_limits import (
    MAX_BODY_BYTES,
    MAX_CONCURRENT_CALLS,
    RETRY_AFTER_BUSY_S,
    RETRY_AFTER_STALLED_S,
)
from .auth import bearer_matches
from .otlp_intake import Intake, QueueFull, TooManySpans

SOURCE = "otlp-grpc"
SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"
WORKERS = 4
"""Threads answering calls; decoding holds the interpreter anyway, so more would only wait."""


class TraceService:
    """Export calls into `intake`, requiring `token` when set. A call's message is parsed here
    rather than by gRPC, so one that is no ExportTraceServiceRequest is INVALID_ARGUMENT (gRPC
    would answer INTERNAL, its 500)."""

    def __init__(self, intake: Intake, token: str | None) -> None:
        self.intake = intake
        self.token = token

    def export(self, message: bytes, context: grpc.ServicerContext) -> ExportTraceServiceResponse:
        """Take one request's spans."""
        if self.token is not None:
            given = [v for k, v in context.invocation_metadata() if k == "authorization"]
            header = given[0] if len(given) == 1 else b""
            if isinstance(header, str):
                header = header.encode("latin-1", "replace")
            if not bearer_matches(header, self.token):
                context.abort(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "send authorization: Bearer <PIPETRACE_OTLP_TOKEN> once",
                )
        try:
            request = parse_request(message)
        except Invalid as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"the message {exc.message}")
        try:
            taken = self.intake.take(read_document(request_document(request)), SOURCE)
        except (TooManySpans, MalformedRequest) as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except QueueFull as exc:
            _busy(context, exc)
        response = ExportTraceServiceResponse()
        if taken.rejected:
            response.partial_success.CopyFrom(
                ExportTracePartialSuccess(
                    rejected_spans=taken.rejected, error_message=taken.problem or ""
                )
            )
        return response


def _busy(context: grpc.ServicerContext, exc: QueueFull) -> NoReturn:
    """RESOURCE_EXHAUSTED while the writer is behind, UNAVAILABLE while the store is
    unreachable; both with a RetryInfo, which OTLP exporters wait for before sending again."""
    wait = RETRY_AFTER_STALLED_S if exc.stalled else RETRY_AFTER_BUSY_S
    info = RetryInfo(retry_delay=Duration(seconds=wait))
    context.set_trailing_metadata((("google.rpc.retryinfo-bin", info.SerializeToString()),))
    if exc.stalled:
        context.abort(grpc.StatusCode.UNAVAILABLE, f"{exc} (the store is unreachable)")
    context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))


def grpc_server(intake: Intake, token: str | None, host: str, port: int) -> tuple[grpc.Server, int]:
    """A started gRPC server taking OTLP on `host`:`port`, and the port it listens on; raises
    OSError when it cannot listen there."""
    server = grpc.server(
        ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="pipetrace-grpc"),
        options=[
            ("grpc.max_receive_message_length", MAX_BODY_BYTES),
            ("grpc.so_reuseport", 0),
        ],
        maximum_concurrent_rpcs=MAX_CONCURRENT_CALLS,
    )
    export: grpc.RpcMethodHandler[bytes, ExportTraceServiceResponse]
    export = grpc.unary_unary_rpc_method_handler(
        TraceService(intake, token).export,
        response_serializer=ExportTraceServiceResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE, {"Export": export}),)
    )
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as exc:  # grpcio raises this when it cannot bind
        raise OSError(f"cannot listen on {address} ({exc})") from None
    if not bound:
        raise OSError(f"cannot listen on {address}")
    server.start()
    return server, bound
