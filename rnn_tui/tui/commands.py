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
from typing import Protocol

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.suggester import Suggester

from rnn_tui.errors import UserError

# Kinds of values that complete from a live list the app supplies (see ``CompletionHost``).
MODEL = "model"
DATASET = "dataset"
ARCH = "arch"
PRESET = "preset"
RUN = "run"
COMMAND = "command"
# Kinds checked here, without a list.
POSITIVE_INT = "positive integer"
NAME = "name"
FRACTION = "fraction"


@dataclass(frozen=True)
class CommandSpec:
    """One slash command: its name, usage line, help, and the kinds of its arguments.

    ``arguments`` lists the kinds of the positional arguments, in order; the first
    ``required`` of them must be given. ``options`` maps each ``--option`` to the kind of its
    value.
    """

    name: str
    usage: str
    summary: str
    arguments: tuple[str, ...] = ()
    required: int = 0
    options: dict[str, str] = field(default_factory=dict)

    @property
    def takes_input(self) -> bool:
        """Whether the command is usually given something to work on (the palette prefills)."""
        return bool(self.arguments) or bool(self.options)


TRAIN_OPTIONS = {
    "--arch": ARCH,
    "--preset": PRESET,
    "--epochs": POSITIVE_INT,
    "--batch-size": POSITIVE_INT,
    "--name": NAME,
    "--limit": POSITIVE_INT,
}

COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec(
            "train",
            "/train DATASET [--arch simple_rnn|lstm|gru] [--preset P] [--epochs N] "
            "[--batch-size N] [--limit N] [--name NAME]",
            "train a model in the background and publish it",
            arguments=(DATASET,),
            required=1,
            options=TRAIN_OPTIONS,
        ),
        CommandSpec(
            "compare",
            "/compare [DATASET]",
            "train SimpleRNN, LSTM and GRU on one task, side by side",
            arguments=(DATASET,),
        ),
        CommandSpec(
            "model",
            "/model [MODEL | auto]",
            "show the active models, or make MODEL the active one for its task",
            arguments=(MODEL,),
        ),
        CommandSpec(
            "summary",
            "/summary [MODEL]",
            "the layer table and card of MODEL (default: the active sentiment model)",
            arguments=(MODEL,),
        ),
        CommandSpec(
            "data",
            "/data [DATASET]",
            "corpus statistics and the length histogram",
            arguments=(DATASET,),
        ),
        CommandSpec(
            "evaluate",
            "/evaluate [MODEL]",
            "score MODEL on its corpus' test split (default: the active sentiment model)",
            arguments=(MODEL,),
        ),
        CommandSpec("cancel", "/cancel [RUN]", "cancel a training run (default: all)", (RUN,)),
        CommandSpec("clear", "/clear", "clear the transcript"),
        CommandSpec("help", "/help [COMMAND]", "list the commands and keys", (COMMAND,)),
    )
}


@dataclass
class SlashCommand:
    """A parsed slash command: positional arguments and ``--option value`` pairs."""

    name: str
    arguments: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)

    @property
    def spec(self) -> CommandSpec:
        return COMMANDS[self.name]

    def argument(self, index: int = 0, default: str | None = None) -> str | None:
        """The positional argument at ``index``, or ``default``."""
        return self.arguments[index] if index < len(self.arguments) else default


def is_command(text: str) -> bool:
    """True when the input is a slash command rather than text to classify."""
    return text.lstrip().startswith("/")


def _did_you_mean(word: str, candidates: Sequence[str]) -> str:
    matches = difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.5)
    return f" (did you mean {', '.join(matches)}?)" if matches else ""


