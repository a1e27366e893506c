"""Helpers for the infer and predict tests: runtime graphs written directly (no TensorFlow),
and model versions (card + vocabulary + runtime.npz) published into a registry folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rnn_tui.infer.export import expected_masks
from rnn_tui.infer.format import FORMAT, FORMAT_VERSION, write_runtime
from rnn_tui.infer.runtime import Runtime

VOCABULARY = 30
GATES = {"simplernn": 1, "lstm": 4, "gru": 3}


class GraphBuilder:
    """Writes a runtime graph layer by layer, with random weights."""

    def __init__(self, maxlen: int | None, seed: int = 0, scale: float = 0.6,
                 vocabulary: int = VOCABULARY):
        self.rng = np.random.default_rng(seed)
        self.scale = scale
        self.vocabulary = vocabulary
        self.nodes: list[dict] = []
        self.weights: dict[str, np.ndarray] = {}
        self.maxlen = maxlen
        self.count = 0
        self.inputs = [("tokens", "t0")]  # (name, tensor) per input stream

    def _random(self, *shape):
        return self.rng.normal(0, self.scale, shape).astype(np.float32)

    def add(self, op, inputs, config=None, weights=None):
        self.count += 1
        name = f"{op}_{self.count}"
        output = f"t{self.count}"
        keys = {}
        for role, array in (weights or {}).items():
            keys[role] = f"{name}/{role}"
            self.weights[keys[role]] = array
        self.nodes.append({"name": name, "op": op, "inputs": list(inputs), "output": output,
                           "config": config or {}, "weights": keys})
        return output

    def embedding(self, dim=6, mask_zero=True, stream="t0", vocabulary=None):
        return self.add("embedding", [stream], {"mask_zero": mask_zero},
                        {"embeddings": self._random(vocabulary or self.vocabulary, dim)})

    def stream(self, name):
        """Another input stream (n-gram ids), read by its own embedding."""
        tensor = f"s{len(self.inputs)}"
        self.inputs.append((name, tensor))
        return tensor

    def rnn(self, tensor, width, cell="lstm", units=5, sequences=True, states=False,
            **options):
        gates = GATES[cell]
        weights = {"kernel": self._random(width, gates * units),
                   "recurrent_kernel": self._random(units, gates * units)}
        weights["bias"] = self._random(2, 3 * units) if cell == "gru" else \
            self._random(gates * units)
        config = {"cell": cell, "units": units, "activation": "tanh",
                  "recurrent_activation": "sigmoid", "return_sequences": sequences,
                  "go_backwards": False, **options}
        output = self.add("rnn", [tensor], config, weights)
        if not states:
            return output
        config["return_state"] = True
        names = [f"{output}_state{k}" for k in range(2 if cell == "lstm" else 1)]
        self.nodes[-1]["states"] = names
        return output, names

    def dense(self, tensor, width, units, activation="linear"):
        return self.add("dense", [tensor], {"units": units, "activation": activation},
                        {"kernel": self._random(width, units), "bias": self._random(units)})

    def graph(self, output, input_dtype="int32", channels=None) -> dict[str, Any]:
        shape = [None, self.maxlen] + ([channels] if channels else [])
        graph = {"format": FORMAT, "format_version": FORMAT_VERSION, "dtype": "float32",
                 "inputs": [{"name": name, "tensor": tensor, "dtype": input_dtype,
                             "shape": shape} for name, tensor in self.inputs],
                 "outputs": [output], "nodes": self.nodes}
        masks = expected_masks(graph)
        for node in self.nodes:
            node["mask"] = masks[node["output"]]
        return graph

    def runtime(self, output) -> Runtime:
        return Runtime(self.graph(output), self.weights)

    def write(self, output, path: Path) -> None:
        write_runtime(path, self.graph(output), self.weights)


def pooled_lstm(maxlen=10, mask_zero=True, cell="lstm", seed=0, scale=0.6, *, vocabulary=VOCABULARY,
                units=1, head="sigmoid", write_to: Path | None = None):
    """Embedding + RNN(seq) + [max, mean] + Dense(sigmoid): the shipped models' shape.

    With ``write_to``, the graph is written there as runtime.npz and the runtime returned.
    """
    builder = GraphBuilder(maxlen, seed, scale, vocabulary)
    x = builder.embedding(6, mask_zero)
    x = builder.rnn(x, 6, cell, 5)
    pooled = [builder.add("global_max_pooling1d", [x]),
              builder.add("global_average_pooling1d", [x])]
    x = builder.add("concatenate", pooled, {"axis": -1})
    output = builder.dense(x, 10, units, head)
    if write_to is not None:
        builder.write(output, write_to)
    return builder.runtime(output)


NGRAM_VOCABULARY = 50


def ngram_last_state(maxlen=10, mask_zero=True, cell="gru", seed=4, units=1, head="sigmoid",
                     scale=0.6, write_to: Path | None = None):
    """The research model's shape: tokens and bigram ids, their embeddings concatenated,
    RNN(seq + state) -> [max, mean, last state] -> Dense."""
    builder = GraphBuilder(maxlen, seed, scale)
    words = builder.embedding(6, mask_zero)
    bigrams = builder.embedding(3, mask_zero, builder.stream("ngrams2"), NGRAM_VOCABULARY)
    x = builder.add("concatenate", [words, bigrams], {"axis": -1})
    x = builder.add("identity", [x], {"layer": "SpatialDropout1D"})
    x, states = builder.rnn(x, 9, cell, 5, states=True)
    pooled = [builder.add("global_max_pooling1d", [x]),
              builder.add("global_average_pooling1d", [x]), *states]
    x = builder.add("concatenate", pooled, {"axis": -1})
    output = builder.dense(x, 10 + 5 * len(states), units, head)
    if write_to is not None:
        builder.write(output, write_to)
    return builder.runtime(output)


def with_bigrams(ids: list[int]) -> np.ndarray:
    """Token ids -> (tokens, 2) ids with a bigram id that depends on (previous, this) token
    only, as a bigram vocabulary's would ("<s>" before the first)."""
    ids = [int(i) for i in ids]
    previous = [0, *ids[:-1]]
    bigram = [(p * 7 + t) % (NGRAM_VOCABULARY - 1) + 1 for p, t in zip(previous, ids)]
    return np.array([ids, bigram], np.int64).T.reshape(-1, 2)


