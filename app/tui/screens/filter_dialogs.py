"""Small modal dialogs that edit one filter each; bad input gets one clear inline line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, OptionList, SelectionList
from textual.widgets.option_list import Option

from pipetrace.store.columns import SPAN_STATUSES

from ...address_filter import read_address
from ...durations import DurationError, check_order, read_bound
from ...timeparse import TimeFormatError, format_ns, parse_time
from ...untrusted import shown, shown_text
from ..filter_state import RANGE_PRESETS, FilterState
from ..lifetime import bound
from .cramped import KeepsButtonsInView

MAX_USER_CHARS = 1000
"""Longer than any user id an auth server hands over, as --user allows."""


class PickDialog(ModalScreen[str | None]):
    """Choose one value from a list."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, values: list[str]) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.values = values

    def compose(self) -> ComposeResult:
        """A titled option list."""
        with Vertical(classes="dialog-box"):
            yield Label(f"[b]{self.title_text}[/b]  enter picks · escape cancels")
            yield OptionList(
                *[Option(shown_text(value), id=value) for value in self.values], id="pick"
            )

    @on(OptionList.OptionSelected, "#pick")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Choose nothing."""
        self.dismiss(None)


def pick_one(
    screen: Screen[Any], title: str, values: list[str], apply: Callable[[str], None]
) -> None:
    """Open a PickDialog and hand the choice, if one was made, to `apply`."""

    def done(choice: str | None) -> None:
        if choice is not None:
            apply(choice)

    screen.app.push_screen(PickDialog(title, values), bound(screen, done))


class TickList(SelectionList[str], inherit_bindings=False):
    """A selection list whose Enter is the dialog's (apply), not a toggle, and whose Space
    ticks at once.

    Enter reaches the dialog's binding the way Space reaches the list's, as a key bubbling up
    from the list in the order the keys came, and Space ticks as its binding runs; so every
    Space read with the Enter (fast typing, a paste, keys coalesced over SSH) is ticked before
    the choice is applied. Before, Enter was a priority binding, run while the Space still
    waited in the list's queue, and SelectionList ticks from a message it posts to itself,
    which came after the Enter too."""

    BINDINGS = [
        Binding("space", "select", "Toggle option", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("pagedown", "page_down", "Page Down", show=False),
        Binding("pageup", "page_up", "Page Up", show=False),
    ]

    def action_select(self) -> None:
        """Tick or untick the highlighted value now."""
        if self.highlighted is not None:
            self.toggle(self.get_option_at_index(self.highlighted))


class ChooseDialog(ModalScreen[tuple[str, ...] | None]):
    """Tick any number of values; none ticked clears the filter; values may arrive later."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "apply", "Apply"),
    ]

    def __init__(self, title: str, values: list[str] | None, current: tuple[str, ...]) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.values = values
        """None until the values are loaded (see `fill`)."""
        self.current = current

    def compose(self) -> ComposeResult:
        """A titled list of checkboxes with the current choice ticked."""
        with Vertical(classes="dialog-box"):
            yield Label(
                f"[b]{self.title_text}[/b]  space ticks · enter applies (none: any) · "
                "escape cancels"
            )
            yield Label("[dim]loading…[/dim]", id="choose-note")
            yield TickList(id="choose")

    def on_mount(self) -> None:
        """Show the values if they are already known."""
        if self.values is not None:
            self.fill(self.values)

    def fill(self, values: list[str]) -> None:
        """Show `values` (called again once they load), the current choice ticked."""
        self.values = values
        choices = self.query_one(SelectionList)
        choices.clear_options()
        choices.add_options([(shown_text(value), value, value in self.current) for value in values])
        if values:
            choices.highlighted = 0
            choices.focus()
        note = self.query_one("#choose-note", Label)
        note.update("[dim]nothing to choose from yet[/dim]")
        note.display = not values

    def action_apply(self) -> None:
        """Filter by what is ticked, in the list's order (nothing while loading)."""
        if self.values is None:
            return
        ticked = set(self.query_one(SelectionList).selected)
        self.dismiss(tuple(value for value in self.values if value in ticked))

    def action_cancel(self) -> None:
        """Leave the filter as it was."""
        self.dismiss(None)


