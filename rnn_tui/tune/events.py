"""What ``rnn-tui tune --json`` says besides the training events: the trial table, whole,
each time it changes.

The app's Tune pane starts ``rnn-tui tune --json`` in a subprocess (TensorFlow and Optuna stay
out of the app) and draws the rows with the same ``trial_table`` as the terminal. The
retraining of the best trial that follows is an ordinary training run: its events are the
engine's (``rnn_tui.train.events``).

>>> from rnn_tui.tune.view import TrialRow
>>> event = TrialsChanged(study="s", metric="val_accuracy",
...                       rows=[TrialRow(0, "complete", {"units": 8}, [0.5], 0.5, 2.0)])
>>> again = TrialsChanged.from_dict(event.to_dict())
>>> again.trial_rows()[0].params, again.trial_rows()[0].value
({'units': 8}, 0.5)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from rnn_tui.train.events import Event
from rnn_tui.tune.view import TrialRow


@dataclass
class TrialsChanged(Event):
    """Every trial of the study now (``TrialRow`` fields as plain data), oldest first."""

    study: str
    metric: str
    rows: list[Any] = field(default_factory=list)
    source: str = ""  # the search space: "default" or the file

    def __post_init__(self) -> None:
        self.rows = [dataclasses.asdict(row) if isinstance(row, TrialRow) else row
                     for row in self.rows]

    def trial_rows(self) -> list[TrialRow]:
        """The rows again as ``TrialRow``s; malformed ones (another version's) are skipped."""
        names = {item.name for item in dataclasses.fields(TrialRow)}
        rows = []
        for row in self.rows:
            if not isinstance(row, dict):
                continue
            try:
                trial = TrialRow(**{key: value for key, value in row.items() if key in names})
            except TypeError:
                continue
            trial.params = dict(trial.params or {})
            trial.values = [value for value in trial.values or [] if value is not None]
            rows.append(trial)
        return rows


TUNE_EVENT_TYPES: dict[str, type[Event]] = {"TrialsChanged": TrialsChanged}
