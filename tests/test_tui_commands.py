"""Slash commands: parsing, clear errors for bad arguments, completion, palette entries."""

from __future__ import annotations

import pytest

from rnn_tui.errors import UserError
from rnn_tui.tui.commands import (
    ARCH,
    COMMANDS,
    DATASET,
    MODEL,
    complete,
    help_lines,
    is_command,
    palette_entries,
    parse_command,
)

VALUES = {
    MODEL: ["imdb-sentiment", "nsmc-sentiment", "reuters-topics"],
    DATASET: ["imdb", "reuters", "nsmc", "multiplication"],
    ARCH: ["simplernn", "lstm", "gru", "bilstm"],
}


def candidates(kind: str) -> list[str]:
    return VALUES.get(kind, [])


def test_every_issue_command_exists():
    for name in ("train", "model", "summary", "data", "compare", "evaluate", "help"):
        assert name in COMMANDS


@pytest.mark.parametrize("text, name, arguments, options", [
    ("/help", "help", [], {}),
    ("  /HELP train", "help", ["train"], {}),
    ("/train imdb --arch gru --epochs 2", "train", ["imdb"], {"--arch": "gru", "--epochs": "2"}),
    ("/train imdb --epochs=3", "train", ["imdb"], {"--epochs": "3"}),
    ("/train imdb --restart --epochs 1", "train", ["imdb"], {"--restart": None, "--epochs": "1"}),
    ("/train --preset tutorial-imdb-lstm", "train", [], {"--preset": "tutorial-imdb-lstm"}),
    ("/train imdb --arch 'emb:32 lstm:16'", "train", ["imdb"], {"--arch": "emb:32 lstm:16"}),
    ("/model imdb-sentiment:2", "model", ["imdb-sentiment:2"], {}),
    ("/model", "model", [], {}),
    ("/compare", "compare", [], {}),
    ("/compare imdb", "compare", ["imdb"], {}),
    ("/summary reuters-topics@best", "summary", ["reuters-topics@best"], {}),
    ("/data 네이버.csv", "data", ["네이버.csv"], {}),
    ("/evaluate", "evaluate", [], {}),
])
def test_parse(text, name, arguments, options):
    command = parse_command(text)
    assert (command.name, command.arguments, command.options) == (name, arguments, options)


@pytest.mark.parametrize("text, message", [
    ("/trian imdb", "unknown command /trian (did you mean /train?)"),
    ("/", "type a command after '/'"),
    ("/train imdb --epochs zero", "--epochs needs a whole number, not 'zero'"),
    ("/train imdb --lr fast", "--lr needs a number, not 'fast'"),
    ("/train imdb --padding middle", "--padding must be one of pre, post, not 'middle'"),
    ("/train imdb --restart=yes", "--restart takes no value"),
    ("/train imdb --epochs", "--epochs needs a value"),
    ("/train imdb --epoch 2", "/train has no option --epoch (did you mean --epochs?)"),
    ("/model a b", "/model takes at most 1 argument(s); unexpected: b"),
    ("/summary --arch lstm", "/summary has no option --arch"),
    ("/data 'unclosed", "cannot read the command"),
    ("/help frobnicate", None),  # parses: /help checks its argument when run
])
def test_bad_commands_say_why(text, message):
    if message is None:
        parse_command(text)
        with pytest.raises(UserError, match="no command /frobnicate"):
            help_lines("frobnicate")
        return
    with pytest.raises(UserError) as caught:
        parse_command(text)
    assert message in str(caught.value)


def test_train_takes_the_options_of_the_train_command():
    from rnn_tui.cli.train import train

    table = COMMANDS["train"].option_table()
    cli_options = {name for parameter in train.params
                   for name in [*parameter.opts, *getattr(parameter, "secondary_opts", [])]
                   if name.startswith("--")}
    assert set(table) <= cli_options
    assert {"--arch", "--epochs", "--preset", "--name", "--restart"} <= set(table)
    assert "--json" not in table  # the app reads the JSON itself


def test_is_command():
    assert is_command("/help") and is_command("  /model")
    assert not is_command("a / b") and not is_command("")


@pytest.mark.parametrize("typed, completed", [
    ("/tr", "/train"),
    ("/he", "/help"),
    ("/s", "/summary"),
    ("/model im", "/model imdb-sentiment"),
    ("/model a", "/model auto"),
    ("/train mu", "/train multiplication"),
    ("/train imdb --ar", "/train imdb --arch"),
    ("/train imdb --arch l", "/train imdb --arch lstm"),
    ("/train imdb --arch lstm --ep", "/train imdb --arch lstm --epochs"),
    ("/train imdb --padding po", "/train imdb --padding post"),
    ("/train --restart mu", "/train --restart multiplication"),  # a flag takes no value
    ("/data re", "/data reuters"),
    ("/help tr", "/help train"),
    ("/compare i", "/compare imdb"),
])
def test_complete(typed, completed):
    """A completed word ends with a space, as in a shell: the next word follows at once."""
    assert complete(typed, candidates) == completed + " "


@pytest.mark.parametrize("typed", ["/train", "/help train", "/train imdb --arch lstm"])
def test_a_word_typed_in_full_completes_to_its_space(typed):
    assert complete(typed, candidates) == typed + " "


@pytest.mark.parametrize("typed", [
    "hello /tr",  # not a command
    "/train ",  # complete already, the space typed
    "/",  # nothing to go on
    "/zzz",
    "/summary imdb-sentiment x",  # no more arguments
    "/model ",  # nothing typed yet for the argument
    "/train imdb --epochs 1",  # a number has no list
])
def test_no_completion(typed):
    assert complete(typed, candidates) is None


def test_palette_lists_commands_and_their_forms():
    entries = {text: runs for text, _, runs in palette_entries(candidates)}
    assert entries["/help"] is True
    assert entries["/compare"] is True
    assert entries["/model auto"] is True
    assert entries["/model reuters-topics"] is True
    assert entries["/data nsmc"] is True
    # /train without a dataset only fills the input, it does not run
    assert entries["/train"] is False


def test_help_lines_cover_every_command():
    usages = [usage for usage, _ in help_lines()]
    assert len(usages) == len(COMMANDS)
    assert all(usage.startswith("/") for usage in usages)


@pytest.mark.parametrize("typed, completed", [
    ("/compare imdb-sentiment n", "/compare imdb-sentiment nsmc-sentiment"),
    ("/compare imdb-s", "/compare imdb-sentiment"),
    ("/tune re", "/tune reuters"),
    ("/tune imdb --bu", "/tune imdb --budget"),
    ("/tune imdb --no-r", "/tune imdb --no-retrain"),
])
def test_compare_takes_models_one_after_another_and_tune_its_options(typed, completed):
    assert complete(typed, candidates) == completed + " "
    command = parse_command("/compare a b c")
    assert command.arguments == ["a", "b", "c"]
    assert parse_command("/tune imdb --budget 5m --no-pruning").options == \
        {"--budget": "5m", "--no-pruning": None}
