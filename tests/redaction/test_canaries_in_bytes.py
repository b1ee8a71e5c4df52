"""Proof in bytes: canary secrets go in through every path a trace is stored by (input keys at
any depth, script data, logs, block and error messages, Lua errors, custom spans, a helper's
secret, the recorder process, replays, imports with --scrub, the SDK exporter with a scrub)
and none is in the raw SQLite file or its write-ahead log, nor in the rows sqld stores, nor in
what a backtest shows."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from click.testing import CliRunner
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from redaction.canaries import (
    HELPER_SECRET,
    SIGNUP,
    VISIBLE,
    leaked,
    sqlite_bytes,
    stored_rows,
    write_pipelines,
)

from pipetrace.app.cli import main
from pipetrace.app.engine_sink import StoreSink, recording_engine
from pipetrace.app.import_scrub import ImportScrub
from pipetrace.app.replay import replay_trace
from pipetrace.engine import Engine, OutOfProcess
from pipetrace.store import Repository, open_store
from pipetrace.store.interop.otel_sdk import PipetraceSpanExporter

SECRETS = {"stripe": HELPER_SECRET}


def record(repo: Repository, folder: Path) -> list[str]:
    """Run the leaking pipelines on the canary input: a blocked sign-up whose first layer
    also fails, and a sign-in that fails closed; returns their trace ids."""
    with recording_engine(repo, folder, secrets=SECRETS) as (engine, _):
        signup = engine.execute_trigger("before_signup", SIGNUP, {"user_id": "u-1"})
        signin = engine.execute_trigger("before_signin", SIGNUP, {"user_id": "u-1"})
    assert (signup.allowed, signin.allowed) == (False, False)
    return [signup.trace_id, signin.trace_id]


def test_no_canary_reaches_the_store_through_the_engine(repo: Repository, tmp_path: Path):
    trace_ids = record(repo, write_pipelines(tmp_path / "pipelines"))
    location = Path(repo.backend.target.location)
    is_file = location.exists()
    stored = sqlite_bytes(location) if is_file else stored_rows(repo).encode()
    assert VISIBLE.encode() in stored, "the search reads the stored text"
    assert leaked(stored) == []

    signup, signin = repo.get_traces_with_spans(trace_ids)
    assert set(signup.trace.context_snapshot["_redacted"]) >= {
        "password", "newPassword", "headers.Authorization", "headers.Cookie",
        "headers.X-Api-Key", "mfa.otp", "mfa.totp_code", "card.pin", "card.cvc",
        "private_key", "session_id", "account.providers.0.oauth.access_token",
        "account.providers.1.credentials",
        "redirect", "upstream", "card.number", "card_on_file", "note",
    }  # fmt: skip
    assert signup.trace.status_message == "blocked: pin [REDACTED], key [REDACTED]"
    leaky = next(s for s in signup.spans if s.name == "leaky")
    assert leaky.attributes["output.redacted"] == [
        "api_key", "key [REDACTED]", "nested.refresh_token", "password",
    ]  # fmt: skip
    assert leaky.attributes["logs"][0] == "user password is [REDACTED] and new [REDACTED]"
    custom = [s.name for s in signup.spans if s.attributes.get("custom")]
    assert custom == ["lookup [REDACTED]", "otp [REDACTED]"]
    assert (
        signin.trace.status_message == "closed: crasher.lua:1: crashed with [REDACTED] [REDACTED]"
    )
    if is_file:
        repo.close()
        assert leaked(sqlite_bytes(location)) == []


def test_no_canary_reaches_the_store_from_the_recorder_process(tmp_path: Path):
    db = tmp_path / "traces.db"
    sink = OutOfProcess(functools.partial(StoreSink, str(db)))
    with Engine.load(write_pipelines(tmp_path / "p"), sink=sink, secrets=SECRETS) as engine:
        engine.execute_trigger("before_signup", SIGNUP)
        engine.execute_trigger("before_signin", SIGNUP)
        assert engine.flush(30)
    assert engine.counters["submitted"] == 2
    stored = sqlite_bytes(db)
    assert VISIBLE.encode() in stored
    assert leaked(stored) == []


REPLAY_CANARIES = ["cnry-replay-token-1a2b", "cnryReplayBearer9z9z", "4111 1111 1111 1111"]


def test_a_replay_is_masked_the_same_way(sqlite_repo: Repository, tmp_path: Path):
    original = record(sqlite_repo, write_pipelines(tmp_path / "before"))[0]
    changed = write_pipelines(tmp_path / "after")
    (changed / "blocker.lua").write_text(
        'helpers.log("retrying with Bearer cnryReplayBearer9z9z, card 4111 1111 1111 1111")\n'
        'return {data = {session_token = "cnry-replay-token-1a2b"}}\n'
    )
    diff = replay_trace(sqlite_repo, original, changed)
    assert "headers.Authorization" in diff.redacted and "note" in diff.redacted
    location = Path(sqlite_repo.backend.target.location)
    assert leaked(sqlite_bytes(location), REPLAY_CANARIES) == []
    replay = sqlite_repo.get_trace_with_spans(diff.replay_id)
    assert replay is not None and replay.trace.result_data["session_token"] == "[REDACTED]"


def test_a_backtest_shows_no_canary(sqlite_repo: Repository, tmp_path: Path):
    record(sqlite_repo, write_pipelines(tmp_path / "before"))
    candidate = write_pipelines(tmp_path / "candidate")
    (candidate / "blocker.lua").write_text(  # it blocked: now it fails, so its error is shown
        'error("retry with Bearer cnryBacktestBearer77, card 4111 1111 1111 1111")\n'
    )
    (candidate / "leaky.lua").write_text('return {data = {api_key = "cnryBacktestKey1"}}\n')
    db = sqlite_repo.backend.target.location
    args = ["backtest", "--pipelines", str(candidate), "--db", db, "--json", "--workers", "1"]
    shown = CliRunner().invoke(main, args)
    assert shown.exit_code == 0, shown.output
    assert "blocker.lua:1: retry with Bearer [REDACTED], card [REDACTED]" in shown.stdout
    canaries = ["cnryBacktestBearer77", "4111 1111 1111 1111", "cnryBacktestKey1", *REPLAY_CANARIES]
    assert leaked(shown.stdout, canaries) == []


def otlp_with_canaries() -> dict:
    """An OTLP document from another system whose attributes, names and messages hold
    canaries."""

    def attribute(key: str, value: str) -> dict:
        return {"key": key, "value": {"stringValue": value}}

    span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "GET /callback?code=x&token=cnryImportQueryTok",
        "startTimeUnixNano": "1780000000000000000",
        "endTimeUnixNano": "1780000000100000000",
        "attributes": [
            attribute("http.request.header.authorization", "Bearer cnryImportBearer42"),
            attribute("db.password", "cnry-import-dbpass-31"),
            attribute("db.connection_string", "mysql://root:cnryImportUrlPw@db/x"),
            attribute("note", "retried after cnry-import-dbpass-31 was refused"),
            attribute("payment", "card 4242-4242-4242-4242"),
            attribute("user.email", VISIBLE),
        ],
        "status": {"code": 2, "message": f"token {'eyJhbGciOiJub25lIn0.eyJjbnJ5IjoxfQ.c2ln'}"},
    }
    resource = {"attributes": [attribute("service.name", "auth"), attribute("api_key", "cnryRes1")]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]}


IMPORT_CANARIES = [
    "cnryImportQueryTok",
    "cnryImportBearer42",
    "cnry-import-dbpass-31",
    "cnryImportUrlPw",
    "4242-4242-4242-4242",
    "eyJjbnJ5IjoxfQ",
    "cnryRes1",
]


def test_import_scrub_stores_no_canary_and_import_without_it_keeps_them(tmp_path: Path):
    document = tmp_path / "other-system.json"
    document.write_text(json.dumps(otlp_with_canaries()))
    runner = CliRunner()
    plain, scrubbed = tmp_path / "plain.db", tmp_path / "scrubbed.db"
    kept = runner.invoke(main, ["import", "--db", str(plain), str(document)])
    assert kept.exit_code == 0, kept.output
    assert leaked(sqlite_bytes(plain), IMPORT_CANARIES) == IMPORT_CANARIES, "opt-in"

    done = runner.invoke(main, ["import", "--scrub", "--db", str(scrubbed), str(document)])
    assert done.exit_code == 0, done.output
    stored = sqlite_bytes(scrubbed)
    assert VISIBLE.encode() in stored
    assert leaked(stored, IMPORT_CANARIES) == []
    repo = open_store(str(scrubbed))
    try:
        (trace,) = repo.get_traces_with_spans(["5b8efff798038103d269b633813fc60c"])
    finally:
        repo.close()
    assert trace.spans[0].attributes["redacted"] == ["http.request.header.authorization",
                                                     "db.password"]  # fmt: skip
    assert trace.spans[0].name == "GET /callback?code=x&token=[REDACTED]"


def test_the_sdk_exporter_scrubs_when_asked(tmp_path: Path):
    db = tmp_path / "sdk.db"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(PipetraceSpanExporter(str(db), ImportScrub())))
    with provider.get_tracer("shop").start_as_current_span("login") as span:
        span.set_attribute("db.password", "cnry-sdk-dbpass-4")
        span.set_attribute("http.url", "https://shop.example/cb?token=cnrySdkQueryTok")
        span.set_attribute("user.email", VISIBLE)
    provider.shutdown()
    stored = sqlite_bytes(db)
    assert VISIBLE.encode() in stored
    assert leaked(stored, ["cnry-sdk-dbpass-4", "cnrySdkQueryTok"]) == []
