"""Texts -> probabilities with a registry model, without TensorFlow: batches, live sessions,
word-by-word traces.

The ``Predictor`` joins the three files of a model version: the card (labels, task, how the
ids are padded and cut), the vocabulary (the same tokenizer and ids as in training) and the
runtime (``runtime.npz``, evaluated with NumPy by ``rnn_tui.infer.runtime``). A model with
n-gram features has one vocabulary per stream (the card's ``input.features``); its ids are
then (tokens, streams) arrays, one row per token, and everything below works the same.

>>> predictor = Predictor.load("imdb-sentiment")                         # doctest: +SKIP
>>> predictor.predict(["a wonderful, moving film"])                      # doctest: +SKIP
array([[0.03, 0.97]], dtype=float32)
>>> session = predictor.session()                                        # doctest: +SKIP
>>> session.update("a wonderful")                                        # doctest: +SKIP
>>> [(token, p.round(2)) for token, p in session.trace("not bad at all")]  # doctest: +SKIP
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnn_tui.errors import DataError
from rnn_tui.infer.format import RUNTIME_FILE
from rnn_tui.infer.runtime import Runtime
from rnn_tui.infer.streaming import IdStream, RecomputeStream, make_stream, streaming_support

# Texts longer than this many characters per kept token are cut before tokenizing (the
# model sees at most maxlen tokens; see Predictor.text_ids).
LONG_TEXT_CHARS_PER_TOKEN = 40
WINDOW_MARGIN_TOKENS = 16
TRACE_LIMIT = 10_000


@dataclass(frozen=True)
class InputSpec:
    """How a model reads its input (the card's ``input`` section)."""

    kind: str = "text"  # "text" or "sequence"
    maxlen: int | None = None
    padding: str = "pre"
    truncating: str = "pre"
    timesteps: int | None = None
    channels: int | None = None

    @classmethod
    def from_card(cls, card: dict[str, Any]) -> InputSpec:
        section = card.get("input") or {}
        kind = section.get("kind", "text")
        padding = section.get("padding", "pre")
        truncating = section.get("truncating", "pre")
        if padding not in ("pre", "post") or truncating not in ("pre", "post"):
            raise ValueError(f"input padding/truncating must be pre or post, not "
                             f"{padding!r}/{truncating!r}")
        return cls(kind, section.get("maxlen"), padding, truncating,
                   section.get("timesteps"), section.get("channels"))


def _check_sha256(path: Path, expected: Any) -> None:
    """A DataError naming ``path`` when it exists and differs from the card's sha256."""
    if not isinstance(expected, str) or not path.is_file():
        return  # no record to check against, or missing (reported where it is read)
    from rnn_tui.registry.card import sha256_file

    if sha256_file(path) != expected:
        raise DataError("does not match the sha256 in the model's card: the file was changed "
                        "or damaged after publishing", path)


class Predictor:
    """A loaded model: ``predict`` for batches, ``session`` for live input and traces.

    Thread-safe for ``predict`` (no state kept between calls); each ``StreamingSession`` is
    for one thread at a time, and sessions are cheap to create.

    Args:
        runtime: the model's NumPy runtime.
        card: the model card (a dict as in card.json).
        vocabulary: the text model's ``rnn_tui.text.Vocabulary``, or its
            ``rnn_tui.text.features.TextFeatures`` (tokens and n-gram streams); None for
            sequence models.
        path: the version folder, for messages.
    """

    def __init__(self, runtime: Runtime, card: dict[str, Any], vocabulary: Any = None,
                 path: Path | None = None):
        from rnn_tui.text.features import TextFeatures

        self.runtime = runtime
        self.card = card
        self.features: TextFeatures | None = None
        if isinstance(vocabulary, TextFeatures):
            self.features, vocabulary = vocabulary, vocabulary.vocabulary
        elif vocabulary is not None:
            self.features = TextFeatures.single(vocabulary)
        self.vocabulary = vocabulary  # the tokens' vocabulary
        self.path = path
        self.input = InputSpec.from_card(card)
        self.task: str = card.get("task", "binary")
        self.name: str = card.get("name", path.parent.name if path else "model")
        self.version: int | None = card.get("version")
        self.language: str | None = card.get("language")
        if self.input.kind == "text" and vocabulary is None:
            raise DataError("a text model needs its vocabulary.json", path)
        if self.input.kind == "text" and runtime.input_kind != "ids":
            raise DataError("the card says text but the runtime reads numeric sequences", path)
        if self.features is not None and (
                self.features.count > 1 or runtime.stream_count > 1) and \
                self.features.names != runtime.stream_names:
            raise DataError(f"the model reads the streams {', '.join(runtime.stream_names)} "
                            f"but the card gives {', '.join(self.features.names)}", path)
        maxlen = self.input.maxlen
        if runtime.sequence_length is not None and maxlen not in (None, runtime.sequence_length):
            raise DataError(f"the card's maxlen {maxlen} differs from the runtime's "
                            f"{runtime.sequence_length} steps", path)
        if maxlen is None and self.input.kind == "text":
            self.input = InputSpec("text", runtime.sequence_length, self.input.padding,
                                   self.input.truncating)
        width = runtime.output_width
        self.sigmoid_binary = self.task == "binary" and width == 1
        self.num_classes = 2 if self.sigmoid_binary else width
        labels = list(card.get("labels") or [])
        if self.task == "regression":
            labels = labels or ["value"]
        elif len(labels) != self.num_classes:
            labels = [f"class {index}" for index in range(self.num_classes)]
        self.labels: list[str] = labels
        self.streamable, self.streaming_reason = streaming_support(runtime.graph)
        self._trim = self._can_trim()

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, model: Any) -> Predictor:
        """Load from a registry ``ModelVersion``, a version folder, or a reference
        (``name``, ``name:3``, ``name@best``) resolved in the user's and shipped registries.

        A plain reference is looked up in the registries first: a folder of the same name
        in the current directory does not hide the model (it is used only when no model has
        that name); ``./name``, ``/path/...`` or ``~/...`` always mean a folder.

        >>> Predictor.load("imdb-sentiment").labels                     # doctest: +SKIP
        ['negative', 'positive']
        """
        if isinstance(model, Path) or (isinstance(model, str) and (
                "/" in model or os.sep in model or model.startswith((".", "~")))):
            return cls.from_folder(Path(model).expanduser())
        if isinstance(model, str):
            from rnn_tui.errors import UserError
            from rnn_tui.registry import open_registries

            try:
                model = open_registries().resolve(model)
            except UserError:  # NotFoundError too: then a folder of that name will do
                if not Path(model).is_dir():
                    raise
                return cls.from_folder(Path(model))
        path = Path(model.path)
        return cls.from_folder(path, card=model.card)

    @classmethod
    def from_folder(cls, path: Path, card: dict[str, Any] | None = None) -> Predictor:
        """Load a version folder (card.json, runtime.npz, vocabulary.json).

        Symbolic links among them are refused (never followed out of the folder), and the
        runtime and vocabulary must match their sha256 in the card: a zip's CRCs catch
        damage but not a rewritten runtime.npz (other weights, valid CRCs, other verdicts),
        and JSON has no checksum of its own. (Hashing costs about 3 ms for a 6 MB runtime.)
        """
        path = Path(path)
        for name in ("card.json", RUNTIME_FILE, "vocabulary.json"):
            if (path / name).is_symlink():
                raise DataError(f"{name} is a symbolic link; refusing to follow it out of "
                                "the model's folder", path / name)
        if card is None:
            from rnn_tui.registry import read_card

            card = read_card(path / "card.json")
        runtime_path = path / RUNTIME_FILE
        if not runtime_path.is_file():
            name = card.get("name", path.parent.name)
            raise DataError(
                f"model {name} has no {RUNTIME_FILE}, so it cannot predict without TensorFlow; "
                f"publish it again with this rnn-tui (training and `rnn-tui models import` "
                f"write it)", path)
        _check_sha256(runtime_path, (card.get("files") or {}).get(RUNTIME_FILE))
        runtime = Runtime.load(runtime_path)
        vocabulary = None
        section = card.get("input") or {}
        kind = section.get("kind", "text")
        if kind == "text":
            from rnn_tui.text.features import TextFeatures, stream_file

            streams = section.get("features")
            files = [stream_file(1)] if not isinstance(streams, list) else \
                [entry.get("file") for entry in streams if isinstance(entry, dict)]
            for file in files:  # (TextFeatures.load checks the names themselves)
                if isinstance(file, str) and "/" not in file and "\\" not in file:
                    _check_sha256(path / file, (card.get("files") or {}).get(file))
            vocabulary = TextFeatures.load(path, streams)
        try:
            return cls(runtime, card, vocabulary, path)
        except ValueError as error:
            raise DataError(f"the card's input section is not usable: {error}",
                            path / "card.json") from None

    # ------------------------------------------------------------------ text -> ids
    def tokens(self, text: str) -> list[str]:
        """The vocabulary's tokens for a text (all of them; see ``text_ids`` for the cut)."""
        return self.vocabulary.tokenize(text)

    def _ids(self, tokens: Sequence[str]) -> Any:
        """Ids of tokens: a list, or (tokens, streams) with n-gram features."""
        return self.features.ids(tokens)

    def text_ids(self, text: str) -> Any:
        """The ids the model reads for a text, already cut to maxlen on the card's side: a
        list, or a (tokens, streams) array for a model with n-gram features.

        A very long text is not tokenized whole: only a window at the kept end, grown until
        it yields maxlen ids with a margin of tokens to spare at the cut (so the cut cannot
        change a kept token). Word, char and regex tokenizers are local, so this gives the
        same ids as tokenizing everything; at morpheme level Kiwi's sentence analysis could
        in principle differ near the cut, which the margin keeps away from the kept tokens.
        """
        maxlen = self.input.maxlen
        vocabulary = self.vocabulary
        if maxlen is None or len(text) <= maxlen * LONG_TEXT_CHARS_PER_TOKEN + 1000:
            return self._cut(self._ids(vocabulary.tokenize(text)))
        keep_start = self.input.truncating == "post"
        margin = WINDOW_MARGIN_TOKENS
        size = maxlen * 16 + 256
        while size < len(text):
            piece = text[:size] if keep_start else text[-size:]
            tokens = vocabulary.tokenize(piece)
            if len(tokens) > margin:
                if self.features.count == 1:
                    ids = self._ids(tokens[:-margin] if keep_start else tokens[margin:])
                else:  # n-grams of the kept tokens read the margin's tokens before them
                    every = self._ids(tokens)
                    ids = every[:-margin] if keep_start else every[margin:]
                if len(ids) >= maxlen:
                    return self._cut(ids)
            size *= 4
        return self._cut(self._ids(vocabulary.tokenize(text)))

    def _cut(self, ids: Any) -> Any:
        maxlen = self.input.maxlen
        if maxlen is None or len(ids) <= maxlen:
            return ids
        return ids[-maxlen:] if self.input.truncating == "pre" else ids[:maxlen]

    def texts_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """``text_ids`` for many texts (at morpheme level Kiwi tokenizes them as a batch)."""
        if self.vocabulary.level == "morpheme" and all(
                len(text) <= (self.input.maxlen or 10**9) * LONG_TEXT_CHARS_PER_TOKEN
                for text in texts):
            return [self._cut(self._ids(tokens))
                    for tokens in self.vocabulary.tokenize_many(list(texts))]
        return [self.text_ids(text) for text in texts]

    def pad(self, sequences: Sequence[Sequence[int]], width: int | None = None) -> np.ndarray:
        """Ids padded as in training (``pad_sequences`` with the card's settings)."""
        maxlen = self.input.maxlen
        if width is None:
            width = maxlen if maxlen is not None else max((len(s) for s in sequences), default=1)
        width = max(width, 1)
        streams = () if self.features is None or self.features.count == 1 \
            else (self.features.count,)
        rows = np.zeros((len(sequences), width, *streams), np.int64)
        for row, ids in enumerate(sequences):
            ids = ids[-width:] if self.input.truncating == "pre" else ids[:width]
            if not len(ids):
                continue
            if self.input.padding == "post":
                rows[row, : len(ids)] = ids
            else:
                rows[row, width - len(ids):] = ids
        return rows

    def _can_trim(self) -> bool:
        """Whether a batch may be padded only to its longest text + 1 instead of maxlen.

        Exact when the model is causal and every recurrent layer is masked: pads then only
        repeat the first pad's values (frozen states, the same pad embedding), and one pad
        column keeps them in every max.
        """
        if not self.streamable or self.input.kind != "text":
            return False
        recurrent = [node for node in self.runtime.nodes if node.op == "rnn"]
        masked_inputs = {node.name: node.keras_mask for node in self.runtime.nodes}
        by_output = {node.output: node for node in self.runtime.nodes}
        for node in recurrent:
            producer = by_output.get(node.inputs[0])
            if producer is None or not producer.keras_mask:
                return False
        pooled = [node for node in self.runtime.nodes if node.op in (
            "global_max_pooling1d", "global_average_pooling1d")]
        for node in pooled:
            producer = by_output.get(node.inputs[0])
            if producer is None or not masked_inputs.get(producer.name):
                return False
        return bool(recurrent or pooled)

    # ------------------------------------------------------------------ predicting
    def predict(self, texts: Iterable[str], *, batch_size: int = 128) -> np.ndarray:
        """Probabilities (n, classes) for texts (values (n, 1) for regression).

        >>> predictor.predict(["great", "awful"]).shape                 # doctest: +SKIP
        (2, 2)
        """
        parts = list(self.predict_chunks(texts, batch_size=batch_size))
        if not parts:
            return np.zeros((0, self.num_classes), np.float32)
        return np.concatenate(parts)

    def predict_chunks(self, texts: Iterable[str], *, chunk_size: int = 1024,
                       batch_size: int = 128) -> Iterator[np.ndarray]:
        """Probabilities chunk by chunk for any iterable of texts, in order, holding at most
        ``chunk_size`` texts at once (memory stays bounded however many there are)."""
        chunk: list[str] = []
        for text in texts:
            chunk.append(text)
            if len(chunk) >= chunk_size:
                yield self._predict_chunk(chunk, batch_size)
                chunk = []
        if chunk:
            yield self._predict_chunk(chunk, batch_size)

    def _predict_chunk(self, texts: list[str], batch_size: int) -> np.ndarray:
        return self.predict_ids(self.texts_ids(texts), batch_size=batch_size)

    def predict_ids(self, sequences: Sequence[Sequence[int]], *, batch_size: int = 128
                    ) -> np.ndarray:
        """Probabilities for id lists (unpadded, already cut): sorted by length and run in
        batches of similar lengths, so padding costs little."""
        count = len(sequences)
        if count == 0:
            return np.zeros((0, self.num_classes), np.float32)
        lengths = np.fromiter((len(s) for s in sequences), np.int64, count)
        order = np.argsort(-lengths, kind="stable")
        raw = np.empty((count, self.runtime.output_width), np.float32)
        for start in range(0, count, batch_size):
            rows = order[start: start + batch_size]
            batch = [sequences[i] for i in rows]
            width = None
            if self._trim or self.input.maxlen is None:
                longest = int(lengths[rows].max())
                width = longest + 1 if self.input.maxlen is None else min(
                    self.input.maxlen, longest + 1)
            padded = self.pad(batch, width)
            if self.input.maxlen is None:
                raw[rows] = self._run_unfixed(batch)
            else:
                raw[rows] = self.runtime.run(padded, exact_length=width is None)
        return self.probabilities(raw)

    def _run_unfixed(self, batch: list[Sequence[int]]) -> np.ndarray:
        """No fixed length: texts of equal length run together (padding would change an
        unmasked model's answer)."""
        out = np.empty((len(batch), self.runtime.output_width), np.float32)
        by_length: dict[int, list[int]] = {}
        for index, ids in enumerate(batch):
            by_length.setdefault(max(len(ids), 1), []).append(index)
        for length, indices in by_length.items():
            out[indices] = self.runtime.run(self.pad([batch[i] for i in indices], length),
                                            exact_length=False)
        return out

    def predict_sequences(self, features: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
        """Outputs for numeric sequences (n, timesteps, channels) of a sequence model."""
        raw = self.runtime.run(np.asarray(features, np.float32), chunk_rows=batch_size)
        return self.probabilities(raw)

    def probabilities(self, raw: np.ndarray) -> np.ndarray:
        """Raw model outputs -> one column per label (a sigmoid p becomes [1 - p, p])."""
        if self.sigmoid_binary:
            p = raw[:, 0]
            return np.stack([np.float32(1) - p, p], axis=1)
        return raw

    def top_k(self, probabilities: np.ndarray, k: int | None = None
              ) -> list[list[tuple[str, float]]]:
        """Per row, the k most probable labels with their probabilities, best first.

        >>> predictor.top_k(np.array([[0.1, 0.9]]), 1)                  # doctest: +SKIP
        [[('positive', 0.9)]]
        """
        probabilities = np.atleast_2d(probabilities)
        k = probabilities.shape[1] if k is None else max(1, min(k, probabilities.shape[1]))
        # NaN (a masked mean over no tokens, as Keras gives) sorts last; one argsort for
        # every row (a server ranks hundreds of rows per request)
        orders = np.argsort(np.where(np.isnan(probabilities), -np.inf, -probabilities),
                            axis=1, kind="stable")[:, :k].tolist()
        values = probabilities.tolist()
        labels = self.labels
        return [[(labels[i], row[i]) for i in order] for row, order in zip(values, orders)]

    def trace(self, text: str, limit: int = TRACE_LIMIT) -> list[tuple[str, np.ndarray]]:
        """The word-by-word trace of one text (see ``StreamingSession.trace``)."""
        return StreamingSession(self).trace(text, limit)

    def session(self) -> StreamingSession:
        """A live session (one per text box): ``update(text)`` as the text changes."""
        return StreamingSession(self)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "task": self.task,
                "labels": self.labels, "streamable": self.streamable,
                "streaming": self.streaming_reason, "maxlen": self.input.maxlen,
                "padding": self.input.padding, "truncating": self.input.truncating}


