"""A corpus and a TrainConfig -> model-ready arrays, the vocabulary and the card's data sections.

Order of work: load the corpus; hold out validation rows (see ``TrainConfig`` for the
deterministic split); cut the training rows to ``train_limit``; tokenize every split once;
fit the vocabulary (and the n-gram vocabularies, ``config.ngrams``) on the training tokens
only; pad. The synthetic tasks skip the text steps. With n-gram features the arrays are
(rows, maxlen, streams): token ids, then each order's n-gram ids, position by position.

>>> from rnn_tui.data.corpus import Corpus, Split
>>> import numpy as np
>>> corpus = Corpus("toy", "binary", ["neg", "pos"], "en",
...                 Split(np.array([0, 1] * 5), texts=["bad film", "good film"] * 5),
...                 Split(np.array([0, 1]), texts=["bad", "good"]))
>>> data = prepare_data(TrainConfig(dataset="toy", maxlen=4, validation=0.2), corpus=corpus)
>>> data.x_train.shape, data.x_validation.shape, data.model_input.vocab_size
((8, 4), (2, 4), 5)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnn_tui.data.corpus import Corpus, Split
from rnn_tui.errors import UserError
from rnn_tui.nets import ModelInput
from rnn_tui.text import KERAS_FILTERS, Vocabulary
from rnn_tui.text.crops import crops
from rnn_tui.text.negation import counterfactuals
from rnn_tui.text.features import TextFeatures
from rnn_tui.train.config import TrainConfig

AUTO_MAXLEN_PERCENTILE = 95
AUTO_MAXLEN_CAP = 500


@dataclass
class PreparedData:
    """Everything the engine needs from the data side."""

    corpus: Corpus
    task: str
    label_names: list[str]
    model_input: ModelInput
    vocabulary: Vocabulary | None
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_validation: np.ndarray | None = None
    y_validation: np.ndarray | None = None
    validation_source: str = "none"  # "fraction", "corpus", "test" or "none"
    validation_fraction: float | None = None
    maxlen: int | None = None
    notes: list[str] = field(default_factory=list)
    features: TextFeatures | None = None  # the id streams (text corpora)

    @property
    def stream_names(self) -> list[str] | None:
        """The model's input names when it reads several streams (else None)."""
        if self.features is None or self.features.count < 2:
            return None
        return self.features.names

    @property
    def num_classes(self) -> int | None:
        return len(self.label_names) if self.task == "multiclass" else None

    @property
    def has_validation(self) -> bool:
        return self.x_validation is not None and len(self.x_validation) > 0

    def dataset_card(self, config: TrainConfig) -> dict[str, Any]:
        """The card's ``dataset`` section."""
        validation = {
            "fraction": f"{self.validation_fraction or 0:g} of the training data (shuffled "
                        f"with seed {config.seed})",
            "corpus": "the corpus' own validation split",
            "test": "the test split (as in the tutorial; test metrics are then optimistic)",
            "none": "none",
        }[self.validation_source]
        card = {
            "name": self.corpus.name,
            "form": self.corpus.form,
            "options": dict(config.dataset_options),
            "language": self.corpus.language,
            "train_size": int(len(self.x_train)),
            "validation_size": int(len(self.x_validation)) if self.has_validation else 0,
            "test_size": int(len(self.x_test)),
            "validation": validation,
            "notes": list(self.corpus.notes),
        }
        if config.train_limit:
            card["train_limit"] = config.train_limit
        if self.corpus.source.title:
            card["title"] = self.corpus.source.title
        return card

    def input_card(self, config: TrainConfig) -> dict[str, Any]:
        """The card's ``input`` section."""
        if self.model_input.kind == "tokens":
            section = {"kind": "text", "maxlen": self.maxlen, "padding": config.padding,
                       "truncating": config.truncating}
            if self.features is not None and self.features.count > 1:
                section["features"] = self.features.card_section()
            return section
        return {"kind": "sequence", "timesteps": self.model_input.length,
                "channels": self.model_input.channels}

    def vocabulary_card(self) -> dict[str, Any] | None:
        if self.vocabulary is None:
            return None
        card = {**self.vocabulary.config(), "size": self.vocabulary.size,
                "tokens_seen": len(self.vocabulary.word_index),
                "documents": self.vocabulary.document_count}
        if self.features is not None and self.features.count > 1:
            card["ngrams"] = [{"n": stream.n, "file": stream.file,
                               "num_words": stream.vocabulary.num_words,
                               "size": stream.vocabulary.size,
                               "ngrams_seen": len(stream.vocabulary.word_index)}
                              for stream in self.features.streams[1:]]
        return card


