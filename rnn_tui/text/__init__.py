"""Text to ids: cleaning, tokenizing, the vocabulary, padding. Pure Python + NumPy, JSON only."""

from rnn_tui.text.padding import pad_sequences
from rnn_tui.text.vocabulary import KERAS_FILTERS, Vocabulary

__all__ = ["KERAS_FILTERS", "Vocabulary", "pad_sequences"]
