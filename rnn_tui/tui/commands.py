"""Slash commands: what they are, how they parse, how they complete, and the command palette.

The chat input and the command palette (Ctrl+P) share one table of commands. Parsing is plain
Python (``parse_command``) and raises ``UserError`` with a message fit to show as is; the
suggester and the palette provider are thin Textual adapters over the same table.

>>> parse_command("/train imdb --arch gru --epochs 2")
SlashCommand(name='train', arguments=['imdb'], options={'--arch': 'gru', '--epochs': '2'})
"""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.suggester import Suggester

from rnn_tui.errors import UserError
from rnn_tui.tui import command_handlers as handlers

# Kinds of values that complete from a live list the app supplies (``CandidateSource``).
MODEL = "model"
DATASET = "dataset"
ARCH = "arch"
PRESET = "preset"
RUN = "run"
COMMAND = "command"
# A corpus name, or a model reference (/compare imdb, /compare my-lstm my-gru).
DATASET_OR_MODEL = "dataset-or-model"
# An option that takes no value (``--restart``).
FLAG = "flag"
# A value from a fixed list: "choice:pre|post".
CHOICE = "choice:"

OptionTable = dict[str, str]
"""``--option`` -> the kind of its value (or FLAG)."""


@dataclass(frozen=True)
class CommandSpec:
    """One slash command: its name, usage line, help, and the kinds of its arguments.

    ``arguments`` lists the kinds of the positional arguments, in order, all optional (a
    command checks what it needs when it runs); with ``repeats`` the last kind may come
    any number of times (``/compare A B C``). ``details``: more for ``/help NAME``.
    ``options`` maps each ``--option`` to the
    kind of its value, or is a function that returns that table (``/train`` takes the
    options of ``rnn-tui train``). ``runs_bare`` says whether the command alone does
    something useful (the palette runs it) or needs more typing (the palette fills the input).
    """

    name: str
    usage: str
    summary: str
    arguments: tuple[str, ...] = ()
    options: OptionTable | Callable[[], OptionTable] = field(default_factory=dict)
    runs_bare: bool = True
    examples: tuple[str, ...] = ()
    option_help: Callable[[], list[tuple[str, str]]] | None = None
    handler: Callable[[Any, SlashCommand], None] | None = None
    repeats: bool = False
    details: str = ""

    def option_table(self) -> OptionTable:
        return self.options() if callable(self.options) else self.options


_TRAIN_OPTION_KINDS = {"--dataset": DATASET, "--arch": ARCH, "--preset": PRESET}


def _train_parameters() -> list[tuple[list[str], object]]:
    """(the ``--`` names the app accepts, the click option) for each option of
    ``rnn-tui train`` (``rnn_tui.train.options``: one definition for both faces)."""
    import click

    from rnn_tui.train.options import CLI_ONLY, parameters

    found = []
    for parameter in parameters():
        if not isinstance(parameter, click.Option):
            continue
        names = [name for name in [*parameter.opts, *parameter.secondary_opts]
                 if name.startswith("--") and name not in CLI_ONLY]
        if names:
            found.append((names, parameter))
    return found


def train_options() -> OptionTable:
    """The options /train takes: those of ``rnn-tui train``, with the kind of each value.

    One source of truth: /train accepts, completes and checks exactly what the CLI does.
    """
    import click

    table: OptionTable = {}
    for names, parameter in _train_parameters():
        for name in names:
            if parameter.is_flag:
                kind = FLAG
            elif isinstance(parameter.type, click.Choice):
                kind = CHOICE + "|".join(map(str, parameter.type.choices))
            else:
                kind = _TRAIN_OPTION_KINDS.get(name, parameter.type.name)
            table[name] = kind
    return table


def train_option_help() -> list[tuple[str, str]]:
    """(``--option VALUE``, its help) for each option /train takes."""
    import click

    rows = []
    for names, parameter in _train_parameters():
        if parameter.is_flag:
            words = " / ".join(names)
        elif isinstance(parameter.type, click.Choice):
            words = f"{names[0]} {'|'.join(map(str, parameter.type.choices))}"
        else:
            words = f"{names[0]} {parameter.metavar or parameter.type.name.upper()}"
        rows.append((words, parameter.help or ""))
    return rows


