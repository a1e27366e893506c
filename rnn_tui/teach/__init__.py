"""Teaching a model from its user's corrections: the corrections corpus (one JSON-lines
file per model name, ``corrections``) and fine-tuning a new version from it (``teacher``).

>>> from rnn_tui.teach.corrections import Corrections
>>> store = Corrections.for_model("imdb-sentiment")                  # doctest: +SKIP
>>> store.add("not my cup of tea", "negative", model="imdb-sentiment:1", was="positive")
...                                                                  # doctest: +SKIP
"""
