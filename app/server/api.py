"""The ASGI app: an authenticated cleanup endpoint for schedulers, and a health check."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pipetrace.store import CleanupResult, Repository, StoreError

from ..retention import (
    DEFAULT_AGE,
    DEFAULT_BATCH_SIZE,
    PAUSE_SECONDS,
    cutoff_for,
    failed_summary,
)
from ..retention import summary as cleanup_summary
from ..timeparse import TimeFormatError
from .auth import bearer_matches

CLEANUP_PATH = "/api/internal/cleanup-traces"
MIN_AGE = "1h"
"""The youngest traces a request may delete: a caller cannot wipe the recent, still-useful ones."""
MAX_BODY_BYTES = 4096
"""Far more than `{"older_than": "30d", "dry_run": false}` takes."""
OPTION_KEYS = ("older_than", "dry_run")
FLAGS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


class BadRequest(ValueError):
    """A request whose body or query cannot be used; answered with 400 and the reason."""


def create_app(repo: Repository, secret: str, *, close_store: bool = False) -> Starlette:
    """The app over an already open store, closed at shutdown when `close_store` says so."""
    running = threading.Lock()

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        if close_store:
            repo.close()

    async def cleanup_traces(request: Request) -> JSONResponse:
        headers = request.headers.getlist("authorization")
        if len(headers) > 1:
            # Proxies and servers disagree on which of two is meant: refuse, never guess.
            return JSONResponse(
                {"error": "the Authorization header is given more than once"}, status_code=400
            )
        header = (headers[0] if headers else "").encode("latin-1")
        if not bearer_matches(header, secret):
            return JSONResponse(
                {"error": "unauthorized: send Authorization: Bearer <CRON_SECRET>"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            body = await _bounded_body(request)
            options = _options(body, _single_params(request))
            cutoff = cutoff_for(options["older_than"], "older_than", at_least=MIN_AGE)
        except TooLarge as exc:
            return JSONResponse({"error": str(exc)}, status_code=413)
        except (BadRequest, TimeFormatError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if options["dry_run"]:
            return await _answer(repo, cutoff, options)
        if not running.acquire(blocking=False):
            return JSONResponse({"error": "a cleanup is already running"}, status_code=409)
        try:
            return await _answer(repo, cutoff, options)
        finally:
            running.release()

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(
        lifespan=lifespan,
        routes=[
            Route(CLEANUP_PATH, cleanup_traces, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
    )


class TooLarge(ValueError):
    """A body longer than any cleanup request; answered with 413 before it is read whole."""


async def _bounded_body(request: Request) -> bytes:
    """The body, refused past MAX_BODY_BYTES as its length says or as it arrives."""
    declared = request.headers.get("content-length", "")
    too_large = TooLarge(f"the body is over {MAX_BODY_BYTES} bytes; a cleanup request is tiny")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise too_large
    return body


def _options(body: bytes, query: dict[str, str]) -> dict[str, Any]:
    """older_than and dry_run from an optional JSON body or the query string, else defaults; one
    given in both with different values is refused (which of them was meant is unknowable)."""
    data = _body(body)
    _refuse_unknown(data, "body key")
    _refuse_unknown(query, "query parameter")
    options: dict[str, Any] = {"older_than": DEFAULT_AGE, "dry_run": False}
    for key, read in (("older_than", _age), ("dry_run", _flag)):
        given = [read(found[key]) for found in (data, query) if key in found]
        if len(set(given)) > 1:
            raise BadRequest(
                f"{key} is {data[key]!r} in the body but {query[key]!r} in the query string; "
                "give it once"
            )
        if given:
            options[key] = given[0]
    return options


def _age(value: Any) -> str:
    """older_than as given, which must be text (the cutoff reads it)."""
    if not isinstance(value, str):
        raise BadRequest('older_than must be a string like "30d"')
    return value


def _flag(value: Any) -> bool:
    """dry_run as a boolean, from JSON's true and false or the query string's words for them."""
    flag = FLAGS.get(value.lower()) if isinstance(value, str) else value
    if not isinstance(flag, bool):
        raise BadRequest("dry_run must be true or false")
    return flag


def _single_params(request: Request) -> dict[str, str]:
    """The query parameters, refusing one given twice (which value was meant is unknowable)."""
    params = request.query_params
    for key in params:
        if len(params.getlist(key)) > 1:
            raise BadRequest(f"query parameter {key!r} is given more than once")
    return dict(params)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise BadRequest(f"body key {key!r} is given more than once")
        data[key] = value
    return data


def _body(body: bytes) -> dict[str, Any]:
    """The JSON object of the body ({} when empty), or a BadRequest saying what is wrong."""
    if not body.strip():
        return {}
    try:
        data = json.loads(body, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise BadRequest("the body is nested too deeply to be a cleanup request") from None
    except ValueError as exc:
        raise BadRequest(f"the body is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadRequest('the body must be a JSON object like {"older_than": "30d"}')
    return data


def _refuse_unknown(given: dict[str, Any], what: str) -> None:
    """A misspelled option must not fall back to a default that deletes more than was asked."""
    unknown = sorted(set(given) - set(OPTION_KEYS))
    if unknown:
        raise BadRequest(
            f"unknown {what} {unknown[0][:40]!r}: use only {' and '.join(OPTION_KEYS)}"
        )


async def _answer(repo: Repository, cutoff: int, options: dict[str, Any]) -> JSONResponse:
    """Run the cleanup (or its count) off the event loop and answer its summary; a store
    failure is 503, with what was deleted before it when anything was."""
    try:
        result = await run_in_threadpool(_run, repo, cutoff, options["dry_run"])
    except StoreError as exc:
        if exc.partial is None:
            return JSONResponse({"error": str(exc)}, status_code=503)
        return JSONResponse(failed_summary(cutoff, options["older_than"], exc), status_code=503)
    return JSONResponse(cleanup_summary(cutoff, options["older_than"], result, options["dry_run"]))


def _run(repo: Repository, cutoff: int, dry_run: bool) -> CleanupResult:
    """The blocking part, run in a worker thread so the server keeps answering."""
    if dry_run:
        return CleanupResult(*repo.count_older_than(cutoff), space=repo.space())
    return repo.cleanup_old_traces(cutoff, batch_size=DEFAULT_BATCH_SIZE, pause=PAUSE_SECONDS)
