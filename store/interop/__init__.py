"""OpenTelemetry interop: OTLP JSON export (to files or a collector) and OTLP, Jaeger and Zipkin
import; `otel_sdk` holds a span exporter for the OpenTelemetry Python SDK (optional extra)."""

from __future__ import annotations

from .errors import CollectorError, InteropError, MalformedFile
from .export import ExportReport, export_traces, select_trace_ids, send_export, write_export
from .importer import ImportReport, import_file, import_text
from .otlp_out import DEFAULT_SERVICE, traces_data

__all__ = [
    "DEFAULT_SERVICE",
    "CollectorError",
    "ExportReport",
    "ImportReport",
    "InteropError",
    "MalformedFile",
    "export_traces",
    "import_file",
    "import_text",
    "select_trace_ids",
    "send_export",
    "traces_data",
    "write_export",
]