# /tune takes the options of ``rnn-tui tune`` that matter in the app (the CLI's --help
# explains the space file and shared storages).
TUNE_OPTION_HELP = (
    ("--budget DURATION", "time for the search: 20m, 1h30m, 90s (20m when neither this nor "
                          "--trials is given)"),
    ("--trials N", "trials to run (0: retrain and publish the study's best only)"),
    ("--study NAME", "the study's name (default DATASET-SPACE); the same name continues a "
                     "stopped study"),
    ("--space default|FILE", "the search space: 'default', or a YAML/JSON file (rnn-tui tune "
                             "--help shows one)"),
    ("--metric NAME", "what trials are scored on (val_accuracy; val_loss for regression)"),
    ("--name NAME", "registry name of the best model (default DATASET-tuned)"),
    ("--alias ALIAS", "point this alias (e.g. best) at the published version"),
    ("--storage URL", "an Optuna RDB URL (default: SQLite in the rnn-tui home)"),
    ("--seed N", "every trial's seed"),
    ("--pruner halving|median|none", "how poor trials stop early (halving: after its first "
                                     "epoch a trial goes on while in the best third)"),
    ("--no-pruning", "run every trial to its last epoch (--pruner none)"),
    ("--no-retrain", "search only: publish nothing"),
)
TUNE_OPTIONS: OptionTable = {
    "--budget": "text", "--trials": "integer", "--study": "text", "--space": "text",
    "--metric": "text", "--name": "text", "--alias": "text", "--storage": "text",
    "--seed": "integer", "--no-pruning": FLAG, "--no-retrain": FLAG,
    "--pruner": CHOICE + "halving|median|none",
}
TUNE_DETAILS = (
    "Runs rnn-tui tune in its own process and shows its live trial table in the Tune pane "
    "(F9): each trial's params, the metric after each epoch, complete / pruned / failed and "
    "time, the best so far starred and in bold. Poor trials stop early (pruning). Stop (the "
    "pane's button, Ctrl+G or /cancel tune) ends the running trial cleanly and keeps the "
    "finished ones in the study. When the search ends, the best trial is trained again on "
    "every training row and published: the model appears in the model list.")
COMPARE_DETAILS = (
    "With a corpus (or nothing: the tutorial's multiplication problem) it trains SimpleRNN, "
    "LSTM and GRU one after another (the Training pane), then shows them in the Compare "
    "pane (F10). With model references it compares those at once. The pane is rnn-tui "
    "compare's: test metrics, parameters, size, training time, keystroke latency (measured "
    "on the runtime) and the overlaid loss and accuracy curves. A name that is both a "
    "corpus and a model means the corpus: write the model as NAME:VERSION.")

COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec(
            "train",
            "/train DATASET [--arch simplernn|lstm|gru|...] [--preset P] [--epochs N] "
            "[--name NAME] ... (the options of rnn-tui train)",
            "train a model in the background and publish it",
            arguments=(DATASET,),
            options=train_options,
            runs_bare=False,
            examples=("/train imdb --arch lstm --epochs 2",
                      "/train --preset reuters-topics",
                      "/train nsmc --arch gru --units 64 --name my-nsmc"),
            option_help=train_option_help,
            handler=handlers.run_train,
        ),
        CommandSpec(
            "compare",
            "/compare [DATASET], or /compare MODEL MODEL ...",
            "train SimpleRNN, LSTM and GRU on one task, or take published models; then "
            "compare them side by side",
            arguments=(DATASET_OR_MODEL, MODEL),  # MODEL MODEL ...: the last kind repeats
            repeats=True,
            examples=("/compare", "/compare imdb", "/compare imdb-sentiment my-imdb-gru@best"),
            handler=handlers.run_compare,
            details=COMPARE_DETAILS,
        ),
        CommandSpec(
            "tune",
            "/tune [DATASET] [--budget 20m] [--trials N] [--study NAME] ...",
            "search architectures and settings (Optuna) within a budget, then publish the "
            "best model",
            arguments=(DATASET,),
            options=TUNE_OPTIONS,
            examples=("/tune imdb --budget 20m", "/tune imdb --trials 3 --study quick",
                      "/tune reuters --space my-space.yaml --budget 1h --alias best"),
            option_help=lambda: list(TUNE_OPTION_HELP),
            handler=handlers.run_tune,
            details=TUNE_DETAILS,
        ),
        CommandSpec(
            "model",
            "/model [MODEL | auto]",
            "show the active models, or make MODEL the active one for its task",
            arguments=(MODEL,),
            examples=("/model", "/model my-imdb-gru:2", "/model auto"),
            handler=handlers.run_model,
        ),
        CommandSpec(
            "summary",
            "/summary [MODEL]",
            "the layer table and card of MODEL (default: the active sentiment model)",
            arguments=(MODEL,),
            examples=("/summary", "/summary reuters-topics"),
            handler=handlers.run_summary,
        ),
        CommandSpec(
            "data",
            "/data [DATASET]",
            "corpus statistics and the length histogram",
            arguments=(DATASET,),
            examples=("/data imdb", "/data multiplication"),
            handler=handlers.run_data,
        ),
        CommandSpec(
            "evaluate",
            "/evaluate [MODEL]",
            "score MODEL on its corpus' test split (default: the active sentiment model)",
            arguments=(MODEL,),
            examples=("/evaluate", "/evaluate nsmc-sentiment"),
            handler=handlers.run_evaluate,
        ),
        CommandSpec(
            "check",
            "/check [MODEL]",
            "behavioural tests of a sentiment model: failure rate per capability "
            "(negation, contrast, typos, ...; default: the active sentiment model)",
            arguments=(MODEL,),
            examples=("/check", "/check nsmc-sentiment"),
            handler=handlers.run_check,
        ),
        CommandSpec(
            "teach", "/teach [MODEL] [--alias ALIAS] [--epochs N]",
            "teach a model its corrections (F6/F7 on a verdict): a new version",
            (MODEL,), {"--alias": "text", "--epochs": "integer", "--replay": "integer",
             "--lr": "float"},
            examples=("/teach", "/teach imdb-sentiment --alias best"),
            handler=handlers.run_teach),
        CommandSpec("cancel", "/cancel [RUN | tune]", "cancel a training run, or the search "
                    "(default: all)", (RUN,),
                    examples=("/cancel", "/cancel lstm", "/cancel tune"),
                    handler=handlers.run_cancel),
        CommandSpec("clear", "/clear", "clear the transcript", handler=handlers.run_clear),
        CommandSpec("help", "/help [COMMAND]", "list the commands and keys; with COMMAND: its "
                    "options and examples", (COMMAND,), examples=("/help", "/help train"),
                    handler=handlers.run_help),
    )
}


@dataclass
class SlashCommand:
    """A parsed slash command: positional arguments and ``--option value`` pairs."""

    name: str
    arguments: list[str] = field(default_factory=list)
    options: dict[str, str | None] = field(default_factory=dict)

    @property
    def spec(self) -> CommandSpec:
        return COMMANDS[self.name]

    def argument(self, index: int = 0, default: str | None = None) -> str | None:
        """The positional argument at ``index``, or ``default``."""
        return self.arguments[index] if index < len(self.arguments) else default

    def option_words(self) -> list[str]:
        """The options as command-line words again (``["--epochs", "2", "--restart"]``)."""
        words: list[str] = []
        for option, value in self.options.items():
            words += [option] if value is None else [option, value]
        return words


def is_command(text: str) -> bool:
    """True when the input is a slash command rather than text to classify."""
    return text.lstrip().startswith("/")


def _did_you_mean(word: str, candidates: Sequence[str], prefix: str = "") -> str:
    """" (did you mean /train?)": close matches of ``word``, compared without ``prefix``."""
    bare = [candidate.removeprefix(prefix) for candidate in candidates]
    matches = difflib.get_close_matches(word.removeprefix(prefix), bare, n=3, cutoff=0.6)
    shown = ", ".join(prefix + match for match in matches)
    return f" (did you mean {shown}?)" if matches else ""


def _check_value(option: str, kind: str, value: str) -> None:
    if kind.startswith(CHOICE):
        choices = kind.removeprefix(CHOICE).split("|")
        if value not in choices:
            raise UserError(f"{option} must be one of {', '.join(choices)}, not {value!r}")
    elif kind == "integer":
        try:
            int(value)
        except ValueError:
            raise UserError(f"{option} needs a whole number, not {value!r}") from None
    elif kind == "float":
        try:
            float(value)
        except ValueError:
            raise UserError(f"{option} needs a number, not {value!r}") from None


