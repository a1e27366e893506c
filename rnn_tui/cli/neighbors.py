"""``rnn-tui neighbors MODEL WORD``: the nearest words by cosine in a model's trained embedding.

The learned counterpart of gensim's ``most_similar``. NumPy only: the embedding matrix comes
from the version's runtime.npz (the ``embedding`` node), or else from the weights inside
model.keras (read with h5py, no TensorFlow).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from collections.abc import Callable
from typing import Any

import click
import numpy as np

from rnn_tui.errors import DataError, UserError
from rnn_tui.terminal import escape, json_text
from rnn_tui.text.features import TOKENS

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _snake(name: str) -> str:
    """Keras' ``to_snake_case`` (how .keras archives name their weight groups)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def embedding_from_runtime(version: Any, stream: str = TOKENS
                           ) -> tuple[str, np.ndarray] | None:
    """(layer name, matrix) of the embedding that the input ``stream`` feeds, or None.

    Only embeddings wider than one column count: a one-wide embedding is a linear n-gram
    channel (one weight per id), not a word vector. A graph whose one input is not named
    after a stream (an imported model) is read as the tokens.
    """
    if not version.has_file("runtime.npz"):
        return None
    from rnn_tui.infer.format import read_runtime

    graph, weights = read_runtime(version.file("runtime.npz"))
    inputs = graph.get("inputs") or []
    tensors = {entry.get("tensor") for entry in inputs if entry.get("name") == stream}
    if not tensors and stream == TOKENS and len(inputs) == 1:
        tensors = {inputs[0].get("tensor")}
    for node in graph["nodes"]:
        if node.get("op") != "embedding" or not set(node.get("inputs") or []) & tensors:
            continue
        matrix = weights[node["weights"]["embeddings"]]
        if matrix.ndim == 2 and matrix.shape[1] > 1:
            return node.get("name", "embedding"), matrix
    return None


def _input_names(layer: dict[str, Any]) -> set[str]:
    """The names of the layers whose outputs ``layer`` reads (from its Keras config)."""
    names: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            history = (value.get("config") or {}).get("keras_history") \
                if value.get("class_name") == "__keras_tensor__" else None
            if isinstance(history, list) and history:
                names.add(str(history[0]))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(layer.get("inbound_nodes") or [])
    return names


def embedding_from_keras_file(version: Any, stream: str = TOKENS
                              ) -> tuple[str, np.ndarray] | None:
    """(layer name, matrix) of the Embedding stored in model.keras that the input ``stream``
    feeds (wider than one column), or None.

    A .keras file is a zip with config.json and model.weights.h5; the weight groups are named
    after the layer classes in the order of the model's layers (``layers/embedding``). A
    Sequential model, or a functional one with one input not named after a stream, is read
    as the tokens.
    """
    import h5py

    path = version.file("model.keras")
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            weights_bytes = archive.read("model.weights.h5")
    except (OSError, KeyError, zipfile.BadZipFile, ValueError) as error:
        raise DataError(f"cannot read the Keras file: {error}", path) from None
    layers = (config.get("config") or {}).get("layers") or []
    input_layers = [(layer.get("config") or {}).get("name") for layer in layers
                    if layer.get("class_name") == "InputLayer"]
    if stream in input_layers:
        sources = {stream}
    elif stream == TOKENS and len(input_layers) <= 1:
        sources = set(input_layers)  # one input, or a Sequential model (no InputLayer listed)
    else:
        return None
    used: dict[str, int] = {}
    for layer in layers:
        base = _snake(layer.get("class_name", ""))
        if base in used:
            used[base] += 1
            group = f"{base}_{used[base]}"
        else:
            used[base] = 0
            group = base
        if layer.get("class_name") != "Embedding":
            continue
        reads = _input_names(layer)
        if not (reads & sources or (len(input_layers) <= 1 and not reads)):
            continue
        if int((layer.get("config") or {}).get("output_dim") or 2) <= 1:
            continue
        with h5py.File(io.BytesIO(weights_bytes), "r") as weights:
            dataset = weights.get(f"layers/{group}/vars/0")
            if dataset is None:
                raise DataError(f"no weights for layer {group} in model.keras", path)
            return (layer.get("config") or {}).get("name", group), np.asarray(dataset)
    return None