def choose(
    screen: Screen[Any],
    title: str,
    values: list[str] | None,
    current: tuple[str, ...],
    apply: Callable[[tuple[str, ...]], None],
) -> None:
    """Open a ChooseDialog (None: values still loading) and hand the ticked ones to `apply`."""

    def done(choice: tuple[str, ...] | None) -> None:
        if choice is not None:
            apply(choice)

    screen.app.push_screen(ChooseDialog(title, values, current), bound(screen, done))


class FilterDialog(KeepsButtonsInView[FilterState | None], ModalScreen[FilterState | None]):
    """A form over some fields of the filters; enter applies, escape cancels.

    The title and the buttons always show: on a short terminal only the fields between them
    scroll (the box is marked cramped once it no longer fits).
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    heading = ""
    """The title line, as markup."""
    field = ""

    def __init__(self, filters: FilterState) -> None:
        super().__init__(classes="dialog")
        self.filters = filters

    def compose(self) -> ComposeResult:
        """The title, the form's fields, an error line and the buttons."""
        with Vertical(classes="dialog-box"):
            yield Label(self.heading, id="dialog-title")
            with VerticalScroll(classes="dialog-middle", can_focus=False):
                yield from self.fields()
            yield Label("", id="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply", id="apply", variant="primary")
                yield Button("Clear", id="clear")
                yield Button("Cancel", id="cancel")

    def fields(self) -> ComposeResult:
        """The inputs of this form."""
        raise NotImplementedError

    def action_cancel(self) -> None:
        """Leave the filters as they were."""
        self.dismiss(None)

    def fail(self, message: str) -> None:
        """Show what is wrong above the buttons."""
        self.query_one("#dialog-error", Label).update(
            Content.from_markup("[b red]$message[/]", message=shown(message))
        )

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#apply")
    @on(Input.Submitted)
    def _apply(self) -> None:
        result = self.read()
        if result is not None:
            self.dismiss(result)

    @on(Button.Pressed, "#clear")
    def _clear(self) -> None:
        self.dismiss(self.cleared())

    def cleared(self) -> FilterState:
        """The filters without this form's fields (its Clear button)."""
        return self.filters.cleared(self.field)

    def read(self) -> FilterState | None:
        """The filters with this form's fields, or None after showing an error."""
        raise NotImplementedError


class SearchDialog(FilterDialog):
    """Text search over trace id, user, IP, message and input."""

    field = "text"
    heading = "[b]Search[/b]  trace id prefix, user, IP prefix, message or input text"

    def fields(self) -> ComposeResult:
        """One input."""
        yield Input(self.filters.text, placeholder="e.g. mailinator", id="text")

    def read(self) -> FilterState | None:
        """The search text, trimmed."""
        return replace(self.filters, text=self.query_one("#text", Input).value.strip())


class WhoDialog(FilterDialog):
    """A user id and a request IP or IPv4 network, each matched exactly (as --user and --ip)."""

    field = "user"
    heading = (
        "[b]User and IP[/b]  exact user id; an IP address or an IPv4 network "
        "(/8, /16, /24, /25 to /32); leave one empty for any"
    )

    def fields(self) -> ComposeResult:
        """Two inputs."""
        address = self.filters.request_ip or self.filters.ip_network or ""
        yield Input(self.filters.user_id or "", placeholder="user id, e.g. user-0042", id="user")
        yield Input(address, placeholder="IP or network, e.g. 10.0.0.0/8", id="ip")

    def read(self) -> FilterState | None:
        """Both, checked as the command line checks them."""
        user = self.query_one("#user", Input).value.strip()
        typed = self.query_one("#ip", Input).value.strip()
        if len(user) > MAX_USER_CHARS:
            self.fail(f"user: {len(user)} characters is too long (at most {MAX_USER_CHARS})")
            return None
        address = network = None
        if typed:
            try:
                address, network = read_address(typed)
            except ValueError as exc:
                self.fail(f"ip: {exc}")
                return None
        return replace(self.filters, user_id=user or None, request_ip=address, ip_network=network)

    def cleared(self) -> FilterState:
        """The filters without a user or IP."""
        return self.filters.cleared("user").cleared("ip")


