"""What the models said about a text, and how it is drawn: plain data and rich renderables.

Nothing here imports Textual, so the renderables can be tested (and reused) on their own.
Every verdict is readable without colour: a label, a bar drawn with block characters and a
percentage, so NO_COLOR and monochrome terminals lose nothing but the tint.

User text always goes into ``rich.text.Text`` objects (never markup), after
``printable(text)`` has made control characters visible, so nothing typed or pasted can reach
the terminal raw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rnn_tui.terminal import printable  # noqa: F401  (the widgets import it from here)

SENTIMENT = "sentiment"
TOPICS = "topics"

FULL_BLOCK = "█"
EMPTY_BLOCK = "░"
EIGHTHS = " ▏▎▍▌▋▊▉"
SPARK_LEVELS = "▁▂▃▄▅▆▇█"


@dataclass
class Verdict:
    """One model's reading of one text.

    Attributes:
        role: SENTIMENT or TOPICS.
        model: the reference of the model that gave it ("imdb-sentiment:3").
        labels: class names, in the order of ``probabilities``.
        probabilities: one per class, summing to 1.
        why: how the model was chosen ("auto: English", "pinned").
        trace: (token, probabilities) after each token, for the word-by-word chart.
    """

    role: str
    model: str
    labels: list[str]
    probabilities: list[float]
    why: str = ""
    trace: list[tuple[str, list[float]]] = field(default_factory=list)

    def ranked(self, count: int | None = None) -> list[tuple[str, float]]:
        """(label, probability) from the most to the least likely."""
        pairs = sorted(zip(self.labels, self.probabilities), key=lambda pair: -pair[1])
        return pairs[:count] if count is not None else pairs

    @property
    def label(self) -> str:
        return self.ranked(1)[0][0]

    @property
    def confidence(self) -> float:
        return self.ranked(1)[0][1]


@dataclass
class Absent:
    """Why a role has no verdict ("loading imdb-sentiment…", "no model: /train imdb")."""

    role: str
    message: str
    busy: bool = False


@dataclass(frozen=True)
class Palette:
    """The colours of verdicts: positive, negative, and every other label (topics).

    The defaults are light tints: under NO_COLOR they become mid to light greys, which still
    show on a dark background (the ANSI reds and greens turn nearly black). In the app the
    colours come from the active theme (``from_theme``), so light themes stay readable.
    """

    positive: str = "#5fd75f"
    negative: str = "#ff6e6e"
    other: str = "#5fd7ff"

    @classmethod
    def from_theme(cls, variables: dict[str, str]) -> Palette:
        """A Textual app's ``theme_variables``: success, error and accent."""
        return cls(variables.get("success", cls.positive), variables.get("error", cls.negative),
                   variables.get("accent", cls.other))


DEFAULT_PALETTE = Palette()
LABEL_CELLS = 12  # the most a label takes beside its bar (Reuters' longest: money-supply)


def label_style(role: str, label: str, palette: Palette = DEFAULT_PALETTE) -> str:
    """The colour of a label: positive, negative, or the colour of the other labels."""
    lowered = label.lower()
    if role == SENTIMENT:
        if lowered.startswith("pos"):
            return palette.positive
        if lowered.startswith("neg"):
            return palette.negative
    return palette.other


def bar(fraction: float, width: int, style: str = "") -> Text:
    """A horizontal bar ``width`` cells wide, filled to ``fraction`` in eighths of a cell.

    >>> bar(0.5, 4).plain
    '██░░'
    >>> bar(float("nan"), 4).plain   # a model that failed to answer draws an empty bar
    '░░░░'
    """
    fraction = float(fraction)
    fraction = min(max(fraction, 0.0), 1.0) if math.isfinite(fraction) else 0.0
    eighths = round(fraction * width * 8)
    full, rest = divmod(eighths, 8)
    filled = FULL_BLOCK * full + (EIGHTHS[rest] if rest and full < width else "")
    text = Text(filled, style=style)
    text.append(EMPTY_BLOCK * (width - len(filled)), style="dim")
    return text


def percent(probability: float) -> str:
    return f"{probability * 100:3.0f}%" if math.isfinite(probability) else "  -%"


def verdict_line(label: str, probability: float, role: str, label_width: int, bar_width: int,
                 palette: Palette = DEFAULT_PALETTE) -> Text:
    """``positive ██████░░ 87%``: the label, a bar and the percentage."""
    style = label_style(role, label, palette)
    line = Text()
    line.append(_fit_cells(label, label_width), style=f"bold {style}")
    line.append(" ")
    line.append_text(bar(probability, bar_width, style))
    line.append(" " + percent(probability))
    return line


def sparkline(values: Sequence[float]) -> Text:
    """One cell per value in [0, 1], as block heights: ``▁▃▆█``."""
    text = Text()
    for value in values:
        value = min(max(float(value), 0.0), 1.0)
        text.append(SPARK_LEVELS[min(int(value * len(SPARK_LEVELS)), len(SPARK_LEVELS) - 1)])
    return text


