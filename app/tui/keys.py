"""Collects a screen's active bindings once, for the help screen and the command palette."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen

HIDDEN_ACTIONS = {"command_palette"}


def screen_actions(screen: Screen[Any]) -> list[tuple[str, str, Any, str]]:
    """(keys, description, node, action) per described action, keys of one action joined."""
    found: dict[tuple[int, str], list[Any]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.description or binding.action in HIDDEN_ACTIONS:
            continue
        display = screen.app.get_key_display(binding) or key
        entry = found.setdefault(
            (id(active.node), binding.action), [[], binding.description, active.node]
        )
        if display not in entry[0]:
            entry[0].append(display)
    rows = [
        (" ".join(keys), description, node, action)
        for (_, action), (keys, description, node) in found.items()
    ]
    rank = {id(screen): 0, id(screen.app): 2}
    return sorted(rows, key=lambda row: rank.get(id(row[2]), 1))