class ScriptDialog(FilterDialog):
    """Traces with a run of a script, by how that run ended and its version (span-level)."""

    field = "script"
    heading = (
        "[b]Script[/b]  traces where this script ran; optionally only runs that ended so "
        "(success, blocked, error, skipped) or of a version (its sha256's first digits)"
    )

    def fields(self) -> ComposeResult:
        """Three inputs."""
        f = self.filters
        yield Input(",".join(f.scripts), placeholder="script id, e.g. risk_scorer", id="script")
        yield Input(",".join(f.script_statuses), placeholder="e.g. error,blocked", id="status")
        yield Input(",".join(f.script_versions), placeholder="version, e.g. 8433a953", id="sha")

    def read(self) -> FilterState | None:
        """The three, checked as the command line checks them."""
        scripts = _listed(self.query_one("#script", Input).value)
        statuses = _listed(self.query_one("#status", Input).value)
        versions = _listed(self.query_one("#sha", Input).value.lower())
        if (statuses or versions) and not scripts:
            self.fail("a status or version belongs to a script: type its id too")
            return None
        unknown = [status for status in statuses if status not in SPAN_STATUSES]
        if unknown:
            self.fail(f"status {unknown[0]!r} is not one of {', '.join(SPAN_STATUSES)}")
            return None
        bad = [v for v in versions if len(v) > 64 or not set(v) <= set("0123456789abcdef")]
        if bad:
            self.fail(f"version {bad[0][:70]!r} is not hex digits of a script's sha256")
            return None
        return replace(
            self.filters, scripts=scripts, script_statuses=statuses, script_versions=versions
        )


def _listed(text: str) -> tuple[str, ...]:
    """Comma-separated values, trimmed, without empty ones or repeats."""
    return tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


class DurationDialog(FilterDialog):
    """Minimum and maximum duration in milliseconds."""

    field = "duration"
    heading = "[b]Duration[/b]  in milliseconds; leave a side empty for no bound"

    def fields(self) -> ComposeResult:
        """Two inputs."""
        low = "" if self.filters.min_ms is None else f"{self.filters.min_ms:g}"
        high = "" if self.filters.max_ms is None else f"{self.filters.max_ms:g}"
        yield Input(low, placeholder="minimum ms, e.g. 5", id="min")
        yield Input(high, placeholder="maximum ms, e.g. 250", id="max")

    def read(self) -> FilterState | None:
        """Both bounds, checked."""
        bounds: list[float | None] = []
        for name in ("min", "max"):
            text = self.query_one(f"#{name}", Input).value.strip()
            try:
                bounds.append(read_bound(text) if text else None)
            except DurationError as exc:
                self.fail(f"{name}imum {exc}")
                return None
        low, high = bounds
        try:
            check_order(low, high)
        except DurationError as exc:
            self.fail(str(exc))
            return None
        return replace(self.filters, min_ms=low, max_ms=high)


class RangeDialog(FilterDialog):
    """A preset range (last 15m … 30d, all) or a custom from/to."""

    field = "range"
    heading = "[b]Time range[/b]  pick a preset, or type from/to and press enter"

    def __init__(self, filters: FilterState, now_ns: int) -> None:
        super().__init__(filters)
        self.now_ns = now_ns

    def fields(self) -> ComposeResult:
        """Presets, then the custom inputs."""
        start = "" if self.filters.custom_from is None else format_ns(self.filters.custom_from)
        end = "" if self.filters.custom_until is None else format_ns(self.filters.custom_until)
        options = [Option(f"last {p}", id=p) for p in RANGE_PRESETS]
        yield OptionList(*options, Option("all time", id="all"), id="presets")
        yield Label("custom: an age (7d, 90m), 'now' or an ISO time (UTC)")
        yield Input(start.replace(" ", "T"), placeholder="from, e.g. 2d", id="from")
        yield Input(end.replace(" ", "T"), placeholder="to, e.g. now", id="to")

    @on(OptionList.OptionSelected)
    def _preset(self, event: OptionList.OptionSelected) -> None:
        cleared = self.filters.cleared("range")
        self.dismiss(
            cleared if event.option.id == "all" else replace(cleared, range_preset=event.option.id)
        )

    def read(self) -> FilterState | None:
        """The custom range, checked with the same parser the command line uses."""
        bounds: list[int | None] = []
        for name in ("from", "to"):
            text = self.query_one(f"#{name}", Input).value.strip()
            try:
                bounds.append(parse_time(text, self.now_ns) if text else None)
            except TimeFormatError as exc:
                self.fail(f"{name}: {exc}")
                return None
        start, end = bounds
        if start is not None and end is not None and start >= end:
            self.fail(f"from ({format_ns(start)}) must be before to ({format_ns(end)})")
            return None
        cleared = self.filters.cleared("range")
        return replace(cleared, custom_from=start, custom_until=end)
