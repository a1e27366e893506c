"""The help screen (F1 or ``?``): every command and key, over the workspace; Esc closes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from rnn_tui.tui.help_view import full_help


class HelpScreen(ModalScreen[None]):
    """A scrollable page of help; it takes the focus, so keys scroll it."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("f1", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-page", can_focus=True) as page:
            page.border_title = "rnn-tui help"
            page.border_subtitle = "Esc closes · ↑↓ PgUp PgDn scroll"
            yield Static(full_help(), id="help-body")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#help-page").focus()
