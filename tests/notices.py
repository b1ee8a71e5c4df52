"""The toasts a running app shows, kept from its public App.notify so a test can read them all."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import App
from textual.notifications import SeverityLevel


@dataclass(frozen=True)
class Notice:
    """One notification as the app asked for it: its text and how severe it is."""

    message: str
    severity: SeverityLevel


def record_notices(app: App[object]) -> list[Notice]:
    """A list that keeps every notification `app` shows from now on, in order (none expire)."""
    notices: list[Notice] = []
    notify = app.notify

    def keep(
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        notices.append(Notice(message, severity))
        notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    app.notify = keep  # type: ignore[method-assign]
    return notices