def _fit_cells(text: str, width: int) -> str:
    """Cut or pad ``text`` to exactly ``width`` terminal cells (wide characters count two)."""
    rich_text = Text(printable(text))
    rich_text.truncate(width, overflow="ellipsis", pad=True)
    return rich_text.plain


def trace_chart(verdict: Verdict, max_rows: int = 12, bar_width: int = 20,
                palette: Palette = DEFAULT_PALETTE) -> RenderableType:
    """The word-by-word chart of a sentiment verdict.

    A sparkline of P(second label) after each token, then one row per token: the token, a
    bar that grows left for the first label and right for the second, and P(second label).
    Long texts keep the ``max_rows`` tokens that moved the verdict most, in order.
    """
    if not verdict.trace:
        return Text("")
    positive = len(verdict.labels) - 1
    values = [probabilities[positive] for _, probabilities in verdict.trace]
    header = Text(f"P({printable(verdict.labels[positive])}) per word ", style="dim")
    header.append_text(sparkline(values))

    moves = [abs(value - (values[index - 1] if index else 0.5))
             for index, value in enumerate(values)]
    keep = sorted(sorted(range(len(values)), key=lambda index: -moves[index])[:max_rows])
    half = max(bar_width // 2, 1)
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, justify="right")
    previous = -1
    skipped = False
    for index in keep:
        if index != previous + 1 and previous >= 0:
            table.add_row(Text("…", style="dim"), Text(""), Text(""))
            skipped = True
        previous = index
        token, _ = verdict.trace[index]
        value = values[index]
        lean = value - 0.5
        cells = round(abs(lean) * 2 * half)
        left = Text(" " * (half - cells if lean < 0 else half))
        if lean < 0:
            left.append("▇" * cells, style=label_style(SENTIMENT, verdict.labels[0], palette))
        right = Text("│", style="dim")
        if lean >= 0:
            right.append("▇" * cells,
                         style=label_style(SENTIMENT, verdict.labels[positive], palette))
        right.append(" " * (half - (cells if lean >= 0 else 0)))
        table.add_row(Text(_fit_cells(token, 12)), left + right, Text(percent(value)))
    if not skipped and keep and keep[0] > 0:
        skipped = True  # the words before the first row shown
    if skipped:
        return Group(header, table, Text(f"… the words that moved it least, left out "
                                         f"({len(values) - len(keep)} of {len(values)})",
                                         style="dim"))
    return Group(header, table)


def topic_trace_chart(verdict: Verdict, max_rows: int = 8, bar_width: int = 20,
                      palette: Palette = DEFAULT_PALETTE) -> RenderableType:
    """The word-by-word chart of a topic verdict: P(top topic) after each word, as a
    sparkline, then the words that moved it most, each with a bar of P(top topic)."""
    if not verdict.trace:
        return Text("")
    top = verdict.labels.index(verdict.label)
    values = [probabilities[top] if top < len(probabilities) else 0.0
              for _, probabilities in verdict.trace]
    header = Text(f"P({printable(verdict.label)}) per word ", style="dim")
    header.append_text(sparkline(values))
    moves = [abs(value - (values[index - 1] if index else 0.0))
             for index, value in enumerate(values)]
    keep = sorted(sorted(range(len(values)), key=lambda index: -moves[index])[:max_rows])
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, justify="right")
    style = label_style(TOPICS, verdict.label, palette)
    for index in keep:
        token, _ = verdict.trace[index]
        table.add_row(Text(_fit_cells(token, 12)), bar(values[index], bar_width, style),
                      Text(percent(values[index])))
    parts: list[RenderableType] = [header, table]
    if len(keep) < len(values):
        parts.append(Text(f"… the words that moved it least, left out "
                          f"({len(values) - len(keep)} of {len(values)})", style="dim"))
    return Group(*parts)


def verdict_block(verdict: Verdict | Absent, width: int = 36, rows: int = 3,
                  palette: Palette = DEFAULT_PALETTE) -> RenderableType:
    """A verdict as lines: the role and model, then the label(s) with bars (topics: the top
    ``rows``), or why there is none. Labels take a fixed width, so the bars keep theirs
    from one keystroke to the next."""
    title = Text(verdict.role.capitalize(), style="bold", no_wrap=True, overflow="ellipsis")
    if isinstance(verdict, Absent):
        why = Text(printable(verdict.message, keep_newlines=True),
                   style="italic dim" if verdict.busy else "italic")
        return Group(title, why)
    title.append(f"  {verdict.model}", style="dim")
    if verdict.why:
        title.append(f" ({verdict.why})", style="dim")
    lines: list[RenderableType] = [title]
    ranked = verdict.ranked(1 if verdict.role == SENTIMENT else rows)
    # from all the model's labels, not the ranked ones: the width stays as the text changes
    label_width = max(min(max(cell_len(printable(label)) for label in verdict.labels),
                          LABEL_CELLS), 5)
    bar_width = max(width - label_width - 6, 4)
    for label, probability in ranked:
        lines.append(verdict_line(label, probability, verdict.role, label_width, bar_width,
                                  palette))
    return Group(*lines)
