"""The peers of ``rnn-tui serve`` in bench/serve.py, as uvicorn app factories:

- ``keras_app``: what one writes without rnn-tui, a FastAPI app calling Keras'
  ``model.predict`` on the registry's ``model.keras`` (ids from the same vocabulary, padded
  to the batch's longest text, which is exact for these masked, post-padded models and the
  least work Keras can be given);
- ``fixed_app``: the same request parsing, and a fixed answer without predicting: the
  framework's own limit on this machine.

    python -m uvicorn serve_peers:keras_app --factory --app-dir bench --port 8001
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from fastapi import FastAPI  # noqa: E402
from pydantic import BaseModel, StrictStr  # noqa: E402

MODEL_KEY = "BENCH_PEER_MODEL"


class Request(BaseModel):
    texts: list[StrictStr]
    top_k: int | None = None
    trace: bool = False


def keras_app() -> FastAPI:
    import numpy as np

    from rnn_tui.backend import keras
    from rnn_tui.infer import Predictor
    from rnn_tui.registry import load_keras_model, open_registries

    keras()
    version = open_registries().resolve(os.environ[MODEL_KEY])
    model = load_keras_model(version, compile=False)
    predictor = Predictor.load(version)  # the vocabulary and the card's padding only
    names = [tensor.name for tensor in model.inputs]
    app = FastAPI()

    @app.post("/v1/models/{ref}/predict")
    def predict(ref: str, request: Request) -> dict:
        ids = predictor.texts_ids(request.texts)
        width = max(len(row) for row in ids)
        padded = predictor.pad(ids, width).astype(np.int32)
        inputs = [padded] if padded.ndim == 2 else [padded[..., k] for k in range(len(names))]
        raw = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
        probabilities = predictor.probabilities(np.asarray(raw, np.float32))
        best = probabilities.argmax(axis=1)
        return {"model": version.ref, "predictions": [
            {"text": text, "model": version.ref, "label": predictor.labels[int(b)],
             "probability": round(float(row[b]), 6),
             "probabilities": {label: round(float(p), 6)
                               for label, p in zip(predictor.labels, row)}}
            for text, row, b in zip(request.texts, probabilities, best)]}

    return app


def fixed_app() -> FastAPI:
    app = FastAPI()
    answer = {"model": "fixed:1", "predictions": [
        {"text": "fixed", "model": "fixed:1", "label": "positive", "probability": 0.9,
         "probabilities": {"negative": 0.1, "positive": 0.9}}]}

    @app.post("/v1/models/{ref}/predict")
    async def predict(ref: str, request: Request) -> dict:
        return answer

    return app
