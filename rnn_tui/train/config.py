"""``TrainConfig``: everything that decides a training run, as one JSON-able dataclass.

A run folder keeps its config; re-running the same name with an equal config resumes, a
different one is refused (see ``rnn_tui.train.runs``). Presets (``rnn_tui.train.presets``)
are partial configs; command-line flags override them.

Validation data (``validation``):
- a fraction such as ``0.2``: a deterministic shuffled split of the training data. The
  training rows are permuted with ``numpy.random.default_rng(seed)`` and the *last*
  ``round(n * fraction)`` rows of that permutation are held out. The same seed always holds
  out the same rows (unlike Keras' ``validation_split``, which takes the unshuffled tail).
- ``"corpus"``: the corpus' own validation split (an error if it has none).
- ``"test"``: the test split, as the Reuters and IMDB conv tutorials did
  (``validation_data=(x_test, y_test)``); a Note says that this leaks the test set into
  model selection.
- ``"auto"``: the corpus' own split if it has one, else 0.2.
- ``"none"``: no validation (no early stopping, no best checkpoint).

>>> config = TrainConfig(dataset="imdb", arch="lstm", epochs=2)
>>> TrainConfig.from_dict(config.to_dict()) == config
True
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from rnn_tui.errors import UserError

OPTIMIZERS = ("adam", "rmsprop", "sgd")
LR_SCHEDULES = ("constant", "linear", "cosine")
# linear and cosine decay end at this fraction of the rate (as the recipe study's "lin"/"cos")
LR_FINAL_FRACTION = 0.05
DEFAULT_NGRAM_DIM = 32  # ngram-emb size added to a named architecture by --ngrams
PADDINGS = ("pre", "post")
LEVELS = ("word", "char", "morpheme")
MAX_CROPS = 8
CONFIG_FORMAT_VERSION = 1
# Settings that do not change what is trained: a resumed run may differ in these.
_NOT_IDENTITY = ("name",)


def _positive(name: str, value: Any, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserError(f"{name} must be a whole number >= 1, not {value!r}")


@dataclass
class TrainConfig:
    """One training run. Defaults give a sensible LSTM text classifier.

    Attributes (by group):
        dataset, dataset_options: the corpus and keyword options for ``load_corpus``
            (``{"train_size": 2560}`` for the synthetic tasks, CSV columns for your own data).
        crops: add up to N short pieces of each training text as extra rows with its label,
            alternately a prefix (3-40 words: what a user has typed so far) and one
            sentence (``rnn_tui.text.crops``); 0 trains on whole texts only.
        negations: add up to N negation counterfactuals per training text of a binary
            English or Korean corpus: clauses of it whose predicate is a strong sentiment
            word, as written and negated, labelled by that word (``rnn_tui.text.negation``).
        train_limit: train on the first N rows (after the validation split) only; for quick
            experiments.
        level, num_words, oov_token, cleaner, max_token_chars, lower, filters, morpheme_tags,
        pattern, squeeze_repeats, subword_suffix, space_token:
            the vocabulary (``rnn_tui.text.Vocabulary``; ``cleaner`` names a step of
            ``rnn_tui.text.cleaning``: none, html, clean_str, korean_only; ``pattern`` is a
            regex whose matches are the word-level tokens).
        ngrams, ngram_words: n-gram feature streams (``rnn_tui.text.features``): the orders
            (``[2]`` for bigrams) and how many ids each n-gram vocabulary keeps (one number
            for all, or one per order). The architecture reads them with ``ngram-emb``
            items (a named architecture gets ``ngram-emb:32`` unless ``arch_options``
            gives ``ngram_dim``). They need an OOV token.
        maxlen, padding, truncating: sequence length (None: the 95th percentile of training
            lengths, at most 500) and where padding/cutting happen.
        arch, arch_options, arch_spec: a named architecture with knobs, or a compact string
            (``arch``), or a full spec from a file (``arch_spec``, wins over ``arch``).
        optimizer, learning_rate, clipnorm, loss, metrics: compile settings; loss and metrics
            follow the task and head when None.
        lr_schedule: "constant", or "linear"/"cosine" decay from the rate to 5% of it over
            the planned steps (epochs x steps per epoch; no warm-up), as the research's
            "lin" and "cos". The step count lives in the optimizer, so a resumed run
            continues the schedule where it stopped.
        ema: keep an exponential moving average of the weights with this momentum (Keras'
            ``use_ema``); the average replaces the weights when fitting ends, so the saved
            model, the runtime and the test metrics use it (validation metrics during
            training are the raw weights'). Not with early stopping's restore_best_weights.
        float16_weights: store runtime.npz weights as float16 (half the size; the runtime
            computes in float32); the card then compares the runtime's test accuracy with
            Keras'.
        bucketing: length buckets with dynamic padding (``rnn_tui.train.pipeline``); None
            (auto): on for text padded "post" whose model masks pads exactly
            (``rnn_tui.nets.dynamic_padding_exact``), True insists (an error when it would
            change results), False pads every batch to maxlen.
        epochs, batch_size, validation, early_stopping, restore_best_weights, seed: fitting.
            ``batch_size`` is per replica: with N replicas (``rnn_tui.train.distribute``)
            each step averages over ``batch_size x N`` rows.
        scale_lr: multiply the learning rate by the number of replicas (linear scaling);
            off by default, so the rate is the same on one device or many.
        mixed_precision: float16 compute (``mixed_float16``) on GPUs with compute
            capability >= 7.0; elsewhere it is off, with a Note saying why.
        name, preset: the registry name to publish under, and the preset this came from.
    """

    dataset: str = "imdb"
    dataset_options: dict[str, Any] = field(default_factory=dict)
    train_limit: int | None = None
    crops: int = 0
    negations: int = 0
    # vocabulary
    level: str = "word"
    num_words: int | None = 20000
    oov_token: str | None = "<OOV>"
    cleaner: str = "none"
    max_token_chars: int | None = None
    lower: bool = True
    filters: str | None = None
    morpheme_tags: bool = False
    pattern: str | None = None
    squeeze_repeats: bool = False
    subword_suffix: int = 0
    space_token: str | None = None
    ngrams: list[int] = field(default_factory=list)
    ngram_words: int | list[int] = 100_000
    # sequences
    maxlen: int | None = None
    padding: str = "post"
    truncating: str = "pre"
    # architecture
    arch: str | None = "lstm"
    arch_options: dict[str, Any] = field(default_factory=dict)
    arch_spec: dict[str, Any] | None = None
    # optimisation
    optimizer: str = "adam"
    learning_rate: float | None = None
    lr_schedule: str = "constant"
    ema: float | None = None
    clipnorm: float | None = None
    loss: str | None = None
    metrics: list[str] | None = None
    # fitting
    epochs: int = 10
    batch_size: int = 64
    validation: float | str = "auto"
    early_stopping: int | None = None
    restore_best_weights: bool = True
    seed: int = 42
    scale_lr: bool = False
    mixed_precision: bool = False
    bucketing: bool | None = None
    float16_weights: bool = False
    # identity
    name: str | None = None
    preset: str | None = None
    format_version: int = CONFIG_FORMAT_VERSION

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Raise a UserError naming the first bad setting."""
        self._check_data()
        self._check_optimization()
        self._check_text_features()
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise UserError(f"seed must be a whole number >= 0, not {self.seed!r}")
        if self.name is not None:
            from rnn_tui.registry.names import check_name

            check_name(self.name)
        self._check_architecture()
        if self.format_version != CONFIG_FORMAT_VERSION:
            raise UserError(f"training config format_version {self.format_version!r} is not "
                            "supported")

    def _check_data(self) -> None:
        """The corpus, the augmentations, the vocabulary and the padding."""
        if not isinstance(self.dataset, str) or not self.dataset:
            raise UserError("no dataset given (--dataset NAME or --preset NAME)")
        if not isinstance(self.dataset_options, dict):
            raise UserError("dataset_options must be a mapping")
        _positive("train_limit", self.train_limit)
        for key in ("crops", "negations"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or \
                    not 0 <= value <= MAX_CROPS:
                raise UserError(f"{key} must be a whole number from 0 to {MAX_CROPS}, not "
                                f"{value!r}")
        if self.level not in LEVELS:
            raise UserError(f"level must be one of {', '.join(LEVELS)}, not {self.level!r}")
        _positive("num_words", self.num_words)
        if self.num_words is not None and self.num_words < 2:
            raise UserError("num_words must be at least 2 (id 0 is padding)")
        _positive("max_token_chars", self.max_token_chars)
        _positive("maxlen", self.maxlen)
        for name in ("padding", "truncating"):
            if getattr(self, name) not in PADDINGS:
                raise UserError(f"{name} must be pre or post, not {getattr(self, name)!r}")

    def _check_optimization(self) -> None:
        """The optimizer, epochs and batches, validation, early stopping, precision, EMA."""
        if self.optimizer not in OPTIMIZERS:
            raise UserError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, "
                            f"not {self.optimizer!r}")
        for name in ("learning_rate", "clipnorm"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or value <= 0):
                raise UserError(f"{name} must be a positive number, not {value!r}")
        _positive("epochs", self.epochs, allow_none=False)
        _positive("batch_size", self.batch_size, allow_none=False)
        if isinstance(self.validation, str):
            text = self.validation.strip().lower()
            try:
                self.validation = float(text)
            except ValueError:
                if text not in ("auto", "corpus", "test", "none"):
                    raise UserError("validation must be a fraction in (0, 1), or auto, corpus, "
                                    f"test or none, not {self.validation!r}") from None
                self.validation = text
        if isinstance(self.validation, (int, float)) and not isinstance(self.validation, bool):
            if not 0.0 < float(self.validation) < 1.0:
                raise UserError(f"validation fraction must be in (0, 1), not {self.validation}")
            self.validation = float(self.validation)
        if self.early_stopping is not None:
            _positive("early_stopping (patience)", self.early_stopping)
        for name in ("scale_lr", "mixed_precision", "squeeze_repeats", "float16_weights"):
            if not isinstance(getattr(self, name), bool):
                raise UserError(f"{name} must be true or false, not {getattr(self, name)!r}")
        if self.bucketing is not None and not isinstance(self.bucketing, bool):
            raise UserError(f"bucketing must be true, false or null (auto), not "
                            f"{self.bucketing!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise UserError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, not "
                            f"{self.lr_schedule!r}")
        if self.ema is not None:
            if isinstance(self.ema, bool) or not isinstance(self.ema, (int, float)) \
                    or not 0.0 < float(self.ema) < 1.0:
                raise UserError(f"ema (the average's momentum) must be in (0, 1), such as "
                                f"0.99, not {self.ema!r}")
            if self.early_stopping and self.restore_best_weights:
                raise UserError("--ema and early stopping's best-weight restore both choose "
                                "the final weights: use one (the EMA weights replace the "
                                "trained ones when fitting ends)")

    def _check_text_features(self) -> None:
        if self.pattern is not None:
            import re

            if not isinstance(self.pattern, str) or not self.pattern:
                raise UserError("pattern must be a regular expression")
            try:
                re.compile(self.pattern)
            except re.error as error:
                raise UserError(f"pattern {self.pattern!r} is not a valid regular expression: "
                                f"{error}") from None
        if isinstance(self.subword_suffix, bool) or self.subword_suffix not in (0, 1, 2):
            raise UserError(f"subword_suffix must be 0, 1 or 2, not {self.subword_suffix!r}")
        if isinstance(self.ngrams, int) and not isinstance(self.ngrams, bool):
            self.ngrams = [self.ngrams]
        if not isinstance(self.ngrams, list) or any(
                isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= 9
                for n in self.ngrams):
            raise UserError(f"ngrams are n-gram orders from 2 to 9 (2: bigrams), not "
                            f"{self.ngrams!r}")
        self.ngrams = sorted(set(self.ngrams))
        words = self.ngram_words if isinstance(self.ngram_words, list) else [self.ngram_words]
        if not words or any(isinstance(w, bool) or not isinstance(w, int) or w < 2
                            for w in words):
            raise UserError(f"ngram_words must be a whole number >= 2 (or one per order), not "
                            f"{self.ngram_words!r}")
        if self.ngrams and len(words) not in (1, len(self.ngrams)):
            raise UserError(f"ngram_words gives {len(words)} sizes for {len(self.ngrams)} "
                            "n-gram orders: give one for all or one per order")
        if self.ngrams and self.oov_token is None:
            raise UserError("n-gram features need an OOV token (--oov '<OOV>'): without one, "
                            "unknown tokens are dropped and the streams no longer line up")

    def ngram_sizes(self) -> list[int]:
        """The num_words of each n-gram order's vocabulary, in the order of ``ngrams``."""
        words = self.ngram_words if isinstance(self.ngram_words, list) else [self.ngram_words]
        return words * len(self.ngrams) if len(words) == 1 else list(words)

    def arch_knobs(self) -> dict[str, Any]:
        """``arch_options`` for a named architecture, with ``ngram_dim`` when n-gram
        features need one."""
        options = dict(self.arch_options)
        if self.ngrams and options.get("ngram_dim") is None:
            options["ngram_dim"] = DEFAULT_NGRAM_DIM
        return options

    def _check_architecture(self) -> None:
        """Fail before any data is loaded: a bad architecture is known from the config."""
        from rnn_tui.nets import normalize_spec, resolve_arch

        if not isinstance(self.arch_options, dict):
            raise UserError("arch_options must be a mapping")
        if self.arch_spec is not None:
            spec = normalize_spec(self.arch_spec)
        else:
            # Named architectures are checked for token input; a numeric-sequence corpus
            # re-resolves them once the data is known.
            from rnn_tui.nets import NAMED_ARCHS

            named = isinstance(self.arch, str) and self.arch in NAMED_ARCHS
            spec = resolve_arch(self.arch, self.arch_knobs() if named else self.arch_options,
                                input_kind="tokens")
        if spec["input"] == "tokens":
            from rnn_tui.nets import ngram_assignment

            ngram_assignment(spec, self.ngrams)

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from a dict; unknown keys are an error that names them."""
        names = {item.name for item in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise UserError(f"unknown training setting(s): {', '.join(unknown)}")
        return cls(**data)

    def replace(self, **changes: Any) -> TrainConfig:
        return TrainConfig.from_dict({**self.to_dict(), **changes})

    def identity(self) -> dict[str, Any]:
        """The settings that define what is trained (for resume checks)."""
        data = self.to_dict()
        for key in _NOT_IDENTITY:
            data.pop(key, None)
        return data

    def fingerprint(self) -> str:
        text = json.dumps(self.identity(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def differences(self, other: TrainConfig) -> list[str]:
        """Human-readable ``key: old -> new`` lines where the identities differ."""
        mine, theirs = self.identity(), other.identity()
        return [f"{key}: {theirs.get(key)!r} -> {mine.get(key)!r}"
                for key in sorted(set(mine) | set(theirs)) if mine.get(key) != theirs.get(key)]

    @property
    def default_name(self) -> str:
        """The registry name when none is given: the preset, else dataset-arch."""
        if self.name:
            return self.name
        if self.preset:
            return self.preset
        arch = self.arch if self.arch and self.arch.replace("-", "").isalnum() else "custom"
        if self.arch_spec is not None:
            arch = "custom"
        return f"{plain_word(self.dataset)}-{arch}"


def plain_word(text: str) -> str:
    """A dataset name or file name reduced to a registry-safe word."""
    import re

    stem = text.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
    return re.sub(r"[^a-z0-9_-]+", "-", stem).strip("-") or "data"