def _check_value(option: str, kind: str, value: str) -> None:
    if kind == POSITIVE_INT and not (value.isdigit() and int(value) > 0):
        raise UserError(f"{option} needs a positive whole number, not {value!r}")
    if kind == FRACTION:
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not 0.0 < number < 1.0:
            raise UserError(f"{option} needs a number between 0 and 1, not {value!r}")


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
        hint = _did_you_mean(name, list(COMMANDS))
        hint = hint.replace("mean ", "mean /").replace(", ", ", /")
        raise UserError(f"unknown command /{name}{hint}; /help lists them")
    command = SlashCommand(name)
    words_left = iter(rest)
    for word in words_left:
        if word.startswith("--") and len(word) > 2:
            option, has_value, value = word.partition("=")
            kind = spec.options.get(option)
            if kind is None:
                known = ", ".join(spec.options) or "none"
                raise UserError(
                    f"/{name} has no option {option}{_did_you_mean(option, list(spec.options))}"
                    f" (options: {known})"
                )
            if not has_value:
                value = next(words_left, None)
                if value is None or value.startswith("--"):
                    raise UserError(f"{option} needs a value ({kind})")
            _check_value(option, kind, value)
            command.options[option] = value
        else:
            command.arguments.append(word)
    if len(command.arguments) < spec.required:
        missing = spec.usage.split()[len(command.arguments) + 1]
        raise UserError(f"/{name} needs {missing}: {spec.usage}")
    if len(command.arguments) > len(spec.arguments):
        extra = " ".join(command.arguments[len(spec.arguments) :])
        raise UserError(f"/{name} takes at most {len(spec.arguments)} argument(s); "
                        f"unexpected: {extra}. Usage: {spec.usage}")
    return command


def help_lines(name: str | None = None) -> list[tuple[str, str]]:
    """(usage, summary) rows for every command, or for one (an unknown name is a UserError)."""
    if name is None:
        return [(spec.usage, spec.summary) for spec in COMMANDS.values()]
    spec = COMMANDS.get(name.lstrip("/").lower())
    if spec is None:
        raise UserError(f"no command /{name.lstrip('/')}{_did_you_mean(name, list(COMMANDS))}")
    return [(spec.usage, spec.summary)]


CandidateSource = Callable[[str], Sequence[str]]
"""Given a kind (MODEL, DATASET, ...), the values it may take now."""


def complete(value: str, candidates: CandidateSource) -> str | None:
    """The completed input for a partly typed command, or None when nothing fits.

    >>> complete("/tr", lambda kind: [])
    '/train'
    >>> complete("/train --arch l", lambda kind: ["simple_rnn", "lstm", "gru"])
    '/train --arch lstm'
    """
    if not is_command(value) or "\n" in value:
        return None
    body = value.lstrip()[1:]
    if " " not in body:  # still typing the command's name
        lowered = body.lower()
        for name in COMMANDS:
            if name.startswith(lowered) and name != lowered:
                return value[: len(value) - len(body)] + name
        return None
    name, _, rest = body.partition(" ")
    spec = COMMANDS.get(name.lower())
    if spec is None:
        return None
    words = rest.split(" ")
    partial_word, before = words[-1], [word for word in words[:-1] if word]
    if partial_word.startswith("--"):
        options = list(spec.options)
        pool = [option for option in options if option not in before]
    elif before and before[-1] in spec.options:
        pool = list(candidates(spec.options[before[-1]]))
    else:
        # Positional index: words that are neither options nor option values.
        index, skip = 0, False
        for word in before:
            if skip:
                skip = False
            elif word in spec.options:
                skip = True
            else:
                index += 1
        if index >= len(spec.arguments):
            return None
        kind = spec.arguments[index]
        pool = list(COMMANDS) if kind == COMMAND else list(candidates(kind))
        if spec.name == "model":
            pool = ["auto", *pool]
    if not partial_word:
        return None
    for candidate in pool:
        if candidate.startswith(partial_word) and candidate != partial_word:
            return value[: len(value) - len(partial_word)] + candidate
    return None


class SlashSuggester(Suggester):
    """Inline completion for the chat input (accept with Tab or the right arrow)."""

    def __init__(self, candidates: CandidateSource) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._candidates = candidates

    async def get_suggestion(self, value: str) -> str | None:
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
        entries.append((f"/{spec.name}", spec.summary, spec.required == 0))
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
                partial(self._choose, f"/{spec.name}", spec.required == 0),
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
