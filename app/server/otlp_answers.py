"""The receiver's answers in OTLP/HTTP's terms: an ExportTraceServiceResponse (with its partial
success when spans were left out) for a request taken, a google.rpc.Status for one refused, each
in the encoding the request came in (protobuf, or proto3's JSON mapping)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from google.rpc.code_pb2 import Code
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceResponse,
)
from starlette.responses import Response

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
RPC_CODES = {
    400: Code.INVALID_ARGUMENT,
    401: Code.UNAUTHENTICATED,
    404: Code.NOT_FOUND,
    413: Code.INVALID_ARGUMENT,
    415: Code.INVALID_ARGUMENT,
    429: Code.RESOURCE_EXHAUSTED,
    503: Code.UNAVAILABLE,
}
"""The google.rpc code a refusal's Status carries, by HTTP status (as OTLP/gRPC would say it)."""


def exported(media_type: str, rejected: int = 0, problem: str | None = None) -> Response:
    """200: the request was taken; `rejected` spans of it were left out, for `problem`."""
    response = ExportTraceServiceResponse()
    if rejected:
        response.partial_success.CopyFrom(
            ExportTracePartialSuccess(rejected_spans=rejected, error_message=problem or "")
        )
    return _message(response, 200, media_type)


def refused(
    status: int, message: str, media_type: str, headers: Mapping[str, str] | None = None
) -> Response:
    """A refusal with a google.rpc.Status saying why."""
    return _message(Status(code=RPC_CODES[status], message=message), status, media_type, headers)


def _message(
    message: Message, status: int, media_type: str, headers: Mapping[str, str] | None = None
) -> Response:
    if media_type == PROTOBUF:
        body = message.SerializeToString()
    else:
        body = json.dumps(MessageToDict(message), ensure_ascii=False).encode("utf-8")
    return Response(body, status_code=status, media_type=media_type, headers=headers)
