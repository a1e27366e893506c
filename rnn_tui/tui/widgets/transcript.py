"""The chat transcript: what was typed, what the models said, what the commands did."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from textual import work
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget

from rnn_tui.tui.widgets.transcript_entry import TranscriptEntry

EntryWidget = TypeVar("EntryWidget", bound=Widget)


class Transcript(VerticalScroll, can_focus=True):
    """A scrolling list of ``TranscriptEntry``; new entries scroll into view."""

    MAX_ENTRIES = 500  # old entries go, so a long session stays light
    BINDINGS = [Binding("ctrl+l", "app.clear_transcript", "Clear")]  # in the footer here

    @dataclass
    class Judged(Message):
        """The verdicts (with the trace) on a text kept in the transcript."""

        text: str
        verdicts: dict[str, Any]
        entry: TranscriptEntry

    def add(self, entry: EntryWidget) -> EntryWidget:
        """Append an entry (a ``TranscriptEntry``, or a widget such as a progress line)."""
        excess = len(self.children) + 1 - self.MAX_ENTRIES
        if excess > 0:
            for old in list(self.children)[:excess]:
                old.remove()
        self.mount(entry)
        self.call_after_refresh(self.scroll_end, animate=False)
        return entry

    def note(self, content: Any, kind: str = "info") -> None:
        """A note (``str`` is plain text, never markup); ``kind``: info, help or error."""
        self.add(TranscriptEntry.note(content, kind))

    def command(self, text: str) -> None:
        """A command as typed, echoed before what it does (as a shell shows it)."""
        self.add(TranscriptEntry.command(text))

    def ask(self, book: Any, text: str) -> None:
        """Keep ``text`` with its verdicts and word-by-word trace, which come from a worker
        (``book``: the app's ``ModelBook``)."""
        entry = self.add(TranscriptEntry.pending(text))
        self._judge(book, text, entry)

    @work(thread=True, group="submit")
    def _judge(self, book: Any, text: str, entry: TranscriptEntry) -> None:
        verdicts = book.verdicts(text, live=False, trace=True)
        self.post_message(self.Judged(text, verdicts, entry))

    def on_transcript_judged(self, message: Judged) -> None:
        message.stop()
        message.entry.show_verdicts(message.text, message.verdicts,
                                    width=self.content_size.width)

    def clear(self) -> None:
        self.remove_children()
