"""The file name the export dialog suggests: one per trace, and never a file that exists."""

from __future__ import annotations

import os

from pipetrace.store.trace_ids import significant_id

from ..untrusted import shown


def suggested_export_path(trace_id: str | None, folder: str = ".") -> str:
    """`folder`/trace-<significant id>.otlp.json (traces.otlp.json for a filtered list, no id),
    numbered -2, -3… past names already taken; an id a foreign writer stored with controls in
    it is named by its visible escapes."""
    name = "traces" if trace_id is None else f"trace-{shown(significant_id(trace_id))}"
    stem = os.path.join(folder, name)
    path, n = f"{stem}.otlp.json", 1
    while os.path.lexists(path):
        n += 1
        path = f"{stem}-{n}.otlp.json"
    return path
