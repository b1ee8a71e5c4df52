"""Loading pipelines folders: the bundled set loads, every bad folder fails with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import EngineError, PipelineError, bundled_pipelines_dir, load_pipelines

HEAD = """
[triggers.t]
mode = "blocking"
"""


def script(sid: str, *deps: str, file: str | None = None, trigger: str = "t") -> str:
    dep_list = ", ".join(f'"{d}"' for d in deps)
    return (
        f'\n[[scripts]]\nid = "{sid}"\ntrigger = "{trigger}"\nfile = "{file or sid + ".lua"}"\n'
        f"depends_on = [{dep_list}]\n"
    )


def write(root: Path, manifest: str, files: dict[str, str]) -> Path:
    root.mkdir(exist_ok=True)
    (root / "pipelines.toml").write_text(manifest)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_bundled_pipelines_load_in_layers():
    pipelines = load_pipelines(bundled_pipelines_dir())
    assert set(pipelines.triggers) == {
        "before_signup",
        "before_signin",
        "after_signup",
        "token_build",
    }
    assert {t.name: t.mode for t in pipelines.triggers.values()} == {
        "before_signup": "blocking", "before_signin": "blocking",
        "after_signup": "async", "token_build": "enrichment",
    }  # fmt: skip
    layers = pipelines.triggers["before_signup"].layers
    assert [[s.id for s in layer] for layer in layers] == [
        ["disposable_email", "ip_denylist", "velocity_check", "geo_rule"], ["risk_scorer"],
    ]  # fmt: skip
    assert len(pipelines.version) == 16


OK = {f"{n}.lua": "return nil" for n in ("a", "b", "c", "d", "e", "f")}
CASES = [
    ("toml", "[triggers.t\nmode=1", {}, "pipelines.toml: invalid TOML: "),
    ("unknown top key", HEAD + "[extra]\n", {}, "pipelines.toml: unknown key 'extra'"),
    (
        "unknown script key",
        HEAD + script("a") + 'dependz = ["b"]\n',
        OK,
        "pipelines.toml: script 'a': unknown key 'dependz'",
    ),
    (
        "cycle",
        HEAD + script("a", "b") + script("b", "a"),
        OK,
        "pipelines.toml: trigger 't': dependency cycle ",
    ),
    (
        "unknown dependency",
        HEAD + script("risk", "geo2", file="a.lua"),
        OK,
        "pipelines.toml: script 'risk' depends on unknown script 'geo2'",
    ),
    (
        "dependency of another trigger",
        HEAD + '[triggers.u]\nmode = "async"\n' + script("a") + script("b", "a", trigger="u"),
        OK,
        "pipelines.toml: script 'b' depends on 'a' of trigger 't'",
    ),
    (
        "missing file",
        HEAD + script("zz"),
        OK,
        "pipelines.toml: script 'zz': file 'zz.lua' not found",
    ),
    (
        "lua syntax error",
        HEAD + script("risk"),
        {"risk.lua": "local x = 1\nif x then\n  x = \nend\n"},
        "risk.lua:4: unexpected symbol near 'end'",
    ),
    (
        "too many layers",
        HEAD + script("a") + script("b", "a") + script("c", "b") + "\n[limits]\nmax_layers = 2\n",
        OK,
        "pipelines.toml: trigger 't' needs more than 2 layers",
    ),
    (
        "too many scripts per layer",
        HEAD + "".join(script(n) for n in "abcdef"),
        OK,
        "pipelines.toml: trigger 't' layer 0 has 6 scripts (max 5): a, b, c, d, e, f",
    ),
    (
        "duplicate id",
        HEAD + script("a") + script("a"),
        OK,
        "pipelines.toml: duplicate script id 'a'",
    ),
    (
        "bad mode",
        '[triggers.t]\nmode = "sometimes"\n',
        {},
        "pipelines.toml: trigger 't': bad mode 'sometimes'",
    ),
    (
        "bad failure",
        '[triggers.t]\nfailure = "maybe"\n',
        {},
        "pipelines.toml: trigger 't': bad failure 'maybe'",
    ),
    (
        "unknown trigger",
        script("a", trigger="x"),
        OK,
        "pipelines.toml: script 'a': unknown trigger 'x'",
    ),
    ("path escape", HEAD + script("a", file="../a.lua"), OK, "must be a relative .lua path"),
    ("unknown limit", HEAD + "[limits]\nmax_fun = 3\n", {}, "unknown limit 'max_fun'"),
    (
        "bad limit",
        HEAD + "[limits]\nmax_layers = -1\n",
        {},
        "'max_layers' must be a positive integer",
    ),
    (
        "script too large",
        HEAD + script("a") + "\n[limits]\nmax_script_bytes = 5\n",
        OK,
        "a.lua: script too large (10 > 5 bytes)",
    ),
]


@pytest.mark.parametrize(
    ("manifest", "files", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_pipelines_fail_with_one_line(tmp_path, manifest, files, expected):
    root = write(tmp_path / "p", manifest, files)
    with pytest.raises(PipelineError) as info:
        load_pipelines(root)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
    assert isinstance(info.value, EngineError) and info.value.title


def test_missing_manifest(tmp_path):
    with pytest.raises(PipelineError, match=r"pipelines\.toml: not found"):
        load_pipelines(tmp_path)


def test_manifest_order_decides_parallel_index(tmp_path):
    root = write(
        tmp_path / "p", HEAD + script("zeta") + script("alpha"), {"zeta.lua": "", "alpha.lua": ""}
    )
    [layer] = load_pipelines(root).triggers["t"].layers
    assert [(s.id, s.parallel_index) for s in layer] == [("zeta", 0), ("alpha", 1)]
