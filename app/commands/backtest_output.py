"""The backtest report as people read it: decisions first, then statuses, then script by script."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from ..backtest.labels import DECISION_LABELS, DURATIONS_NOTE, UNCERTAIN_NOTE
from ..backtest.report import DURATION_ERROR, BacktestReport
from ..short_ids import short_id
from ..timeparse import format_duration
from ..untrusted import shown_text
from .table_layout import Column, print_table

DECISION_COLUMNS = (Column("decision", 18), Column("traces", 7), Column("e.g.", 12, wraps=True))
SCRIPT_COLUMNS = (
    Column("script", 16),
    Column("status changes", 20, wraps=True),
    Column("p50 before -> after"),
    Column("p95 before -> after"),
    Column("new errors", 10),
    Column("new limit hits", wraps=True),
)


def print_report(report: BacktestReport, console: Console) -> None:
    """The whole report; a partial one says so first."""
    if report.interrupted:
        console.print("[yellow]interrupted: a partial report of the traces replayed so far[/]")
    matched = "?" if report.matched is None else f"{report.matched:,}"
    skipped = sum(report.skipped.values())
    console.print(
        Text.assemble(
            "backtest of ",
            shown_text(report.pipelines, "bold"),
            f": {matched} matching traces, {report.replayed:,} replayed, {skipped:,} skipped",
        )
    )
    rows = []
    for kind, label in DECISION_LABELS.items():
        samples = report.samples.get(kind, [])
        examples = shown_text(" ".join(map(short_id, samples)))
        rows.append((label, f"{report.decisions[kind]:,}", examples))
    print_table(console, DECISION_COLUMNS, rows, "decisions")
    if report.decisions["uncertain"]:
        console.print(UNCERTAIN_NOTE.format(flips=report.uncertain_flips), markup=False)
    for (before, after), n in sorted(report.status_changes.items()):
        console.print(shown_text(f"status {before} -> {after}: {n:,}"))
    _print_scripts(report, console)
    for reason, n in sorted(report.skipped.items()):
        console.print(shown_text(f"skipped, {reason}: {n:,}"))
    console.print(Text(DURATIONS_NOTE.format(error=DURATION_ERROR), style="dim"))


def _print_scripts(report: BacktestReport, console: Console) -> None:
    rows = []
    for script_id, stats in sorted(report.scripts.items()):
        changes = ", ".join(f"{b}->{a} {n:,}" for (b, a), n in sorted(stats.status_changes.items()))
        limits = ", ".join(f"{name} {n:,}" for name, n in sorted(stats.new_limits.items()))
        rows.append(
            (
                shown_text(script_id),
                shown_text(changes or "-"),
                _pair(stats.before.quantile(0.5), stats.after.quantile(0.5)),
                _pair(stats.before.quantile(0.95), stats.after.quantile(0.95)),
                f"{stats.new_errors:,}",
                shown_text(limits or "-"),
            )
        )
    print_table(console, SCRIPT_COLUMNS, rows, "scripts")
    for script_id, stats in sorted(report.scripts.items()):
        for trace_id, message in stats.error_samples:
            console.print(
                Text.assemble(
                    "new error in ",
                    shown_text(script_id, "bold"),
                    shown_text(f" ({short_id(trace_id)}): "),
                    shown_text(message or "-"),
                )
            )


def _pair(before: float | None, after: float | None) -> str:
    return f"{format_duration(before)} -> {format_duration(after)}"
