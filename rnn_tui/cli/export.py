"""``rnn-tui export``: a registry model as SavedModel, TFLite, ONNX or .keras, with its
vocabulary files and preprocess.json beside it (TensorFlow is imported here, not before)."""

from __future__ import annotations

from pathlib import Path

import click

from rnn_tui.terminal import escape

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
FORMATS = ("savedmodel", "tflite", "onnx", "keras")


@click.command("export", context_settings=CONTEXT_SETTINGS)
@click.argument("model_ref")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True,
              help="savedmodel (TensorFlow, TF Serving), tflite (one text per call, padded "
                   "to maxlen), onnx (needs: pip install 'rnn-tui[export]'), keras.")
def export(model_ref: str, out: Path, fmt: str) -> None:
    """Write MODEL_REF in a standard format into the new folder OUT.

    OUT holds the model (saved_model/, model.tflite, model.onnx or model.keras), the
    vocabulary files, card.json and preprocess.json: tokenizer settings, padding, maxlen,
    labels, the output's meaning and a worked example (a text, its ids and the model's
    outputs) so another program can check that it reproduces the ids. The folder appears
    only when complete.

    \b
      rnn-tui export imdb-sentiment --format onnx imdb-onnx
      rnn-tui export reuters-topics@prod --format savedmodel serving/reuters/1
      rnn-tui export nsmc-sentiment --format tflite nsmc-tflite
    """
    from rnn_tui.export import check_destination, export_model

    check_destination(out)  # before TensorFlow's seconds of import
    result = export_model(model_ref, fmt, out)
    beside = ", ".join(["preprocess.json", *result.preprocess.get("vocabularies", [])])
    click.echo(f"exported {result.model} as {fmt}: "
               f"{escape(str(result.path / result.artifact))} (with {beside})")
