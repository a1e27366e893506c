"""What every corpus loader returns: splits of texts (or numeric sequences) and labels.

A ``Corpus`` is plain data. Text corpora carry ``texts``; the synthetic sequence tasks carry
``features`` of shape (samples, timesteps, channels) instead. Labels are int64 class ids for
classification and float32 targets for regression.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TASKS = ("binary", "multiclass", "regression")


@dataclass
class Split:
    """One split (train, validation or test) of a corpus."""

    labels: np.ndarray
    texts: list[str] | None = None
    features: np.ndarray | None = None

    def __post_init__(self) -> None:
        if (self.texts is None) == (self.features is None):
            raise ValueError("a split has either texts or features")
        if len(self.labels) != len(self):
            raise ValueError(f"{len(self)} inputs but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.texts) if self.texts is not None else len(self.features)

    def take(self, indices: np.ndarray) -> Split:
        """The rows at ``indices``, as a new split."""
        indices = np.asarray(indices)
        if self.texts is not None:
            return Split(self.labels[indices], texts=[self.texts[i] for i in indices])
        return Split(self.labels[indices], features=self.features[indices])


@dataclass
class SourceInfo:
    """Facts about where a corpus comes from."""

    title: str
    citation: str = ""
    homepage: str = ""
    license: str = ""
    description: str = ""


@dataclass
class Corpus:
    """A loaded corpus.

    Attributes:
        name: the catalog name ("imdb", "nsmc", ...).
        task: "binary", "multiclass" or "regression".
        label_names: class names in label-id order ([] for regression).
        language: "en", "ko", or None for numeric sequences.
        train, test: the splits; ``validation`` when the corpus has its own.
        source: provenance.
        notes: decisions made while loading that a user should know about
            ("20 empty documents dropped", "kept the first topic of each newswire").
        form: which of the corpus' forms was read ("aclImdb folder", "imdb.npz" ...).
    """

    name: str
    task: str
    label_names: list[str]
    language: str | None
    train: Split
    test: Split
    validation: Split | None = None
    source: SourceInfo = field(default_factory=lambda: SourceInfo(title=""))
    notes: list[str] = field(default_factory=list)
    form: str = ""

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, not {self.task!r}")

    @property
    def is_text(self) -> bool:
        return self.train.texts is not None

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    def splits(self) -> dict[str, Split]:
        named = {"train": self.train}
        if self.validation is not None:
            named["validation"] = self.validation
        named["test"] = self.test
        return named
