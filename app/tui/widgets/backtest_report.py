"""A backtest report as the viewer shows it: the flip classes as rows to open, then statuses,
scripts, the candidate's new errors and what could not be replayed."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ...backtest.labels import DECISION_LABELS, DURATIONS_NOTE, UNCERTAIN_NOTE
from ...backtest.report import DURATION_ERROR, FLIP_CLASSES, BacktestReport, FlipClass
from ...short_ids import short_id
from ...timeparse import format_duration
from ...untrusted import shown_text
from ..status_colours import status_colour

CLASS_STYLE: dict[FlipClass, str] = {
    "allowed-to-blocked": "bold yellow",
    "blocked-to-allowed": "bold green",
    "unchanged": "grey62",
    "uncertain": "magenta",
}


def decision_rows(report: BacktestReport) -> list[tuple[FlipClass, tuple[Text, Text, Text]]]:
    """Each flip class with its cells: label, traces, the sample ids kept."""
    rows = []
    for kind in FLIP_CLASSES:
        count = report.decisions[kind]
        samples = report.samples.get(kind, [])
        rows.append(
            (
                kind,
                (
                    Text(DECISION_LABELS[kind], style=CLASS_STYLE[kind] if count else "grey62"),
                    Text(f"{count:,}", justify="right"),
                    shown_text(" ".join(map(short_id, samples)), "cyan"),
                ),
            )
        )
    return rows


def summary_line(report: BacktestReport) -> Text:
    """How many traces matched, were replayed and skipped; a partial report says so first."""
    matched = "?" if report.matched is None else f"{report.matched:,}"
    skipped = sum(report.skipped.values())
    line = Text()
    if report.interrupted:
        line.append("cancelled: a partial report of the traces replayed so far · ", "bold yellow")
    line.append(f"{matched} matching traces, {report.replayed:,} replayed, {skipped:,} skipped")
    return line


def _status_changes(report: BacktestReport) -> RenderableType:
    if not report.status_changes:
        return Text("statuses: none changed", style="grey62")
    lines = [Text("status changes", style="bold underline")]
    for (before, after), n in sorted(report.status_changes.items()):
        lines.append(
            Text.assemble(
                shown_text(before, status_colour(before)),
                " -> ",
                shown_text(after, status_colour(after)),
                f"  {n:,}",
            )
        )
    return Group(*lines)


def _pair(before: float | None, after: float | None) -> str:
    return f"{format_duration(before)} -> {format_duration(after)}"


def scripts_table(report: BacktestReport) -> Table:
    """One row per script: status changes, durations before and after, what it newly breaks."""
    table = Table(title="scripts", title_justify="left", expand=True)
    for name in ("script", "status changes", "p50", "p95", "new errors", "new limit hits"):
        table.add_column(name, no_wrap=name in ("script", "p50", "p95", "new errors"))
    for script_id, stats in sorted(report.scripts.items()):
        changes = ", ".join(f"{b}->{a} {n:,}" for (b, a), n in sorted(stats.status_changes.items()))
        limits = ", ".join(f"{name} {n:,}" for name, n in sorted(stats.new_limits.items()))
        table.add_row(
            shown_text(script_id, "bold"),
            shown_text(changes or "-"),
            _pair(stats.before.quantile(0.5), stats.after.quantile(0.5)),
            _pair(stats.before.quantile(0.95), stats.after.quantile(0.95)),
            Text(f"{stats.new_errors:,}", style="bold red" if stats.new_errors else ""),
            shown_text(limits or "-", "red" if limits else ""),
        )
    return table


def _new_errors(report: BacktestReport) -> list[RenderableType]:
    lines: list[RenderableType] = []
    for script_id, stats in sorted(report.scripts.items()):
        for trace_id, message in stats.error_samples:
            lines.append(
                Text.assemble(
                    ("new error in ", "red"),
                    shown_text(script_id, "bold"),
                    shown_text(f" ({short_id(trace_id)}): "),
                    shown_text(message or "-"),
                )
            )
    return lines


def report_details(report: BacktestReport) -> Group:
    """Everything under the flip classes, top to bottom."""
    parts: list[RenderableType] = [_status_changes(report), Text()]
    if report.decisions["uncertain"]:
        parts += [Text(UNCERTAIN_NOTE.format(flips=report.uncertain_flips), "magenta"), Text()]
    parts += [scripts_table(report), *_new_errors(report)]
    for reason, n in sorted(report.skipped.items()):
        parts.append(shown_text(f"skipped, {reason}: {n:,}", "grey62"))
    parts.append(Text(DURATIONS_NOTE.format(error=DURATION_ERROR), style="grey62"))
    return Group(*parts)
