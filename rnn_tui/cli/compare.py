"""``rnn-tui compare``: models side by side; published ones by reference, or trained here
one architecture after another on the same corpus, seeded alike."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from rnn_tui.errors import UserError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command("compare", context_settings=CONTEXT_SETTINGS)
@click.argument("refs", nargs=-1)
@click.option("--arch", "-a", "archs", multiple=True,
              help="Train this architecture (repeat: --arch simplernn --arch lstm --arch gru).")
@click.option("--dataset", "-d", help="The corpus the --arch runs train on.")
@click.option("--dataset-option", multiple=True, metavar="KEY=VALUE",
              help="Corpus loader option, e.g. train_size=2560 (repeatable).")
@click.option("--epochs", "-e", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--train-limit", type=click.IntRange(min=1), help="Train on the first N rows.")
@click.option("--maxlen", type=click.IntRange(min=1), help="Sequence length. [auto]")
@click.option("--seed", type=int, default=42, show_default=True, help="Every run's seed.")
@click.option("--png", "png_path", type=click.Path(dir_okay=False),
              help="Also save the overlaid curves as a PNG file.")
@click.option("--no-latency", is_flag=True, help="Skip the keystroke latency measurement.")
@click.option("--plain", is_flag=True, help="Plain lines while training.")
def compare(refs: tuple[str, ...], archs: tuple[str, ...], **options: Any) -> None:
    """Compare models: test metrics, parameters, size, training time, keystroke latency
    and overlaid loss/accuracy curves.

    \b
      rnn-tui compare imdb-sentiment imdb-lstm@best
      rnn-tui compare --arch simplernn --arch lstm --arch gru --dataset imdb --epochs 3
      rnn-tui compare --arch lstm --arch gru -d multiplication --epochs 20 --png cmp.png

    The --arch runs are published as compare-DATASET-ARCH (the app's /compare names), each
    with the same seed, validation split and settings; they run one after another.
    """
    if refs and archs:
        raise UserError("give model references or --arch runs, not both")
    if not refs and not archs:
        raise UserError("nothing to compare: give model references (imdb-lstm "
                        "imdb-gru@best) or --arch A --arch B --dataset NAME")
    if archs and not options["dataset"]:
        raise UserError("--arch runs need --dataset NAME")
    png = Path(options["png_path"]) if options["png_path"] else None
    if png is not None and not png.expanduser().resolve().parent.is_dir():
        raise UserError(f"--png {png}: the folder {png.parent} does not exist")
    if archs:
        refs = tuple(_train_each(archs, options))

    from rich.console import Console

    from rnn_tui.compare.facts import model_facts
    from rnn_tui.compare.view import comparison_table, save_png, terminal_curves
    from rnn_tui.registry import open_registries

    registries = open_registries()
    models = [model_facts(ref, registries, latency=not options["no_latency"]) for ref in refs]
    console = Console()
    console.print(comparison_table(models))
    curves = terminal_curves(models, color=sys.stdout.isatty())
    if curves:
        click.echo(curves)
    if png is not None:
        click.echo(f"saved {save_png(models, png.expanduser())}")


def _train_each(archs: tuple[str, ...], options: dict[str, Any]) -> list[str]:
    """Train and publish one model per architecture; their refs."""
    from rnn_tui.cli.train import sigterm_cancels
    from rnn_tui.train.options import parse_option
    from rnn_tui.train.config import TrainConfig, plain_word
    from rnn_tui.train.engine import RunCancelledError, train
    from rnn_tui.train.render import renderer_for

    dataset_options = dict(parse_option(text) for text in options["dataset_option"])
    configs = []
    for arch in archs:  # every config is checked before the first run starts
        configs.append(TrainConfig(
            dataset=options["dataset"], dataset_options=dataset_options, arch=arch,
            epochs=options["epochs"], seed=options["seed"], maxlen=options["maxlen"],
            train_limit=options["train_limit"],
            name=f"compare-{plain_word(options['dataset'])}-{plain_word(arch)}"))
    renderer = renderer_for("plain" if options["plain"] else "auto")
    refs = []
    try:
        with sigterm_cancels():
            for config in configs:
                result = train(config, renderer, restart=True)
                refs.append(result.model_ref)
    except RunCancelledError as error:
        click.echo(f"rnn-tui: {error}", err=True)
        sys.exit(130)
    return refs
