"""Negation counterfactuals: clauses of the training texts, as written and negated.

Review-level labels teach a model little about negation: on IMDB's training reviews, 59% of
those containing "not bad" are negative and 79% of those with "wasn't bad" (the rest of the
review decides), so a model learns "not bad" as negative. Counterfactual examples (Kaushik et
al., "Learning the Difference that Makes a Difference", ICLR 2020) teach the local rule:
take a clause of a training text whose predicate is a strong sentiment word, keep it as
written (labelled by that word's polarity) and add it negated (labelled the other way).
The predicate alone is added too (English), or a bare adjective would come out neutral.

- English: ``<up to 4 words> is/was/are/were [intensifier] ADJ`` -> ``... was not ADJ`` /
  ``wasn't ADJ`` / ``was never ADJ``.
- Korean (Kiwi morphemes): a predicate word (용언, e.g. 재밌다, 지루했어요) and up to 3 words
  before it -> ``안 재밌다`` / ``재밌지 않다`` (tense and the polite ending kept).

The sentiment words come from the training texts themselves: frequent predicates whose
naive-Bayes log-odds between the classes is large. Nothing comes from outside the training
split. The choice of clauses and forms is seeded.

>>> lexicon = {"good": 1, "dull": 0}
>>> for pair in english_pairs("The acting was good. The plot was really dull!", lexicon,
...                           np.random.default_rng(0), limit=2):
...     print(pair)
('The acting was good', 1)
('The acting was never good', 0)
('good', 1)
('The plot was really dull', 0)
("The plot wasn't really dull", 1)
('really dull', 0)
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

MIN_DOCUMENTS = 30  # a sentiment word must occur in at least this many training texts
MIN_LOG_ODDS = 1.0  # ... and be this much more frequent in one class (e^1 = 2.7x)
MAX_WORDS = 400  # per polarity

_EN_COPULA = {"is": "isn't", "was": "wasn't", "are": "aren't", "were": "weren't"}
_EN_CLAUSE = re.compile(
    r"(?:^|(?<=[.!?,;:]\s))((?:[A-Za-z']+\s+){0,4}?)(is|was|are|were)\s+"
    r"((?:so|very|really|quite|pretty|too|truly|absolutely|extremely|just)\s+)?([A-Za-z]+)\b",
    re.IGNORECASE)
_EN_CONTEXT = re.compile(r"\b(?:is|was|are|were)\s+(?:(?:so|very|really|quite|pretty|too)\s+)?"
                         r"([a-z]+)")
# words after a copula that are not predicates of opinion
_EN_NOT_PREDICATES = frozenset(
    "a an the this that these those it its there here not no never also either neither "
    "anyone anything someone something nothing everything all some any one just only even "
    "still being been about above below beyond more most less least very much many few "
    "worth like as to in on at of by for with from into than then".split())
_KO_STEM_TAGS = ("VA", "VV", "XSA", "XSV", "VX", "XR")
_KO_NEGATION = ("않", "없", "못", "안")
_KO_ENDINGS = ("다", "요", "음", "함", "네", "임")  # sentence endings of a review's predicate


def polarity_lexicon(documents: Sequence[set[str]], labels: np.ndarray) -> dict[str, int]:
    """Words -> 1 (positive) or 0 (negative) by smoothed log-odds of the texts holding them."""
    positive, negative = Counter(), Counter()
    for words, label in zip(documents, labels):
        (positive if label == 1 else negative).update(words)
    n_pos = max(int(np.sum(labels == 1)), 1)
    n_neg = max(int(np.sum(labels == 0)), 1)
    scored = []
    for word in set(positive) | set(negative):
        p, q = positive[word], negative[word]
        if p + q < MIN_DOCUMENTS:
            continue
        odds = math.log(((p + 1) / n_pos) / ((q + 1) / n_neg))
        if abs(odds) >= MIN_LOG_ODDS:
            scored.append((odds, word))
    scored.sort()
    chosen = {word: 0 for odds, word in scored[:MAX_WORDS] if odds < 0}
    chosen.update({word: 1 for odds, word in scored[::-1][:MAX_WORDS] if odds > 0})
    return chosen


def english_lexicon(texts: Sequence[str], labels: np.ndarray) -> dict[str, int]:
    """Sentiment adjectives: words after a copula (and an intensifier), by polarity."""
    lexicon = polarity_lexicon([set(_EN_CONTEXT.findall(text.lower())) for text in texts],
                               np.asarray(labels))
    return {word: polarity for word, polarity in lexicon.items()
            if word not in _EN_NOT_PREDICATES and not word.endswith("ly")}


def english_pairs(text: str, lexicon: dict[str, int], rng: np.random.Generator, limit: int
                  ) -> list[tuple[str, int]]:
    """Up to ``limit`` clauses, each as (text, label) three times: as written, negated, and
    its predicate alone."""
    found = [match for match in _EN_CLAUSE.finditer(text)
             if match.group(4).lower() in lexicon and match.group(1).strip()]
    if len(found) > limit:
        found = [found[i] for i in sorted(rng.choice(len(found), limit, replace=False))]
    out = []
    for match in found:
        subject, verb, adverb, word = match.group(1), match.group(2), match.group(3) or "", \
            match.group(4)
        polarity = lexicon[word.lower()]
        form = int(rng.integers(3))
        negated = (f"{verb} not", _EN_COPULA[verb.lower()], f"{verb} never")[form]
        out.append((" ".join(f"{subject}{verb} {adverb}{word}".split()), polarity))
        out.append((" ".join(f"{subject}{negated} {adverb}{word}".split()), 1 - polarity))
        # the word alone too: with only the pairs, a word is as often in one class as in
        # the other, and a bare "fantastic" loses its polarity
        out.append((" ".join(f"{adverb}{word}".split()), polarity))
    return out


class KoreanNegator:
    """Negated forms of Korean predicate words (Kiwi finds the stem, tense and ending)."""

    def __init__(self) -> None:
        from rnn_tui.text.korean import get_kiwi

        self.kiwi = get_kiwi()  # shared: loading one takes ~2 s and ~100 MB
        self._cache: dict[str, tuple[str, str, str] | None] = {}

    def parts(self, word: str) -> tuple[str, str, str] | None:
        """(stem, tense suffix "었" or "", polite "요" or "") of a predicate word, or None."""
        if word not in self._cache:
            self._cache[word] = self._parts(word)
        return self._cache[word]

    def _parts(self, word: str) -> tuple[str, str, str] | None:
        if not re.fullmatch(r"[가-힣]+", word) or any(mark in word for mark in _KO_NEGATION) \
                or not word.endswith(_KO_ENDINGS):
            return None
        tokens = self.kiwi.tokenize(word)
        if not tokens or tokens[-1].tag != "EF":
            return None
        stem_end = max((i for i, t in enumerate(tokens) if t.tag in _KO_STEM_TAGS), default=-1)
        if stem_end < 0 or any(t.tag in ("VCP", "NNG", "NNP") for t in tokens[stem_end:]) \
                or tokens[stem_end].tag == "XR":
            return None
        stem = "".join(t.form for t in tokens[:stem_end + 1])
        if not word.startswith(stem[:1]):
            return None
        tense = "었" if any(t.tag == "EP" for t in tokens[stem_end + 1:]) else ""
        polite = "요" if word.endswith("요") else ""
        return stem, tense, polite

    def negations(self, word: str) -> list[str]:
        parts = self.parts(word)
        if parts is None:
            return []
        stem, tense, polite = parts
        ending = ("않았어요" if tense else "않아요") if polite else ("않았다" if tense else "않다")
        return [f"안 {word}", f"{stem}지 {ending}"]


def korean_lexicon(texts: Sequence[str], labels: np.ndarray, negator: KoreanNegator
                   ) -> dict[str, int]:
    """Sentiment predicate words (whole words, as written) by polarity."""
    lexicon = polarity_lexicon([set(text.split()) for text in texts], np.asarray(labels))
    return {word: polarity for word, polarity in lexicon.items() if negator.parts(word)}


def korean_pairs(text: str, lexicon: dict[str, int], negator: KoreanNegator,
                 rng: np.random.Generator, limit: int) -> list[tuple[str, int]]:
    words = text.split()
    found = [i for i, word in enumerate(words) if word in lexicon]
    if len(found) > limit:
        found = sorted(rng.choice(found, limit, replace=False).tolist())
    out = []
    for index in found:
        word = words[index]
        context = " ".join(words[max(0, index - 3):index])
        negated = negator.negations(word)
        if not negated:
            continue
        choice = negated[int(rng.integers(len(negated)))]
        polarity = lexicon[word]
        out.append((f"{context} {word}".strip(), polarity))
        out.append((f"{context} {choice}".strip(), 1 - polarity))
    return out


def counterfactuals(texts: Sequence[str], labels: Sequence[Any], *, language: str,
                    per_text: int, seed: int) -> tuple[list[str], list[int]]:
    """Up to ``per_text`` clause pairs (as written, negated) from each text of a binary
    corpus, and their labels. Languages: en, ko; others give none."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    out: list[tuple[str, int]] = []
    if language == "en":
        lexicon = english_lexicon(texts, labels)
        for text in texts:
            out.extend(english_pairs(text, lexicon, rng, per_text))
    elif language == "ko":
        negator = KoreanNegator()
        lexicon = korean_lexicon(texts, labels, negator)
        for text in texts:
            out.extend(korean_pairs(text, lexicon, negator, rng, per_text))
    return [text for text, _ in out], [label for _, label in out]
