"""The verdicts of the active models on the text being typed, updated on every keystroke."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from rnn_tui.tui.verdicts import (
    SENTIMENT,
    TOPICS,
    Absent,
    Palette,
    Verdict,
    printable,
    verdict_block,
)

TWO_COLUMNS = 56  # cells: sentiment and topics side by side from this width
TOPICS_SHOWN = 3
READINESS_CELLS = 34  # "English → imdb-sentiment:1 ready"


class LiveVerdicts(Widget):
    """Sentiment and topics side by side: label, probability bar, percentage, model."""

    verdicts: reactive[dict[str, Verdict | Absent]] = reactive(dict, always_update=True)
    """The latest verdict (or the reason there is none) for each role."""
    hint: reactive[str] = reactive("")
    """While a /command is typed: its usage, shown instead of the verdicts."""

    def get_content_height(self, container, viewport, width: int) -> int:
        """A fixed height, so the area neither jumps as one types nor cuts the third topic:
        side by side, a title and three topics; stacked, two lines each (a sentiment
        readiness note may take three)."""
        if width < TWO_COLUMNS:
            return 5
        # a narrow column wraps "English → imdb-sentiment:1 ready" (the readiness note)
        return 1 + TOPICS_SHOWN + (1 if width // 2 - 1 < READINESS_CELLS else 0)

    def render(self) -> RenderableType:
        if self.hint:
            return Text(printable(self.hint, keep_newlines=True), style="italic")
        width = max(self.content_size.width, 20)
        columns = 2 if width >= TWO_COLUMNS else 1
        palette = Palette.from_theme(self.app.theme_variables)
        column_width = width // columns - 1
        grid = Table.grid(padding=(0, 1), expand=True)
        for _ in range(columns):
            grid.add_column(ratio=1)
        blocks = [
            verdict_block(self.verdicts.get(role) or Absent(role, "type to classify"),
                          width=column_width, rows=TOPICS_SHOWN if columns == 2 else 1,
                          palette=palette)
            for role in (SENTIMENT, TOPICS)
        ]
        if columns == 2:
            grid.add_row(*blocks)
        else:
            for block in blocks:
                grid.add_row(block)
        return grid
