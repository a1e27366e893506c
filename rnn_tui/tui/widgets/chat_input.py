"""The input line: text to classify, or a /command; completion, history, clean pastes."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets import Input

from rnn_tui.tui.commands import is_command
from rnn_tui.tui.input_history import InputHistory
from rnn_tui.tui.verdicts import printable


class ChatInput(Input):
    """An ``Input`` that never holds control characters and remembers what was sent.

    Typed or pasted escape sequences are turned into visible stand-ins (␛) on the way in, so
    they can neither drive the terminal nor confuse the models; a pasted text of several
    lines is kept whole, on one line. Tab accepts the completion the suggester offers (as
    the right arrow does); Up and Down walk the history, which earlier sessions share.
    """

    BINDINGS = [
        Binding("tab", "complete", "Complete"),
        Binding("up", "history(-1)", "Previous", show=False),
        Binding("down", "history(1)", "Next", show=False),
    ]

    def __init__(self, *args, history: InputHistory | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.input_history = history or InputHistory(None)
        self._history_index = len(self.input_history.entries)

    @property
    def history(self) -> list[str]:
        """The sent lines, oldest first (earlier sessions' too)."""
        return self.input_history.entries

    async def _on_key(self, event: events.Key) -> None:
        # Textual runs this before Input's own handler; prevent_default() skips that one.
        if event.character == "?" and not self.value:  # no text starts with a lone "?"
            event.stop()
            event.prevent_default()
            await self.run_action("app.help")
        elif not event.is_printable:
            # The input's own keys (Tab, Enter, Backspace, arrows...) run here, in order with
            # the typed characters. As bindings they run once the key has bubbled up to the
            # app, after the keys behind it: "/he<Tab>data" arriving in one read (a fast
            # typist over SSH) gave "/hedata", "/clear<Enter>good" sent "/cleargood". The
            # bindings stay for the footer and for the keys not handled here.
            action = self._own_action(event)
            if action is not None:
                event.stop()
                event.prevent_default()
                await self.run_action(action)

    def _own_action(self, event: events.Key) -> str | None:
        for key in (event.key, *event.aliases):
            bindings = self._bindings.key_to_bindings.get(key)
            if bindings:
                return bindings[-1].action  # the subclass's, where both bind a key
        return None

    async def action_submit(self) -> None:
        """Enter: send the line, and empty the input at once, so that what is typed behind
        the Enter starts the next line (the app puts back a failed command's text)."""
        value = self.value
        if value.strip():
            self.value = ""
        self.post_message(self.Submitted(self, value, None))

    def replace(self, text: str, start: int, end: int) -> None:
        super().replace(printable(text), start, end)

    def _on_paste(self, event: events.Paste) -> None:
        # A review pasted from elsewhere often spans lines, and Input keeps only the first:
        # join them. (Textual calls this before Input's own handler, which inserts the text.)
        lines = [line.strip() for line in event.text.splitlines() if line.strip()]
        event.text = " ".join(lines)

    def remember(self, text: str) -> bool:
        """Add a sent line to the history (consecutive duplicates once); True when new (the
        app then saves the history)."""
        added = self.input_history.add(text)
        self._history_index = len(self.history)
        return added

    def action_complete(self) -> None:
        """Tab: complete the command word at the end; elsewhere, the next widget."""
        suggestion = self._suggestion
        if not suggestion and self.cursor_at_end and hasattr(self.suggester, "complete_now"):
            # typed fast (or pasted): the suggester's answer may not have arrived yet
            suggestion = self.suggester.complete_now(self.value) or ""
        if suggestion and self.cursor_at_end:
            self.value = suggestion
            self.cursor_position = len(self.value)
        elif not is_command(self.value):
            self.screen.focus_next()
        # a command with nothing to complete keeps the focus, as a shell's Tab does

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._history_index = min(max(self._history_index + step, 0), len(self.history))
        self.value = self.history[self._history_index] if self._history_index < len(
            self.history) else ""
        self.cursor_position = len(self.value)
