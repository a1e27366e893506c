"""Spec -> Keras model: the tutorials' exact parameter counts, layer names, masks, heads."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.errors import UserError
from rnn_tui.nets import (
    NAMED_ARCHS,
    ModelInput,
    build_model,
    generic_kernel_reasons,
    mask_zero_for,
    named_spec,
    normalize_spec,
    resolve_head,
)

# The layer set the TensorFlow-free runtime implements (see rnn_tui.nets.build).
ALLOWED_LAYERS = {"InputLayer", "Embedding", "Dropout", "SpatialDropout1D", "SimpleRNN", "LSTM",
                  "GRU", "Bidirectional", "Conv1D", "MaxPooling1D", "GlobalMaxPooling1D",
                  "GlobalAveragePooling1D", "Flatten", "Concatenate", "Dense", "Activation"}


def build(text, model_input, task="binary", classes=None, padding="post"):
    return build_model(normalize_spec(text), model_input, task=task, num_classes=classes,
                       padding=padding)


def params_by_layer(model):
    return {layer.name: layer.count_params() for layer in model.layers}


# (spec, input, task, classes, expected total, {layer: params}) from the seed tutorials.
TUTORIAL_MODELS = [
    ("simplernn:10", ModelInput.sequence(4, 1), "regression", None, 131,
     {"simplernn_1": 120, "output": 11}),
    ("simplernn:30 simplernn:30", ModelInput.sequence(100, 2), "regression", None, 2851,
     {"simplernn_1": 990, "simplernn_2": 1830, "output": 31}),
    ("lstm:30 lstm:30", ModelInput.sequence(100, 2), "regression", None, 11311,
     {"lstm_1": 3960, "lstm_2": 7320, "output": 31}),
    ("emb:300,mask=false lstm:50 head:softmax", ModelInput.tokens(25, 20000), "binary", None,
     6070302, {"embedding": 6000000, "lstm_1": 70200, "output": 102}),
    ("emb:16 simplernn:8", ModelInput.tokens(100, 300), "binary", None, 5009,
     {"embedding": 4800, "simplernn_1": 200, "output": 9}),
    ("emb:32 simplernn:8", ModelInput.tokens(100, 1000), "binary", None, 32337,
     {"embedding": 32000, "simplernn_1": 328, "output": 9}),
    ("emb:32 lstm:64 lstm:32", ModelInput.tokens(350, 10000), "binary", None, 357281,
     {"embedding": 320000, "lstm_1": 24832, "lstm_2": 12416, "output": 33}),
    ("emb:32 flatten", ModelInput.tokens(500, 10000), "binary", None, 336001,
     {"embedding": 320000, "flatten_1": 0, "output": 16001}),
    ("emb:100 dropout:0.5 conv1d:64:5 maxpool:4 lstm:100 head:sigmoid,separate=true",
     ModelInput.tokens(100, 5000), "binary", None, 598165,
     {"embedding": 500000, "conv1d_1": 32064, "lstm_1": 66000, "output": 101,
      "output_activation": 0}),
    ("emb:100 lstm:100", ModelInput.tokens(100, 1000), "multiclass", 46, 185046,
     {"embedding": 100000, "lstm_1": 80400, "output": 4646}),
]


@pytest.mark.parametrize("text, model_input, task, classes, total, layers", TUTORIAL_MODELS,
                         ids=[case[0] for case in TUTORIAL_MODELS])
def test_tutorial_models_have_keras_parameter_counts(text, model_input, task, classes, total,
                                                     layers):
    model = build(text, model_input, task, classes, padding="pre")
    assert model.count_params() == total
    counts = params_by_layer(model)
    for name, expected in layers.items():
        assert counts[name] == expected, name


def test_onehot_simplernn_matches_the_tutorial():
    # SimpleRNN(8) on to_categorical sequences of shape (100, 300): 2,472 parameters; the
    # one-hot lookup is a frozen identity Embedding, so the trainable total is the tutorial's.
    model = build("onehot simplernn:8", ModelInput.tokens(100, 300), padding="pre")
    counts = params_by_layer(model)
    assert counts["simplernn_1"] == 2472
    assert counts["output"] == 9
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 2481
    one_hot = model.get_layer("one_hot")
    assert not one_hot.trainable
    ids = np.array([[0, 5, 299]])
    vectors = one_hot(ids).numpy()
    assert np.array_equal(vectors[0], np.eye(300)[[0, 5, 299]])  # keras.utils.to_categorical


def test_onehot_refuses_huge_vocabularies():
    with pytest.raises(UserError, match="one-hot input over 20,000 words"):
        build("onehot simplernn:8", ModelInput.tokens(10, 20000))


def test_layer_names_are_predictable_and_layers_allowed():
    model = build("emb:8 spatial-dropout:0.1 bilstm:4 lstm:4 pool:max+average dense:6 "
                  "dropout:0.2", ModelInput.tokens(12, 50))
    assert [layer.name for layer in model.layers] == [
        "tokens", "embedding", "spatial_dropout1d_1", "bilstm_1", "lstm_2",
        "global_max_pooling1d_1", "global_average_pooling1d_1", "concatenate_1", "dense_1",
        "dropout_1", "output"]
    assert model.get_layer("bilstm_1").forward_layer.name == "forward_lstm_1"
    assert model.get_layer("lstm_2").return_sequences is True
    assert model.get_layer("bilstm_1").forward_layer.return_sequences is True
    assert {type(layer).__name__ for layer in model.layers} <= ALLOWED_LAYERS


@pytest.mark.parametrize("name", list(NAMED_ARCHS))
def test_every_named_arch_builds_with_allowed_layers(name):
    model = build_model(named_spec(name, units=4, embedding_dim=4),
                        ModelInput.tokens(20, 30), task="multiclass", num_classes=46)
    assert {type(layer).__name__ for layer in model.layers} <= ALLOWED_LAYERS
    assert model.output.shape[-1] == 46
    out = model.predict(np.ones((2, 20), dtype=np.int32), verbose=0)
    assert np.allclose(out.sum(axis=1), 1.0, atol=1e-5)


def test_mask_follows_padding_and_layers():
    assert mask_zero_for(normalize_spec("emb:8 lstm:4"), "post") is True
    assert mask_zero_for(normalize_spec("emb:8 lstm:4"), "pre") is False
    assert mask_zero_for(normalize_spec("emb:8 conv1d:4:3 lstm:4"), "post") is False
    assert mask_zero_for(normalize_spec("emb:8 flatten"), "post") is False
    assert mask_zero_for(normalize_spec("emb:8,mask=true lstm:4"), "pre") is True
    model = build("emb:8 lstm:4", ModelInput.tokens(6, 20), padding="post")
    assert model.get_layer("embedding").mask_zero is True


def test_masking_makes_post_padding_invisible():
    model = build("emb:8 gru:4", ModelInput.tokens(6, 20), padding="post")
    short = model.predict(np.array([[3, 4, 0, 0, 0, 0]]), verbose=0)
    # Same text, padded to the same length: identical; the padding is not read as words.
    model_8 = build("emb:8 gru:4", ModelInput.tokens(9, 20), padding="post")
    model_8.set_weights(model.get_weights())
    longer = model_8.predict(np.array([[3, 4, 0, 0, 0, 0, 0, 0, 0]]), verbose=0)
    assert np.allclose(short, longer, atol=1e-6)


@pytest.mark.parametrize("task, head, units, activation, loss", [
    ("binary", {}, 1, "sigmoid", "binary_crossentropy"),
    ("binary", {"activation": "softmax"}, 2, "softmax", "sparse_categorical_crossentropy"),
    ("multiclass", {}, 46, "softmax", "sparse_categorical_crossentropy"),
    ("regression", {}, 1, "linear", "mse"),
])
def test_heads_follow_the_task(task, head, units, activation, loss):
    resolved = resolve_head({"activation": "auto", "units": "auto", **head}, task,
                            46 if task == "multiclass" else None)
    assert (resolved.units, resolved.activation, resolved.loss) == (units, activation, loss)


@pytest.mark.parametrize("task, head, message", [
    ("binary", {"activation": "linear"}, "binary task"),
    ("binary", {"activation": "sigmoid", "units": 2}, "1 unit"),
    ("multiclass", {"activation": "sigmoid"}, "softmax head"),
    ("regression", {"activation": "softmax"}, "linear head"),
])
def test_bad_heads(task, head, message):
    with pytest.raises(UserError, match=message):
        resolve_head({"units": "auto", **head}, task, 46)


def test_input_kind_must_match():
    with pytest.raises(UserError, match="reads token ids but the dataset gives numeric"):
        build("emb:8 lstm:4", ModelInput.sequence(5, 2))
    with pytest.raises(UserError, match="reads numeric sequences but the dataset gives token"):
        build("lstm:4", ModelInput.tokens(5, 20))


def test_pretrained_weights_and_frozen_embedding():
    matrix = np.random.default_rng(0).normal(size=(20, 8)).astype(np.float32)
    model = build_model(normalize_spec("emb:8,trainable=false lstm:4"), ModelInput.tokens(5, 20),
                        task="binary", embedding_weights=matrix)
    embedding = model.get_layer("embedding")
    assert np.array_equal(embedding.get_weights()[0], matrix)
    assert embedding.trainable is False
    with pytest.raises(UserError, match="pretrained matrix has shape"):
        build_model(normalize_spec("emb:4 lstm:4"), ModelInput.tokens(5, 20), task="binary",
                    embedding_weights=matrix)


def test_generic_kernel_reasons():
    assert generic_kernel_reasons(normalize_spec("emb:8 lstm:4 gru:4"), "post") == []
    reasons = generic_kernel_reasons(normalize_spec("emb:8 lstm:4,rd=0.2 simplernn:4"), "post")
    assert any("recurrent_dropout 0.2" in r for r in reasons)
    assert any("SimpleRNN has no cuDNN kernel" in r for r in reasons)
    reasons = generic_kernel_reasons(normalize_spec("emb:8,mask=true gru:4"), "pre")
    assert any("left (pre) padding" in r for r in reasons)


# ---------------------------------------------------------------------------- n-grams, last state
RESEARCH_ARCH = "emb:64 ngram-emb:32 spatial-dropout:0.5 gru:64 pool:max+average+last dropout:0.5"


def test_the_research_model_has_its_parameter_count():
    """the recipe study's IMDB model (vocab 30000, bigram 100000 x 32): 5,151,297 params."""
    model = build(RESEARCH_ARCH, ModelInput.tokens(None, 30000, ngrams=((2, 100000),)))
    assert model.count_params() == 5151297
    assert [tensor.name for tensor in model.inputs] == ["tokens", "ngrams2"]
    assert params_by_layer(model)["embedding_ngrams2"] == 3200000
    gru = model.get_layer("gru_1")
    assert gru.return_sequences and gru.return_state
    names = [layer.name for layer in model.layers]
    assert names.index("concatenate_streams") < names.index("spatial_dropout1d_1")
    assert {type(layer).__name__ for layer in model.layers} <= ALLOWED_LAYERS


