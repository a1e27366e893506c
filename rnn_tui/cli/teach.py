"""``rnn-tui teach``: fine-tune a new version of a model on its corrections.

Thin: the flags go to ``rnn_tui.teach.teacher.teach``, whose events are drawn by the
training renderers (a live view, plain lines or JSON events, as ``rnn-tui train``).
"""

from __future__ import annotations

import sys
import click

from rnn_tui.teach.teacher import (  # (the defaults: it imports no TensorFlow)
    CONFIDENT,
    DEFAULT_EPOCHS,
    LEARNING_RATE,
    REPLAY_TEXTS,
)
from rnn_tui.terminal import escape

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command("teach", context_settings=CONTEXT_SETTINGS)
@click.argument("model_ref", metavar="MODEL")
@click.option("--alias", default=None, metavar="ALIAS",
              help="Point ALIAS (e.g. best) at the new version. [no alias moves]")
@click.option("--epochs", type=click.IntRange(1, 50), default=DEFAULT_EPOCHS, show_default=True,
              help="At most this many passes over the corrections and replay rows; it stops "
                   f"sooner once every correction's label is {CONFIDENT:.1%} sure.")
@click.option("--replay", type=click.IntRange(min=0), default=REPLAY_TEXTS, show_default=True,
              help="Training texts of the model's corpus mixed in, so it does not forget "
                   "(0: none, and no test accuracy after).")
@click.option("--lr", "learning_rate", type=click.FloatRange(min=0, min_open=True),
              default=None, help=f"Learning rate of the embedding rows taught. [{LEARNING_RATE}]")
@click.option("--json", "json_output", is_flag=True,
              help="One JSON event per line on stdout (for programs).")
@click.option("--plain", is_flag=True, help="Plain lines even on a terminal.")
def teach(model_ref: str, alias: str | None, epochs: int, replay: int,
          learning_rate: float | None, json_output: bool, plain: bool) -> None:
    """Teach MODEL its corrections: fine-tune a new version from its weights.

    The corrections (`rnn-tui predict -m MODEL TEXT --label LABEL`, or marked in the app;
    see `rnn-tui data show corrections:MODEL`) are mixed with a replay sample of the
    model's own training data, answered as the model answers it now. Only the embeddings of
    the corrections' less common words and n-grams learn; the rest of the model stays as
    it is. The new version's card records its parent, the number of corrections and the
    test accuracy before and after; no alias moves unless --alias says so. Exit code 2
    when a correction could not be used (each is named), 0 otherwise.

    \b
      rnn-tui predict -m imdb-sentiment "not my cup of tea" --label negative
      rnn-tui teach imdb-sentiment
      rnn-tui teach imdb-sentiment --alias best --epochs 3
    """
    from rnn_tui.teach.teacher import teach as run_teach
    from rnn_tui.train.render import renderer_for

    mode = "json" if json_output else ("plain" if plain else "auto")
    renderer = renderer_for(mode)
    result = run_teach(model_ref, alias=alias, epochs=epochs, replay=replay,
                       learning_rate=learning_rate, on_event=renderer)
    close = getattr(renderer, "close", None)
    if callable(close):
        close()
    if not json_output:
        click.echo(escape(result.summary()))
        if result.unknown_words:
            click.echo(f"{result.unknown_words} of the corrections' {result.words} words are "
                       "not in the model's vocabulary", err=True)
    for problem in result.problems:
        click.echo(f"rnn-tui: {escape(problem)}", err=True)
    if result.problems:
        sys.exit(2)
