"""What the operator filters the trace list by, kept apart from the widgets that edit it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipetrace.store import ReplayChoice, TraceFilter

from ..timeparse import format_duration, format_ns, parse_age

RANGE_PRESETS = ("15m", "1h", "24h", "7d", "30d")
STATUSES = ("success", "blocked", "error")
FIELDS = ("trigger", "status", "range", "duration", "text", "user", "ip", "replays", "script")
NEXT_REPLAYS: dict[ReplayChoice, ReplayChoice] = {
    "exclude": "include",
    "include": "only",
    "only": "exclude",
}
"""What the replay toggle turns each choice into: traffic, plus replays, replays only."""


@dataclass(frozen=True, slots=True)
class FilterState:
    """The list's filters; a relative range is resolved against the clock at every query."""

    triggers: tuple[str, ...] = ()
    """Any of these triggers (none: every trigger)."""
    statuses: tuple[str, ...] = ()
    """Any of these statuses (none: every status); blocked and error is the 3 a.m. choice."""
    range_preset: str | None = None
    custom_from: int | None = None
    custom_until: int | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    text: str = ""
    user_id: str | None = None
    """Exactly this user (set from a trace's detail, or typed)."""
    request_ip: str | None = None
    """Exactly this request IP (set from a trace's detail, or typed)."""
    ip_network: str | None = None
    """Request IPs in this IPv4 network (typed, as the command line's --ip takes it)."""
    replays: ReplayChoice = "exclude"
    """Replays are not traffic: left out unless the operator brings them in."""
    scripts: tuple[str, ...] = ()
    """Traces with a run of one of these scripts (set from the stats screen)."""
    script_statuses: tuple[str, ...] = ()
    """With `scripts`: runs that ended so."""
    script_versions: tuple[str, ...] = ()
    """With `scripts`: runs of these versions (sha256, short)."""

    def to_filter(self, now_ns: int) -> TraceFilter:
        """The store's filter for this state at time `now_ns`."""
        started_from, started_until = self.custom_from, self.custom_until
        if self.range_preset:
            started_from, started_until = now_ns - parse_age(self.range_preset), None
        return TraceFilter(
            triggers=self.triggers,
            statuses=self.statuses,
            started_from=started_from,
            started_until=started_until,
            min_duration_ms=self.min_ms,
            max_duration_ms=self.max_ms,
            text=self.text or None,
            user_id=self.user_id,
            request_ip=self.request_ip,
            ip_network=self.ip_network,
            replays=self.replays,
            scripts=self.scripts,
            script_statuses=self.script_statuses,
            script_versions=self.script_versions,
        )

    def cleared(self, field: str) -> FilterState:
        """This state without one filter (`field` is one of FIELDS)."""
        if field == "trigger":
            return replace(self, triggers=())
        if field == "status":
            return replace(self, statuses=())
        if field == "range":
            return replace(self, range_preset=None, custom_from=None, custom_until=None)
        if field == "duration":
            return replace(self, min_ms=None, max_ms=None)
        if field == "text":
            return replace(self, text="")
        if field == "user":
            return replace(self, user_id=None)
        if field == "ip":
            return replace(self, request_ip=None, ip_network=None)
        if field == "replays":
            return replace(self, replays="exclude")
        if field == "script":
            return replace(self, scripts=(), script_statuses=(), script_versions=())
        raise ValueError(f"unknown filter {field!r}")

    def chips(self, *, local: bool = False) -> list[tuple[str, str]]:
        """(field, label) for every active filter, in FIELDS order; a custom range's times in
        local time when `local`, else in UTC."""
        out: list[tuple[str, str]] = []
        if self.triggers:
            out.append(("trigger", f"trigger={','.join(self.triggers)}"))
        if self.statuses:
            out.append(("status", f"status={','.join(self.statuses)}"))
        if self.range_preset:
            out.append(("range", f"last {self.range_preset}"))
        elif self.custom_from is not None or self.custom_until is not None:
            start = "…" if self.custom_from is None else format_ns(self.custom_from, local=local)
            end = "now" if self.custom_until is None else format_ns(self.custom_until, local=local)
            out.append(("range", f"{start} → {end}"))
        if self.min_ms is not None or self.max_ms is not None:
            low = format_duration(self.min_ms) if self.min_ms is not None else "0"
            high = format_duration(self.max_ms) if self.max_ms is not None else "∞"
            out.append(("duration", f"duration {low} to {high}"))
        if self.text:
            out.append(("text", f"search={self.text!r}"))
        if self.user_id is not None:
            out.append(("user", f"user={self.user_id!r}"))
        if self.request_ip is not None:
            out.append(("ip", f"ip={self.request_ip!r}"))
        elif self.ip_network is not None:
            out.append(("ip", f"ip in {self.ip_network}"))
        if self.replays != "exclude":
            out.append(("replays", "with replays" if self.replays == "include" else "replays only"))
        if self.scripts:
            label = f"script={','.join(self.scripts)}"
            if self.script_statuses:
                label += f" {'/'.join(self.script_statuses)}"
            if self.script_versions:
                label += f" @{','.join(self.script_versions)}"
            out.append(("script", label))
        return out
