"""OTLP/HTTP's trace endpoint, answering as the OTLP specification says: 200 with an
ExportTraceServiceResponse (a partial success names spans left out), 400 for a body that is no
export request, 401 without the token, 413 over a limit, 415 for an encoding or content type it
does not take, and 429 (503 while the store is unreachable) with Retry-After when the writer's
queue is full. Bad input is never a 500."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipetrace.store.interop.errors import Invalid, MalformedRequest
from pipetrace.store.interop.otlp_proto import parse_request, request_document
from pipetrace.store.interop.received import Received, read_document, read_json_request

from ..otlp_limits import (
    MAX_BODY_BYTES,
    MAX_DECODED_BYTES,
    RETRY_AFTER_BUSY_S,
    RETRY_AFTER_STALLED_S,
)
from .auth import bearer_matches
from .otlp_answers import JSON, PROTOBUF, exported, refused
from .otlp_bodies import BadBody, TooLarge, content_encoding, inflated, read_body
from .otlp_intake import Intake, QueueFull, TooManySpans

TRACES_PATH = "/v1/traces"
SOURCE = "otlp-http"
MEDIA_TYPES = {PROTOBUF: PROTOBUF, "application/protobuf": PROTOBUF, JSON: JSON}
"""Content types taken, and the encoding each means."""


def traces_route(intake: Intake, token: str | None) -> Route:
    """POST /v1/traces into `intake`, requiring `token` when set."""

    async def export_traces(request: Request) -> Response:
        media_type = MEDIA_TYPES.get(_media_type(request))
        answer_as = media_type or JSON
        if token is not None:
            unauthorised = _unauthorised(request, token, answer_as)
            if unauthorised is not None:
                return unauthorised
        if media_type is None:
            return refused(
                415, "Content-Type must be application/x-protobuf or application/json", JSON
            )
        encoding = content_encoding(request)
        if encoding is None:
            return refused(415, "Content-Encoding must be gzip, deflate or none", answer_as)
        try:
            body = inflated(await read_body(request, MAX_BODY_BYTES), encoding, MAX_DECODED_BYTES)
            received = _read(body, media_type)
            taken = intake.take(received, SOURCE)
        except (TooLarge, TooManySpans) as exc:
            return refused(413, str(exc), answer_as)
        except (BadBody, MalformedRequest) as exc:
            return refused(400, str(exc), answer_as)
        except QueueFull as exc:
            return _busy(exc, answer_as)
        return exported(answer_as, taken.rejected, taken.problem)

    return Route(TRACES_PATH, export_traces, methods=["POST"])


def _busy(exc: QueueFull, media_type: str) -> Response:
    """429 while the writer is behind, 503 while the store is unreachable; both say when to
    send again."""
    if exc.stalled:
        message = f"{exc} (the store is unreachable: {exc.stalled})"
        return refused(503, message, media_type, {"Retry-After": str(RETRY_AFTER_STALLED_S)})
    return refused(429, str(exc), media_type, {"Retry-After": str(RETRY_AFTER_BUSY_S)})


def _media_type(request: Request) -> str:
    """The Content-Type without its parameters, in lower case."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _read(body: bytes, media_type: str) -> Received:
    """The spans of a body in its encoding (MalformedRequest when it is not a request)."""
    if media_type == JSON:
        return read_json_request(body)
    try:
        request = parse_request(body)
    except Invalid as exc:
        raise MalformedRequest(f"the body {exc.message}") from None
    return read_document(request_document(request))


def _unauthorised(request: Request, token: str, media_type: str) -> Response | None:
    """401 unless the request carries exactly one `Authorization: Bearer <token>`."""
    headers = request.headers.getlist("authorization")
    header = (headers[0] if len(headers) == 1 else "").encode("latin-1")
    if bearer_matches(header, token):
        return None
    return refused(
        401,
        "unauthorised: send Authorization: Bearer <PIPETRACE_OTLP_TOKEN> once",
        media_type,
        {"WWW-Authenticate": "Bearer"},
    )
