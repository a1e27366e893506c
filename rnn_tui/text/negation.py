"""Negation counterfactuals: clauses of the training texts, as written and negated.

Review-level labels teach a model little about negation: on IMDB's training reviews, 59% of
those containing "not bad" are negative and 79% of those with "wasn't bad" (the rest of the
review decides), so a model learns "not bad" as negative. Counterfactual examples (Kaushik et
al., "Learning the Difference that Makes a Difference", ICLR 2020) teach the local rule:
take a clause of a training text whose predicate is a strong sentiment word, keep it as
written (labelled by that word's polarity) and add it negated (labelled the other way).
The predicate alone is added too (English), or a bare adjective would come out neutral.

- English: ``<up to 4 words> is/was/are/were [intensifier] ADJ`` -> ``... was not ADJ`` /
  ``wasn't ADJ`` / ``was never ADJ``; and ``I/we/you/they [adverb] VERB it/this/the N``
  -> ``I didn't love it`` / ``I don't recommend this film`` / ``I never enjoyed it``. A
  negated form sometimes ends in "at all", as people write it. Two clauses of opposite
  polarity from different texts are also joined with "but", labelled by the second: what
  follows "but" carries the verdict.
- Korean (Kiwi morphemes): a predicate word (용언, e.g. 재밌다, 지루했어요) and up to 3 words
  before it -> ``안 재밌다`` / ``재밌지 않다`` / ``재밌진 않다`` (tense and the polite ending
  kept); a 없다-word only with -지/-진 않다 (재미없진 않았다).

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
("The plot wasn't really dull at all", 1)
('really dull', 0)
>>> verbs = {"loved": Verb(polarity=1, base="love", past=True)}
>>> english_pairs("I loved it.", {}, np.random.default_rng(1), limit=1, verbs=verbs)
[('I loved it', 1), ("I didn't love it", 0), ('loved it', 1)]
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
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
_EN_VERB_CLAUSE = re.compile(
    r"(?:^|(?<=[.!?,;:]\s))((?:[A-Za-z']+\s+){0,2}?)(I|we|you|they)\s+"
    r"((?:really|truly|absolutely|just|totally|thoroughly)\s+)?([A-Za-z]+)\s+"
    r"(it|this(?:\s+[a-z]+)?|the\s+[a-z]+|every\s+minute(?:\s+of\s+it)?)\b",
    re.IGNORECASE)
_EN_VERB_CONTEXT = re.compile(r"\b(?:i|we)\s+(?:really\s+)?([a-z]+)\s+(?:it|this|the)\b")
_EN_WORD = re.compile(r"[a-z]+")
# auxiliaries, modals and verbs of watching: never the opinion in "I ... it"
_EN_NOT_VERBS = frozenset(
    "am was were is are be been have had has do did does can could would will should must "
    "might may not never also think thought guess saw see watched watch found find got get "
    "rented bought went made turned".split())
_EN_NOT_PREDICATES = frozenset(
    "a an the this that these those it its there here not no never also either neither "
    "anyone anything someone something nothing everything all some any one just only even "
    "still being been about above below beyond more most less least very much many few "
    "worth like as to in on at of by for with from into than then".split())
_KO_STEM_TAGS = ("VA", "VV", "XSA", "XSV", "VX", "XR")
_KO_NEGATION = ("않", "못", "안")  # 없다-words (재미없다) are negated too: 재미없진 않다
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


@dataclass(frozen=True)
class Verb:
    """A sentiment verb as written after "I" (loved, recommend), and how to negate it."""

    polarity: int
    base: str  # "love" for "loved": what follows "didn't"
    past: bool


def english_verbs(texts: Sequence[str], labels: np.ndarray) -> dict[str, Verb]:
    """Sentiment verbs: words between "I"/"we" and "it"/"this"/"the", by polarity. A past
    form's base is the likeliest of its -d, -ed, -Ced cuts among the texts' words."""
    lowered = [text.lower() for text in texts]
    lexicon = polarity_lexicon([set(_EN_VERB_CONTEXT.findall(text)) for text in lowered],
                               np.asarray(labels))
    lexicon = {word: polarity for word, polarity in lexicon.items()
               if word not in _EN_NOT_VERBS and not word.endswith("ly")}
    past = [word for word in lexicon if word.endswith("ed")]
    wanted = {cut for word in past for cut in (word[:-1], word[:-2], word[:-3])}
    counts = Counter(word for text in lowered for word in _EN_WORD.findall(text)
                     if word in wanted)
    verbs = {}
    for word, polarity in lexicon.items():
        if not word.endswith("ed"):
            verbs[word] = Verb(polarity, word, past=False)
            continue
        cuts = [word[:-1], word[:-2]] + ([word[:-3]] if word[-3] == word[-4] else [])
        base = max(cuts, key=lambda cut: counts[cut])
        if counts[base] >= 5:
            verbs[word] = Verb(polarity, base, past=True)
    return verbs


def english_pairs(text: str, lexicon: dict[str, int], rng: np.random.Generator, limit: int,
                  verbs: dict[str, Verb] | None = None) -> list[tuple[str, int]]:
    """Up to ``limit`` clauses, each as (text, label) three times: as written, negated, and
    its predicate alone."""
    found: list[tuple[int, Any, bool]] = [
        (match.start(), match, False) for match in _EN_CLAUSE.finditer(text)
        if match.group(4).lower() in lexicon and match.group(1).strip()]
    if verbs:
        found += [(match.start(), match, True) for match in _EN_VERB_CLAUSE.finditer(text)
                  if match.group(4).lower() in verbs]
        found.sort(key=lambda item: item[0])
    if len(found) > limit:
        found = [found[i] for i in sorted(rng.choice(len(found), limit, replace=False))]
    out = []
    for _, match, is_verb in found:
        if is_verb:
            assert verbs is not None
            out.extend(_verb_clause(match, verbs, rng))
            continue
        subject, verb, adverb, word = match.group(1), match.group(2), match.group(3) or "", \
            match.group(4)
        polarity = lexicon[word.lower()]
        form = int(rng.integers(3))
        negated = (f"{verb} not", _EN_COPULA[verb.lower()], f"{verb} never")[form]
        out.append((" ".join(f"{subject}{verb} {adverb}{word}".split()), polarity))
        out.append((" ".join(f"{subject}{negated} {adverb}{word}".split())
                    + _at_all(form, rng), 1 - polarity))
        # the word alone too: with only the pairs, a word is as often in one class as in
        # the other, and a bare "fantastic" loses its polarity
        out.append((" ".join(f"{adverb}{word}".split()), polarity))
    return out


def _verb_clause(match: Any, verbs: dict[str, Verb], rng: np.random.Generator
                 ) -> list[tuple[str, int]]:
    before, subject, adverb, word, thing = (match.group(1), match.group(2),
                                            match.group(3) or "", match.group(4),
                                            match.group(5))
    verb = verbs[word.lower()]
    form = int(rng.integers(3))
    auxiliary = ("did not", "didn't")[form % 2] if verb.past else ("do not", "don't")[form % 2]
    negated = f"never {adverb}{word}" if form == 2 else f"{auxiliary} {adverb}{verb.base}"
    return [(" ".join(f"{before}{subject} {adverb}{word} {thing}".split()), verb.polarity),
            (" ".join(f"{before}{subject} {negated} {thing}".split()) + _at_all(form, rng),
             1 - verb.polarity),
            (" ".join(f"{adverb}{word} {thing}".split()), verb.polarity)]


def _at_all(form: int, rng: np.random.Generator) -> str:
    """" at all" after a third of the not/n't forms ("never ... at all" is rare)."""
    return " at all" if form < 2 and rng.random() < 1 / 3 else ""


