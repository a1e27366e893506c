"""rnn-tui: train, inspect and use recurrent text classifiers from the terminal.

The package is split by job (see README.md): ``data`` reads corpora, ``text`` turns text into
ids, ``nets`` builds Keras models, ``train`` runs training and emits events, ``registry``
stores versioned models, ``infer`` predicts without TensorFlow, ``cli`` and ``tui`` are the
two faces. Nothing here imports TensorFlow at module level.
"""

__version__ = "0.1.0"
