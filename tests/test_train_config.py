"""TrainConfig, presets and data preparation (validation split, vocabulary, maxlen)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnn_tui.errors import NotFoundError, UserError
from rnn_tui.nets import ModelInput, build_model, resolve_arch, to_compact
from rnn_tui.train import PRESETS, TrainConfig, preset_config
from rnn_tui.train.prepare import auto_maxlen, prepare_data, validation_indices
from train_support import sequence_corpus, text_corpus


def test_round_trip_and_identity():
    config = TrainConfig(dataset="imdb", arch="gru", arch_options={"units": [8, 4]},
                         validation="0.25", name="x")
    assert config.validation == 0.25
    again = TrainConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    assert again.fingerprint() == config.fingerprint()
    renamed = config.replace(name="y")
    assert renamed.identity() == config.identity()   # the name is not part of what is trained
    changed = config.replace(epochs=3)
    assert changed.differences(config) == ["epochs: 10 -> 3"]


@pytest.mark.parametrize("changes, message", [
    ({"epochs": 0}, "epochs must be a whole number >= 1"),
    ({"batch_size": -1}, "batch_size"),
    ({"validation": 1.5}, r"validation fraction must be in \(0, 1\)"),
    ({"validation": "sometimes"}, "validation must be a fraction"),
    ({"optimizer": "adagrad"}, "optimizer must be one of adam, rmsprop, sgd"),
    ({"padding": "middle"}, "padding must be pre or post"),
    ({"level": "syllable"}, "level must be one of"),
    ({"learning_rate": 0}, "learning_rate must be a positive number"),
    ({"num_words": 1}, "num_words must be at least 2"),
    ({"name": "Bad Name"}, "model name"),
    ({"dataset": ""}, "no dataset"),
])
def test_bad_settings_are_user_errors(changes, message):
    with pytest.raises(UserError, match=message):
        TrainConfig(**{"dataset": "imdb", **changes})


def test_unknown_keys_are_named():
    with pytest.raises(UserError, match="unknown training setting.*colour"):
        TrainConfig.from_dict({"dataset": "imdb", "colour": "red"})


def test_default_names():
    assert TrainConfig(dataset="imdb", arch="bilstm").default_name == "imdb-bilstm"
    assert TrainConfig(dataset="imdb", arch="emb:8 gru:4").default_name == "imdb-custom"
    assert TrainConfig(dataset="/data/My Reviews.csv").default_name == "my-reviews-lstm"
    assert preset_config("tutorial-imdb-lstm").default_name == "tutorial-imdb-lstm"


# The tutorials' models, rebuilt from the presets at the tutorials' vocabulary sizes.
PRESET_PARAMS = {
    "tutorial-nsmc-lstm": (ModelInput.tokens(25, 20000), 6070302),
    "tutorial-imdb-embedding-simplernn": (ModelInput.tokens(100, 300), 5009),
    "tutorial-imdb-small-simplernn": (ModelInput.tokens(100, 1000), 32337),
    "tutorial-imdb-flatten": (ModelInput.tokens(500, 10000), 336001),
    "tutorial-imdb-bag-dense": (ModelInput.tokens(2000, 10000), 160305),
    "tutorial-imdb-lstm": (ModelInput.tokens(350, 10000), 357281),
    "tutorial-imdb-conv-lstm": (ModelInput.tokens(100, 5000), 598165),
    "tutorial-reuters-lstm": (ModelInput.tokens(100, 1000), 185046),
    "tutorial-series-simplernn": (ModelInput.sequence(4, 1), 131),
    "tutorial-multiplication-simplernn": (ModelInput.sequence(100, 2), 2851),
    "tutorial-multiplication-lstm": (ModelInput.sequence(100, 2), 11311),
    "tutorial-multiplication-gru": (ModelInput.sequence(100, 2), 8671),
}


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_is_a_valid_config(name):
    config = preset_config(name)
    assert config.preset == name
    kind = "sequence" if config.dataset in ("series", "multiplication") else "tokens"
    spec = resolve_arch(config.arch, config.arch_options, input_kind=kind)
    assert to_compact(spec)


@pytest.mark.parametrize("name", list(PRESET_PARAMS))
def test_tutorial_presets_build_the_tutorial_models(name):
    config = preset_config(name)
    model_input, expected = PRESET_PARAMS[name]
    spec = resolve_arch(config.arch, input_kind=model_input.kind)
    task = {"reuters": "multiclass", "series": "regression",
            "multiplication": "regression"}.get(config.dataset, "binary")
    model = build_model(spec, model_input, task=task, num_classes=46, padding=config.padding)
    assert model.count_params() == expected


def test_preset_details_follow_the_tutorials():
    nsmc = preset_config("tutorial-nsmc-lstm")
    assert (nsmc.cleaner, nsmc.max_token_chars, nsmc.num_words, nsmc.maxlen, nsmc.batch_size,
            nsmc.validation, nsmc.oov_token) == ("clean_str", 5, 20000, 25, 120, 0.2, None)
    imdb = preset_config("tutorial-imdb-embedding-simplernn")
    assert (imdb.optimizer, imdb.learning_rate, imdb.early_stopping, imdb.batch_size) == \
        ("rmsprop", 1e-4, 3, 64)
    reuters = preset_config("tutorial-reuters-lstm", epochs=1)
    assert (reuters.epochs, reuters.batch_size, reuters.num_words) == (1, 100, 1000)
    with pytest.raises(NotFoundError, match="did you mean tutorial-imdb-lstm"):
        preset_config("tutorial-imdb-lsmt")


def test_validation_split_is_deterministic_and_complete():
    train, held_out = validation_indices(100, 0.2, seed=7)
    assert len(held_out) == 20 and len(train) == 80
    assert sorted([*train, *held_out]) == list(range(100))
    again_train, again_held_out = validation_indices(100, 0.2, seed=7)
    assert np.array_equal(held_out, again_held_out)
    _, other = validation_indices(100, 0.2, seed=8)
    assert not np.array_equal(held_out, other)


def test_prepare_text_fits_the_vocabulary_on_training_rows_only():
    corpus = text_corpus("binary", train=40, test=10)
    corpus.test.texts[0] = "zzzunseen " + corpus.test.texts[0]
    data = prepare_data(TrainConfig(dataset="toy", maxlen=6, validation=0.25, num_words=50),
                        corpus=corpus)
    assert data.x_train.shape == (30, 6) and data.x_validation.shape == (10, 6)
    assert data.x_test.shape == (10, 6)
    assert "zzzunseen" not in data.vocabulary.word_index
    assert data.validation_source == "fraction" and data.validation_fraction == 0.25
    assert data.model_input == ModelInput.tokens(6, data.vocabulary.size)
    assert data.x_train.dtype == np.int32 and data.y_train.dtype == np.int32
    # post padding (the default): the ids come first
    assert data.x_train[0, 0] != 0


def test_prepare_auto_maxlen_and_limits():
    corpus = text_corpus("multiclass", train=60, test=10)
    data = prepare_data(TrainConfig(dataset="toy", validation="none", train_limit=20),
                        corpus=corpus)
    assert data.maxlen == 10 and len(data.x_train) == 20 and data.x_validation is None
    assert any("maxlen 10" in note for note in data.notes)
    assert auto_maxlen([3] * 96 + [1000] * 4) == 10
    assert auto_maxlen(list(range(2000))) == 500


def test_prepare_sequences_and_test_as_validation():
    corpus = sequence_corpus(train=20, test=8, timesteps=5, channels=3)
    data = prepare_data(TrainConfig(dataset="toyseq", validation="test"), corpus=corpus)
    assert data.vocabulary is None
    assert data.model_input == ModelInput.sequence(5, 3)
    assert np.array_equal(data.x_validation, data.x_test)
    assert any("test split" in note for note in data.notes)
    with pytest.raises(UserError, match="no validation split of its own"):
        prepare_data(TrainConfig(dataset="toyseq", validation="corpus"), corpus=corpus)


def test_the_research_preset_builds_the_research_model():
    config = preset_config("imdb-gru-bigrams")
    spec = resolve_arch(config.arch, input_kind="tokens")
    model = build_model(spec, ModelInput.tokens(None, 30000, ngrams=((2, 100000),)),
                        task="binary", padding=config.padding)
    assert model.count_params() == 5151297  # as the recipe study's results report


SHIPPED = {  # preset: (vocabulary size, n-gram orders and sizes, task, classes)
    "imdb-sentiment": (20000, ((2, 50000),), "binary", None),
    "nsmc-sentiment": (3000, ((2, 30000), (3, 40000)), "binary", None),
    "reuters-topics": (20000, (), "multiclass", 46),
}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_presets_fit_the_size_limit(name):
    """Their float16 weights, stored twice (model.keras and runtime.npz), stay under 16 MB."""
    vocab_size, ngrams, task, classes = SHIPPED[name]
    config = preset_config(name)
    assert config.float16_weights and config.default_name == name
    assert config.num_words == vocab_size
    spec = resolve_arch(config.arch, input_kind="tokens")
    model = build_model(spec, ModelInput.tokens(None, vocab_size, ngrams=ngrams), task=task,
                        num_classes=classes, padding=config.padding)
    assert 2 * 2 * model.count_params() < 15_000_000  # room left for the vocabularies


def test_the_multiplication_presets_build_the_research_models():
    for name, params in (("multiplication", 21377), ("multiplication-gru", 17281)):
        config = preset_config(name)
        spec = resolve_arch(config.arch, input_kind="sequence")
        model = build_model(spec, ModelInput.sequence(100, 2), task="regression")
        assert model.count_params() == params  # as the recipe study's findings report
        assert config.dataset_options == {"train_size": 2560} and config.validation == "none"
