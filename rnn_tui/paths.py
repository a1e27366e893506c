"""Where rnn-tui keeps things on disk.

- Data home (corpora): ``$RNN_TUI_DATA``, else the user data directory + ``/datasets``. It holds
  the publishers' files in the layout of the offline mirror (``imdb/aclImdb_v1.tar.gz``,
  ``nsmc/ratings_train.txt`` ...), so pointing ``RNN_TUI_DATA`` at a mirror just works.
- Home (registry, runs, caches, the app's input history): ``$RNN_TUI_HOME``, else the user
  data directory.
- Shipped models: ``$RNN_TUI_SHIPPED_MODELS``, else the repo's ``models/`` folder when running
  from a checkout, else the copy packed into the wheel.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "rnn-tui"


def _user_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def home() -> Path:
    """The writable root for the registry, training runs and caches."""
    env = os.environ.get("RNN_TUI_HOME")
    return Path(env).expanduser() if env else _user_data_dir()


def data_home() -> Path:
    """The folder that holds the corpora."""
    env = os.environ.get("RNN_TUI_DATA")
    return Path(env).expanduser() if env else _user_data_dir() / "datasets"


def registry_root() -> Path:
    return home() / "models"


def runs_root() -> Path:
    """Training runs in progress (checkpoints for resume) live here until published."""
    return home() / "runs"


def run_logs_root() -> Path:
    """Every training run's events, one JSON-lines file per run (``train.run_log``)."""
    return home() / "run-logs"


def input_history_path() -> Path:
    """The app's input history (what was typed and sent), kept between sessions."""
    return home() / "tui" / "history.jsonl"


def shipped_models_dir() -> Path | None:
    """The read-only registry of pretrained models that ships with rnn-tui."""
    env = os.environ.get("RNN_TUI_SHIPPED_MODELS")
    if env is not None:
        return Path(env).expanduser() if env else None
    package_dir = Path(__file__).resolve().parent
    checkout = package_dir.parent / "models"
    if checkout.is_dir():
        return checkout
    packed = package_dir / "_shipped_models"
    return packed if packed.is_dir() else None


def corrections_root() -> Path:
    """Corrections users made to models' verdicts, one JSON-lines file per model name
    (``rnn_tui.teach.corrections``)."""
    return home() / "corrections"
