"""Naver shopping reviews (bab2min/corpus): Korean product reviews, negative 0 / positive 1.

File: ``shopping/naver_shopping.txt``, UTF-8, no header, one review a line:
``rating<TAB>review`` with a rating of 1 to 5; label = rating > 3 (the tutorial's rule).
No quoting (split on the first tab only). Blank lines are skipped; a line without a tab, or
with a rating that is not a whole number from 1 to 5, is a DataError with its line number.

Decisions, following the tutorial where it has one:

- **Duplicates** (``dedupe="cleaned"``, the default): the tutorial removes every character
  but Hangul, digits and spaces (``[^ㄱ-ㅎㅏ-ㅣ가-힣0-9 ]``) and then drops duplicate reviews,
  keeping the first. Here the duplicate test is done on that cleaned form too, so the same
  reviews are dropped (about 200,000 -> 199,400), but the kept texts are the *raw* reviews:
  cleaning is a modelling choice that the vocabulary records (``cleaner="korean_only"``), so
  a saved model re-applies it at prediction time. ``dedupe="raw"`` compares raw texts,
  ``"none"`` keeps everything. Reviews that are empty are dropped.
- **Split**: the corpus has none. ``test_size`` (0.2) of the reviews go to test, chosen like
  scikit-learn's ``train_test_split(test_size=0.2, random_state=42)`` in the tutorial:
  ``permutation = np.random.RandomState(seed).permutation(n)``, the first
  ``ceil(test_size * n)`` positions are the test set, the rest train, both in permutation
  order. Deterministic for a given file and seed.

>>> corpus = load(tmp_data_home)
>>> corpus.label_names
['negative', 'positive']
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from rnn_tui.data import catalog, readers, store
from rnn_tui.data.corpus import Corpus, Split
from rnn_tui.errors import DataError, UserError
from rnn_tui.text.cleaning import korean_only

NAME = "shopping"
DEDUPE = ("cleaned", "raw", "none")
FILE_NAME = "naver_shopping.txt"


def load(
    data_home: Path | str | None = None,
    *,
    form: str = "auto",
    dedupe: str = "cleaned",
    test_size: float = 0.2,
    seed: int = 42,
) -> Corpus:
    """Load the shopping reviews with a deterministic train/test split (see the module doc)."""
    if dedupe not in DEDUPE:
        raise UserError(f"dedupe must be one of {', '.join(DEDUPE)}, not {dedupe!r}")
    if not 0.0 < test_size < 1.0:
        raise UserError(f"test_size must be between 0 and 1, not {test_size}")
    presence = store.require(NAME, data_home, form)
    info = catalog.get(NAME)
    path = presence.paths[0]
    texts, ratings = read_reviews(path)
    notes = [f"{len(texts):,} reviews in {path.name}"]
    kept = [i for i, text in enumerate(texts) if text.strip()]
    if len(kept) < len(texts):
        notes.append(f"{len(texts) - len(kept):,} empty reviews dropped")
    if dedupe != "none":
        key = korean_only if dedupe == "cleaned" else (lambda text: text)
        seen: set[str] = set()
        unique = []
        for i in kept:
            review_key = key(texts[i])
            if review_key not in seen:
                seen.add(review_key)
                unique.append(i)
        compared = (
            "after keeping only Hangul, digits and spaces, as the tutorial"
            if dedupe == "cleaned" else "as written"
        )
        notes.append(
            f"{len(kept) - len(unique):,} duplicate reviews dropped (compared {compared}; "
            "the first is kept, texts stay raw)"
        )
        kept = unique
    labels = (np.asarray(ratings)[kept] > 3).astype(np.int64)
    kept_texts = [texts[i] for i in kept]
    train_rows, test_rows = random_split(len(kept), test_size, seed)
    notes.append(
        f"split: RandomState({seed}).permutation, the first ceil({test_size:g} * n) for test "
        f"({len(train_rows):,} / {len(test_rows):,}), like train_test_split(random_state={seed})"
    )
    notes.append("label: rating > 3 is positive")
    return Corpus(
        name=NAME,
        task=info.task,
        label_names=list(info.label_names),
        language=info.language,
        train=Split(labels[train_rows], texts=[kept_texts[i] for i in train_rows]),
        test=Split(labels[test_rows], texts=[kept_texts[i] for i in test_rows]),
        source=info.source(),
        notes=notes,
        form=presence.form.name,
    )


def random_split(n: int, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices as scikit-learn's ShuffleSplit draws them.

    >>> [part.tolist() for part in random_split(5, 0.2, 42)]
    [[4, 2, 0, 3], [1]]
    """
    permutation = np.random.RandomState(seed).permutation(n)
    n_test = math.ceil(test_size * n)
    return permutation[n_test:], permutation[:n_test]


def read_reviews(path: Path) -> tuple[list[str], list[int]]:
    """Reviews and ratings of a ``rating<TAB>review`` file, in file order."""
    lines = readers.split_lines(readers.read_utf8(path))
    texts: list[str] = []
    ratings: list[int] = []
    for number, line in enumerate(lines, start=1):
        rating, tab, review = line.partition("\t")
        if not tab:
            if not line.strip():
                continue
            raise DataError("expected rating<TAB>review: no tab in this line", path, number)
        rating = rating.strip()
        if not (rating.isascii() and rating.isdigit() and 1 <= int(rating) <= 5):
            raise DataError(
                f"rating must be a whole number from 1 to 5, not {rating!r}", path, number
            )
        texts.append(review)
        ratings.append(int(rating))
    if not texts:
        raise DataError("no reviews in this file (expected rating<TAB>review lines)", path)
    return texts, ratings


def check(path: Path, target: str) -> None:
    read_reviews(path)


def import_plan(source: Path) -> list[tuple[Path, str]]:
    """``data import shopping`` takes a ``rating<TAB>review`` file (any name)."""
    if source.is_dir():
        source = source / FILE_NAME
    read_reviews(source)
    return [(source, f"shopping/{FILE_NAME}")]
