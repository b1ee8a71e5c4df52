"""What the script stats answer: counts, duration percentiles and failures over time per trigger,
script and version, free of any database type."""

from __future__ import annotations

from dataclasses import dataclass, field

QUANTILES = (0.5, 0.95, 0.99)
RAN = ("success", "blocked", "error")


@dataclass(slots=True)
class Tally:
    """Runs of one script (or traces of one trigger) by how they ended."""

    by_status: dict[str, int] = field(default_factory=dict)
    limits: int = 0
    """Runs that hit a sandbox limit (they ended in error)."""

    def add(self, status: str, n: int, limits: int = 0) -> None:
        """Count `n` more runs that ended in `status`."""
        self.by_status[status] = self.by_status.get(status, 0) + n
        self.limits += limits

    def merge(self, other: Tally) -> None:
        """Add another tally's counts to this one."""
        for status, n in other.by_status.items():
            self.add(status, n)
        self.limits += other.limits

    def count(self, status: str) -> int:
        """Runs that ended in `status`."""
        return self.by_status.get(status, 0)

    @property
    def runs(self) -> int:
        """Runs that ran (every status but skipped; an imported span's own status counts)."""
        return sum(n for status, n in self.by_status.items() if status != "skipped")

    @property
    def failures(self) -> int:
        """Runs that ended in error (limit hits among them)."""
        return self.count("error")

    @property
    def skipped_rate(self) -> float | None:
        """Skipped runs as a share of the runs planned (ran or skipped), None without any."""
        planned = self.runs + self.count("skipped")
        return self.count("skipped") / planned if planned else None

    def rate(self, n: int) -> float | None:
        """`n` as a share of the runs, None when nothing ran."""
        return n / self.runs if self.runs else None


@dataclass(slots=True)
class StatsRow:
    """One trigger's traces, one script's runs, or one version of either, over the window."""

    trigger: str
    script: str | None
    """None for the trigger's own row: its traces (their status, their duration)."""
    version: str | None
    """A script's sha256 (a trigger's pipeline version), short; None on a row of every
    version; "" where it is unknown."""
    tally: Tally = field(default_factory=Tally)
    timed: int = 0
    """Runs with a duration (every run but the skipped ones, and those without one)."""
    percentiles: dict[float, float] = field(default_factory=dict)
    """Duration (ms) at each of QUANTILES, read from the log-linear buckets (nearest rank)."""
    failures_over_time: list[int] = field(default_factory=list)
    """Errors per chart column."""
    versions: list[StatsRow] = field(default_factory=list)
    """The same per version, on a row of every version."""

    def percentile(self, quantile: float) -> float | None:
        """The duration at that rank (within the buckets' relative error), None without any."""
        return self.percentiles.get(quantile)


@dataclass(slots=True)
class TriggerStats:
    """A trigger's own row (None when a script filter leaves it out) and its scripts' rows."""

    trigger: str
    own: StatsRow | None
    scripts: list[StatsRow]


@dataclass(frozen=True, slots=True)
class StatsReport:
    """The stats of a window: whole hours from `start` to `end` (Unix ns; None where open and
    nothing was stored beyond), chart columns, and the rows."""

    start: int | None
    end: int | None
    column_edges: list[int]
    """Start of each chart column and the end of the last, Unix ns."""
    triggers: list[TriggerStats]
    from_rollups: bool
    """True when read from the rollups; False when the filters needed the runs themselves."""
