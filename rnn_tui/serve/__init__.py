"""``rnn-tui serve``: the registry's models over HTTP (FastAPI on uvicorn), answered by the
TensorFlow-free runtime. Nothing here imports TensorFlow.

>>> from rnn_tui.serve import ServeSettings, create_app              # doctest: +SKIP
>>> app = create_app(ServeSettings(refs=["imdb-sentiment@prod"], max_texts=256))  # doctest: +SKIP
"""

from rnn_tui.serve.app import app_from_environment, create_app
from rnn_tui.serve.models import ModelPool
from rnn_tui.serve.settings import ServeSettings

__all__ = ["ModelPool", "ServeSettings", "app_from_environment", "create_app"]
