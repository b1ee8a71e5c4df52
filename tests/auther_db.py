"""Builds databases the way auther (github.com/quanghuy1242/auther) does, for the tests.

The DDL below was written for pipetrace from reading auther at commit 67419c8 (src/db/
pipeline-schema.ts, drizzle/meta/_journal.json, drizzle/0011_faithful_emma_frost.sql,
drizzle/0012_flashy_boomer.sql, drizzle/0013_empty_robbie_robertson.sql): the same tables,
columns, types and index names, applied in the journal's order; `user` stands for the auth
server's own tables of drizzle/0000 that share the database. Rows are written with the column
values and JSON shapes of src/lib/auth/pipeline-repository.ts (createTrace, createSpans) and
src/lib/auth/pipeline-engine.ts (script spans, `helpers.trace` custom spans, skipped spans, the
32 KB truncateJson cap and the 1 KB cap on custom span attributes).
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipetrace.store.backends import open_backend
from pipetrace.store.sql import Statement
from pipetrace.store.url import parse_database_url

NOW_MS = "(cast(unixepoch('subsecond') * 1000 as integer))"
MIGRATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "0000 (the auth server's tables; one stands for them)",
        (
            "CREATE TABLE `user` (`id` text PRIMARY KEY NOT NULL, `name` text NOT NULL, "
            "`email` text NOT NULL, `email_verified` integer NOT NULL, `image` text, "
            f"`created_at` integer DEFAULT {NOW_MS} NOT NULL, `updated_at` integer NOT NULL)",
            "CREATE UNIQUE INDEX `user_email_unique` ON `user` (`email`)",
        ),
    ),
    (
        "0011 plan, graph, scripts",
        (
            "CREATE TABLE `pipeline_execution_plan` (`id` text PRIMARY KEY NOT NULL, "
            "`trigger_event` text NOT NULL, `node_order` text NOT NULL, "
            f"`created_at` integer DEFAULT {NOW_MS} NOT NULL, `updated_at` integer NOT NULL)",
            "CREATE UNIQUE INDEX `pipeline_execution_plan_trigger_event_unique` "
            "ON `pipeline_execution_plan` (`trigger_event`)",
            "CREATE TABLE `pipeline_graph` (`id` text PRIMARY KEY NOT NULL, "
            "`nodes` text NOT NULL, `edges` text NOT NULL, `updated_at` integer NOT NULL)",
            "CREATE TABLE `pipeline_scripts` (`id` text PRIMARY KEY NOT NULL, "
            "`name` text NOT NULL, `code` text NOT NULL, `config` text, "
            f"`created_at` integer DEFAULT {NOW_MS} NOT NULL, `updated_at` integer NOT NULL)",
        ),
    ),
    (
        "0012 spans and traces",
        (
            "CREATE TABLE `pipeline_spans` (`id` text PRIMARY KEY NOT NULL, "
            "`trace_id` text NOT NULL, `parent_span_id` text, `name` text NOT NULL, "
            "`kind` text DEFAULT 'INTERNAL' NOT NULL, `script_id` text NOT NULL, "
            "`layer_index` integer NOT NULL, `parallel_index` integer NOT NULL, "
            "`status` text NOT NULL, `status_message` text, `started_at` integer NOT NULL, "
            "`ended_at` integer, `duration_ms` integer, `attributes` text)",
            "CREATE INDEX `idx_spans_trace` ON `pipeline_spans` (`trace_id`)",
            "CREATE INDEX `idx_spans_script` ON `pipeline_spans` (`script_id`)",
            "CREATE TABLE `pipeline_traces` (`id` text PRIMARY KEY NOT NULL, "
            "`trigger_event` text NOT NULL, `status` text NOT NULL, `status_message` text, "
            "`started_at` integer NOT NULL, `ended_at` integer, `duration_ms` integer, "
            "`user_id` text, `request_ip` text, `context_snapshot` text, `result_data` text, "
            f"`created_at` integer DEFAULT {NOW_MS} NOT NULL)",
            "CREATE INDEX `idx_traces_trigger` ON `pipeline_traces` (`trigger_event`)",
            "CREATE INDEX `idx_traces_status` ON `pipeline_traces` (`status`)",
            "CREATE INDEX `idx_traces_created` ON `pipeline_traces` (`created_at`)",
        ),
    ),
    (
        "0013 secrets",
        (
            "CREATE TABLE `pipeline_secrets` (`id` text PRIMARY KEY NOT NULL, "
            "`name` text NOT NULL, `encrypted_value` text NOT NULL, `description` text, "
            f"`created_at` integer DEFAULT {NOW_MS} NOT NULL, `updated_at` integer NOT NULL)",
            "CREATE UNIQUE INDEX `pipeline_secrets_name_unique` ON `pipeline_secrets` (`name`)",
        ),
    ),
)
MAX_TRACE_CONTEXT_SIZE = 32768
MAX_SPAN_ATTRIBUTES_SIZE = 1024
TRACE_COLUMNS = (
    "id, trigger_event, status, status_message, started_at, ended_at, duration_ms, "
    "user_id, request_ip, context_snapshot, result_data, created_at"
)
SPAN_COLUMNS = (
    "id, trace_id, parent_span_id, name, script_id, layer_index, parallel_index, status, "
    "status_message, started_at, ended_at, duration_ms, attributes"
)
Run = Callable[[Sequence[Statement]], None]


def js_json(value: Any) -> str:
    """JSON.stringify's text: compact, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def truncate_json(value: Any, max_size: int = MAX_TRACE_CONTEXT_SIZE) -> str:
    """auther's truncateJson: JSON cut at max_size - 50 with its marker appended (no longer
    JSON when cut)."""
    text = js_json(value)
    if len(text) <= max_size:
        return text
    return text[: max_size - 50] + '..."__truncated":true,"__originalSize":' + f"{len(text)}}}"


