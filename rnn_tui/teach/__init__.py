"""Teaching a model from its user's corrections: the corrections corpus (one JSON-lines
file per model name, ``corrections``) and fine-tuning a new version from it (``teacher``).

>>> from rnn_tui.teach.corrections import Correction, Corrections
>>> from rnn_tui.teach.teacher import teach
>>> Corrections.for_model("imdb-sentiment").add(Correction(
...     "not my cup of tea", "negative", "imdb-sentiment:1", was="positive"))  # doctest: +SKIP
>>> teach("imdb-sentiment").summary()                                      # doctest: +SKIP
'imdb-sentiment:2 (from imdb-sentiment:1): 1/1 corrections right (was 0/1), ...'
"""
