"""Pretrained word vectors (word2vec text or binary, GloVe text) -> an Embedding weight matrix.

The files can be huge (GoogleNews word2vec: 3 million words, 3.6 GB), and a model needs only
the words of its vocabulary, so the reader streams the file and keeps just those rows; that is
why this is a small reader and not gensim's ``KeyedVectors`` (which loads every vector).

Formats:
- ``word2vec``: a header ``COUNT DIM``, then ``word v1 ... vDIM`` per line (UTF-8).
- ``word2vec-binary``: the same header, then per word ``word<space>`` and DIM little-endian
  float32 values (optionally followed by a newline), as written by the original C tool.
- ``glove``: no header, ``word v1 ... vDIM`` per line.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.txt"
>>> _ = path.write_text("good 1 0\\nbad 0 1\\n")
>>> vectors = load_embedding_matrix(path, {"<OOV>": 1, "good": 2, "film": 3}, input_dim=4)
>>> vectors.matrix.shape, vectors.found, vectors.wanted
((4, 2), 1, 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from rnn_tui.errors import DataError

VECTOR_FORMATS = ("word2vec", "word2vec-binary", "glove")
_TEXT_BYTES = set(b"0123456789.-+eE \t\r\nnaifNAIF")


@dataclass
class PretrainedVectors:
    """An Embedding weight matrix built from a vector file, and how much of it was found.

    Attributes:
        matrix: (input_dim, dim) float32; row 0 (padding) is zeros, rows of words absent from
            the file are small random vectors (scaled like the found ones).
        dim: the vectors' dimension.
        found: vocabulary words that got a pretrained vector.
        wanted: vocabulary words that could have one (ids 1..input_dim-1 minus the OOV token).
        format: the file format that was read.
        path: the file.
        missing: a few of the most frequent words without a vector (to show the user).
    """

    matrix: np.ndarray
    dim: int
    found: int
    wanted: int
    format: str
    path: str
    missing: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        """Share of the vocabulary found in the file (0..1)."""
        return self.found / self.wanted if self.wanted else 0.0

    def describe(self) -> str:
        """One line for a Note event or the card."""
        text = (f"pretrained vectors {Path(self.path).name} ({self.format}, {self.dim} dims) "
                f"cover {self.found:,} of {self.wanted:,} vocabulary words "
                f"({100 * self.coverage:.1f}%)")
        if self.missing:
            text += "; missing e.g. " + ", ".join(self.missing[:5])
        return text

    def to_card(self) -> dict:
        return {"path": self.path, "format": self.format, "dim": self.dim, "found": self.found,
                "wanted": self.wanted, "coverage": round(self.coverage, 4)}


def detect_format(path: str | Path) -> str:
    """Guess the format from the first bytes: a ``COUNT DIM`` header means word2vec, and the
    bytes after the first word tell text from binary."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            first = handle.readline()
            parts = first.split()
            if len(parts) == 2 and all(p.isdigit() for p in parts):
                dim = int(parts[1])
                sample = handle.read(4096)
                space = sample.find(b" ")
                if space < 0:
                    return "word2vec"
                after_word = sample[space + 1: space + 1 + min(4 * dim, 256)]
                line = after_word.split(b"\n")[0]
                if len(line) >= 2 * dim - 1:  # a whole short text line: the next word is
                    after_word = line          # not numbers (binary data never ends so soon)
                is_text = all(byte in _TEXT_BYTES for byte in after_word)
                return "word2vec" if is_text else "word2vec-binary"
            return "glove"
    except FileNotFoundError:
        raise DataError("word vector file not found", path) from None
    except OSError as error:
        raise DataError(f"cannot read word vectors: {error}", path) from None


