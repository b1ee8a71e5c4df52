"""Asks for one path (export target, file to import, pipelines folder); enter or OK confirms."""

from __future__ import annotations

import os

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from ...untrusted import shown


class PathDialog(ModalScreen[str | None]):
    """Dismisses with the trimmed path, or None when cancelled; an empty path is refused inline.

    With `confirm_overwrite` (a file to write) a path naming an existing file is only taken when
    confirmed a second time, after a warning, so no file is replaced unawares; "-" (standard
    output, behind the viewer's screen) is refused.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        hint: str,
        default: str = "",
        ok: str = "OK",
        *,
        confirm_overwrite: bool = False,
        placeholder: str = "path to a file",
    ) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.hint = hint
        self.default = default
        self.ok = ok
        self.confirm_overwrite = confirm_overwrite
        self.placeholder = placeholder
        self.warned: str | None = None
        """The existing file the user was warned about; confirming it again replaces it."""

    def compose(self) -> ComposeResult:
        """Title, hint, the path input, an error line and two buttons."""
        with Vertical(classes="dialog-box"):
            yield Label(f"[b]{self.title_text}[/b]")
            yield Label(f"[dim]{self.hint}[/dim]", id="path-hint")
            yield Input(self.default, placeholder=self.placeholder, id="path")
            yield Label("", id="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.ok, id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted, "#path")
    def _confirm(self) -> None:
        path = self.query_one("#path", Input).value.strip()
        error = self.query_one("#dialog-error", Label)
        if not path:
            error.update(Content.from_markup("[b red]type a $what first[/]", what=self.placeholder))
            return
        if self.confirm_overwrite and path == "-":
            error.update("[b red]- is standard output, which the viewer owns: type a file path[/]")
            return
        if self.confirm_overwrite and os.path.isfile(path) and path != self.warned:
            self.warned = path
            error.update(
                Content.from_markup(
                    "[b yellow]$path exists[/]: $ok again to replace it",
                    path=shown(path),
                    ok=self.ok,
                )
            )
            return
        self.dismiss(path)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Do nothing."""
        self.dismiss(None)