class WordSpace:
    """Words and their unit vectors (a model's embedding or a vector file), searchable by
    cosine: ``nearest`` for one word, ``analogy`` for ``a - b + c``.

    Args:
        matrix: one row per id.
        names: id -> word (the ids that can be answers or asked about).
        lookup: word as typed -> (the word as stored, its id); raises UserError if absent.
        skip: ids never given as answers (padding, the OOV token).
    """

    def __init__(self, matrix: np.ndarray, names: dict[int, str],
                 lookup: Callable[[str], tuple[str, int]], skip: set[int] = frozenset()):
        norms = np.linalg.norm(matrix, axis=1)
        norms[norms == 0] = 1.0
        self.unit = matrix / norms[:, None]
        self.names = names
        self.lookup = lookup
        self.skip = {i for i in skip if i < len(matrix)}
        self.other_streams: list[str] = []  # a model's other inputs, named in hints

    def rank(self, query: np.ndarray, excluded: set[int], k: int) -> list[tuple[str, float]]:
        similarity = self.unit @ query
        similarity[list(self.skip | {i for i in excluded if i < len(similarity)})] = -np.inf
        order = np.argsort(-similarity)[:k]
        return [(self.names.get(int(i), f"#{int(i)}"), float(similarity[i]))
                for i in order if np.isfinite(similarity[i])]

    def nearest(self, word: str, k: int = 10) -> tuple[str, list[tuple[str, float]]]:
        token, index = self.lookup(word)
        return token, self.rank(self.unit[index], {index}, k)

    def analogy(self, expression: str, k: int = 10) -> tuple[str, list[tuple[str, float]]]:
        """``"king - man + woman"``: the words nearest to the sum of the terms' unit vectors
        with their signs (gensim's ``most_similar(positive, negative)``); the terms
        themselves are not answers."""
        terms = analogy_terms(expression)
        query = np.zeros(self.unit.shape[1], dtype=np.float64)
        used, shown = set(), []
        for sign, word in terms:
            token, index = self.lookup(word)
            query += sign * self.unit[index]
            used.add(index)
            shown.append(("- " if sign < 0 else "+ ") + token)
        norm = np.linalg.norm(query)
        if norm == 0:
            raise UserError(f"{expression!r} adds up to the zero vector")
        text = " ".join(shown)
        return (text[2:] if text.startswith("+ ") else text), self.rank(query / norm, used, k)


def analogy_terms(expression: str) -> list[tuple[int, str]]:
    """(sign, word) of ``"a - b + c"`` (operators stand alone, between spaces).

    >>> analogy_terms("king - man + woman")
    [(1, 'king'), (-1, 'man'), (1, 'woman')]
    """
    terms: list[tuple[int, str]] = []
    sign = None
    for part in expression.split():
        if part in ("+", "-"):
            if sign is not None or (not terms and part == "+"):
                raise UserError(f"--analogy {expression!r}: an operator without a word")
            sign = -1 if part == "-" else 1
            continue
        if terms and sign is None:
            raise UserError(f"--analogy {expression!r}: put + or - between the words")
        terms.append((sign or 1, part))
        sign = None
    if sign is not None or len(terms) < 2:
        raise UserError(f"--analogy {expression!r}: give words joined by + and -, such as "
                        "'king - man + woman'")
    return terms


def model_space(matrix: np.ndarray, vocabulary: Any) -> WordSpace:
    """A model's embedding: words go through the vocabulary's own tokenizer (lowercasing,
    cleaning, cutting); with an n-gram vocabulary a word may be up to n tokens, and its last
    n-gram is looked up. Padding, the OOV token and ids beyond the embedding (or beyond
    ``num_words``) are never neighbours."""
    usable = matrix.shape[0]
    if vocabulary.num_words:
        usable = min(usable, vocabulary.num_words)
    n = vocabulary.ngram or 1

    def lookup(word: str) -> tuple[str, int]:
        tokens = vocabulary.tokenize(word)
        # An n-gram vocabulary reads the n-gram ending at each token: the word's last one
        # (fewer than n tokens are padded with <s>, as at the start of a text).
        if not tokens or len(tokens) > n:
            what = "one word" if n == 1 else f"at most {n} tokens (the n-gram)"
            raise UserError(f"{word!r} is {len(tokens)} tokens for this vocabulary "
                            f"({' '.join(tokens) or 'none'}); give {what}")
        token = tokens[-1]
        index = vocabulary.word_index.get(token)
        if index is None or index >= usable or token == vocabulary.oov_token:
            raise UserError(f"{token!r} is not in the model's vocabulary (it would be read as "
                            "out-of-vocabulary)")
        return token, index

    skip = {0} | ({vocabulary.oov_index} if vocabulary.oov_index is not None else set())
    names = {index: word for word, index in vocabulary.word_index.items() if index < usable}
    return WordSpace(matrix[:usable], names, lookup, skip)


def file_space(words: list[str], matrix: np.ndarray) -> WordSpace:
    """A vector file's words: looked up as given, else lowercased (first match wins)."""
    index = {}
    lowered = {}
    for number, word in enumerate(words):
        index.setdefault(word, number)
        lowered.setdefault(word.lower(), number)

    def lookup(word: str) -> tuple[str, int]:
        found = index.get(word)
        if found is None:
            found = lowered.get(word.lower())
        if found is None:
            raise UserError(f"{word!r} is not among the file's {len(words):,} words read")
        return words[found], found

    return WordSpace(matrix, dict(enumerate(words)), lookup)


def nearest_words(matrix: np.ndarray, vocabulary: Any, word: str, k: int = 10
                  ) -> tuple[str, list[tuple[str, float]]]:
    """(the token looked up, [(word, cosine similarity)...]) for the k nearest words in a
    model's embedding (see ``model_space``)."""
    return model_space(matrix, vocabulary).nearest(word, k)


