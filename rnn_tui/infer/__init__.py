"""Predictions without TensorFlow: exported weights -> probabilities, streaming, traces.

``predict``, the TUI's live verdict and the word-by-word trace all go through here, so they
agree. Nothing in this package imports TensorFlow; ``export`` reaches Keras only inside
``export_runtime`` (called when a model is published).

>>> from rnn_tui.infer import Predictor
>>> predictor = Predictor.load("imdb-sentiment")                  # doctest: +SKIP
>>> predictor.top_k(predictor.predict(["a wonderful film"]), 1)   # doctest: +SKIP
[[('positive', 0.97)]]
"""

from rnn_tui.infer.export import UnsupportedModelError, export_runtime
from rnn_tui.infer.predictor import InputSpec, Predictor, StreamingSession
from rnn_tui.infer.runtime import Runtime

__all__ = ["InputSpec", "Predictor", "Runtime", "StreamingSession", "UnsupportedModelError",
           "export_runtime"]
