"""The one place TensorFlow and Keras are imported, quietly and only when needed.

Importing TensorFlow takes about 2 s and prints absl/oneDNN/CUDA lines on stderr before its own
log settings apply, so every module that needs Keras calls :func:`keras` inside a function,
never at module level. The first call silences those lines by pointing file descriptor 2 at
/dev/null for the duration of the import; afterwards ``TF_CPP_MIN_LOG_LEVEL=3`` keeps the C++
logger quiet. Set ``RNN_TUI_TF_LOGS=1`` to see everything TensorFlow says.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from types import ModuleType

_keras: ModuleType | None = None


@contextlib.contextmanager
def _stderr_silenced():
    """Silence file descriptor 2 (C++ writes there directly, bypassing sys.stderr)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real fd (pytest capture, embedded)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def silenced_stderr():
    """File descriptor 2 pointed at /dev/null for a block (TensorFlow's converters log there
    from C++), unless ``RNN_TUI_TF_LOGS=1``."""
    if os.environ.get("RNN_TUI_TF_LOGS") == "1":
        return contextlib.nullcontext()
    return _stderr_silenced()


def _quiet_environment() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    # Keras' own messages ("shuffle=True was passed ...") are advice for library users,
    # not for ours.
    for module in ("keras", "tensorflow", "absl", "h5py"):
        warnings.filterwarnings("ignore", module=module)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def keras() -> ModuleType:
    """Import Keras 3 (TensorFlow backend) without log noise and return the module."""
    global _keras
    if _keras is not None:
        return _keras
    verbose = os.environ.get("RNN_TUI_TF_LOGS") == "1"
    if not verbose:
        _quiet_environment()
    with contextlib.nullcontext() if verbose else _stderr_silenced():
        import tensorflow as tf  # noqa: F401  (registers the backend)
        import keras as keras_module
    if not verbose:
        tf.get_logger().setLevel("ERROR")
        try:
            import absl.logging

            absl.logging.set_verbosity(absl.logging.ERROR)
        except ImportError:  # absl is a TensorFlow dependency, but be safe
            pass
    _keras = keras_module
    return keras_module


def tensorflow() -> ModuleType:
    """Import TensorFlow quietly (see :func:`keras`)."""
    keras()
    import tensorflow as tf

    return tf


def is_loaded() -> bool:
    """True once TensorFlow is in this process (tests use it to keep fast paths fast)."""
    return "tensorflow" in sys.modules