def but_joined(clauses: Sequence[tuple[str, int]], rng: np.random.Generator, share: float
               ) -> list[tuple[str, int]]:
    """``share`` of the clauses, each joined after one of the other polarity: "A, but B",
    labelled as B."""
    by_polarity: dict[int, list[str]] = {0: [], 1: []}
    for clause, polarity in clauses:
        if not re.match(r"(?:but|and|so|or)\b", clause, re.IGNORECASE):
            by_polarity[polarity].append(clause)
    out = []
    for polarity in (0, 1):
        first, second = by_polarity[1 - polarity], by_polarity[polarity]
        count = min(int(len(second) * share), len(first))
        if not count:
            continue
        for i, j in zip(rng.choice(len(first), count, replace=False),
                        rng.choice(len(second), count, replace=False)):
            then = second[j]
            then = then if then.startswith("I ") else then[:1].lower() + then[1:]
            out.append((f"{first[i]}, but {then}", polarity))
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
        # -진 (지 + 는) is how people often write it: 재밌진 않았어요
        suffixed = [f"{stem}지 {ending}", f"{stem}진 {ending}"]
        if stem == "없":  # a bare 없다 (손색이 없다, 재미가 없다): its sense is in the word before
            return []
        # "안 재미없다" is not said; 재미없지 않다 (a double negation) is
        return suffixed if stem.endswith("없") else [f"안 {word}", *suffixed]


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
        verbs = english_verbs(texts, labels)
        for text in texts:
            out.extend(english_pairs(text, lexicon, rng, per_text, verbs))
        # as written (every third item is the predicate alone, every second the negation)
        written = [pair for i, pair in enumerate(out) if i % 3 == 0]
        out.extend(but_joined(written, rng, share=0.25))
    elif language == "ko":
        negator = KoreanNegator()
        lexicon = korean_lexicon(texts, labels, negator)
        for text in texts:
            out.extend(korean_pairs(text, lexicon, negator, rng, per_text))
    return [text for text, _ in out], [label for _, label in out]
