"""What the help shows: the commands, the keys, and one command's options and examples.

Plain rich renderables (no Textual), shared by ``/help`` in the transcript and the help
screen (F1 or ``?``), so both say the same thing.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rnn_tui.tui.commands import COMMANDS, command_spec, option_rows
from rnn_tui.tui.correcting import CORRECTION_KEYS

KEYS: tuple[tuple[str, str], ...] = (
    ("F1, ?", "this help (? in an empty input or away from it); Esc closes it"),
    ("F2 / Esc Esc", "the Chat pane"),
    ("F3 F4 F5", "the Training, Summary and Data panes"),
    ("F9 F10", "the Tune and Compare panes"),
    ("Ctrl+B", "to the model list (Enter there makes a model active); again: hide it"),
    ("Ctrl+G", "stop the training runs and the search"),
    ("Ctrl+P", "the command palette: every command, searchable"),
    ("Tab, →", "complete a command word (then a space); Tab elsewhere moves the focus"),
    ("↑ ↓", "earlier inputs (kept between sessions)"),
    ("Esc", "back to the input"),
    ("Ctrl+L", "clear the transcript"),
    *CORRECTION_KEYS,
    ("Ctrl+Q", "quit (while a run trains: twice)"),
)


def _grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=False, max_width=38)
    table.add_column()
    return table


def commands_view() -> Table:
    """Every command: its usage line and what it does."""
    table = _grid()
    for spec in COMMANDS.values():
        table.add_row(spec.usage, spec.summary)
    return table


def keys_view() -> Table:
    table = _grid()
    for keys, what in KEYS:
        table.add_row(keys, what)
    return table


def full_help() -> RenderableType:
    """The commands, then the keys (``/help`` and the help screen)."""
    return Group(Text("Commands", style="bold underline"), commands_view(), Text(""),
                 Text("Keys", style="bold underline"), keys_view(), Text(""),
                 Text("/help COMMAND shows a command's options and examples.", style="italic"))


def command_view(name: str) -> RenderableType:
    """One command in full: usage, what it does, its options, examples (``/help train``).

    An unknown name raises the UserError of ``command_spec``.
    """
    spec = command_spec(name)
    parts: list[RenderableType] = [Text(spec.usage, style="bold"), Text(spec.summary)]
    if spec.details:
        parts.append(Text("\n" + spec.details))
    options = option_rows(spec)
    if options:
        parts.append(Text("\nOptions", style="bold underline"))
        table = _grid()
        for words, what in options:
            table.add_row(words, what)
        parts.append(table)
    if spec.examples:
        parts.append(Text("\nExamples", style="bold underline"))
        parts.extend(Text("  " + example) for example in spec.examples)
    return Group(*parts)
