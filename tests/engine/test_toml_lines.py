"""Finding the line of a TOML table or key, which load errors name and tomllib does not give."""

from __future__ import annotations

import tomllib

from pipetrace.engine.toml_lines import TomlLines

TEXT = '''# a comment with [[scripts]] and key = 1
[triggers.t]
mode = "blocking"
description = """
[[scripts]]
not = "a key"
"""

[[scripts]]
id = 'a'
depends_on = [
  "x = y",
  ["[[scripts]]"],
]
"quoted key" = 1
log.level = 3

[ scripts . limits ]
max_logs = 2

[[scripts]]   # the second
id = "b\\"]]"
triggers.u.mode = 'async'
tail = """a""""
limits = { deadline_ms = 5 }
'''


def test_text_is_valid_toml():
    doc = tomllib.loads(TEXT)
    assert doc["scripts"][0]["limits"] == {"max_logs": 2}
    assert doc["scripts"][1]["tail"] == 'a"'


def test_tables_keys_and_elements_get_their_lines():
    lines = TomlLines(TEXT)
    assert lines.line(("triggers", "t")) == 2
    assert lines.line(("triggers", "t", "mode")) == 3
    assert lines.line(("triggers", "t", "description")) == 4
    assert lines.line(("scripts",)) == 9
    assert lines.line(("scripts", 0)) == 9
    assert lines.line(("scripts", 0, "id")) == 10
    assert lines.line(("scripts", 0, "depends_on")) == 11
    assert lines.line(("scripts", 0, "quoted key")) == 15
    assert lines.line(("scripts", 0, "log", "level")) == 16
    assert lines.line(("scripts", 0, "limits")) == 18
    assert lines.line(("scripts", 0, "limits", "max_logs")) == 19
    assert lines.line(("scripts", 1)) == 21
    assert lines.line(("scripts", 1, "id")) == 22
    assert lines.line(("scripts", 1, "triggers", "u", "mode")) == 23
    assert lines.line(("scripts", 1, "limits")) == 25


def test_unknown_paths_fall_back_to_the_nearest_known_table():
    lines = TomlLines(TEXT)
    assert lines.line(("scripts", 1, "file")) == 21
    assert lines.line(("scripts", 1, "limits", "deadline_ms")) == 25
    assert lines.line(("nothing",)) == 1
