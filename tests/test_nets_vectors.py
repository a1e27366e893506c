"""Pretrained word vectors: word2vec text and binary, GloVe; coverage; bad files."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.errors import DataError
from rnn_tui.nets import load_embedding_matrix, vector_dim
from rnn_tui.nets.vectors import detect_format

VECTORS = {
    "good": [0.5, 0.25, -1.0],
    "bad": [-0.5, 0.0, 1.5],
    "Film": [0.125, 0.75, 0.5],   # only with other casing: "film" is found through it
    "unused": [9.0, 9.0, 9.0],
    "영화": [1.0, -1.0, 0.0],
}
WORD_INDEX = {"<OOV>": 1, "good": 2, "film": 3, "영화": 4, "missing": 5, "bad": 6, "rare": 7}


def write_text(path, header: bool):
    lines = [f"{len(VECTORS)} 3"] if header else []
    lines += [word + " " + " ".join(repr(v) for v in values) for word, values in VECTORS.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_binary(path):
    with open(path, "wb") as handle:
        handle.write(f"{len(VECTORS)} 3\n".encode())
        for word, values in VECTORS.items():
            handle.write(word.encode("utf-8") + b" ")
            handle.write(np.asarray(values, dtype="<f4").tobytes())
            handle.write(b"\n")
    return path


@pytest.fixture(params=["word2vec", "word2vec-binary", "glove"])
def vector_file(request, tmp_path):
    kind = request.param
    if kind == "word2vec":
        return kind, write_text(tmp_path / "w2v.txt", header=True)
    if kind == "glove":
        return kind, write_text(tmp_path / "glove.txt", header=False)
    return kind, write_binary(tmp_path / "w2v.bin")


def test_every_format_gives_the_same_matrix(vector_file):
    kind, path = vector_file
    assert detect_format(path) == kind
    assert vector_dim(path) == 3
    vectors = load_embedding_matrix(path, WORD_INDEX, input_dim=7)  # ids 0..6 ("rare" is 7)
    assert vectors.format == kind
    assert vectors.matrix.shape == (7, 3) and vectors.matrix.dtype == np.float32
    assert np.array_equal(vectors.matrix[0], np.zeros(3))          # padding
    assert np.allclose(vectors.matrix[2], VECTORS["good"])
    assert np.allclose(vectors.matrix[3], VECTORS["Film"])          # case-insensitive match
    assert np.allclose(vectors.matrix[4], VECTORS["영화"])
    assert np.allclose(vectors.matrix[6], VECTORS["bad"])
    # good, film, 영화, bad found of good, film, 영화, missing, bad (OOV and id 7 not counted)
    assert (vectors.found, vectors.wanted) == (4, 5)
    assert vectors.coverage == pytest.approx(0.8)
    assert vectors.missing == ["missing"]
    assert "cover 4 of 5 vocabulary words (80.0%)" in vectors.describe()
    assert not np.allclose(vectors.matrix[5], 0)  # a small random vector for "missing"


def test_exact_match_wins_over_other_casing(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("Good 1 1\ngood 2 2\nGOOD 3 3\n")
    vectors = load_embedding_matrix(path, {"good": 1}, input_dim=2, oov_token=None)
    assert np.allclose(vectors.matrix[1], [2, 2])


def test_dimension_mismatch_names_the_right_size(tmp_path):
    path = write_text(tmp_path / "v.txt", header=False)
    with pytest.raises(DataError, match="the vectors have 3 dimensions but the embedding has 8"):
        load_embedding_matrix(path, WORD_INDEX, input_dim=7, dim=8)


def test_bad_files_are_data_errors(tmp_path):
    ragged = tmp_path / "ragged.txt"
    ragged.write_text("good 1 2 3\nbad 1 2\n")
    with pytest.raises(DataError, match=r"ragged.txt:2: expected a word and 3 numbers"):
        load_embedding_matrix(ragged, WORD_INDEX, input_dim=7)
    not_numbers = tmp_path / "words.txt"
    not_numbers.write_text("good 1 x 3\n")
    with pytest.raises(DataError, match=r"words.txt:1: a vector value is not a number"):
        load_embedding_matrix(not_numbers, WORD_INDEX, input_dim=7)
    truncated = tmp_path / "cut.bin"
    data = write_binary(tmp_path / "full.bin").read_bytes()
    truncated.write_bytes(data[:-7])
    with pytest.raises(DataError, match="truncated"):
        load_embedding_matrix(truncated, WORD_INDEX, input_dim=7)
    with pytest.raises(DataError, match="not found"):
        load_embedding_matrix(tmp_path / "nope.txt", WORD_INDEX, input_dim=7)


def test_short_text_lines_are_not_taken_for_binary(tmp_path):
    """A 3-dimensional word2vec text file: the first 12 bytes after the first word run into
    the next line's word, which once made it look binary."""
    from rnn_tui.nets.vectors import detect_format, read_vectors

    path = tmp_path / "tiny.txt"
    path.write_text("3 3\nking 1 1 0\nman 1 0 0\nwoman 0 0 1\n")
    assert detect_format(path) == "word2vec"
    words, matrix = read_vectors(path, limit=2)
    assert words == ["king", "man"] and matrix.tolist() == [[1, 1, 0], [1, 0, 0]]
