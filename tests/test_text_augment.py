"""Training-text augmentation: crops (what a user has typed so far) and negation
counterfactuals (a clause as written and negated)."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.data.corpus import Corpus, Split
from rnn_tui.errors import UserError
from rnn_tui.text.crops import crops
from rnn_tui.text.negation import (KoreanNegator, Verb, counterfactuals, english_pairs,
                                   english_verbs)
from rnn_tui.train.config import TrainConfig
from rnn_tui.train.prepare import prepare_data


def test_crops_are_prefixes_and_sentences_with_the_texts_label():
    text = "It starts slowly. Then it gets much better than expected! The end is a delight."
    pieces, labels = crops([text, "too short"], [1, 0], per_text=4, seed=3)
    assert labels == [1] * len(pieces) and len(pieces) == 4  # "too short" gives none
    prefixes, sentences = pieces[0::2], pieces[1::2]
    assert all(text.startswith(piece) for piece in prefixes)
    assert all(piece in text and piece[-1] in ".!" for piece in sentences)
    assert crops([text], [1], per_text=4, seed=3) == crops([text], [1], per_text=4, seed=3)


def test_english_counterfactuals_negate_the_clause_and_flip_its_label():
    rng = np.random.default_rng(1)
    pairs = english_pairs("Honestly the acting was superb, but the plot was dull.",
                          {"superb": 1, "dull": 0}, rng, limit=5)
    assert len(pairs) == 6
    (kept, label), (negated, flipped), alone = pairs[0], pairs[1], pairs[2]
    assert kept == "Honestly the acting was superb" and label == 1
    assert flipped == 0 and any(form in negated for form in ("was not", "wasn't", "was never"))
    assert alone == ("superb", 1)
    assert pairs[3] == ("but the plot was dull", 0) and pairs[4][1] == 1
    assert pairs[5] == ("dull", 0)


def test_the_lexicon_comes_from_the_training_texts():
    texts = ["the film was great"] * 40 + ["the film was awful"] * 40
    labels = np.array([1] * 40 + [0] * 40)
    made, made_labels = counterfactuals(texts, labels, language="en", per_text=1, seed=0)
    # 80 clauses as written, negated and alone, then a quarter joined after one of the
    # other polarity with "but"
    assert len(made) == 240 + 20 and sum(made_labels) == 120 + 10
    joined = list(zip(made[240:], made_labels[240:]))
    assert ("the film was awful, but the film was great", 1) in joined
    assert ("the film was great, but the film was awful", 0) in joined
    assert ("the film was great", 1) in zip(made, made_labels)
    negated = [t for t, y in zip(made[:240], made_labels[:240]) if "great" in t and y == 0]
    assert negated and all("n't" in t or "not" in t or "never" in t for t in negated)
    assert counterfactuals(texts, labels, language="fr", per_text=1, seed=0) == ([], [])


def test_english_verbs_are_negated_in_their_tense():
    texts = (["I loved it. We enjoyed the film."] * 40 + ["I hated it. I regret this film."] * 40
             + ["I love this movie, I enjoy it."] * 10 + ["I hate it."] * 10)
    labels = np.array([1] * 40 + [0] * 40 + [1] * 10 + [0] * 10)
    verbs = english_verbs(texts, labels)
    assert verbs["loved"] == Verb(1, "love", past=True)
    assert verbs["enjoyed"] == Verb(1, "enjoy", past=True)
    assert verbs["hated"] == Verb(0, "hate", past=True)
    assert verbs["regret"] == Verb(0, "regret", past=False)
    made = set(zip(*counterfactuals(texts, labels, language="en", per_text=2, seed=0)))
    assert ("I loved it", 1) in made and ("loved it", 1) in made
    negated = {text.removesuffix(" at all") for text, label in made if label == 0}
    assert negated & {"I didn't love it", "I did not love it", "I never loved it"}
    assert negated & {"We didn't enjoy the film", "We did not enjoy the film",
                      "We never enjoyed the film"}
    assert {text.removesuffix(" at all") for text, label in made if label == 1} & {
        "I don't regret this film", "I do not regret this film", "I never regret this film"}


def test_korean_negations_keep_tense_and_politeness():
    negator = KoreanNegator()
    assert negator.negations("재밌다") == ["안 재밌다", "재밌지 않다", "재밌진 않다"]
    assert negator.negations("재밌어요") == ["안 재밌어요", "재밌지 않아요", "재밌진 않아요"]
    assert negator.negations("지루했다") == ["안 지루했다", "지루하지 않았다", "지루하진 않았다"]
    assert negator.negations("좋았어요") == ["안 좋았어요", "좋지 않았어요", "좋진 않았어요"]
    # a 없다-word: the double negation people write, never "안 재미없다"
    assert negator.negations("재미없었어요") == ["재미없지 않았어요", "재미없진 않았어요"]
    assert negator.negations("재미없지") == []  # not a sentence ending
    assert negator.negations("없었다") == []  # 손색이 없었다: its sense is in the word before
    assert negator.negations("안봤다") == [] and negator.negations("못했다") == []
    assert negator.negations("최고다") == []  # a noun with the copula: no 안 before it
    texts = ["진짜 재밌다"] * 40 + ["너무 지루하다"] * 40
    made, labels = counterfactuals(texts, np.array([1] * 40 + [0] * 40), language="ko",
                                   per_text=1, seed=0)
    pairs = set(zip(made, labels))
    assert ("진짜 재밌다", 1) in pairs
    assert pairs & {("진짜 안 재밌다", 0), ("진짜 재밌지 않다", 0), ("진짜 재밌진 않다", 0)}
    assert pairs & {("너무 안 지루하다", 1), ("너무 지루하지 않다", 1), ("너무 지루하진 않다", 1)}


def _corpus(task="binary"):
    texts = ["the film was great. i loved every minute of it"] * 40 + \
        ["the film was awful. a waste of two hours"] * 40
    labels = np.array([1] * 40 + [0] * 40)
    names = ["negative", "positive"] if task == "binary" else ["a", "b", "c"]
    return Corpus("toy", task, names, "en", Split(labels, texts=texts),
                  Split(labels[:4], texts=texts[:4]))


def test_prepare_appends_crops_and_counterfactuals_to_the_training_rows_only():
    plain = prepare_data(TrainConfig(dataset="toy", maxlen=12, validation="none"),
                         corpus=_corpus())
    more = prepare_data(TrainConfig(dataset="toy", maxlen=12, validation="none", crops=2,
                                    negations=1), corpus=_corpus())
    assert len(more.x_train) > len(plain.x_train) == 80
    assert len(more.x_test) == len(plain.x_test)
    assert (more.x_train[:, 0] > 0).all()  # no all-pad row
    assert any("crops" in note for note in more.notes)
    assert any("negation counterfactuals" in note for note in more.notes)
    with pytest.raises(UserError, match="binary English or Korean"):
        prepare_data(TrainConfig(dataset="toy", maxlen=12, validation="none", negations=1),
                     corpus=_corpus("multiclass"))
    with pytest.raises(UserError, match="from 0 to 8"):
        TrainConfig(dataset="toy", crops=-1)
