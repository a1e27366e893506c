"""A small modal that picks one of a model's labels: type to filter (fuzzy), Enter picks."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from rnn_tui.tui.verdicts import printable


def ranked_labels(labels: list[str], query: str) -> list[str]:
    """The labels that fuzzily match ``query``, best first (all, in order, for no query).

    >>> ranked_labels(["earn", "grain", "crude", "acq"], "gr")
    ['grain']
    """
    if not query.strip():
        return list(labels)
    matcher = Matcher(query)
    scored = [(matcher.match(label), index, label) for index, label in enumerate(labels)]
    return [label for score, index, label in sorted(scored, key=lambda s: (-s[0], s[1]))
            if score > 0]


class LabelPicker(ModalScreen[str | None]):
    """Pick the right label; dismisses with it, or None on Esc."""

    DEFAULT_CSS = """
    LabelPicker { align: center middle; }
    LabelPicker > Vertical { width: 50; height: auto; max-height: 20; border: round $accent;
                             background: $surface; padding: 0 1; }
    LabelPicker OptionList { height: auto; max-height: 12; }
    """
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, title: str, labels: list[str], exclude: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.labels = [label for label in labels if label != exclude]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(printable(self.title_text))
            yield Input(placeholder="type to filter the labels", id="label-filter")
            yield OptionList(*self._options(""), id="label-options")

    def _options(self, query: str) -> list[Option]:
        return [Option(printable(label), id=str(self.labels.index(label)))
                for label in ranked_labels(self.labels, query)]

    @on(Input.Changed, "#label-filter")
    def _filter(self, event: Input.Changed) -> None:
        options = self.query_one("#label-options", OptionList)
        options.clear_options()
        options.add_options(self._options(event.value))
        if options.option_count:
            options.highlighted = 0

    @on(Input.Submitted, "#label-filter")
    def _pick_first(self) -> None:
        options = self.query_one("#label-options", OptionList)
        if options.option_count:
            index = options.highlighted if options.highlighted is not None else 0
            self._pick(options.get_option_at_index(index).id)

    @on(OptionList.OptionSelected, "#label-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(event.option.id)

    def _pick(self, option_id: str | None) -> None:
        if option_id is not None:
            self.dismiss(self.labels[int(option_id)])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def key_down(self) -> None:  # from the filter straight into the list
        self.query_one("#label-options", OptionList).action_cursor_down()

    def key_up(self) -> None:
        self.query_one("#label-options", OptionList).action_cursor_up()
