"""``rnn-tui tokenize MODEL_OR_VOCABULARY TEXT``: a text as the model reads it, step by step.

The Tokenizer walk-through of the tutorials (``fit_on_texts``, ``texts_to_sequences``,
``pad_sequences``, printed at each step) for a model's own vocabulary: the tokens after
cleaning and splitting, their ids, which tokens fell out of the vocabulary, and the padded
row the model is given. NumPy only, no TensorFlow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from rnn_tui.errors import UserError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def tokenize_report(features: Any, text: str, *, maxlen: int | None, padding: str,
                    truncating: str) -> dict[str, Any]:
    """Tokens, ids per stream, the out-of-vocabulary tokens and the padded token row.

    ``features`` is a ``rnn_tui.text.features.TextFeatures`` (one stream for a plain
    vocabulary). A token out of the vocabulary becomes the OOV id, or is dropped when the
    vocabulary has no OOV token (Keras' rule): both are listed in ``oov``.
    """
    from rnn_tui.text.padding import pad_sequences

    vocabulary = features.vocabulary
    tokens = features.tokenize(text)
    lookup = vocabulary._id_lookup()  # the ids num_words keeps
    oov_index = vocabulary.oov_index
    steps = []
    for token in tokens:
        found = lookup.get(token)
        known = found is not None and found != oov_index
        steps.append({"token": token, "id": found if known else oov_index, "oov": not known})
    ids = vocabulary.tokens_to_ids(tokens)
    streams = {}
    if len(features.streams) > 1 and tokens:
        by_position = features.ids(tokens)
        for column, stream in enumerate(features.streams):
            streams[stream.name] = [int(row[column]) for row in by_position]
    padded = pad_sequences([ids], maxlen=maxlen, padding=padding, truncating=truncating)
    return {
        "text": text,
        "tokens": tokens,
        "steps": steps,
        "ids": ids,
        "oov": [step["token"] for step in steps if step["oov"]],
        "oov_token": vocabulary.oov_token,
        "oov_index": oov_index,
        "streams": streams,
        "maxlen": maxlen,
        "padding": padding,
        "truncating": truncating,
        "padded": padded[0].tolist(),
    }


def _load(source: str) -> tuple[Any, dict[str, Any], str]:
    """(features, the card's input section, a name) of a model reference or a vocabulary
    file (rnn-tui, Keras Tokenizer JSON, or a word index)."""
    from rnn_tui.text.features import TextFeatures

    path = Path(source).expanduser()
    if path.is_file():
        from rnn_tui.text.foreign import read_vocabulary

        vocabulary, _ = read_vocabulary(path)
        return TextFeatures.single(vocabulary), {}, path.name
    from rnn_tui.registry import open_registries

    version = open_registries().resolve(source)
    section = version.card.get("input") or {}
    if section.get("kind") == "sequence" or not version.has_file("vocabulary.json"):
        raise UserError(f"{version.ref} reads numeric sequences: it has no tokenizer")
    return TextFeatures.load(version.path, section.get("features")), section, version.ref


@click.command("tokenize", context_settings=CONTEXT_SETTINGS)
@click.argument("source", metavar="MODEL_OR_VOCABULARY")
@click.argument("text")
@click.option("--maxlen", type=click.IntRange(min=1),
              help="Pad or cut to this length. [the model's]")
@click.option("--padding", type=click.Choice(["pre", "post"]),
              help="Where zeros go. [the model's; Keras' pre for a file]")
@click.option("--truncating", type=click.Choice(["pre", "post"]),
              help="Which end a long text loses. [the model's; pre for a file]")
@click.option("--json", "as_json", is_flag=True, help="The steps as JSON.")
def tokenize(source: str, text: str, maxlen: int | None, padding: str | None,
             truncating: str | None, as_json: bool) -> None:
    """Show TEXT as MODEL reads it: tokens, ids, out-of-vocabulary marks, the padded row.

    MODEL_OR_VOCABULARY is a model reference or a vocabulary file: rnn-tui's
    vocabulary.json, Keras' Tokenizer.to_json() output or a {"word": id} index.

    \b
      rnn-tui tokenize imdb-sentiment "A wonderful, moving film!"
      rnn-tui tokenize nsmc-sentiment "재미있을 줄 알았는데" --maxlen 20
      rnn-tui tokenize keras_tokenizer.json "good film" --maxlen 8
    """
    from rnn_tui.terminal import escape, json_text

    features, section, name = _load(source)
    maxlen = maxlen or section.get("maxlen")
    padding = padding or section.get("padding") or "pre"
    truncating = truncating or section.get("truncating") or "pre"
    report = tokenize_report(features, text, maxlen=maxlen, padding=padding,
                             truncating=truncating)
    if as_json:
        click.echo(json_text({"source": name, **report}))
        return
    marked = [escape(step["token"]) + ("*" if step["oov"] else "") for step in report["steps"]]
    click.echo(f"{name}: {features.vocabulary.level} tokens, "
               f"{features.vocabulary.size:,} ids")
    click.echo(f"tokens  {' | '.join(marked) or '(none)'}")
    click.echo(f"ids     {report['ids']}")
    if report["oov"]:
        what = (f"id {report['oov_index']} = {report['oov_token']}"
                if report["oov_index"] is not None else "dropped: no OOV token")
        click.echo(f"OOV     {', '.join(escape(token) for token in report['oov'])} "
                   f"(* above; {escape(what)})")
    for stream, ids in report["streams"].items():
        if stream != "tokens":
            click.echo(f"{stream:<8}{ids}")
    shape = f"maxlen {maxlen}" if maxlen else "no maxlen: as long as the text"
    click.echo(f"padded  ({shape}, padding {padding}, truncating {truncating})")
    import numpy as np

    with np.printoptions(linewidth=100, threshold=2000):
        click.echo(str(np.array([report["padded"]], dtype=np.int32)))
    if not report["tokens"]:
        click.echo("(the text has no tokens this vocabulary reads)")
