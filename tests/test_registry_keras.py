"""Keras at the registry's edge: importing .h5/.keras files, safe loading, card sections.

These build tiny real Keras models (a few seconds, most of it importing TensorFlow).
"""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.errors import DataError, UserError
from rnn_tui.infer.importing import import_keras, infer_task
from rnn_tui.registry import Registry, describe_keras_model, load_keras_model
from rnn_tui.text.vocabulary import Vocabulary


@pytest.fixture(scope="module")
def keras():
    from rnn_tui.backend import keras as load

    return load()


@pytest.fixture
def registry(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_TUI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", "")
    return Registry(tmp_path / "home" / "models")


TEXTS = ["a wonderful moving film", "dull and far too long", "wonderful acting",
         "too long and dull", "moving and wonderful", "a dull film"]


def tutorial_model(keras, input_dim=50):
    """Embedding + SimpleRNN + Dense(sigmoid), as the tutorials build it (no Input layer)."""
    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.layers.Embedding(input_dim, 8),
                              keras.layers.SimpleRNN(4),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def test_h5_import_predicts_identically(keras, registry, tmp_path):
    vocabulary = Vocabulary(num_words=50).fit(TEXTS)
    ids = vocabulary.encode(TEXTS, maxlen=6)
    model = tutorial_model(keras)
    model.fit(ids, np.array([1, 0, 1, 0, 1, 0]), epochs=2, verbose=0)
    model.save(tmp_path / "best-simplernn-model.h5")
    vocabulary.save(tmp_path / "vocab.json")
    expected = model.predict(ids, verbose=0)

    version = import_keras(registry, "tutorial", tmp_path / "best-simplernn-model.h5",
                                    tmp_path / "vocab.json", maxlen=6,
                                    labels=["negative", "positive"], language="en")
    card = version.card
    assert version.ref == "tutorial:1"
    assert {"model.keras", "vocabulary.json"} <= set(card["files"])
    assert (card["task"], card["labels"]) == ("binary", ["negative", "positive"])
    assert card["input"] == {"kind": "text", "maxlen": 6, "padding": "pre", "truncating": "pre"}
    assert card["vocabulary"]["size"] == vocabulary.size
    assert card["vocabulary"]["embedding_input_dim"] == 50
    assert card["architecture"]["arch"] == "simplernn"
    assert [layer["type"] for layer in card["layers"]] == ["Embedding", "SimpleRNN", "Dense"]
    assert card["params"]["total"] == model.count_params() == 50 * 8 + (8 * 4 + 4 * 4 + 4) + 5
    assert card["imported"]["format"] == "h5"
    assert Vocabulary.load(version.file("vocabulary.json")).word_index == vocabulary.word_index

    loaded = load_keras_model(version)
    np.testing.assert_array_equal(loaded.predict(ids, verbose=0), expected)
    by_name = load_keras_model("tutorial:1")  # a ref resolves through open_registries()
    np.testing.assert_array_equal(by_name.predict(ids, verbose=0), expected)


def test_a_too_large_vocabulary_is_refused(keras, registry, tmp_path):
    model = tutorial_model(keras, input_dim=5)
    model.build((None, 6))
    model.save(tmp_path / "small.keras")
    Vocabulary().fit(TEXTS).save(tmp_path / "vocab.json")
    with pytest.raises(DataError, match="the model's Embedding takes only 5"):
        import_keras(registry, "small", tmp_path / "small.keras", tmp_path / "vocab.json")
    assert registry.names() == []


def lambda_model(keras):
    inputs = keras.Input((6, 2))
    doubled = keras.layers.Lambda(lambda x: x * 2.0)(inputs)
    hidden = keras.layers.SimpleRNN(3)(doubled)
    outputs = keras.layers.Dense(3, activation="softmax")(hidden)
    return keras.Model(inputs, outputs)


def test_lambda_layers_are_refused_unless_trusted(keras, registry, tmp_path):
    model = lambda_model(keras)
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(UserError, match=r"lambda\.keras: refused a Lambda layer"):
        import_keras(registry, "lam", tmp_path / "lambda.keras")
    assert registry.names() == []

    version = import_keras(registry, "lam", tmp_path / "lambda.keras", trust=True,
                                    labels=["x", "y", "z"])
    assert version.card["input"] == {"kind": "sequence", "timesteps": 6, "channels": 2}
    assert (version.card["task"], version.card["labels"]) == ("multiclass", ["x", "y", "z"])
    assert [layer["type"] for layer in version.card["layers"]][1] == "Lambda"
    with pytest.raises(UserError) as error:
        load_keras_model(version)
    message = str(error.value)
    assert str(version.path / "model.keras") in message and "Lambda" in message
    trusted = load_keras_model(version, trust=True)
    sample = np.random.default_rng(0).normal(size=(2, 6, 2)).astype("float32")
    np.testing.assert_allclose(trusted.predict(sample, verbose=0),
                               model.predict(sample, verbose=0))


def test_unknown_custom_objects_are_refused(keras, registry, tmp_path):
    from keras.src.saving import object_registration

    @keras.saving.register_keras_serializable(package="rnntuitest")
    class Twice(keras.layers.Layer):
        def call(self, x):
            return x * 2

    inputs = keras.Input((4,))
    outputs = keras.layers.Dense(1, activation="sigmoid")(Twice()(inputs))
    keras.Model(inputs, outputs).save(tmp_path / "custom.keras")
    # Forget the class, as a fresh process that never saw it would.
    object_registration.GLOBAL_CUSTOM_OBJECTS.pop("rnntuitest>Twice")
    object_registration.GLOBAL_CUSTOM_NAMES.pop(Twice, None)
    with pytest.raises(UserError, match="refused unknown custom object 'Twice'"):
        import_keras(registry, "custom", tmp_path / "custom.keras", trust=True)


def test_a_changed_model_file_is_not_loaded(keras, registry, tmp_path):
    model = tutorial_model(keras)
    model.build((None, 6))
    model.save(tmp_path / "m.keras")
    version = import_keras(registry, "m", tmp_path / "m.keras")
    assert version.card["input"]["maxlen"] == 6 and version.card["vocabulary"] is None
    (version.path / "model.keras").write_bytes(b"PK not the model any more")
    with pytest.raises(DataError, match="does not match the sha256 in its card"):
        load_keras_model(version)


def test_infer_task_from_the_output_layer(keras):
    def dense_model(units, activation, inputs=keras.Input((3,))):
        return keras.Model(inputs, keras.layers.Dense(units, activation=activation)(inputs))

    assert infer_task(dense_model(1, "sigmoid")) == ("binary", ["class_0", "class_1"])
    assert infer_task(dense_model(4, "softmax")) == (
        "multiclass", ["class_0", "class_1", "class_2", "class_3"])
    assert infer_task(dense_model(1, None)) == ("regression", [])
    assert infer_task(dense_model(3, "softmax"), labels=["a", "b", "c"]) == (
        "multiclass", ["a", "b", "c"])
    with pytest.raises(UserError, match="needs 3 labels"):
        infer_task(dense_model(3, "softmax"), labels=["a", "b"])
    with pytest.raises(UserError, match="cannot tell the task"):
        infer_task(dense_model(2, "relu"))
    assert infer_task(dense_model(2, "relu"), task="multiclass")[0] == "multiclass"
    with pytest.raises(UserError, match="binary model has 1 output unit"):
        infer_task(dense_model(3, "softmax"), task="binary")


def test_sequence_models_and_describe(keras, registry, tmp_path):
    inputs = keras.Input((20, 2))
    hidden = keras.layers.Bidirectional(keras.layers.LSTM(4))(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    description = describe_keras_model(model)
    assert [layer["type"] for layer in description["layers"]] == [
        "InputLayer", "Bidirectional", "Dense"]
    assert description["params"]["total"] == model.count_params()
    assert description["params"]["non_trainable"] == 0
    model.save(tmp_path / "adding.keras")
    version = import_keras(registry, "adding", tmp_path / "adding.keras")
    card = version.card
    assert card["task"] == "regression"
    assert card["input"] == {"kind": "sequence", "timesteps": 20, "channels": 2}
    assert card["architecture"]["arch"] == "lstm"
    assert "vocabulary" not in card
    Vocabulary().fit(TEXTS).save(tmp_path / "v.json")
    with pytest.raises(UserError, match="takes no vocabulary"):
        import_keras(registry, "adding", tmp_path / "adding.keras", tmp_path / "v.json")


def test_bad_model_files(keras, registry, tmp_path):
    with pytest.raises(DataError, match="model file not found"):
        import_keras(registry, "x", tmp_path / "missing.h5")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(UserError, match="expected a .keras or .h5"):
        import_keras(registry, "x", tmp_path / "notes.txt")
    (tmp_path / "broken.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(DataError, match="cannot load the Keras model"):
        import_keras(registry, "x", tmp_path / "broken.h5")
    assert registry.names() == []


def test_import_exports_the_runtime_weights(keras, registry, tmp_path):
    pytest.importorskip("rnn_tui.infer.export")
    model = tutorial_model(keras)
    model.build((None, 6))
    model.save(tmp_path / "tutorial.h5")
    version = import_keras(registry, "tutorial", tmp_path / "tutorial.h5")
    assert "runtime.npz" in version.card["files"]
    assert version.card["runtime"]["engine"] == "numpy"
    assert "notes" not in version.card

    lambda_model(keras).save(tmp_path / "lambda.keras")
    version = import_keras(registry, "lam", tmp_path / "lambda.keras", trust=True)
    assert "runtime.npz" not in version.card["files"]
    assert not version.has_file("runtime.npz")
    assert "runtime.npz not written" in version.card["notes"][0]
    assert "Lambda" in version.card["notes"][0] or "lambda" in version.card["notes"][0]


def test_import_with_a_keras_tokenizer_json_predicts(keras, registry, tmp_path, capsys):
    """The tutorial's `models import naver naver_review.h5 --vocabulary keras_tokenizer.json`:
    the Tokenizer.to_json() file becomes the model's vocabulary and predict answers as Keras."""
    import json

    from test_text_foreign import keras_tokenizer_json
    from train_support import run_cli

    vocabulary = Vocabulary(num_words=50).fit(TEXTS)
    ids = vocabulary.encode(TEXTS, maxlen=6, padding="post")
    model = tutorial_model(keras)
    model.fit(ids, np.array([1, 0, 1, 0, 1, 0]), epochs=1, verbose=0)
    model.save(tmp_path / "naver_review.h5")
    (tmp_path / "keras_tokenizer.json").write_text(
        keras_tokenizer_json(vocabulary.word_index, vocabulary.word_counts, num_words=50,
                             oov_token=vocabulary.oov_token, documents=len(TEXTS)))
    code, out, err = run_cli(["models", "import", "naver", str(tmp_path / "naver_review.h5"),
                              "--vocabulary", str(tmp_path / "keras_tokenizer.json"),
                              "--maxlen", "6", "--padding", "post",
                              "--labels", "negative,positive"], capsys)
    assert code == 0, err
    assert "imported naver:1" in out and "no vocabulary" not in err
    card = json.loads((tmp_path / "home" / "models" / "naver" / "1" / "card.json").read_text())
    assert card["imported"]["vocabulary"] == {"file": "keras_tokenizer.json",
                                              "kind": "keras-tokenizer"}
    code, out, err = run_cli(["predict", "-m", "naver", "--format", "json", TEXTS[0]], capsys)
    assert code == 0, err
    expected = float(model.predict(ids[:1], verbose=0)[0, 0])
    assert json.loads(out)[0]["probabilities"]["positive"] == pytest.approx(expected, abs=2e-6)
