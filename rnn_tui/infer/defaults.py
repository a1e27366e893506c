"""Which shipped model reads a text when none is named: Korean to NSMC, the rest to IMDB.

>>> default_model("재미있을 줄 알았는데"), default_model("a fine film")
('nsmc-sentiment', 'imdb-sentiment')
"""

from __future__ import annotations

import re
from collections.abc import Collection

DEFAULT_SENTIMENT = {"ko": "nsmc-sentiment", "en": "imdb-sentiment"}
# the corpus each default model is trained on, for the "train it with" hint
_DATASETS = {"nsmc-sentiment": "nsmc", "imdb-sentiment": "imdb", "reuters-topics": "reuters"}
# the shipped defaults that are also training presets (tests/test_layer_order.py checks it)
DEFAULT_PRESETS = frozenset({"nsmc-sentiment", "imdb-sentiment", "reuters-topics"})
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


def is_korean(text: str) -> bool:
    """True when the text holds any Hangul (syllables or jamo).

    >>> is_korean("이 영화 great"), is_korean("great")
    (True, False)
    """
    return _HANGUL.search(text) is not None


def default_model(text: str) -> str:
    """The sentiment model for a text by its script."""
    return DEFAULT_SENTIMENT["ko" if is_korean(text) else "en"]


def how_to_train(name: str, presets: Collection[str] = ()) -> str:
    """The command that makes a missing model, as a hint for error messages.

    ``presets`` are the training presets' names (``rnn_tui.train.presets.PRESETS``), passed
    by a caller above the training layer: this module sits below it and cannot look them up.
    The default models are presets of the same name whether or not they are passed.
    """
    if name in presets or name in DEFAULT_PRESETS:
        return f"rnn-tui train --preset {name}"
    dataset = _DATASETS.get(name)
    if dataset is None:
        return f"rnn-tui train --dataset DATASET --name {name}"
    return f"rnn-tui train --dataset {dataset} --pool max+average --name {name}"
