"""``rnn-tui tui`` (and ``rnn-tui`` alone): open the terminal workspace."""

from __future__ import annotations

import click


@click.command()
@click.option("--sentiment", "sentiment", default="auto", show_default=True, metavar="MODEL",
              help="The sentiment model: a reference (name, name:3, name@best) or 'auto' "
                   "(Korean text -> nsmc-sentiment, otherwise imdb-sentiment).")
@click.option("--topics", "topics", default="reuters-topics", show_default=True,
              metavar="MODEL", help="The news-topic model.")
def tui(sentiment: str, topics: str) -> None:
    """Open the terminal app: live verdicts as you type, training, summaries, data.

    Works locally or over SSH, in 80x24 and up; NO_COLOR is honoured.
    """
    from rnn_tui.registry.names import ModelRef
    from rnn_tui.tui.app import RnnTuiApp
    from rnn_tui.tui.launch import run_app

    for ref in (topics, *([] if sentiment == "auto" else [sentiment])):
        ModelRef.parse(ref)  # a malformed reference is a one-line error before the screen opens

    # ends the process once the screen is gone: a busy worker thread never keeps it blank
    run_app(RnnTuiApp(sentiment=sentiment, topics=topics))
