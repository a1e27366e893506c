"""The linear n-gram channel: spec, the NB-weighted regression, and a model that uses it end
to end (train, publish, runtime, streaming)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnn_tui.errors import UserError
from rnn_tui.nets.spec import ngram_assignment, normalize_spec
from rnn_tui.train.linear import fit_linear, mean_id_matrix, nb_ratios
from train_support import publish_tiny, text_corpus


def test_the_compact_item_and_its_checks():
    spec = normalize_spec("emb:16 gru:8 pool:max linear:2,c=300")
    assert spec["linear"] == {"weight": 2.0, "c": 300.0}
    assert "linear" not in normalize_spec("emb:16 gru:8")  # older specs stay as they were
    assert ngram_assignment(spec, [2, 3]) == {}  # the channel alone may read the streams
    # an ngram-emb for bigrams only: the trigrams go to the linear channel alone
    assert ngram_assignment(normalize_spec("emb:8 ngram-emb:4,n=2 gru:4 linear"), [2, 3]) \
        == {2: 1}
    with pytest.raises(UserError, match="without n="):  # without the channel: an error
        ngram_assignment(normalize_spec("emb:8 ngram-emb:4,n=2 gru:4"), [2, 3])
    with pytest.raises(UserError, match="positive number"):
        normalize_spec("emb:16 gru:8 linear:-1")
    with pytest.raises(UserError, match="more than one linear"):
        normalize_spec("emb:16 gru:8 linear linear")
    with pytest.raises(UserError, match="unknown linear setting"):
        normalize_spec({"layers": [{"type": "embedding", "dim": 4}, {"type": "gru", "units": 2}],
                        "linear": {"weight": 1, "alpha": 2}})
    with pytest.raises(UserError, match="token ids"):
        normalize_spec("gru:8 linear")


def test_mean_id_features_are_each_ids_share_of_the_text():
    x = np.array([[[3, 1], [4, 2], [3, 1], [0, 0]],
                  [[2, 1], [0, 0], [0, 0], [0, 0]]])
    matrix = mean_id_matrix(x, [5, 3]).toarray()
    assert matrix.shape == (2, 8)
    np.testing.assert_allclose(matrix[0], [0, 0, 0, 2 / 3, 1 / 3, 0, 2 / 3, 1 / 3])
    np.testing.assert_allclose(matrix[1], [0, 0, 1, 0, 0, 0, 1, 0])
    ratios = nb_ratios(mean_id_matrix(x, [5, 3]), np.array([1, 0]))
    assert ratios[3] > ratios[0] > ratios[2]  # 3 only in the positive text, 2 the negative


def test_the_regression_separates_words_and_is_deterministic():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    x = rng.integers(3, 30, (200, 12))
    x[:, 0] = labels + 1  # id 1 or 2 marks the class
    x[rng.random((200, 12)) < 0.2] = 0
    x[:, 0] = labels + 1
    x = np.sort(x, axis=1)[:, ::-1]  # pads last
    first = fit_linear(x, labels, [30], c=100, seed=1)
    assert first.train_accuracy == 1.0
    assert first.weights[0][2] > 0 > first.weights[0][1]
    again = fit_linear(x, labels, [30], c=100, seed=1)
    np.testing.assert_array_equal(first.weights[0], again.weights[0])


def test_a_model_with_the_channel_trains_publishes_and_streams(tmp_path):
    from rnn_tui.infer.predictor import Predictor
    from rnn_tui.registry import Registry

    corpus = text_corpus(train=160, test=40)
    result = publish_tiny(tmp_path, corpus, arch="emb:8 gru:4 pool:max linear:2,c=100",
                          ngrams=[2, 3], ngram_words=300, epochs=1, name="tiny-linear")
    assert result.card["architecture"]["spec"]["linear"] == {"weight": 2.0, "c": 100.0}
    weights = result.model.get_layer("output").get_weights()[0].ravel()
    np.testing.assert_array_equal(weights, [1.0, 2.0])  # switched on after fitting
    assert result.test_metrics["accuracy"] >= 0.9  # the channel alone knows the class words
    version = Registry(tmp_path / "models").resolve(result.model_ref)
    predictor = Predictor.from_folder(Path(version.path), card=version.card)
    x = result.data.x_test
    keras_out = result.model.predict([x[:, :, i] for i in range(x.shape[2])], verbose=0)
    np.testing.assert_allclose(predictor.predict(corpus.test.texts)[:, 1], keras_out.ravel(),
                               atol=1e-5)
    assert predictor.streamable
    session = predictor.session()
    text = corpus.test.texts[0]
    for end in range(1, len(text) + 1):
        live = session.update(text[:end])
    np.testing.assert_allclose(live, predictor.predict([text])[0], atol=1e-6)
