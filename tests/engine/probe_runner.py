"""Runs one sandbox probe in a fresh process and prints what happened as JSON.

Usage: python probe_runner.py PROBE_LUA_FILE [LIMITS_TOML [INPUT_JSON_FILE]]. It runs a benign
trigger, the probe, and the benign trigger again with the same trace id, so a caller can check
nothing leaked; with INPUT_JSON_FILE all three get that input.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from pipetrace.engine import Engine, TraceRecord, load_pipelines

CHECK = """
return {data = {
  upper = ("abc"):upper(),
  rnd = math.random(1, 1000000000),
  mt = tostring(getmetatable("")),
  leak = type(leaked),
  find = ("hello"):find("l+"),
  log_type = type(helpers.log),
}}
"""

MANIFEST = """
[triggers.probe]
mode = "blocking"
[triggers.check]
mode = "blocking"
[[scripts]]
id = "probe"
trigger = "probe"
file = "probe.lua"
[[scripts]]
id = "check"
trigger = "check"
file = "check.lua"
"""


class FixedIds:
    """Same trace id every time, so the check script's random draw must repeat."""

    def trace_id(self) -> str:
        return "0af7651916cd43dd8448eb211c80319c"

    def span_id(self) -> str:
        return "b7ad6b7169203331"


class Sink:
    def __init__(self) -> None:
        self.traces: list[TraceRecord] = []

    def submit(self, trace: TraceRecord) -> None:
        self.traces.append(trace)


def main() -> None:
    probe = Path(sys.argv[1]).read_text()
    limits = sys.argv[2] if len(sys.argv) > 2 else ""
    given = json.loads(Path(sys.argv[3]).read_text()) if len(sys.argv) > 3 else None
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pipelines.toml").write_text(MANIFEST + limits)
        (root / "probe.lua").write_text(probe)
        (root / "check.lua").write_text(CHECK)
        sink = Sink()
        with Engine(load_pipelines(root), sink=sink, ids=FixedIds()) as engine:
            before = engine.execute_trigger("check", given or {})
            outcome = engine.execute_trigger("probe", given or {"email": "a@b.c"})
            after = engine.execute_trigger("check", given or {})
            assert engine.flush(10)
    span = sink.traces[1].spans[1]
    print(
        json.dumps(
            {
                "allowed": outcome.allowed,
                "data": outcome.data,
                "status": span.status,
                "message": span.status_message,
                "limit": span.attributes.get("limit"),
                "before": before.data,
                "after": after.data,
                "after_allowed": after.allowed,
            }
        )
    )


if __name__ == "__main__":
    main()