def vector_dim(path: str | Path, format: str = "auto") -> int:
    """The dimension of the vectors in a file (read from the header or the first line)."""
    path = Path(path)
    format = detect_format(path) if format == "auto" else format
    with open(path, "rb") as handle:
        first = handle.readline()
    parts = first.split()
    if format in ("word2vec", "word2vec-binary"):
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise DataError("a word2vec file starts with a 'COUNT DIM' line", path, 1)
        return int(parts[1])
    if len(parts) < 2:
        raise DataError("expected 'word v1 v2 ...'", path, 1)
    return len(parts) - 1


def _iter_text(handle: BinaryIO, path: Path, dim: int | None, skip_header: bool):
    """Yield (word, vector-as-bytes-parts, line number) from a text vector file."""
    line_number = 0
    for raw in handle:
        line_number += 1
        if skip_header and line_number == 1:
            continue
        parts = raw.rstrip(b"\r\n").split(b" ")
        if parts and parts[-1] == b"":
            parts = parts[:-1]
        if not parts or parts == [b""]:
            continue
        if dim is None:
            dim = len(parts) - 1
            if dim < 1:
                raise DataError("expected 'word v1 v2 ...'", path, line_number)
        if len(parts) < dim + 1:
            raise DataError(f"expected a word and {dim} numbers, found {len(parts) - 1} "
                            "values", path, line_number)
        # Some GloVe files hold words with spaces: the last `dim` fields are the numbers.
        word = b" ".join(parts[: len(parts) - dim]).decode("utf-8", errors="replace")
        yield word, parts[len(parts) - dim:], line_number


def _iter_binary(handle: BinaryIO, path: Path, dim: int):
    handle.readline()  # header
    count = 0
    size = 4 * dim
    while True:
        word_bytes = bytearray()
        while True:
            char = handle.read(1)
            if not char:
                if word_bytes.strip():
                    raise DataError(f"truncated after {count} vectors", path)
                return
            if char == b" ":
                break
            if char != b"\n" or word_bytes:  # a newline may end the previous vector
                word_bytes += char
        data = handle.read(size)
        if len(data) != size:
            raise DataError(f"truncated vector after {count} vectors", path)
        count += 1
        yield word_bytes.decode("utf-8", errors="replace"), data


def load_embedding_matrix(
    path: str | Path,
    word_index: dict[str, int],
    input_dim: int,
    *,
    format: str = "auto",
    dim: int | None = None,
    oov_token: str | None = "<OOV>",
    seed: int = 0,
) -> PretrainedVectors:
    """Build an (input_dim, dim) matrix for ids 0..input_dim-1 of a vocabulary.

    A word is matched exactly first; a word found only with other casing ("Movie" for the
    lowercased "movie") fills the row when no exact match exists.

    Args:
        path: the vector file.
        word_index: token -> id (``Vocabulary.word_index``); ids >= input_dim are ignored.
        input_dim: the Embedding's input_dim (the vocabulary size).
        format: one of VECTOR_FORMATS or "auto".
        dim: the expected dimension; a file with another raises a DataError.
        oov_token: not counted as a word that could be found.
        seed: for the random rows of words without a vector.
    """
    path = Path(path)
    if format == "auto":
        format = detect_format(path)
    if format not in VECTOR_FORMATS:
        raise DataError(f"unknown vector format {format!r} ({', '.join(VECTOR_FORMATS)})", path)
    file_dim = vector_dim(path, format)
    if dim is not None and dim != file_dim:
        raise DataError(f"the vectors have {file_dim} dimensions but the embedding has {dim}: "
                        f"set the embedding dimension to {file_dim}", path)
    wanted_ids = {word: index for word, index in word_index.items()
                  if 0 < index < input_dim and word != oov_token}
    lower_ids: dict[str, int] = {}
    for word, index in wanted_ids.items():
        lower_ids.setdefault(word.lower(), index)
    vectors: dict[int, np.ndarray] = {}
    exact: set[int] = set()
    try:
        with open(path, "rb") as handle:
            if format == "word2vec-binary":
                for word, data in _iter_binary(handle, path, file_dim):
                    _keep(word, np.frombuffer(data, dtype="<f4"), wanted_ids, lower_ids,
                          vectors, exact)
            else:
                for word, fields, line in _iter_text(handle, path, file_dim,
                                                     skip_header=format == "word2vec"):
                    index = wanted_ids.get(word)
                    if index is None and (word.lower() not in lower_ids):
                        continue
                    try:
                        vector = np.array([float(f) for f in fields], dtype=np.float32)
                    except ValueError:
                        raise DataError("a vector value is not a number", path, line) from None
                    _keep(word, vector, wanted_ids, lower_ids, vectors, exact)
    except OSError as error:
        raise DataError(f"cannot read word vectors: {error}", path) from None

    rng = np.random.default_rng(seed)
    found_matrix = np.stack(list(vectors.values())) if vectors else None
    scale = float(found_matrix.std()) if found_matrix is not None else 0.05
    matrix = rng.normal(0.0, scale or 0.05, size=(input_dim, file_dim)).astype(np.float32)
    matrix[0] = 0.0
    for index, vector in vectors.items():
        matrix[index] = vector
    by_id = sorted(wanted_ids.items(), key=lambda item: item[1])
    missing = [word for word, index in by_id if index not in vectors][:10]
    return PretrainedVectors(matrix=matrix, dim=file_dim, found=len(vectors),
                             wanted=len(wanted_ids), format=format, path=str(path),
                             missing=missing)


