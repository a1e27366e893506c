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
from rnn_tui.terminal import escape

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _snake(name: str) -> str:
    """Keras' ``to_snake_case`` (how .keras archives name their weight groups)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def embedding_from_runtime(version: Any) -> tuple[str, np.ndarray] | None:
    """(layer name, matrix) of the first embedding node of runtime.npz, or None."""
    if not version.has_file("runtime.npz"):
        return None
    from rnn_tui.infer.format import read_runtime

    graph, weights = read_runtime(version.file("runtime.npz"))
    for node in graph["nodes"]:
        if node.get("op") == "embedding":
            return node.get("name", "embedding"), weights[node["weights"]["embeddings"]]
    return None


def embedding_from_keras_file(version: Any) -> tuple[str, np.ndarray] | None:
    """(layer name, matrix) of the first Embedding layer stored in model.keras, or None.

    A .keras file is a zip with config.json and model.weights.h5; the weight groups are named
    after the layer classes in the order of the model's layers (``layers/embedding``).
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
    used: dict[str, int] = {}
    for layer in layers:
        base = _snake(layer.get("class_name", ""))
        if base in used:
            used[base] += 1
            group = f"{base}_{used[base]}"
        else:
            used[base] = 0
            group = base
        if layer.get("class_name") == "Embedding":
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
    padding, the OOV token and ids beyond the embedding are never neighbours.
    """
    tokens = vocabulary.tokenize(word)
    if len(tokens) != 1:
        raise UserError(f"{word!r} is {len(tokens)} tokens for this vocabulary "
                        f"({' '.join(tokens) or 'none'}); give one word")
    token = tokens[0]
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
@click.option("--json", "as_json", is_flag=True, help="The neighbours as JSON.")
def neighbors(model: str, word: str, k: int, as_json: bool) -> None:
    """Nearest words to WORD by cosine similarity in MODEL's trained embedding.

    \b
      rnn-tui neighbors imdb-lstm great
      rnn-tui neighbors nsmc-lstm 재미 -k 20
    """
    from rnn_tui.registry import open_registries
    from rnn_tui.text import Vocabulary

    if k < 1:
        raise UserError(f"-k must be at least 1, not {k}")
    version = open_registries().resolve(model)
    if (version.card.get("input") or {}).get("kind") == "sequence" \
            or not version.has_file("vocabulary.json"):
        raise UserError(f"{version.ref} reads numeric sequences: it has no word embedding")
    found = embedding_from_runtime(version) or embedding_from_keras_file(version)
    if found is None:
        raise UserError(f"{version.ref} has no Embedding layer")
    layer, matrix = found
    if layer == "one_hot":
        raise UserError(f"{version.ref} reads one-hot tokens: there is no learned embedding "
                        "to search")
    vocabulary = Vocabulary.load(version.file("vocabulary.json"))
    token, neighbours = nearest_words(matrix, vocabulary, word, k)
    if as_json:
        click.echo(json.dumps({"ref": version.ref, "word": token, "layer": layer,
                               "neighbors": [{"word": w, "similarity": s}
                                             for w, s in neighbours]},
                              ensure_ascii=False, indent=2))
        return
    click.echo(f"nearest to {escape(repr(token))} in {version.ref} ({layer}, "
               f"{matrix.shape[1]} dims):")
    from rich.cells import cell_len  # Hangul takes two columns: pad by width, not length

    # the words come from the model's vocabulary file: escaped
    neighbours = [(escape(word), similarity) for word, similarity in neighbours]
    width = max((cell_len(w) for w, _ in neighbours), default=4)
    for rank, (neighbour, similarity) in enumerate(neighbours, start=1):
        padding = " " * (width - cell_len(neighbour))
        click.echo(f"{rank:>3}. {neighbour}{padding}  {similarity:+.3f}")
