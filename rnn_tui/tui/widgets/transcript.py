"""The chat transcript: what was typed, what the models said, what the commands did."""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.widget import Widget
from textual.containers import VerticalScroll

from rnn_tui.tui.widgets.transcript_entry import TranscriptEntry

EntryWidget = TypeVar("EntryWidget", bound=Widget)


class Transcript(VerticalScroll, can_focus=True):
    """A scrolling list of ``TranscriptEntry``; new entries scroll into view."""

    MAX_ENTRIES = 500  # old entries go, so a long session stays light
    BINDINGS = [Binding("ctrl+l", "app.clear_transcript", "Clear")]  # in the footer here

    def add(self, entry: EntryWidget) -> EntryWidget:
        """Append an entry (a ``TranscriptEntry``, or a widget such as a progress line)."""
        excess = len(self.children) + 1 - self.MAX_ENTRIES
        if excess > 0:
            for old in list(self.children)[:excess]:
                old.remove()
        self.mount(entry)
        self.call_after_refresh(self.scroll_end, animate=False)
        return entry

    def clear(self) -> None:
        self.remove_children()