def test_two_ngram_orders_and_an_lstm_state(tmp_path):
    from rnn_tui.backend import keras

    spec = normalize_spec("emb:8 ngram-emb:4,n=3 ngram-emb:3 lstm:5 pool:last+max")
    model = build_model(spec, ModelInput.tokens(7, 20, ngrams=((2, 30), (3, 40))),
                        task="multiclass", num_classes=3, padding="post")
    assert [tensor.name for tensor in model.inputs] == ["tokens", "ngrams2", "ngrams3"]
    assert model.get_layer("embedding_ngrams2").output_dim == 3
    assert model.get_layer("embedding_ngrams3").input_dim == 40
    assert model.get_layer("concatenate_pools_1").output.shape[-1] == 5 + 5
    rng = np.random.default_rng(0)
    ids = {name: rng.integers(1, size, (4, 7)).astype("int32")
           for name, size in (("tokens", 20), ("ngrams2", 30), ("ngrams3", 40))}
    expected = model.predict(ids, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = keras().models.load_model(tmp_path / "model.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(ids, verbose=0), expected, atol=1e-6)


def test_last_state_is_the_state_at_the_last_real_token():
    """Post padding + mask: the pooled state equals that of the text alone, unpadded."""
    from rnn_tui.backend import keras

    model = build("emb:8 gru:5 pool:max+average+last", ModelInput.tokens(None, 30))
    rng = np.random.default_rng(1)
    for variable in model.weights:
        variable.assign(rng.normal(0, 0.5, variable.shape).astype("float32"))
    probe = keras().Model(model.inputs, model.get_layer("concatenate_1").output)
    text = np.array([[5, 9, 2, 7]], "int32")
    padded = np.concatenate([text, np.zeros((1, 6), "int32")], axis=1)
    np.testing.assert_allclose(probe.predict(padded, verbose=0), probe.predict(text, verbose=0),
                               atol=1e-6)
    state = probe.predict(text, verbose=0)[0, 10:]
    sequence = keras().Model(model.inputs, model.get_layer("gru_1").output[0])
    np.testing.assert_allclose(state, sequence.predict(text, verbose=0)[0, -1], atol=1e-6)


@pytest.mark.parametrize("text, padding, exact", [
    ("emb:8 gru:4 pool:max+average+last", "post", True),
    (RESEARCH_ARCH, "post", True),
    ("emb:8 lstm:4,dropout=0.2 lstm:4", "post", True),
    ("emb:8 bigru:4", "post", True),
    ("emb:8 bigru:4 pool:average", "post", True),
    ("emb:8 gru:4 pool:max+average", "pre", False),
    ("emb:8,mask=false gru:4", "post", False),
    ("emb:8 bigru:4 pool:max", "post", False),
    ("emb:8 pool:max dense:4", "post", False),
    ("emb:8 dropout:0.2 gru:4", "post", False),
    ("emb:8 gru:4 pool:max dropout:0.2", "post", True),
    ("emb:8 conv1d:4:3 gru:4", "post", False),
    ("onehot gru:4", "post", False),
])
def test_dynamic_padding_exactness(text, padding, exact):
    from rnn_tui.nets import dynamic_padding_exact

    assert dynamic_padding_exact(normalize_spec(text), padding)[0] is exact