def unknown_command(name: str) -> str:
    """The one message for a command name that does not exist (the error and the hint).

    >>> unknown_command("trian")
    'unknown command /trian (did you mean /train?); /help lists them'
    """
    hint = _did_you_mean(name, [f"/{known}" for known in COMMANDS], "/")
    return f"unknown command /{name}{hint}; /help lists them"


def parse_command(text: str) -> SlashCommand:
    """Parse ``/name arg --option value ...``; a bad command raises a UserError that says why.

    >>> parse_command("/model imdb-sentiment:2").arguments
    ['imdb-sentiment:2']
    >>> parse_command("/trian imdb")
    Traceback (most recent call last):
    ...
    rnn_tui.errors.UserError: unknown command /trian (did you mean /train?); /help lists them
    """
    text = text.strip()
    if not text.startswith("/"):
        raise UserError("a command starts with '/'")
    try:
        words = shlex.split(text[1:])
    except ValueError as error:  # unbalanced quotes
        raise UserError(f"cannot read the command: {error}") from None
    if not words:
        raise UserError("type a command after '/', for example /help")
    name, *rest = words
    name = name.lower()
    spec = COMMANDS.get(name)
    if spec is None:
        raise UserError(unknown_command(name))
    command = SlashCommand(name)
    table = spec.option_table() if any(word.startswith("--") for word in rest) else {}
    words_left = iter(rest)
    for word in words_left:
        if word.startswith("--") and len(word) > 2:
            option, has_value, value = word.partition("=")
            kind = table.get(option)
            if kind is None:
                known = ", ".join(table) or "none"
                raise UserError(f"/{name} has no option {option}"
                                f"{_did_you_mean(option, list(table), '--')} (options: {known})")
            if kind == FLAG:
                if has_value:
                    raise UserError(f"{option} takes no value")
                command.options[option] = None
                continue
            if not has_value:
                value = next(words_left, None)
                if value is None or value.startswith("--"):
                    raise UserError(f"{option} needs a value ({kind})")
            _check_value(option, kind, value)
            command.options[option] = value
        else:
            command.arguments.append(word)
    if len(command.arguments) > len(spec.arguments) and not spec.repeats:
        extra = " ".join(command.arguments[len(spec.arguments) :])
        raise UserError(f"/{name} takes at most {len(spec.arguments)} argument(s); "
                        f"unexpected: {extra}. Usage: {spec.usage}")
    return command


def help_lines(name: str | None = None) -> list[tuple[str, str]]:
    """(usage, summary) rows for every command, or for one (an unknown name is a UserError)."""
    if name is None:
        return [(spec.usage, spec.summary) for spec in COMMANDS.values()]
    spec = command_spec(name)
    return [(spec.usage, spec.summary)]


def command_spec(name: str) -> CommandSpec:
    """The command called ``name`` (with or without its slash); unknown: a UserError."""
    spec = COMMANDS.get(name.lstrip("/").lower())
    if spec is None:
        hint = _did_you_mean(name.lstrip("/"), [f"/{known}" for known in COMMANDS], "/")
        raise UserError(f"no command /{name.lstrip('/')}{hint}")
    return spec


def option_rows(spec: CommandSpec) -> list[tuple[str, str]]:
    """(``--option VALUE``, help) for a command's options, for ``/help COMMAND``."""
    if spec.option_help is not None:
        return spec.option_help()
    return [(option if kind == FLAG else f"{option} {kind.removeprefix(CHOICE).upper()}", "")
            for option, kind in spec.option_table().items()]


CandidateSource = Callable[[str], Sequence[str]]
"""Given a kind (MODEL, DATASET, ...), the values it may take now."""


