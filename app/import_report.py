"""What an import did, in the words the command line and the viewer both use."""

from __future__ import annotations

from pipetrace.store.interop import ImportReport

from .wording import counted


def import_summary(report: ImportReport) -> str:
    """`added N traces (S spans), merged M spans into K stored traces, skipped D duplicate
    spans`: every span of the file is in one of the three."""
    return (
        f"added {counted(report.traces_added, 'trace')} ({counted(report.spans, 'span')}), "
        f"merged {counted(report.spans_merged, 'span')} into "
        f"{counted(report.traces_merged, 'stored trace')}, "
        f"skipped {counted(report.duplicates, 'duplicate span')}"
    )
