"""Every `pipetrace` sub-command, registered by name with where it lives and its summary, so the
command line imports only the command it runs (see docs/ARCHITECTURE.md, start-up).

Adding a command is one entry here: its name, "module:attribute" in this package, and the first
sentence of its help as the command says it (tests/cli/test_lazy_commands.py checks it).
"""

from __future__ import annotations

from ..lazy_group import Registered

COMMANDS = {
    "backtest": Registered(
        "backtest_cmds:backtest",
        "Replay every matching stored trace through a candidate pipelines folder and report what "
        "would change: decisions that flip, statuses, each script's results and durations, and "
        "the errors and limit hits the candidate introduces.",
    ),
    "cleanup": Registered(
        "cleanup_cmds:cleanup",
        "Delete traces (and their spans) older than an age, oldest first, in small batches.",
    ),
    "completion": Registered(
        "completion_cmds:completion",
        "Print the shell completion script for bash, zsh or fish.",
    ),
    "db": Registered("db_cmds:db", "Manage the store's schema, soundness and disk space."),
    "demo": Registered(
        "engine_cmds:demo",
        "Fill the store with realistic auth traffic through the bundled pipelines, then browse it.",
    ),
    "export": Registered(
        "interop_cmds:export_cmd",
        "Export traces as OTLP JSON to a file, stdout or an OpenTelemetry collector.",
    ),
    "import": Registered(
        "interop_cmds:import_cmd",
        "Import OTLP JSON (documents or JSON lines), Jaeger JSON or Zipkin JSON (v2 or v1) files.",
    ),
    "pipelines": Registered(
        "pipelines_cmds:pipelines", "The bundled pipelines: where they are, and a copy to edit."
    ),
    "receive": Registered(
        "receive_cmds:receive",
        "Receive traces from any OpenTelemetry exporter over OTLP/HTTP (POST /v1/traces).",
    ),
    "replay": Registered(
        "replay_cmds:replay",
        "Replay a trace's trigger with its stored input and metadata; print what changed.",
    ),
    "run": Registered(
        "engine_cmds:run", "Run one trigger through the pipelines and store its trace."
    ),
    "screenshots": Registered(
        "viewer_cmds:screenshots",
        "Write an SVG of every viewer screen state (fixed data, fixed clock) to OUT.",
    ),
    "serve": Registered(
        "serve_cmds:serve",
        "Serve POST /api/internal/cleanup-traces for schedulers that can only call a URL.",
    ),
    "show": Registered(
        "store_cmds:show",
        "Show one trace with its spans, input, outputs and errors (a unique id prefix is enough).",
    ),
    "stats": Registered(
        "stats_cmds:stats",
        "Per trigger, script and version: runs, errors, blocks, skips, limit hits, duration "
        "percentiles and errors over time.",
    ),
    "traces": Registered("store_cmds:traces", "List traces, newest first."),
}