def complete(value: str, candidates: CandidateSource) -> str | None:
    """The completed input for a partly typed command, or None when nothing fits.

    As in a shell, a completed word gets a trailing space, so the next one can be typed at
    once (and a word typed in full completes to that space).

    >>> complete("/tr", lambda kind: [])
    '/train '
    >>> complete("/train --arch l", lambda kind: ["simple_rnn", "lstm", "gru"])
    '/train --arch lstm '
    """
    if not is_command(value) or "\n" in value:
        return None
    body = value.lstrip()[1:]
    if " " not in body:  # still typing the command's name
        lowered = body.lower()
        if not lowered:
            return None
        names = [lowered] if lowered in COMMANDS else list(COMMANDS)
        for name in names:
            if name.startswith(lowered):
                return value[: len(value) - len(body)] + name + " "
        return None
    name, _, rest = body.partition(" ")
    spec = COMMANDS.get(name.lower())
    if spec is None:
        return None
    words = rest.split(" ")
    partial_word, before = words[-1], [word for word in words[:-1] if word]
    if not partial_word:
        return None
    table = spec.option_table() if "--" in rest else {}
    if partial_word.startswith("--"):
        pool = [option for option in table if option not in before]
    elif before and table.get(before[-1], FLAG) != FLAG:
        kind = table[before[-1]]
        pool = kind.removeprefix(CHOICE).split("|") if kind.startswith(CHOICE) \
            else list(candidates(kind))
    else:
        # Positional index: words that are neither options nor option values.
        index, skip = 0, False
        for word in before:
            if skip:
                skip = False
            elif word in table:
                skip = table[word] != FLAG
            else:
                index += 1
        if index >= len(spec.arguments) and not spec.repeats:
            return None
        kind = spec.arguments[min(index, len(spec.arguments) - 1)]
        if kind == COMMAND:
            pool = list(COMMANDS)
        elif kind == DATASET_OR_MODEL:
            pool = [*candidates(DATASET), *candidates(MODEL)]
        else:
            pool = list(candidates(kind))
        if spec.name == "model":
            pool = ["auto", *pool]
    if partial_word in pool:  # typed in full: only the space is missing
        return value + " "
    for candidate in pool:
        if candidate.startswith(partial_word):
            return value[: len(value) - len(partial_word)] + candidate + " "
    return None


class SlashSuggester(Suggester):
    """Inline completion for the chat input (accept with Tab or the right arrow)."""

    def __init__(self, candidates: CandidateSource) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._candidates = candidates

    async def get_suggestion(self, value: str) -> str | None:
        return complete(value, self._candidates)

    def complete_now(self, value: str) -> str | None:
        """The same completion, at once (Tab may come before the suggestion is shown)."""
        return complete(value, self._candidates)


class CommandHost(Protocol):
    """What the palette needs from the app."""

    def completion_candidates(self, kind: str) -> Sequence[str]: ...

    def run_command_text(self, text: str) -> None: ...

    def prefill_input(self, text: str) -> None: ...


def palette_entries(candidates: CandidateSource) -> list[tuple[str, str, bool]]:
    """(text, help, complete) for the palette: every command, and its forms for known values.

    ``complete`` says whether choosing the entry runs it (True) or puts it into the input to
    finish (False).
    """
    entries: list[tuple[str, str, bool]] = []
    for spec in COMMANDS.values():
        entries.append((f"/{spec.name}", spec.summary, spec.runs_bare))
        if spec.arguments and spec.arguments[0] in (MODEL, DATASET):
            values = list(candidates(spec.arguments[0]))
            if spec.name == "model":
                values = ["auto", *values]
            for value in values:
                entries.append((f"/{spec.name} {value}", spec.summary, True))
    return entries


class SlashCommandProvider(Provider):
    """The slash commands in Textual's command palette (Ctrl+P)."""

    def _host(self) -> CommandHost:
        return self.app  # type: ignore[return-value]

    def _choose(self, text: str, complete_now: bool) -> None:
        host = self._host()
        if complete_now:
            host.run_command_text(text)
        else:
            host.prefill_input(text + " ")

    async def discover(self) -> Hits:
        for spec in COMMANDS.values():
            yield DiscoveryHit(
                f"/{spec.name}",
                partial(self._choose, f"/{spec.name}", spec.runs_bare),
                help=spec.summary,
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, summary, complete_now in palette_entries(self._host().completion_candidates):
            score = matcher.match(text)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(text),
                    partial(self._choose, text, complete_now),
                    text=text,
                    help=summary,
                )