def by_words(steps: list[tuple[str, Any]], space_token: str) -> list[tuple[str, Any]]:
    """Character steps grouped into words at ``space_token``: (word, the prediction after
    its last character).

    >>> by_words([("재", 1), ("밌", 2), ("▁", 3), ("다", 4)], "▁")
    [('재밌', 2), ('다', 4)]
    """
    words: list[tuple[str, Any]] = []
    characters: list[str] = []
    last = None
    for token, probabilities in steps:
        if token == space_token:
            if characters:
                words.append(("".join(characters), last))
            characters = []
            continue
        characters.append(token)
        last = probabilities
    if characters:
        words.append(("".join(characters), last))
    return words


class StreamingSession:
    """Classify a text as it is typed; trace a text word by word.

    ``update(text)`` tokenizes the whole text (cheap) and diffs its ids against the last
    call's: only positions from the first changed token are computed (one recurrent step
    per changed token), for unidirectional models. Others recompute the text.

    Safe to share between threads one call at a time (a lock guards the state).

    >>> session = predictor.session()                                  # doctest: +SKIP
    >>> session.update("the film was").round(2)                        # doctest: +SKIP
    array([0.41, 0.59], dtype=float32)
    """

    def __init__(self, predictor: Predictor):
        self.predictor = predictor
        spec = predictor.input
        self._stream: IdStream | RecomputeStream = make_stream(
            predictor.runtime, maxlen=spec.maxlen, padding=spec.padding,
            truncating=spec.truncating)
        self._lock = threading.Lock()
        self.tokens: list[str] = []

    @property
    def streaming(self) -> bool:
        """True when updates compute only the changed tokens."""
        return self._stream.streaming

    @property
    def steps_computed(self) -> int:
        """Recurrent steps the last call computed (0 when nothing changed)."""
        return self._stream.steps_computed

    def update(self, text: str) -> np.ndarray:
        """Probabilities (classes,) for the text as it is now."""
        return self.update_ids(self.predictor.text_ids(text))

    def update_ids(self, ids: Any) -> np.ndarray:
        """``update`` for ids a caller already has (``predictor.text_ids(text)``)."""
        with self._lock:
            raw = self._stream.update(ids)
            return self.predictor.probabilities(raw[None, :])[0]

    def trace(self, text: str, limit: int = TRACE_LIMIT) -> list[tuple[str, np.ndarray]]:
        """The prediction after each successive token: [(token, probabilities), ...].

        A token the vocabulary drops (unknown, no OOV token) repeats the previous
        prediction. At most ``limit`` tokens are traced. A character-level model with a
        word-boundary token (nsmc-sentiment reads Hangul syllables) is traced word by word,
        as the NSMC tutorial prints it: each word with the prediction after its last
        character.

        >>> [(t, p.round(2).tolist()) for t, p in session.trace("so bad")]  # doctest: +SKIP
        [('so', [0.4, 0.6]), ('bad', [0.9, 0.1])]
        """
        with self._lock:
            predictor = self.predictor
            tokens = predictor.tokens(text)[:limit]
            self.tokens = tokens
            if not tokens:
                return []
            vocabulary = predictor.vocabulary
            if predictor.features.count > 1:  # n-grams: one id row per token, always
                ids: Any = predictor.features.ids(tokens)
                rows = list(range(1, len(tokens) + 1))
            else:
                ids = []
                rows = []  # per token: how many ids the prefix has
                for token in tokens:
                    ids.extend(vocabulary.tokens_to_ids([token]))
                    rows.append(len(ids))
            raw = self._stream.trace(ids) if len(ids) else np.zeros((0, 0), np.float32)
            empty = None
            if rows[0] == 0:
                empty = predictor.probabilities(self._stream.update([])[None, :])[0]
            probabilities = predictor.probabilities(raw) if len(raw) else raw
            steps = [(token, probabilities[count - 1] if count else empty)
                     for token, count in zip(tokens, rows)]
            space = getattr(vocabulary, "space_token", None)
            return by_words(steps, space) if space else steps
