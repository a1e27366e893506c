"""Verdict renderables: readable without colour, wide characters measured, controls shown."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from rich.console import Console

from rnn_tui.tui.verdicts import (
    SENTIMENT,
    TOPICS,
    Absent,
    Verdict,
    bar,
    printable,
    sparkline,
    trace_chart,
    verdict_block,
)


def render(renderable, width: int = 60, color: bool = False) -> str:
    console = Console(width=width, record=True, color_system="truecolor" if color else None,
                      no_color=not color, file=open("/dev/null", "w"))
    console.print(renderable)
    return console.export_text(styles=color)


def test_printable_makes_controls_visible():
    assert printable("a\x1b[31mred\x07") == "a␛[31mred␇"
    assert printable("tab\tnew\nline") == "tab new line"
    assert printable("\x7f\x9b") == "␡�"
    assert printable("재미있을 줄 🎬") == "재미있을 줄 🎬"


@pytest.mark.parametrize("fraction, width, expected", [
    (0.0, 4, "░░░░"), (1.0, 4, "████"), (0.5, 4, "██░░"), (0.125, 1, "▏"), (2.0, 3, "███"),
])
def test_bar(fraction, width, expected):
    text = bar(fraction, width)
    assert text.plain == expected
    assert cell_len(text.plain) == width


def test_sentiment_verdict_reads_without_colour():
    verdict = Verdict(SENTIMENT, "imdb-sentiment:1", ["negative", "positive"], [0.13, 0.87],
                      "auto: English")
    text = render(verdict_block(verdict, width=40))
    assert "imdb-sentiment:1 (auto: English)" in text
    line = next(line for line in text.splitlines() if line.startswith("positive"))
    assert "87%" in line and "█" in line and "░" in line


def test_topics_show_the_top_three_in_order():
    labels = ["cocoa", "grain", "earn", "acq", "crude"]
    verdict = Verdict(TOPICS, "reuters-topics:2", labels, [0.05, 0.1, 0.6, 0.2, 0.05])
    text = render(verdict_block(verdict, width=40, rows=3))
    lines = [line.split()[0] for line in text.splitlines()[1:] if line.strip()]
    assert lines == ["earn", "acq", "grain"]


def test_absent_says_why():
    text = render(verdict_block(Absent(SENTIMENT, "loading imdb-sentiment…", busy=True)))
    assert "Sentiment" in text and "loading imdb-sentiment…" in text


def test_trace_chart_aligns_korean_tokens():
    steps = [("재미있을", [0.33, 0.67]), ("줄", [0.33, 0.67]), ("알았는데", [0.42, 0.58]),
             ("졸리고", [0.99, 0.01]), ("아까웠다", [0.998, 0.002])]
    verdict = Verdict(SENTIMENT, "nsmc-sentiment:1", ["negative", "positive"], [0.998, 0.002],
                      trace=steps)
    text = render(trace_chart(verdict, bar_width=20), width=60)
    rows = [line for line in text.splitlines() if "│" in line]
    assert len(rows) == len(steps)
    # the bar's axis sits in the same terminal column on every row, whatever the token width
    axis_columns = {cell_len(row[: row.index("│")]) for row in rows}
    assert len(axis_columns) == 1
    assert rows[-1].rstrip().endswith("0%")  # P(positive) after the last word
    assert sparkline([0.67, 0.67, 0.58, 0.01, 0.002]).plain in text


def test_trace_chart_keeps_the_words_that_moved_the_verdict():
    steps = [(f"w{index}", [0.5, 0.5]) for index in range(30)]
    steps[17] = ("boring", [0.95, 0.05])
    for index in range(18, 30):
        steps[index] = (f"w{index}", [0.95, 0.05])
    verdict = Verdict(SENTIMENT, "m:1", ["negative", "positive"], [0.95, 0.05], trace=steps)
    text = render(trace_chart(verdict, max_rows=4), width=60)
    assert "boring" in text
    assert "…" in text  # the skipped words are marked
    assert "… the words that moved it least, left out (26 of 30)" in text  # and explained
    assert len([line for line in text.splitlines() if "│" in line]) == 4
    short = Verdict(SENTIMENT, "m:1", ["negative", "positive"], [0.95, 0.05],
                    trace=steps[:3])
    assert "left out" not in render(trace_chart(short), width=60)


def test_user_text_never_becomes_markup():
    verdict = Verdict(SENTIMENT, "m:1", ["[b]neg[/b]", "pos"], [0.9, 0.1],
                      trace=[("[red]x[/red]", [0.9, 0.1])])
    text = render(verdict_block(verdict)) + render(trace_chart(verdict))
    assert "[b]neg[/b]" in text and "[red]x[/red]" in text


def test_topic_bars_keep_their_width_whatever_the_top_topics_are():
    labels = ["earn", "acq", "money-supply", "crude"]
    widths = set()
    for probabilities in ([0.7, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.7], [0.1, 0.1, 0.7, 0.1]):
        text = render(verdict_block(Verdict(TOPICS, "reuters-topics:1", labels, probabilities),
                                    width=40, rows=3))
        bars = [line for line in text.splitlines() if "%" in line]
        assert len(bars) == 3
        # the bar starts in the same column on every line (it used to follow the longest
        # label among the top three, so bars changed width as one typed)
        widths |= {min(line.find(mark) for mark in "█░" if mark in line) for line in bars}
    assert len(widths) == 1, widths


def test_the_palette_colours_the_labels():
    from rnn_tui.tui.verdicts import Palette, label_style

    palette = Palette.from_theme({"success": "#00aa00", "error": "#aa0000", "accent": "#0000aa"})
    assert label_style(SENTIMENT, "positive", palette) == "#00aa00"
    assert label_style(SENTIMENT, "negative", palette) == "#aa0000"
    assert label_style(TOPICS, "grain", palette) == "#0000aa"


def test_a_topic_verdict_gets_its_word_by_word_chart():
    from rnn_tui.tui.verdicts import topic_trace_chart

    labels = ["earn", "crude", "grain"]
    trace = [("the", [0.5, 0.3, 0.2]), ("oil", [0.1, 0.85, 0.05]),
             ("price", [0.05, 0.9, 0.05]), ("rose", [0.05, 0.92, 0.03])]
    verdict = Verdict(TOPICS, "reuters-topics:1", labels, [0.05, 0.92, 0.03], trace=trace)
    text = render(topic_trace_chart(verdict, max_rows=2), width=60)
    assert "P(crude) per word" in text
    assert "oil" in text and "85%" in text  # the word that moved it most
    assert "left out (2 of 4)" in text
