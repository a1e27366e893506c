"""``rnn-tui neighbors``: nearest words by cosine in a trained embedding, NumPy only."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from rnn_tui.cli.neighbors import (
    embedding_from_keras_file,
    embedding_from_runtime,
    nearest_words,
)
from rnn_tui.registry import open_registries
from rnn_tui.text import Vocabulary
from train_support import imports_tensorflow, publish_tiny, run_cli, text_corpus


@pytest.fixture(scope="module")
def published_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("neighbors-home")
    publish_tiny(home, text_corpus("multiclass", classes=6, train=120), dataset="toy",
                 arch="emb:8 lstm:4", epochs=3, name="words")
    publish_tiny(home, text_corpus("binary"), dataset="toy", arch="onehot simplernn:2",
                 name="onehot")
    publish_tiny(home, text_corpus("binary", train=120), dataset="toy",
                 arch="emb:8 ngram-emb:4 lstm:4", ngrams=[2], ngram_words=200, oov_token="<OOV>",
                 name="grams")
    publish_tiny(home, text_corpus("binary", train=120), dataset="toy",
                 arch="emb:8 ngram-emb:4 lstm:4 linear", ngrams=[2], ngram_words=200,
                 name="channel")
    return home


@pytest.fixture
def home(published_home, monkeypatch):
    monkeypatch.setenv("RNN_TUI_HOME", str(published_home))
    return published_home


def cosine_neighbours(matrix, vocabulary, word, k):
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    index = vocabulary.word_index[word]
    scores = unit @ unit[index]
    order = [i for i in np.argsort(-scores) if i not in (0, index, vocabulary.oov_index)]
    return [vocabulary.index_word[int(i)] for i in order[:k]]


def test_neighbours_are_the_cosine_nearest(home, capsys):
    version = open_registries().resolve("words")
    layer, matrix = embedding_from_runtime(version)
    assert layer == "embedding"
    vocabulary = Vocabulary.load(version.file("vocabulary.json"))
    code, out, _ = run_cli(["neighbors", "words", "W3", "-k", "4", "--json"], capsys)
    document = json.loads(out)
    assert code == 0 and document["word"] == "w3"  # the vocabulary's own lowercasing
    assert [n["word"] for n in document["neighbors"]] == cosine_neighbours(matrix, vocabulary,
                                                                            "w3", 4)
    similarities = [n["similarity"] for n in document["neighbors"]]
    assert similarities == sorted(similarities, reverse=True)


def test_keras_file_and_runtime_hold_the_same_embedding(home):
    version = open_registries().resolve("words")
    assert np.array_equal(embedding_from_keras_file(version)[1],
                          embedding_from_runtime(version)[1])


def test_text_output(home, capsys):
    code, out, _ = run_cli(["neighbors", "words", "film", "-k", "3"], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("nearest to 'film' in words:1 (embedding, 8 dims)")
    assert len(lines) == 4 and lines[1].lstrip().startswith("1.")


@pytest.mark.parametrize("args, message", [
    (["neighbors", "words", "zebra"], "'zebra' is not in the model's vocabulary"),
    (["neighbors", "words", "two words"], "is 2 tokens"),
    (["neighbors", "onehot", "film"], "one-hot tokens: there is no learned embedding"),
    (["neighbors", "words", "film", "-k", "0"], "-k must be at least 1"),
])
def test_errors_are_one_line(home, capsys, args, message):
    code, _, err = run_cli(args, capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_neighbors_does_not_import_tensorflow(home):
    assert not imports_tensorflow(["neighbors", "words", "film"], os.environ.copy())


def test_nearest_words_respects_num_words():
    vocabulary = Vocabulary(num_words=3).fit(["a a a b b c"])  # keeps <OOV>=1 and a=2 only
    matrix = np.eye(5, dtype=np.float32)
    with pytest.raises(Exception, match="not in the model's vocabulary"):
        nearest_words(matrix, vocabulary, "b")


def test_ngram_model_searches_the_token_embedding_by_default(home, capsys):
    """The n-gram table comes first in runtime.npz; the token ids must meet the tokens'
    embedding, not it."""
    version = open_registries().resolve("grams")
    layer, matrix = embedding_from_runtime(version)
    assert layer == "embedding" and matrix.shape[1] == 8
    assert embedding_from_keras_file(version)[0] == "embedding"
    vocabulary = Vocabulary.load(version.file("vocabulary.json"))
    code, out, _ = run_cli(["neighbors", "grams", "film", "-k", "3", "--json"], capsys)
    document = json.loads(out)
    assert code == 0 and document["layer"] == "embedding" and document["stream"] == "tokens"
    assert [n["word"] for n in document["neighbors"]] == cosine_neighbours(
        matrix, vocabulary, "film", 3)


def test_a_linear_channel_is_not_taken_for_the_word_vectors(home):
    """The linear n-gram channel adds one-wide Embeddings that the tokens input also feeds."""
    from rnn_tui.infer.format import read_runtime

    version = open_registries().resolve("channel")
    graph, weights = read_runtime(version.file("runtime.npz"))
    widths = {node["name"]: weights[node["weights"]["embeddings"]].shape[1]
              for node in graph["nodes"] if node["op"] == "embedding"}
    assert 1 in widths.values()  # the channel is there
    layer, matrix = embedding_from_runtime(version)
    assert (layer, matrix.shape[1]) == ("embedding", 8)
    assert embedding_from_keras_file(version)[0] == "embedding"
    assert embedding_from_runtime(version, "ngrams2")[1].shape[1] == 4


def test_stream_option_searches_an_ngram_table(home, capsys):
    version = open_registries().resolve("grams")
    layer, matrix = embedding_from_runtime(version, "ngrams2")
    assert layer == "embedding_ngrams2" and matrix.shape[1] == 4
    assert np.array_equal(embedding_from_keras_file(version, "ngrams2")[1], matrix)
    grams = Vocabulary.load(version.file("vocabulary-ngram2.json"))
    pair = next(w for w, i in grams.word_index.items() if i >= 2 and "<s>" not in w)
    code, out, _ = run_cli(["neighbors", "grams", pair, "--stream", "ngrams2", "-k", "3",
                            "--json"], capsys)
    document = json.loads(out)
    assert code == 0 and document["word"] == pair and document["layer"] == "embedding_ngrams2"
    assert all(" " in n["word"] for n in document["neighbors"])
    code, _, err = run_cli(["neighbors", "grams", "film", "--stream", "ngrams5"], capsys)
    assert code == 2 and "no input stream 'ngrams5' (it has tokens, ngrams2)" in err


def test_a_one_wide_embedding_is_not_a_word_vector(home, monkeypatch):
    """A linear n-gram channel (a one-wide Embedding) never answers as a word vector."""
    import rnn_tui.infer.format as runtime_format

    version = open_registries().resolve("grams")
    graph, weights = runtime_format.read_runtime(version.file("runtime.npz"))
    narrow = {key: (value[:, :1] if key.startswith("embedding") else value)
              for key, value in weights.items()}
    monkeypatch.setattr(runtime_format, "read_runtime", lambda path: (graph, narrow))
    assert embedding_from_runtime(version, "tokens") is None
    assert embedding_from_runtime(version, "ngrams2") is None


SHIPPED_DIR = Path(__file__).resolve().parent.parent / "models"


@pytest.mark.parametrize("args", [["nsmc-sentiment", "좋"],
                                  ["nsmc-sentiment", "재미", "--stream", "ngrams2"],
                                  ["imdb-sentiment", "great"]])
def test_help_examples_work_on_the_shipped_models(monkeypatch, capsys, args, tmp_path):
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", str(SHIPPED_DIR))
    monkeypatch.setenv("RNN_TUI_HOME", str(tmp_path))
    code, out, err = run_cli(["neighbors", *args, "--json"], capsys)
    assert code == 0, err
    document = json.loads(out)
    stream = args[3] if len(args) > 2 else "tokens"
    expected = "embedding" if stream == "tokens" else f"embedding_{stream}"
    assert document["layer"] == expected and len(document["neighbors"]) == 10


def test_analogy_in_a_model_embedding(home, capsys):
    """--analogy 'a - b + c': nearest to the signed sum of unit vectors, terms excluded."""
    version = open_registries().resolve("words")
    _, matrix = embedding_from_runtime(version)
    vocabulary = Vocabulary.load(version.file("vocabulary.json"))
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    ids = [vocabulary.word_index[w] for w in ("w1", "w2", "film")]
    query = unit[ids[0]] - unit[ids[1]] + unit[ids[2]]
    scores = unit @ (query / np.linalg.norm(query))
    expected = [vocabulary.index_word[int(i)] for i in np.argsort(-scores)
                if int(i) not in {0, vocabulary.oov_index, *ids}][:3]
    code, out, err = run_cli(["neighbors", "words", "--analogy", "W1 - w2 + film", "-k", "3",
                              "--json"], capsys)
    assert code == 0, err
    document = json.loads(out)
    assert document["word"] == "w1 - w2 + film"
    assert [n["word"] for n in document["neighbors"]] == expected


def test_vector_files_are_searched_too(tmp_path, capsys):
    path = tmp_path / "vectors.txt"  # word2vec text format
    path.write_text("4 3\nking 1 1 0\nman 1 0 0\nwoman 0 0 1\nqueen 0.1 1 1\n")
    code, out, err = run_cli(["neighbors", str(path), "--analogy", "king - man + woman",
                              "-k", "1"], capsys)
    assert code == 0, err
    assert out.splitlines()[0] == "nearest to 'king - man + woman' in vectors.txt (vectors, " \
                                  "3 dims):"
    assert out.splitlines()[1].split()[:2] == ["1.", "queen"]
    code, out, _ = run_cli(["neighbors", str(path), "King", "--json", "--limit", "2"], capsys)
    assert code == 0 and [n["word"] for n in json.loads(out)["neighbors"]] == ["man"]


@pytest.mark.parametrize("args, message", [
    (["--analogy", "w1 +"], "give words joined by + and -"),
    (["--analogy", "w1 w2"], "put + or - between the words"),
    (["--analogy", "w1 - - w2"], "an operator without a word"),
    ([], "give a WORD or --analogy"),
    (["w1", "--analogy", "w1 - w2"], "give a WORD or --analogy"),
    (["--analogy", "w1 - zebra"], "'zebra' is not in the model's vocabulary"),
])
def test_analogy_errors_are_one_line(home, capsys, args, message):
    code, _, err = run_cli(["neighbors", "words", *args], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
