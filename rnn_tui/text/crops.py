"""Short pieces cut from long training texts: what a user has typed so far, one sentence.

A sentiment model trained only on whole reviews is tuned to 230-word texts; in the app it
reads a few words at a time. Training on crops of each review as well (labelled with the
review's label) teaches it short text: on IMDB held-out reviews a linear n-gram model
trained this way went from 0.72 to 0.78 on the first 20 words, giving up 0.005 on whole
reviews (bench/ACCURACY.md).

Crops alternate between a prefix (the first 3 to 40 words) and one sentence of at least
three words; a text too short to crop gives none. The choice is seeded, so the same seed
gives the same rows.

>>> crops(["One. Two words here! Three four five six seven."], [1], per_text=2, seed=0)
(['One. Two words here! Three four five six', 'Three four five six seven.'], [1, 1])
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

PREFIX_WORDS = (3, 40)
MIN_SENTENCE_WORDS = 3
# a sentence ends at . ! ? (or the Korean full stop) followed by space, or at a line break
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|\n+")


def crops(texts: Sequence[str], labels: Sequence, *, per_text: int, seed: int
          ) -> tuple[list[str], list]:
    """Up to ``per_text`` crops of each text, and their labels (the text's)."""
    rng = np.random.default_rng(seed)
    out_texts: list[str] = []
    out_labels: list = []
    for text, label in zip(texts, labels):
        words = text.split()
        sentences = [s for s in _SENTENCE_END.split(text) if len(s.split()) >= MIN_SENTENCE_WORDS]
        for index in range(per_text):
            if index % 2 == 0:
                if len(words) <= PREFIX_WORDS[0]:
                    continue
                upper = min(PREFIX_WORDS[1], len(words) - 1)
                count = int(rng.integers(PREFIX_WORDS[0], upper + 1)) \
                    if upper > PREFIX_WORDS[0] else PREFIX_WORDS[0]
                piece = " ".join(words[:count])
            else:
                if len(sentences) < 2:
                    continue
                piece = sentences[int(rng.integers(len(sentences)))].strip()
            out_texts.append(piece)
            out_labels.append(label)
    return out_texts, out_labels
