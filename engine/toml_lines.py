"""Line numbers of the tables and keys of a TOML text, which tomllib does not report, so that
errors found after parsing can still point at a line."""

from __future__ import annotations

import re
import tomllib

Path = tuple[str | int, ...]
_BARE = re.compile(r"[A-Za-z0-9_-]+")
_BLANK = " \t\r"


class TomlLines:
    """Where each table, array-of-tables element and key of a tomllib-accepted text starts.

    Paths are keys as tomllib returns them, with the element index after an array of tables:
    the `depends_on` key of the second `[[scripts]]` is ("scripts", 1, "depends_on"). Keys
    inside inline tables and arrays are not tracked; they resolve to their enclosing key.
    """

    def __init__(self, text: str) -> None:
        self._lines: dict[Path, int] = {}
        self._arrays: dict[Path, int] = {}
        self._scan(text)

    def line(self, path: Path) -> int:
        """The line of `path`, or of its longest known prefix (1 when nothing is known)."""
        for end in range(len(path), 0, -1):
            found = self._lines.get(path[:end])
            if found is not None:
                return found
        return 1

    def _scan(self, text: str) -> None:
        table: Path = ()
        depth, line, i, n = 0, 1, 0, len(text)
        statement = True  # at a place where a header or key may start
        while i < n:
            char = text[i]
            if char == "\n":
                line += 1
                statement = depth == 0
                i += 1
            elif char in _BLANK:
                i += 1
            elif char == "#":
                end = text.find("\n", i)
                i = n if end < 0 else end
            elif statement and char == "[":
                table, i = self._header(text, i, line)
                statement = False
            elif statement:
                parts, i = _key(text, i)
                self._note(table, parts, line)
                statement = False
            elif char in "\"'":
                end = _string_end(text, i)
                line += text.count("\n", i, end)
                i = end
            else:
                depth += char in "[{"
                depth -= char in "]}"
                i += 1

    def _header(self, text: str, i: int, line: int) -> tuple[Path, int]:
        """Read a [table] or [[array]] header; return the table it opens and where it ends."""
        double = text.startswith("[[", i)
        parts, i = _key(text, i + (2 if double else 1))
        i = text.index("]]" if double else "]", i) + (2 if double else 1)
        path: Path = ()
        for part in parts[:-1]:
            path += (part,)
            if path in self._arrays:
                path += (self._arrays[path],)
        path += (parts[-1],)
        self._note((), path, line)
        if double:
            self._arrays[path] = self._arrays.get(path, -1) + 1
            path += (self._arrays[path],)
            self._lines[path] = line
        return path, i

    def _note(self, table: Path, parts: Path, line: int) -> None:
        """Remember the line of a key and of each dotted prefix seen there first."""
        for end in range(1, len(parts) + 1):
            self._lines.setdefault(table + parts[:end], line)


def _key(text: str, i: int) -> tuple[Path, int]:
    """Read a possibly dotted, possibly quoted key starting at i."""
    parts: list[str] = []
    while True:
        while text[i] in _BLANK:
            i += 1
        if text[i] in "\"'":
            end = _string_end(text, i)
            parts.append(tomllib.loads(f"k = {text[i:end]}")["k"])
            i = end
        else:
            match = _BARE.match(text, i)
            if match is None:
                return tuple(parts), i
            parts.append(match.group())
            i = match.end()
        while i < len(text) and text[i] in _BLANK:
            i += 1
        if i < len(text) and text[i] == ".":
            i += 1
        else:
            return tuple(parts), i


def _string_end(text: str, i: int) -> int:
    """The index just past the string (basic, literal or multi-line) that starts at i."""
    quote = text[i]
    if text.startswith(quote * 3, i):
        j = text.find(quote * 3, i + 3)
        while quote == '"' and _escaped(text, j):
            j = text.find(quote * 3, j + 1)
        end = j + 3
        while end < len(text) and end - j < 5 and text[end] == quote:  # up to two more quotes
            end += 1
        return end
    j = i + 1
    while text[j] != quote or (quote == '"' and _escaped(text, j)):
        j += 1
    return j + 1


def _escaped(text: str, j: int) -> bool:
    """Whether the character at j follows an odd run of backslashes."""
    run = 0
    while run < j and text[j - 1 - run] == "\\":
        run += 1
    return run % 2 == 1
