"""The ``rnn-tui`` command: a thin click front over the services.

Subcommands live one module per group and are imported only when invoked, so ``--help`` and
the instant commands never pay for TensorFlow (see ``rnn_tui.backend``).
"""

from __future__ import annotations

import errno
import importlib
import os
import sys

import click

from rnn_tui import __version__
from rnn_tui.terminal import escape
from rnn_tui.errors import RnnTuiError

# name -> (module, attribute, one-line help shown by ``rnn-tui --help``)
SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "tui": ("rnn_tui.cli.tui", "tui", "Open the terminal app (the default with no command)."),
    "data": ("rnn_tui.cli.data", "data", "List, fetch, import and inspect corpora."),
    "train": ("rnn_tui.cli.train", "train", "Train a model and publish it to the registry."),
    "teach": ("rnn_tui.cli.teach", "teach",
              "Fine-tune a new version of a model on its corrections."),
    "evaluate": ("rnn_tui.cli.evaluate", "evaluate", "Score a model on a corpus' test split."),
    "summary": ("rnn_tui.cli.summary", "summary", "Show a model's layers, parameters and card."),
    "predict": ("rnn_tui.cli.predict", "predict", "Classify texts from arguments, stdin or a file."),
    "models": ("rnn_tui.cli.models", "models", "List and manage the model registry."),
    "plot": ("rnn_tui.cli.plot", "plot", "Plot a model's loss and accuracy curves."),
    "neighbors": ("rnn_tui.cli.neighbors", "neighbors", "Nearest words in a model's embedding."),
    "vectors": ("rnn_tui.cli.vectors", "vectors",
                "Train word2vec vectors (gensim) on a corpus' training texts."),
    "tokenize": ("rnn_tui.cli.tokenize", "tokenize",
                 "Show a text as a model reads it: tokens, ids, OOV, padded row."),
    "check": ("rnn_tui.cli.check", "check", "Test a sentiment model capability by capability."),
    "export": ("rnn_tui.cli.export", "export",
               "Write a model as SavedModel, TFLite, ONNX or .keras."),
    "serve": ("rnn_tui.cli.serve", "serve", "Answer predictions over HTTP (FastAPI, uvicorn)."),
    "runs": ("rnn_tui.cli.runs", "runs", "List, show, watch and stop training runs."),
    "compare": ("rnn_tui.cli.compare", "compare",
                "Models side by side: test metrics, size, speed, curves."),
    "tune": ("rnn_tui.cli.tune", "tune",
             "Search settings (Optuna) within a budget; publish the best."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = SUBCOMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attribute, _ = entry
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:  # a command not built yet
                return None
            raise
        return getattr(module, attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text comes from the table above, so listing commands imports none of them.
        rows = [(name, SUBCOMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

# Storage failures are the user's to fix (free space), not internal errors.
DISK_FULL = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
             errno.EFBIG: "a file would pass the file-size limit"}


def disk_full_message(error: OSError) -> str:
    """One line for a write that failed for lack of room.

    >>> disk_full_message(OSError(errno.ENOSPC, "No space left on device", "/m/x.tmp"))
    'the disk is full (No space left on device) writing /m/x.tmp: free some space and run the same command again'
    """
    where = f" writing {error.filename}" if error.filename else ""
    return (f"{DISK_FULL[error.errno]} ({error.strerror}){where}: free some space and run "
            "the same command again")


@click.group(cls=LazyGroup, invoke_without_command=True, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="rnn-tui")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Train, inspect and use recurrent text classifiers (SimpleRNN, LSTM, GRU) from a terminal.

    With no command, opens the terminal app. Examples:

    \b
      rnn-tui                                   # the app
      rnn-tui predict "a wonderful, moving film"
      rnn-tui data list
      rnn-tui train --dataset imdb --arch lstm --epochs 2 --name my-imdb
    """
    if ctx.invoked_subcommand is None:
        command = cli.get_command(ctx, "tui")
        if command is None:
            click.echo(ctx.get_help())
            return
        ctx.invoke(command)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; anticipated errors become one line on stderr and an exit code."""
    debug = os.environ.get("RNN_TUI_DEBUG") == "1"
    try:
        cli.main(args=argv, prog_name="rnn-tui", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("cancelled", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Exit as error:
        sys.exit(error.exit_code)
    except RnnTuiError as error:
        if debug:
            raise
        # one line, and no escape sequence from a file name or a value reaches the terminal
        click.echo(f"rnn-tui: error: {escape(str(error))}", err=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        click.echo("cancelled", err=True)
        sys.exit(130)
    except BrokenPipeError:
        # `rnn-tui predict ... | head`: the reader went away, which is not an error.
        sys.stderr.close()
        sys.exit(0)
    except Exception as error:  # the last line of defence: still no traceback for users
        if debug:
            raise
        if isinstance(error, OSError) and error.errno in DISK_FULL:
            click.echo(f"rnn-tui: error: {escape(disk_full_message(error))}", err=True)
            sys.exit(1)
        click.echo(
            f"rnn-tui: internal error: {type(error).__name__}: {escape(str(error))} "
            "(set RNN_TUI_DEBUG=1 for the traceback)",
            err=True,
        )
        sys.exit(1)
