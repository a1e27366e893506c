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
from typing import Any

import click
import numpy as np

from rnn_tui.errors import DataError, UserError
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


def nearest_words(matrix: np.ndarray, vocabulary: Any, word: str, k: int = 10
                  ) -> tuple[str, list[tuple[str, float]]]:
    """(the token looked up, [(word, cosine similarity)...]) for the k nearest words.

    The word goes through the vocabulary's own tokenizer (lowercasing, cleaning, cutting);
    with an n-gram vocabulary it may be up to n tokens, and its last n-gram is looked up;
    padding, the OOV token and ids beyond the embedding are never neighbours.
    """
    tokens = vocabulary.tokenize(word)
    n = vocabulary.ngram or 1
    # An n-gram vocabulary reads the n-gram ending at each token: the word's last one
    # (fewer than n tokens are padded with <s>, as at the start of a text).
    if not tokens or len(tokens) > n:
        what = "one word" if n == 1 else f"at most {n} tokens (the n-gram)"
        raise UserError(f"{word!r} is {len(tokens)} tokens for this vocabulary "
                        f"({' '.join(tokens) or 'none'}); give {what}")
    token = tokens[-1]
    index = vocabulary.word_index.get(token)
    usable = matrix.shape[0]
    if vocabulary.num_words:
        usable = min(usable, vocabulary.num_words)
    if index is None or index >= usable or token == vocabulary.oov_token:
        raise UserError(f"{token!r} is not in the model's vocabulary (it would be read as "
                        "out-of-vocabulary)")
    norms = np.linalg.norm(matrix[:usable], axis=1)
    norms[norms == 0] = 1.0
    unit = matrix[:usable] / norms[:, None]
    similarity = unit @ unit[index]
    excluded = {0, index}
    if vocabulary.oov_index is not None:
        excluded.add(vocabulary.oov_index)
    similarity[list(i for i in excluded if i < usable)] = -np.inf
    order = np.argsort(-similarity)[:k]
    index_word = vocabulary.index_word
    return token, [(index_word.get(int(i), f"#{int(i)}"), float(similarity[i]))
                   for i in order if np.isfinite(similarity[i])]


@click.command("neighbors", context_settings=CONTEXT_SETTINGS)
@click.argument("model")
@click.argument("word")
@click.option("-k", "k", type=int, default=10, show_default=True, help="How many neighbours.")
@click.option("--stream", default=TOKENS, show_default=True, metavar="NAME",
              help="Which input's embedding: tokens, or an n-gram stream (ngrams2, ...) of a "
                   "model with n-gram features; WORD is then up to n tokens.")
@click.option("--json", "as_json", is_flag=True, help="The neighbours as JSON.")
def neighbors(model: str, word: str, k: int, stream: str, as_json: bool) -> None:
    """Nearest words to WORD by cosine similarity in MODEL's trained embedding.

    \b
      rnn-tui neighbors imdb-sentiment great
      rnn-tui neighbors nsmc-sentiment 좋 -k 20
      rnn-tui neighbors nsmc-sentiment 재미 --stream ngrams2
    """
    from rnn_tui.registry import open_registries
    from rnn_tui.terminal import escape, json_text
    from rnn_tui.text.features import TextFeatures

    if k < 1:
        raise UserError(f"-k must be at least 1, not {k}")
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
    vocabulary = streams[stream].vocabulary
    try:
        token, neighbours = nearest_words(matrix, vocabulary, word, k)
    except UserError as error:
        others = [name for name in streams if name != stream]
        if stream == TOKENS and others and "tokens for this vocabulary" in str(error):
            raise UserError(f"{error}, or look up an n-gram with --stream "
                            f"{' / '.join(others)}") from None
        raise
    if as_json:
        click.echo(json_text({"ref": version.ref, "word": token, "stream": stream,
                              "layer": layer, "neighbors": [{"word": w, "similarity": s}
                                                            for w, s in neighbours]}))
        return
    click.echo(f"nearest to {escape(repr(token))} in {version.ref} ({layer}, "
               f"{matrix.shape[1]} dims):")
    from rich.cells import cell_len  # Hangul takes two columns: pad by width, not length

    width = max((cell_len(escape(w)) for w, _ in neighbours), default=4)
    for rank, (neighbour, similarity) in enumerate(neighbours, start=1):
        shown = escape(neighbour)
        padding = " " * (width - cell_len(shown))
        click.echo(f"{rank:>3}. {shown}{padding}  {similarity:+.3f}")
