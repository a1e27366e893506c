"""Keras' advice stays out of the test run as it stays out of users' terminals."""

from __future__ import annotations

import warnings


def test_keras_is_imported_once():
    from rnn_tui.backend import keras

    assert keras().__name__ == "keras"


def test_a_later_test_builds_a_pooled_model_without_warnings():
    """Keras warns on every GlobalMaxPooling1D after a masked RNN (it drops the mask); the
    same filters as keras() installs for users apply in every test (pyproject's
    filterwarnings), not only in the test that first imported Keras."""
    from rnn_tui.backend import keras

    k = keras()  # cached: no new filters are installed by this call
    with warnings.catch_warnings(record=True) as caught:  # keeps the filters in force
        tokens = k.Input((None,), dtype="int32")
        sequence = k.layers.GRU(3, return_sequences=True)(
            k.layers.Embedding(10, 4, mask_zero=True)(tokens))
        k.Model(tokens, k.layers.GlobalMaxPooling1D()(sequence))
    assert [str(w.message) for w in caught] == []