def sqlite_runner(path: Path) -> Run:
    """Statements run in one transaction on the file, in rollback-journal mode (the default)."""

    def run(statements: Sequence[Statement]) -> None:
        conn = sqlite3.connect(path)
        try:
            with conn:
                for s in statements:
                    conn.execute(s.sql, s.params)
        finally:
            conn.close()

    return run


def sqld_runner(url: str) -> Run:
    """Statements run as one batch on the sqld server at `url`."""

    def run(statements: Sequence[Statement]) -> None:
        backend = open_backend(parse_database_url(url))
        try:
            backend.write(list(statements))
        finally:
            backend.close()

    return run


def migrate(run: Run) -> None:
    """auther's schema, migration by migration in journal order."""
    for _tag, statements in MIGRATIONS:
        run([Statement(sql) for sql in statements])


@dataclass
class SpanSpec:
    """One span auther's engine would record; children are `helpers.trace` spans in it."""

    name: str
    status: str = "success"
    message: str | None = None
    output: dict[str, Any] | None = None
    children: list[tuple[str, dict[str, Any] | None, str]] = field(default_factory=list)
    """(name, attributes or None, status) of custom spans, nested one level under the last."""
    script_id: str | None = None


@dataclass
class AutherWriter:
    """Writes scripts, plans and traces with auther's column values; ids are seeded UUIDs."""

    run: Run
    seed: int = 1
    rng: random.Random = field(init=False)
    written: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def uuid(self) -> str:
        """A version 4 UUID as crypto.randomUUID writes it."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def script(self, name: str, code: str, at_ms: int = 1_700_000_000_000) -> str:
        """createScript: a script row; its id."""
        script_id = self.uuid()
        self.run(
            [
                Statement(
                    "INSERT INTO pipeline_scripts (id, name, code, config, created_at, "
                    "updated_at) VALUES (?, ?, ?, NULL, ?, ?)",
                    (script_id, name, code, at_ms, at_ms),
                )
            ]
        )
        return script_id

    def plan(self, trigger: str, layers: list[list[str]], at_ms: int = 1_700_000_000_000) -> None:
        """updateExecutionPlan: the trigger's layers of script ids as JSON."""
        self.run(
            [
                Statement(
                    "INSERT INTO pipeline_execution_plan (id, trigger_event, node_order, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                    (self.uuid(), trigger, js_json(layers), at_ms, at_ms),
                )
            ]
        )

    def user(self, user_id: str, email: str) -> None:
        """A row of the auth server's own, which pipetrace must never touch."""
        self.run(
            [
                Statement(
                    "INSERT INTO user (id, name, email, email_verified, created_at, updated_at) "
                    "VALUES (?, ?, ?, 1, 1700000000000, 1700000000000)",
                    (user_id, "Ada", email),
                )
            ]
        )

    def trace(
        self,
        trigger: str,
        started_ms: int,
        layers: list[list[SpanSpec]],
        *,
        context: dict[str, Any] | None = None,
        user_id: str | None = "user_123",
        request_ip: str | None = "203.0.113.7",
        created_delay_ms: int = 3,
    ) -> str:
        """One executeTrigger's trace and spans as saveTrace writes them; its id."""
        trace_id = self.uuid()
        clock = started_ms
        span_rows: list[Statement] = []
        status, message, data = "success", None, {}
        for layer_index, layer in enumerate(layers):
            for parallel_index, spec in enumerate(layer):
                span_id = self.uuid()
                start = clock
                for name, attrs, child_status in spec.children:
                    child_id = self.uuid()
                    text = None
                    if attrs is not None:
                        text = js_json(attrs)[:MAX_SPAN_ATTRIBUTES_SIZE]
                    span_rows.append(
                        self._span(
                            child_id,
                            trace_id,
                            span_id,
                            name,
                            "",
                            layer_index,
                            parallel_index,
                            child_status,
                            "boom" if child_status == "error" else None,
                            clock + 1,
                            clock + 2,
                            text,
                        )
                    )
                clock += 5
                attributes = None
                if spec.status in ("success", "blocked"):
                    attributes = js_json({"output": spec.output} if spec.output else {})
                name = "Unknown" if spec.status == "skipped" else spec.name
                message_ = "Script not found" if spec.status == "skipped" else spec.message
                span_rows.append(
                    self._span(
                        span_id,
                        trace_id,
                        None,
                        name,
                        spec.script_id or self.uuid(),
                        layer_index,
                        parallel_index,
                        spec.status,
                        message_,
                        start,
                        clock,
                        attributes,
                    )
                )
                if spec.status == "blocked" and status == "success":
                    status = "blocked"
                    message = spec.message or f"Blocked by pipeline policy (Node: {spec.name})"
                if spec.status == "success" and spec.output:
                    data.update(spec.output)
        ctx = context if context is not None else {"email": "ada@example.com"}
        self.run(
            [
                Statement(
                    f"INSERT INTO pipeline_traces ({TRACE_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        trace_id,
                        trigger,
                        status,
                        message,
                        started_ms,
                        clock,
                        clock - started_ms,
                        user_id,
                        request_ip,
                        truncate_json(ctx),
                        None if status == "blocked" else truncate_json(data),
                        clock + created_delay_ms,
                    ),
                ),
                *span_rows,
            ]
        )
        self.written.append(trace_id)
        return trace_id

    def _span(self, *values: Any) -> Statement:
        """createSpans' row (kind left to its default, INTERNAL)."""
        start, end = values[9], values[10]
        return Statement(
            f"INSERT INTO pipeline_spans ({SPAN_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*values[:11], end - start, values[11]),
        )


def file_digest(path: Path) -> str:
    """The file's SHA-256, to prove a command left it byte for byte as it was."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
