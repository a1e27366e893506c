"""The messages the workspace's parts send up to the app: small dataclasses (as Textual's
own ``Input.Changed``), handled with ``@on(...)`` in ``app.py``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message

from rnn_tui.tui.verdicts import Absent, Verdict


@dataclass
class VerdictsReady(Message):
    """A worker judged ``text`` as it was typed (the live verdicts)."""

    text: str
    verdicts: dict[str, Verdict | Absent]


@dataclass
class BookOpened(Message):
    """The registries are open: ``book`` (a ``ModelBook``) chooses and loads the models."""

    book: Any


@dataclass
class ModelsChanged(Message):
    """The registry listing was (re)read: summaries, the chat role of each name, warnings."""

    models: list[Any]
    roles: dict[str, str | None]
    warnings: list[str] = field(default_factory=list)


@dataclass
class ModelLoaded(Message):
    """A model was loaded (or failed to: ``failure``); what is typed can be judged again."""

    ref: str
    failure: str | None = None
    pinned: bool = False  # the user just chose it: a failure is said at once


@dataclass
class PreloadDone(Message):
    """The active models were all tried: time to say which cannot be used, and why."""