def make_vocabulary(config: TrainConfig) -> Vocabulary:
    """The (unfitted) vocabulary a config asks for."""
    try:
        return Vocabulary(
            level=config.level, num_words=config.num_words, oov_token=config.oov_token,
            lower=config.lower, filters=KERAS_FILTERS if config.filters is None else config.filters,
            cleaner=config.cleaner, max_token_chars=config.max_token_chars,
            morpheme_tags=config.morpheme_tags, pattern=config.pattern,
            squeeze_repeats=config.squeeze_repeats, subword_suffix=config.subword_suffix,
            space_token=config.space_token,
        )
    except ValueError as error:
        raise UserError(str(error)) from None


def make_features(config: TrainConfig) -> TextFeatures:
    """The (unfitted) token and n-gram vocabularies a config asks for."""
    try:
        return TextFeatures.create(make_vocabulary(config), config.ngrams, config.ngram_sizes())
    except ValueError as error:
        raise UserError(str(error)) from None


def validation_indices(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, validation rows) of the deterministic shuffled split.

    >>> train, held_out = validation_indices(10, 0.2, seed=0)
    >>> len(train), len(held_out), sorted([*train, *held_out]) == list(range(10))
    (8, 2, True)
    """
    count = int(round(n * fraction))
    if n >= 2:
        count = min(max(count, 1), n - 1)
    else:
        count = 0
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[: n - count]), np.sort(order[n - count:])


def validation_choice(corpus: Corpus, config: TrainConfig) -> float | str:
    """``config.validation`` with "auto" resolved: "corpus" when the corpus has its own
    validation split, else the fraction 0.2."""
    if config.validation == "auto":
        return "corpus" if corpus.validation is not None else 0.2
    return config.validation


def split_for_validation(corpus: Corpus, config: TrainConfig) -> tuple[Split, Split | None, str]:
    """The training split, the validation split (or None) and where it came from."""
    choice = validation_choice(corpus, config)
    if choice == "corpus":
        if corpus.validation is None:
            raise UserError(f"{corpus.name} has no validation split of its own; use "
                            "--validation 0.2 (a fraction) or --validation test")
        return corpus.train, corpus.validation, "corpus"
    if choice == "test":
        return corpus.train, corpus.test, "test"
    if choice == "none":
        return corpus.train, None, "none"
    train_rows, validation_rows = validation_indices(len(corpus.train), float(choice),
                                                     config.seed)
    return corpus.train.take(train_rows), corpus.train.take(validation_rows), "fraction"


def auto_maxlen(lengths: list[int]) -> int:
    """The 95th percentile of the training lengths, rounded up to 10, at most 500."""
    if not lengths:
        return 1
    value = float(np.percentile(np.asarray(lengths), AUTO_MAXLEN_PERCENTILE))
    return int(min(max(10, math.ceil(value / 10) * 10), AUTO_MAXLEN_CAP))


def prepare_data(
    config: TrainConfig,
    *,
    corpus: Corpus | None = None,
    vocabulary: Vocabulary | TextFeatures | None = None,
) -> PreparedData:
    """Load (unless ``corpus`` is given) and encode the data of a config.

    Args:
        config: the run's settings.
        corpus: an already loaded corpus (tests build small ones with NumPy).
        vocabulary: an already fitted vocabulary, or token and n-gram vocabularies (a
            resumed run reuses its own, so the ids are exactly those the checkpoint was
            trained on).
    """
    if corpus is None:
        from rnn_tui.data import load_corpus

        corpus = load_corpus(config.dataset, **config.dataset_options)
    train, validation, source = split_for_validation(corpus, config)
    choice = validation_choice(corpus, config)
    fraction = float(choice) if source == "fraction" else None
    if config.train_limit and config.train_limit < len(train):
        train = train.take(np.arange(config.train_limit))
    if len(train) == 0:
        raise UserError(f"{corpus.name}: no training rows left")
    notes: list[str] = []
    if (config.crops or config.negations) and corpus.is_text:
        train = _augmented(train, corpus, config, notes)
    if source == "test":
        notes.append("validation data is the test split (as in the tutorial): early stopping "
                     "and the best checkpoint then see the test set, so test metrics are "
                     "optimistic")
    if corpus.task == "multiclass" and len(corpus.label_names) < 2:
        raise UserError(f"{corpus.name}: a multiclass corpus needs at least 2 labels")

    split = _Splits(train, validation, source, fraction, notes)
    if not corpus.is_text:
        return _prepare_sequences(corpus, config, split)
    return _prepare_texts(corpus, config, split, vocabulary)


@dataclass
class _Splits:
    """What ``prepare_data`` has chosen before encoding: the rows and their notes."""

    train: Split
    validation: Split | None
    source: str
    fraction: float | None
    notes: list[str]


def _prepare_sequences(corpus: Corpus, config: TrainConfig, split: _Splits) -> PreparedData:
    """Numeric sequences (the synthetic tasks): the features as they are."""
    train, validation, source, fraction, notes = (split.train, split.validation, split.source,
                                                  split.fraction, split.notes)
    if config.ngrams:
        raise UserError(f"{corpus.name} holds numeric sequences: n-gram features (--ngrams) "
                        "need texts")
    features = train.features
    model_input = ModelInput.sequence(int(features.shape[1]), int(features.shape[2]))
    return PreparedData(
        corpus=corpus, task=corpus.task, label_names=list(corpus.label_names),
        model_input=model_input, vocabulary=None,
        x_train=np.asarray(features, dtype=np.float32), y_train=_labels(train, corpus),
        x_test=np.asarray(corpus.test.features, dtype=np.float32),
        y_test=_labels(corpus.test, corpus),
        x_validation=None if validation is None else np.asarray(validation.features,
                                                                dtype=np.float32),
        y_validation=None if validation is None else _labels(validation, corpus),
        validation_source=source, validation_fraction=fraction, maxlen=None, notes=notes)


def _prepare_texts(corpus: Corpus, config: TrainConfig, split: _Splits,
                   vocabulary: Vocabulary | TextFeatures | None) -> PreparedData:
    """Texts: tokenize, fit (or reuse) the vocabularies, encode every split to ids."""
    train, validation, source, fraction, notes = (split.train, split.validation, split.source,
                                                  split.fraction, split.notes)
    if isinstance(vocabulary, Vocabulary):
        vocabulary = TextFeatures.single(vocabulary)
    features = vocabulary if vocabulary is not None else make_features(config)
    if features.orders != config.ngrams:
        raise UserError(f"the saved vocabularies have n-gram orders {features.orders}, the "
                        f"configuration asks for {config.ngrams}")
    fitted = features.vocabulary
    train_tokens = features.tokenize_many(train.texts)
    if (config.crops or config.negations) and corpus.is_text:
        # an added row of punctuation alone has no token: an all-pad row would pool to NaN
        keep = [i for i, tokens in enumerate(train_tokens) if tokens]
        if len(keep) < len(train_tokens):
            train = train.take(np.asarray(keep))
            train_tokens = [train_tokens[i] for i in keep]
    if vocabulary is None:
        features.fit(train_tokens)
    if not fitted.word_index:
        raise UserError(f"{corpus.name}: the training texts hold no tokens "
                        "(check --level and --cleaner)")
    maxlen = config.maxlen or auto_maxlen([len(tokens) for tokens in train_tokens])
    if config.maxlen is None:
        notes.append(f"maxlen {maxlen}: the {AUTO_MAXLEN_PERCENTILE}th percentile of training "
                     f"lengths (at most {AUTO_MAXLEN_CAP}); set --maxlen to change it")

    def encode(tokens: list[list[str]]) -> np.ndarray:
        return features.encode_tokens(tokens, maxlen=maxlen, padding=config.padding,
                                      truncating=config.truncating)

    def encode_split(split: Split | None) -> np.ndarray | None:
        return None if split is None else encode(features.tokenize_many(split.texts))

    ngram_sizes = tuple(zip(features.orders, features.sizes[1:]))
    return PreparedData(
        corpus=corpus, task=corpus.task, label_names=list(corpus.label_names),
        model_input=ModelInput.tokens(maxlen, fitted.size, ngrams=ngram_sizes),
        vocabulary=fitted, features=features,
        x_train=encode(train_tokens), y_train=_labels(train, corpus),
        x_test=encode_split(corpus.test), y_test=_labels(corpus.test, corpus),
        x_validation=encode_split(validation),
        y_validation=None if validation is None else _labels(validation, corpus),
        validation_source=source, validation_fraction=fraction, maxlen=maxlen, notes=notes)


def _augmented(train: Split, corpus: Corpus, config: TrainConfig, notes: list[str]) -> Split:
    """The training split with its crops and negation counterfactuals appended."""
    texts, labels = [], []
    if config.crops:
        texts, labels = crops(train.texts, list(train.labels), per_text=config.crops,
                              seed=config.seed)
        notes.append(f"training rows: + {len(texts):,} crops of the {len(train):,} texts "
                     "(prefixes and single sentences, --crops)")
    if config.negations:
        if corpus.task != "binary" or corpus.language not in ("en", "ko"):
            raise UserError("--negations makes sentiment counterfactuals: it needs a binary "
                            f"English or Korean corpus ({corpus.name} is a {corpus.task} "
                            f"{corpus.language} corpus)")
        pairs, pair_labels = counterfactuals(train.texts, train.labels,
                                             language=corpus.language,
                                             per_text=config.negations, seed=config.seed)
        notes.append(f"training rows: + {len(pairs):,} negation counterfactuals (clauses of "
                     "the texts as written and negated, --negations)")
        texts, labels = [*texts, *pairs], [*labels, *pair_labels]
    return Split(np.concatenate([train.labels, np.asarray(labels, train.labels.dtype)]),
                 texts=[*train.texts, *texts])


def _labels(split: Split, corpus: Corpus) -> np.ndarray:
    if corpus.task == "regression":
        return np.asarray(split.labels, dtype=np.float32)
    return np.asarray(split.labels, dtype=np.int32)
