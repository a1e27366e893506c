"""``--tensorboard DIR``: Keras' own TensorBoard callback, one sub-folder per run.

Logs go to ``DIR/<run name>/train`` and ``DIR/<run name>/validation`` (Keras' layout), so
``tensorboard --logdir DIR`` shows every run written there side by side. A resumed run
writes to the same folder; its epochs continue the numbering (``initial_epoch``).

>>> factory = tensorboard_callbacks("/tmp/tb", "imdb-lstm")   # ``RunExtras(callbacks=factory)``
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rnn_tui.errors import UserError


def check_log_dir(log_dir: str | Path) -> Path:
    """The folder, created if needed; a UserError when it cannot be (a file, no right)."""
    path = Path(log_dir).expanduser()
    if path.exists() and not path.is_dir():
        raise UserError(f"--tensorboard {path}: is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"--tensorboard {path}: cannot create the folder "
                        f"({error.strerror or error})") from None
    return path


def tensorboard_callbacks(log_dir: str | Path, run_name: str
                          ) -> Callable[[Any], list[Any]]:
    """A ``RunExtras.callbacks`` factory: Keras' TensorBoard callback writing per epoch.

    The graph and histograms are off: they cost time every epoch and the curves are what
    a user comes for.
    """
    folder = Path(log_dir).expanduser() / run_name

    def make(keras: Any) -> list[Any]:
        return [keras.callbacks.TensorBoard(log_dir=str(folder), update_freq="epoch",
                                            write_graph=False, histogram_freq=0)]

    return make