@click.command("neighbors", context_settings=CONTEXT_SETTINGS)
@click.argument("model", metavar="MODEL_OR_VECTORS")
@click.argument("word", required=False)
@click.option("-k", "k", type=int, default=10, show_default=True, help="How many neighbours.")
@click.option("--analogy", metavar="'A - B + C'",
              help="Words nearest to A - B + C (gensim's most_similar with positive and "
                   "negative words), instead of WORD.")
@click.option("--stream", default=TOKENS, show_default=True, metavar="NAME",
              help="Which input's embedding: tokens, or an n-gram stream (ngrams2, ...) of a "
                   "model with n-gram features; WORD is then up to n tokens.")
@click.option("--limit", type=click.IntRange(min=1), default=200_000, show_default=True,
              help="Vector files: read only the first N words (the commonest, in word2vec "
                   "files).")
@click.option("--json", "as_json", is_flag=True, help="The neighbours as JSON.")
def neighbors(model: str, word: str | None, k: int, analogy: str | None, stream: str,
              limit: int, as_json: bool) -> None:
    """Nearest words to WORD by cosine similarity in MODEL's trained embedding, or in a
    word-vector file (word2vec text or binary, GloVe).

    \b
      rnn-tui neighbors imdb-sentiment great
      rnn-tui neighbors nsmc-sentiment 좋 -k 20
      rnn-tui neighbors nsmc-sentiment 재미 --stream ngrams2
      rnn-tui neighbors imdb-sentiment --analogy "great - good + bad"
      rnn-tui neighbors GoogleNews-vectors.bin --analogy "king - man + woman"
    """
    if k < 1:
        raise UserError(f"-k must be at least 1, not {k}")
    if (word is None) == (analogy is None):
        raise UserError("give a WORD or --analogy 'A - B + C' (one of them)")
    path = Path(model).expanduser()
    if path.is_file():
        from rnn_tui.nets.vectors import read_vectors

        if stream != TOKENS:
            raise UserError("--stream picks a model's input; a vector file has one table")
        words, matrix = read_vectors(path, limit=limit)
        space, source, layer = file_space(words, matrix), path.name, "vectors"
    else:
        space, source, layer, matrix = _model_space(model, stream)
    token, neighbours = space.analogy(analogy, k) if analogy is not None \
        else _nearest(space, word, k, source, stream)
    if as_json:
        click.echo(json_text({"ref": source, "word": token, "stream": stream,
                              "layer": layer, "neighbors": [{"word": w, "similarity": s}
                                                            for w, s in neighbours]}))
        return
    click.echo(f"nearest to {escape(repr(token))} in {escape(source)} ({escape(layer)}, "
               f"{matrix.shape[1]} dims):")
    from rich.cells import cell_len  # Hangul takes two columns: pad by width, not length

    width = max((cell_len(escape(w)) for w, _ in neighbours), default=4)
    for rank, (neighbour, similarity) in enumerate(neighbours, start=1):
        shown = escape(neighbour)
        padding = " " * (width - cell_len(shown))
        click.echo(f"{rank:>3}. {shown}{padding}  {similarity:+.3f}")


def _model_space(model: str, stream: str) -> tuple[WordSpace, str, str, np.ndarray]:
    """(space, ref, layer name, matrix) of a registry model's embedding for ``stream``."""
    from rnn_tui.registry import open_registries
    from rnn_tui.text.features import TextFeatures

    version = open_registries().resolve(model)
    section = version.card.get("input") or {}
    if section.get("kind") == "sequence" or not version.has_file("vocabulary.json"):
        raise UserError(f"{version.ref} reads numeric sequences: it has no word embedding")
    features = TextFeatures.load(version.path, section.get("features"))
    streams = {item.name: item for item in features.streams}
    if stream not in streams:
        raise UserError(f"{version.ref} has no input stream {escape(stream)!r} "
                        f"(it has {', '.join(streams)})")
    found = embedding_from_runtime(version, stream) or embedding_from_keras_file(version, stream)
    if found is None:
        raise UserError(f"{version.ref} has no Embedding layer reading {stream}")
    layer, matrix = found
    if layer == "one_hot":
        raise UserError(f"{version.ref} reads one-hot tokens: there is no learned embedding "
                        "to search")
    space = model_space(matrix, streams[stream].vocabulary)
    space.other_streams = [name for name in streams if name != stream]
    return space, version.ref, layer, matrix


def _nearest(space: WordSpace, word: str, k: int, source: str, stream: str
             ) -> tuple[str, list[tuple[str, float]]]:
    try:
        return space.nearest(word, k)
    except UserError as error:
        others = space.other_streams
        if stream == TOKENS and others and "tokens for this vocabulary" in str(error):
            raise UserError(f"{error}, or look up an n-gram with --stream "
                            f"{' / '.join(others)}") from None
        raise
