"""The plans and scripts an auther database keeps beside its traces (pipeline_execution_plan,
pipeline_scripts), read as they are now, so a trace can be replayed through them."""

from __future__ import annotations

from typing import Any

from ..backends import Backend
from ..models import StoredPipelines, StoredScript
from ..sql import Statement
from .rows import ns

PLANS = Statement("SELECT trigger_event, node_order FROM pipeline_execution_plan")
SCRIPTS = Statement("SELECT id, name, code, updated_at FROM pipeline_scripts")


def read_stored_pipelines(backend: Backend, where: str) -> StoredPipelines:
    """Every plan (its node_order JSON as stored) and every script; `where` names the database.
    pipeline_secrets is never read: its values are encrypted with the server's own key."""
    plans = {str(trigger): _text(order) for trigger, order in backend.query(PLANS)}
    scripts = {
        str(sid): StoredScript(str(sid), _text(name), _text(code), _time(updated))
        for sid, name, code, updated in backend.query(SCRIPTS)
    }
    return StoredPipelines(plans, scripts, f"{where}: pipeline_execution_plan")


def _text(value: Any) -> str:
    """A text column's value; a NULL or a number read as the text it would print."""
    return "" if value is None else str(value)


def _time(value: Any) -> int | None:
    """A timestamp_ms column as nanoseconds, or None when it holds no integer."""
    converted = ns(value)
    return converted if type(converted) is int else None
