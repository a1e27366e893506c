"""The registry at a glance: every model with its task, corpus, accuracy and age.

Choosing a model (Enter or a click) posts ``ModelSidebar.ModelChosen``; the app makes it the
active one for its role. The app sets ``models`` whenever the registry changes and ``active``
whenever the choice changes: the list redraws, keeping the highlight where it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from rnn_tui.tui.model_book import AUTO
from rnn_tui.tui.verdicts import SENTIMENT, TOPICS, printable

GROUPS = ((SENTIMENT, "Sentiment"), (TOPICS, "Topics"), (None, "Sequences & other"))


def age(created: str | None, now: datetime | None = None) -> str:
    """How long ago an ISO timestamp was, in one short unit: "now", "5m", "3h", "2d", "4mo".

    >>> age("2026-01-01T00:00:00+00:00", datetime(2026, 1, 3, tzinfo=timezone.utc))
    '2d'
    """
    if not created:
        return "?"
    try:
        then = datetime.fromisoformat(created)
    except ValueError:
        return "?"
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    seconds = ((now or datetime.now(timezone.utc)) - then).total_seconds()
    for unit, size in (("y", 365 * 86400), ("mo", 30 * 86400), ("d", 86400), ("h", 3600),
                       ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return "now"


def describe(summary: Any, now: datetime | None = None) -> str:
    """"binary·imdb·87.1%·2d": task, corpus, main metric and age of a model."""
    parts = [summary.task, summary.dataset or "?"]
    if summary.metric_value is not None:
        if summary.metric == "accuracy":
            parts.append(f"{summary.metric_value * 100:.1f}%")
        else:
            parts.append(f"{summary.metric} {summary.metric_value:.3g}")
    parts.append(age(summary.created, now))
    return "·".join(printable(str(part)) for part in parts)  # compact: the sidebar is narrow


class ModelSidebar(Vertical):
    """The model list, grouped by the role each model can take in the chat."""

    models: reactive[Sequence[Any]] = reactive(tuple, always_update=True)
    """``ModelSummary`` rows from the registry."""
    roles: reactive[dict[str, str | None]] = reactive(dict, always_update=True)
    """Model name -> the role it can take (SENTIMENT, TOPICS or None)."""
    active: reactive[dict[str, str]] = reactive(dict, always_update=True)
    """Role -> the active reference ("auto" for the language rule)."""

    @dataclass
    class ModelChosen(Message):
        """The user chose ``ref`` (a model name, or "auto")."""

        ref: str

    def compose(self) -> ComposeResult:
        yield Label("Models", id="sidebar-title")
        yield OptionList(id="model-list")

    def _is_active(self, role: str | None, ref: str) -> bool:
        chosen = self.active.get(role or "")
        if chosen is None:
            return False
        return chosen == ref or chosen.split(":")[0].split("@")[0] == ref

    def _options(self) -> list[Option | None]:
        options: list[Option | None] = []
        for role, title in GROUPS:
            rows = [summary for summary in self.models
                    if self.roles.get(summary.name) == role]
            if role is None and not rows:
                continue
            if options:
                options.append(None)  # a separator line
            options.append(Option(Text(title, style="bold"), disabled=True))
            if role == SENTIMENT:
                mark = "●" if self._is_active(SENTIMENT, AUTO) else "○"
                options.append(Option(Text(f"{mark} auto (by language)"), id=AUTO))
            for summary in rows:
                mark = "●" if self._is_active(role, summary.name) else "○"
                prompt = Text(f"{mark} {printable(summary.name)}:{summary.version}",
                              no_wrap=True, overflow="ellipsis")
                if summary.source != "user":
                    prompt.append(" ⌂", style="dim")  # shipped with rnn-tui
                prompt.append("\n  ")
                prompt.append(describe(summary), style="dim")
                options.append(Option(prompt, id=summary.name))
            if not rows:
                options.append(Option(Text("  none yet", style="dim italic"), disabled=True))
        return options

    def _rebuild(self) -> None:
        if not self.is_mounted:
            return
        option_list = self.query_one(OptionList)
        highlighted = option_list.highlighted_option
        keep = highlighted.id if highlighted is not None else None
        option_list.set_options(self._options())
        if keep is not None:
            try:
                option_list.highlighted = option_list.get_option_index(keep)
            except OptionDoesNotExist:  # the model went away
                pass

    def watch_models(self) -> None:
        self._rebuild()

    def watch_active(self) -> None:
        self._rebuild()

    def watch_roles(self) -> None:
        self._rebuild()

    def on_mount(self) -> None:
        self._rebuild()

    @on(OptionList.OptionSelected, "#model-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.ModelChosen(event.option.id))