def stacked_mixed(maxlen=10, mask_zero=True, seed=1):
    """Embedding -> Dense on the sequence -> GRU -> SimpleRNN(final) plus a max over the
    embeddings themselves (a pooling that sees the pad rows) -> softmax over 3."""
    builder = GraphBuilder(maxlen, seed)
    embedded = builder.embedding(6, mask_zero)
    projected = builder.dense(embedded, 6, 4, "tanh")
    joined = builder.add("concatenate", [embedded, projected], {"axis": -1})
    x = builder.rnn(joined, 10, "gru", 5)
    x = builder.add("activation", [x], {"activation": "relu"})
    final = builder.rnn(x, 5, "simplernn", 4, sequences=False)
    embedding_max = builder.add("global_max_pooling1d", [embedded])
    x = builder.add("concatenate", [final, embedding_max], {"axis": -1})
    x = builder.add("identity", [x], {"layer": "Dropout"})
    return builder.runtime(builder.dense(x, 10, 3, "softmax"))


def bidirectional(maxlen=10, write_to: Path | None = None):
    builder = GraphBuilder(maxlen, 2)
    x = builder.embedding(6, True)
    weights = {}
    for half in ("forward", "backward"):
        weights[f"{half}/kernel"] = builder._random(6, 16)
        weights[f"{half}/recurrent_kernel"] = builder._random(4, 16)
        weights[f"{half}/bias"] = builder._random(16)
    config = {"cell": "lstm", "units": 4, "return_sequences": False}
    x = builder.add("bidirectional", [x], {
        "merge_mode": "concat", "forward": dict(config, go_backwards=False),
        "backward": dict(config, go_backwards=True)}, weights)
    output = builder.dense(x, 8, 1, "sigmoid")
    if write_to is not None:
        builder.write(output, write_to)
    return builder.runtime(output)




ENGLISH = ["a wonderful moving film", "the worst film i have seen", "great acting great story",
           "dull and slow avoid it", "not worth the ticket", "i enjoyed every minute of it"]
KOREAN = ["재미있을 줄 알았는데 완전 실망했다", "너무 졸리고 돈이 아까웠다", "최고의 영화",
          "배우들 연기가 좋았다"]


def make_vocabulary(texts=None, **options):
    """A small word vocabulary (OOV id 1) fitted on English and Korean reviews."""
    from rnn_tui.text import Vocabulary

    options.setdefault("num_words", VOCABULARY)
    options.setdefault("oov_token", "<OOV>")
    return Vocabulary(**options).fit(texts or ENGLISH + KOREAN)


def text_input(maxlen=10, padding="post", truncating="pre") -> dict[str, Any]:
    return {"kind": "text", "maxlen": maxlen, "padding": padding, "truncating": truncating}


def publish_version(root: Path, name: str, write_runtime_file, *, vocabulary=None,
                    task="binary", labels=("negative", "positive"), language="en",
                    model_input=None, extra_card=None):
    """Publish a version into the registry at ``root`` (the real Registry code path)."""
    from rnn_tui.registry import Registry

    def build(folder: Path) -> dict[str, Any]:
        write_runtime_file(folder / "runtime.npz")
        if vocabulary is not None:
            vocabulary.save(folder / "vocabulary.json")
        card = {"task": task, "labels": list(labels), "language": language,
                "input": model_input or text_input()}
        card.update(extra_card or {})
        return card

    return Registry(root).publish(name, build)


def publish_sentiment_pair(root: Path, *, maxlen=10) -> dict[str, Any]:
    """imdb-sentiment (English) and nsmc-sentiment (Korean, 2-way softmax) in ``root``."""
    vocabulary = make_vocabulary()
    english = publish_version(
        root, "imdb-sentiment",
        lambda path: pooled_lstm(maxlen, True, write_to=path, vocabulary=VOCABULARY),
        vocabulary=vocabulary, model_input=text_input(maxlen, "post", "pre"))
    korean = publish_version(
        root, "nsmc-sentiment",
        lambda path: pooled_lstm(maxlen, False, cell="gru", seed=3, units=2, head="softmax",
                                 write_to=path),
        vocabulary=vocabulary, language="ko", model_input=text_input(maxlen, "pre", "pre"))
    return {"vocabulary": vocabulary, "imdb": english, "nsmc": korean}
