"""Loading pipelines folders: the bundled set loads, every bad folder fails with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipetrace.engine import EngineError, PipelineError, bundled_pipelines_dir, load_pipelines

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
    """Write a folder; a lone surrogate such as \udcff in a text becomes that raw byte."""
    root.mkdir(exist_ok=True)
    (root / "pipelines.toml").write_bytes(manifest.encode("utf-8", "surrogateescape"))
    for name, text in files.items():
        (root / name).write_bytes(text.encode("utf-8", "surrogateescape"))
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
OK = {f"{n}.lua": "return nil" for n in ("a", "b", "c", "d", "e", "f")}
# HEAD fills lines 1-3; script() entries then take six lines each: a blank line, [[scripts]] (5,
# 11, ...), id (6, 12, ...), trigger (7, ...), file (8, ...) and depends_on (9, 15, ...).
CASES = [
    (
        "toml",
        "[triggers.t\nmode=1",
        {},
        "pipelines.toml:1:12: invalid TOML: Expected ']' at the end of a table declaration",
    ),
    (
        "toml ending early",
        "[triggers.t]\nmode =",
        {},
        "pipelines.toml:2: invalid TOML: Invalid value (end of document)",
    ),
    ("unknown top key", HEAD + "[extra]\n", {}, "pipelines.toml:4: unknown key 'extra'"),
    (
        "unknown script key",
        HEAD + script("a") + 'dependz = ["b"]\n',
        OK,
        "pipelines.toml:10: script 'a': unknown key 'dependz'",
    ),
    (
        "cycle",
        HEAD + script("a", "b") + script("b", "a"),
        OK,
        "pipelines.toml:9: script 'a': dependency cycle a -> b -> a in trigger 't'",
    ),
    (
        "cycle named from the script listed first",
        HEAD + script("a") + script("b", "c") + script("c", "b"),
        OK,
        "pipelines.toml:15: script 'b': dependency cycle b -> c -> b in trigger 't'",
    ),
    (
        "unknown dependency",
        HEAD + script("risk", "geo2", file="a.lua"),
        OK,
        "pipelines.toml:9: script 'risk' depends on unknown script 'geo2'",
    ),
    (
        "dependency of another trigger",
        HEAD + '[triggers.u]\nmode = "async"\n' + script("a") + script("b", "a", trigger="u"),
        OK,
        "pipelines.toml:17: script 'b' depends on 'a' of trigger 't' (only scripts of 'u' are "
        "allowed)",
    ),
    (
        "missing file",
        HEAD + script("zz"),
        OK,
        "pipelines.toml:8: script 'zz': file 'zz.lua' not found",
    ),
    (
        "missing default file",
        HEAD + '\n[[scripts]]\nid = "zz"\ntrigger = "t"\n',
        OK,
        "pipelines.toml:5: script 'zz': file 'zz.lua' not found",
    ),
    (
        "lua syntax error",
        HEAD + script("risk"),
        {"risk.lua": "local x = 1\nif x then\n  x = \nend\n"},
        "risk.lua:4: script 'risk': unexpected symbol near 'end'",
    ),
    (
        "lua syntax error naming a token across lines",
        HEAD + script("a"),
        {"a.lua": "x = 1 [[one\ntwo]]"},
        "a.lua:2: script 'a': unexpected symbol near '[[one\\ntwo]]'",
    ),
    (
        "lua binary chunk",
        HEAD + script("a"),
        {"a.lua": "\x1bLua return 1"},
        "a.lua:1: script 'a': attempt to load a binary chunk (mode is 't')",
    ),
    (
        "script not UTF-8",
        HEAD + script("a"),
        {"a.lua": "-- ok\nreturn '\udcff'"},
        "a.lua:2: script 'a': not valid UTF-8",
    ),
    (
        "manifest not UTF-8",
        HEAD + "# caf\udce9\n",
        {},
        "pipelines.toml:4: not valid UTF-8",
    ),
    (
        "too many layers",
        HEAD + script("a") + script("b", "a") + script("c", "b") + "\n[limits]\nmax_layers = 2\n",
        OK,
        "pipelines.toml:2: trigger 't' needs more layers than max_layers = 2 allows",
    ),
    (
        "too many scripts per layer",
        HEAD + "".join(script(n) for n in "abcdef"),
        OK,
        "pipelines.toml:2: trigger 't' layer 0 has 6 scripts (max 5): a, b, c, d, e, f",
    ),
    (
        "duplicate id",
        HEAD + script("a") + script("a"),
        OK,
        "pipelines.toml:12: script 'a': duplicate id (first at line 6)",
    ),
    (
        "bad mode",
        '[triggers.t]\nmode = "sometimes"\n',
        {},
        "pipelines.toml:2: trigger 't': bad mode 'sometimes' (use blocking, async, enrichment)",
    ),
    (
        "bad failure",
        '[triggers.t]\n\nfailure = "maybe"\n',
        {},
        "pipelines.toml:3: trigger 't': bad failure 'maybe' (use open, closed)",
    ),
    (
        "bad refused_input",
        '[triggers.t]\nrefused_input = "maybe"\n',
        {},
        "pipelines.toml:2: trigger 't': bad refused_input 'maybe' (use block, allow)",
    ),
    (
        "unknown trigger",
        script("a", trigger="x"),
        OK,
        "pipelines.toml:4: script 'a': unknown trigger 'x'",
    ),
    (
        "path escape",
        HEAD + script("a", file="../a.lua"),
        OK,
        "pipelines.toml:8: script 'a': 'file' must be a relative .lua path, got '../a.lua'",
    ),
    (
        "unknown limit",
        HEAD + "[limits]\nmax_layers = 3\nmax_fun = 3\n",
        {},
        "pipelines.toml:6: [limits]: unknown limit 'max_fun'",
    ),
    (
        "bad limit",
        HEAD + "[limits]\nmax_layers = -1\n",
        {},
        "pipelines.toml:5: [limits]: limit 'max_layers' must be an integer from 1 to 1000, got -1",
    ),
    (
        "max_memory below the floor",
        HEAD + "[limits]\nmax_memory = 32768\n",
        {},
        "pipelines.toml:5: [limits]: limit 'max_memory' = 32768 is too small; the sandbox needs "
        "at least 3145728 bytes (1048576 plus 32 per byte of max_input_bytes)",
    ),
    (
        "max_memory below the floor for a larger input",
        HEAD + "[limits]\nmax_memory = 4194304\nmax_input_bytes = 1048576\n",
        {},
        "pipelines.toml:5: [limits]: limit 'max_memory' = 4194304 is too small; the sandbox needs "
        "at least 34603008 bytes (1048576 plus 32 per byte of max_input_bytes)",
    ),
    (
        "huge max_memory",
        HEAD + "[limits]\nmax_memory = 9223372036854775807\n",
        {},
        "pipelines.toml:5: [limits]: limit 'max_memory' must be an integer from 1 to "
        "1099511627776, got 9223372036854775807",
    ),
    (
        "huge deadline",
        HEAD + "[limits]\ndeadline_ms = 9223372036854775807\n",
        {},
        "pipelines.toml:5: [limits]: limit 'deadline_ms' must be an integer from 1 to 3600000, "
        "got 9223372036854775807",
    ),
    (
        "huge script deadline",
        HEAD + script("a") + "limits = { deadline_ms = 9223372036854775807 }\n",
        OK,
        "pipelines.toml:10: script 'a': limit 'deadline_ms' must be an integer from 1 to 3600000, "
        "got 9223372036854775807",
    ),
    (
        "script limit in a sub-table",
        HEAD + script("a") + script("b") + "[scripts.limits]\ndeadline_ms = 1\n\nmax_logs = 3\n",
        OK,
        "pipelines.toml:19: script 'b': limit 'max_logs' cannot be set per script",
    ),
    (
        "fractional limit",
        HEAD + "[limits]\ninstruction_budget = 1.5\n",
        {},
        "pipelines.toml:5: [limits]: limit 'instruction_budget' must be an integer from 1 to "
        "1000000000000, got 1.5",
    ),
    (
        "string limit",
        HEAD + '[limits]\nmax_logs = "50"\n',
        {},
        "pipelines.toml:5: [limits]: limit 'max_logs' must be an integer from 1 to 10000, got '50'",
    ),
    (
        "boolean limit",
        HEAD + "[limits]\nmax_input_depth = true\n",
        {},
        "pipelines.toml:5: [limits]: limit 'max_input_depth' must be an integer from 1 to 100, "
        "got True",
    ),
    (
        "limits not a table",
        HEAD + script("a") + "limits = 5\n",
        OK,
        "pipelines.toml:10: script 'a': 'limits' must be a table",
    ),
    (
        "trigger as a list",
        HEAD + script("a", trigger="t").replace('trigger = "t"', 'trigger = ["t"]'),
        OK,
        "pipelines.toml:7: script 'a': 'trigger' must be a string, got list ['t']",
    ),
    (
        "id as a number",
        HEAD + '\n[[scripts]]\nid = 7\ntrigger = "t"\n',
        OK,
        "pipelines.toml:6: script #1: 'id' must be a string, got int 7",
    ),
    (
        "no id",
        HEAD + script("a") + '\n[[scripts]]\ntrigger = "t"\n',
        OK,
        "pipelines.toml:11: script #2 has no 'id'",
    ),
    (
        "script failure as a list",
        HEAD + script("a") + 'failure = ["closed"]\n',
        OK,
        "pipelines.toml:10: script 'a': 'failure' must be a string, got list ['closed']",
    ),
    (
        "script description as a table",
        HEAD + script("a") + "description = { text = 'x' }\n",
        OK,
        "pipelines.toml:10: script 'a': 'description' must be a string, got dict {'text': 'x'}",
    ),
    (
        "trigger mode as a number",
        "[triggers.t]\nmode = 1\n",
        {},
        "pipelines.toml:2: trigger 't': 'mode' must be a string, got int 1",
    ),
    (
        "trigger failure as a boolean",
        "[triggers.t]\nfailure = true\n",
        {},
        "pipelines.toml:2: trigger 't': 'failure' must be a string, got bool True",
    ),
    (
        "trigger description as a list",
        '[triggers.t]\ndescription = ["x"]\n',
        {},
        "pipelines.toml:2: trigger 't': 'description' must be a string, got list ['x']",
    ),
    (
        "trigger as a value",
        "[triggers]\nt = 1\n",
        {},
        "pipelines.toml:2: [triggers.t] must be a table",
    ),
    (
        "trigger as a dotted key",
        '[triggers]\nu.mode = "async"\nt.mode = "never"\n',
        {},
        "pipelines.toml:3: trigger 't': bad mode 'never' (use blocking, async, enrichment)",
    ),
    (
        "scripts as a value",
        "scripts = 5\n" + HEAD,
        {},
        "pipelines.toml:1: 'scripts' must be an array of tables ([[scripts]])",
    ),
    (
        "depends_on as a string",
        HEAD + script("a").replace("depends_on = []", 'depends_on = "b"'),
        OK,
        "pipelines.toml:9: script 'a': 'depends_on' must be a list of script ids",
    ),
    (
        "file as a number",
        HEAD + script("a").replace('file = "a.lua"', "file = 3"),
        OK,
        "pipelines.toml:8: script 'a': 'file' must be a relative .lua path, got 3",
    ),
    (
        "script too large",
        HEAD + script("a") + "\n[limits]\nmax_script_bytes = 5\n",
        OK,
        "pipelines.toml:8: script 'a': file 'a.lua' is too large (10 > 5 bytes, the limit "
        "max_script_bytes)",
    ),
    (
        "script without a trigger",
        HEAD + '\n[[scripts]]\nid = "a"\n',
        OK,
        "pipelines.toml:5: script 'a' has no 'trigger'",
    ),
    (
        "empty id",
        HEAD + '\n[[scripts]]\nid = ""\ntrigger = "t"\n',
        OK,
        "pipelines.toml:6: script #1 has no 'id'",
    ),
    (
        "bad script failure",
        HEAD + script("a") + 'failure = "maybe"\n',
        OK,
        "pipelines.toml:10: script 'a': bad failure 'maybe' (use open, closed)",
    ),
    (
        "triggers as a value",
        "triggers = 5\n",
        {},
        "pipelines.toml:1: [triggers] must be a table",
    ),
    (
        "scripts holding a value",
        "scripts = [1]\n" + HEAD,
        {},
        "pipelines.toml:1: 'scripts' must be an array of tables ([[scripts]])",
    ),
    (
        "depends_on holding a number",
        HEAD + script("a").replace("depends_on = []", "depends_on = [1]"),
        OK,
        "pipelines.toml:9: script 'a': 'depends_on' must be a list of script ids",
    ),
    (
        "unknown script limit",
        HEAD + script("a") + "limits = { max_fun = 3 }\n",
        OK,
        "pipelines.toml:10: script 'a': limit 'max_fun' cannot be set per script",
    ),
    (
        "an id with a newline",
        HEAD + script("a\\nb", file="a.lua") + "bogus = 1\n",
        OK,
        "pipelines.toml:10: script 'a\\nb': unknown key 'bogus'",
    ),
]


@pytest.mark.parametrize(
    ("manifest", "files", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_pipelines_fail_with_one_line(tmp_path, manifest, files, expected):
    root = write(tmp_path / "p", manifest, files)
    with pytest.raises(PipelineError) as info:
        load_pipelines(root)
    assert str(info.value) == expected
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


def test_a_file_name_with_a_nul_is_refused(tmp_path):
    root = write(tmp_path / "p", HEAD + script("a", file="a\\u0000.lua"), {"a.lua": ""})
    with pytest.raises(PipelineError) as info:
        load_pipelines(root)
    assert str(info.value) == (
        "pipelines.toml:8: script 'a': file 'a\\x00.lua' is not a valid file name"
    )


def test_a_long_file_name_is_named_once_in_a_syntax_error(tmp_path):
    name = "with_a_rather_long_script_name_that_lua_shortens_in_messages.lua"
    root = write(tmp_path / "p", HEAD + script("a", file=name), {name: "return +"})
    with pytest.raises(PipelineError) as info:
        load_pipelines(root)
    assert str(info.value).count("with_a_rather_long") == 1


def test_a_folder_named_as_a_file_is_called_a_folder(tmp_path):
    root = write(tmp_path / "p", HEAD + script("a"), {})
    (root / "a.lua").mkdir()
    with pytest.raises(PipelineError) as info:
        load_pipelines(root)
    assert str(info.value) == (
        "pipelines.toml:8: script 'a': file 'a.lua' is a folder, not a .lua file"
    )


@pytest.mark.parametrize("target", ["outside.lua", "elsewhere"])
def test_a_link_out_of_the_folder_is_refused(tmp_path, target):
    (tmp_path / "outside.lua").write_text("return nil")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "a.lua").write_text("return nil")
    root = write(tmp_path / "p", HEAD + script("a", file="lib/a.lua"), {})
    if target == "outside.lua":
        (root / "lib").mkdir()
        (root / "lib" / "a.lua").symlink_to(tmp_path / target)
    else:
        (root / "lib").symlink_to(tmp_path / target)
    with pytest.raises(PipelineError) as info:
        load_pipelines(root)
    assert str(info.value) == (
        "pipelines.toml:8: script 'a': file 'lib/a.lua' leads outside the pipelines folder"
    )


def test_links_inside_the_folder_and_a_linked_folder_load(tmp_path):
    real = write(tmp_path / "real", HEAD + script("a") + script("b"), {"b.lua": "return nil"})
    (real / "a.lua").symlink_to(real / "b.lua")
    (tmp_path / "link").symlink_to(real)
    assert set(load_pipelines(tmp_path / "link").scripts) == {"a", "b"}
