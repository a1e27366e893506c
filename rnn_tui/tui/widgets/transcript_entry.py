"""One entry of the transcript: a text with its verdicts and trace, or a note from the app."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widgets import Static

from rnn_tui.tui.verdicts import (
    SENTIMENT,
    TOPICS,
    DEFAULT_PALETTE,
    Absent,
    Palette,
    Verdict,
    printable,
    topic_trace_chart,
    trace_chart,
    verdict_block,
)


def _said(text: str) -> Text:
    said = Text("› ", style="bold")
    said.append(printable(text), style="bold")
    return said


def exchange_view(text: str, verdicts: dict[str, Verdict | Absent], width: int = 60,
                  palette: Palette = DEFAULT_PALETTE) -> RenderableType:
    """The user's text, both verdicts, and the word-by-word chart of the sentiment."""
    width = max(width, 30)
    parts: list[RenderableType] = [_said(text)]
    for role in (SENTIMENT, TOPICS):
        verdict = verdicts.get(role)
        if verdict is not None:
            parts.append(verdict_block(verdict, width=min(width, 60), rows=3, palette=palette))
    sentiment = verdicts.get(SENTIMENT)
    if isinstance(sentiment, Verdict) and sentiment.trace:
        parts.append(trace_chart(sentiment, bar_width=min(max(width - 24, 8), 30),
                                 palette=palette))
    topics = verdicts.get(TOPICS)
    if isinstance(topics, Verdict) and topics.trace:  # news gets its trace too
        parts.append(topic_trace_chart(topics, bar_width=min(max(width - 24, 8), 30),
                                       palette=palette))
    return Group(*parts)


class TranscriptEntry(Static):
    """A sent text (filled in when its verdicts arrive) or a note from the app."""

    exchange: tuple[str, dict[str, Verdict | Absent]] | None = None
    """(text, verdicts) once the verdicts are in: what a correction key corrects."""

    @classmethod
    def pending(cls, text: str) -> TranscriptEntry:
        """The sent text, waiting for its verdicts (so entries keep the order of sending)."""
        waiting = Text("  judging…", style="dim italic")
        return cls(Group(_said(text), waiting), classes="exchange")

    def show_verdicts(self, text: str, verdicts: dict[str, Verdict | Absent], width: int = 60
                      ) -> None:
        """Fill in the verdicts, in the colours of the app's theme."""
        palette = Palette.from_theme(self.app.theme_variables)
        self.exchange = (text, verdicts)
        self.update(exchange_view(text, verdicts, width, palette))

    @classmethod
    def command(cls, text: str) -> TranscriptEntry:
        """A slash command as it was run, so the transcript reads like a shell session."""
        return cls(_said(text), classes="note command")

    @classmethod
    def note(cls, content: RenderableType | str, kind: str = "info") -> TranscriptEntry:
        """A message from the app; ``kind`` is "info", "error" or "help" (for styling).

        A ``str`` is shown as plain text (never parsed as markup).
        """
        if isinstance(content, str):
            content = Text(printable(content, keep_newlines=True))
        return cls(content, classes=f"note {kind}")