def _keep(word, vector, wanted_ids, lower_ids, vectors, exact) -> None:
    index = wanted_ids.get(word)
    if index is not None:
        vectors[index] = vector
        exact.add(index)
        return
    index = lower_ids.get(word.lower())
    if index is not None and index not in exact and index not in vectors:
        vectors[index] = vector


def read_vectors(path: str | Path, *, limit: int | None = 200_000, format: str = "auto"
                 ) -> tuple[list[str], np.ndarray]:
    """(words, (n, dim) float32 matrix) of the first ``limit`` vectors of a file, in file
    order (word2vec files are sorted by frequency, so these are the commonest words).

    For browsing a vector file (``rnn-tui neighbors FILE WORD``), as gensim's
    ``KeyedVectors.load_word2vec_format(limit=...)``; the limit bounds the memory.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.txt"
    >>> _ = path.write_text("2 2\\ngood 1 0\\nbad 0 1\\n")
    >>> words, matrix = read_vectors(path)
    >>> words, matrix.tolist()
    (['good', 'bad'], [[1.0, 0.0], [0.0, 1.0]])
    """
    path = Path(path)
    if format == "auto":
        format = detect_format(path)
    if format not in VECTOR_FORMATS:
        raise DataError(f"unknown vector format {format!r} ({', '.join(VECTOR_FORMATS)})", path)
    dim = vector_dim(path, format)
    words: list[str] = []
    rows: list[np.ndarray] = []
    try:
        with open(path, "rb") as handle:
            if format == "word2vec-binary":
                pairs = ((word, np.frombuffer(data, dtype="<f4"))
                         for word, data in _iter_binary(handle, path, dim))
            else:
                pairs = _text_vectors(handle, path, dim, format == "word2vec")
            for word, vector in pairs:
                if limit is not None and len(words) >= limit:
                    break
                words.append(word)
                rows.append(vector)
    except OSError as error:
        raise DataError(f"cannot read word vectors: {error}", path) from None
    if not words:
        raise DataError("no vectors in the file", path)
    return words, np.stack(rows).astype(np.float32, copy=False)


def _text_vectors(handle: BinaryIO, path: Path, dim: int, skip_header: bool):
    for word, fields, line in _iter_text(handle, path, dim, skip_header):
        try:
            yield word, np.array([float(f) for f in fields], dtype=np.float32)
        except ValueError:
            raise DataError("a vector value is not a number", path, line) from None
