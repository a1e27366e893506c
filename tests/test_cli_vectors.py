"""``rnn-tui vectors train``: gensim word2vec on a corpus' training texts, word2vec format."""

from __future__ import annotations

import random

import numpy as np
import pytest

from rnn_tui.nets.vectors import load_embedding_matrix, read_vectors
from rnn_tui.text import Vocabulary
from train_support import run_cli

WORDS = "good great fine bad awful poor film movie plot acting".split()


@pytest.fixture
def reviews_csv(tmp_path):
    rng = random.Random(0)
    rows = ["text,label"] + [" ".join(rng.choice(WORDS) for _ in range(8)) + f",{i % 2}"
                             for i in range(200)]
    path = tmp_path / "reviews.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_vectors_are_word2vec_files_that_gensim_and_embeddings_read(reviews_csv, tmp_path,
                                                                    capsys):
    from gensim.models import KeyedVectors

    output = tmp_path / "w2v.txt"
    code, out, err = run_cli(["vectors", "train", "-d", str(reviews_csv), "--dim", "8",
                              "--min-count", "1", "-o", str(output)], capsys)
    assert code == 0, err
    assert out.strip() == f"10 words x 8 dims -> {output}"
    assert output.read_text().splitlines()[0] == "10 8"
    words, matrix = read_vectors(output)
    keyed = KeyedVectors.load_word2vec_format(str(output))
    assert sorted(words) == sorted(WORDS)
    assert np.allclose(matrix, np.stack([keyed[word] for word in words]))
    # the existing Embedding option reads it: every word of the corpus found
    vocabulary = Vocabulary().fit([" ".join(WORDS)])
    loaded = load_embedding_matrix(output, vocabulary.word_index, vocabulary.size, dim=8)
    assert loaded.found == loaded.wanted == 10
    # the same corpus and seed give the same vectors
    again = tmp_path / "again.txt"
    run_cli(["vectors", "train", "-d", str(reviews_csv), "--dim", "8", "--min-count", "1",
             "-o", str(again)], capsys)
    assert again.read_bytes() == output.read_bytes()


def test_binary_format_and_errors(reviews_csv, tmp_path, capsys):
    output = tmp_path / "w2v.bin"
    code, _, err = run_cli(["vectors", "train", "-d", str(reviews_csv), "--dim", "4",
                            "--min-count", "1", "--binary", "-o", str(output)], capsys)
    assert code == 0, err
    words, matrix = read_vectors(output)
    assert matrix.shape == (10, 4)
    code, _, err = run_cli(["vectors", "train", "-d", str(reviews_csv), "--min-count",
                            "100000", "-o", str(tmp_path / "none.txt")], capsys)
    assert code == 2 and "lower --min-count" in err and not (tmp_path / "none.txt").exists()
    code, _, err = run_cli(["vectors", "train", "-d", "multiplication"], capsys)
    assert code == 2 and "numeric sequences" in err
