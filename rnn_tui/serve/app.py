"""The HTTP API (FastAPI): the registry's models answering over HTTP, without TensorFlow.

``GET /health`` (the process is up), ``GET /ready`` (the served models are loaded),
``GET /v1/models``, ``POST /v1/models/{ref}/predict``, ``GET /metrics`` (Prometheus) and the
OpenAPI docs at ``/docs``. A prediction answers with the records ``rnn-tui predict --format
jsonl`` writes (``rnn_tui.infer.answers``), one per text, and names the version that gave
them. Bad input gets a 4xx with ``{"detail": "..."}`` naming the problem; nothing a client
sends produces a traceback.

>>> from fastapi.testclient import TestClient                          # doctest: +SKIP
>>> client = TestClient(create_app(ServeSettings(refs=["imdb-sentiment"])))  # doctest: +SKIP
>>> client.post("/v1/models/imdb-sentiment/predict",                 # doctest: +SKIP
...             json={"texts": ["a fine film"]}).json()
{'model': 'imdb-sentiment:1', 'predictions': [{'text': 'a fine film', ...}]}
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from contextlib import asynccontextmanager
from typing import Any

# The runtime's matrix products are small; OpenBLAS threads only cost (see cli/predict).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from fastapi import Depends, FastAPI, HTTPException, Request  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import JSONResponse, Response  # noqa: E402
from fastapi.concurrency import run_in_threadpool  # noqa: E402
from fastapi.exception_handlers import http_exception_handler  # noqa: E402
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr  # noqa: E402
from starlette.exceptions import HTTPException as StarletteHTTPException  # noqa: E402

from rnn_tui import __version__  # noqa: E402
from rnn_tui.errors import DataError, NotFoundError, UserError  # noqa: E402
from rnn_tui.serve.batching import MicroBatcher  # noqa: E402
from rnn_tui.serve.metrics import ServerMetrics  # noqa: E402
from rnn_tui.serve.models import ModelPool  # noqa: E402
from rnn_tui.serve.settings import ServeSettings  # noqa: E402
from rnn_tui.terminal import escape, json_text  # noqa: E402

log = logging.getLogger("rnn_tui.serve")
PREDICT_THREADS = 4
INLINE_CHARS = 2000


class JSONText(JSONResponse):
    """JSON as ``predict`` prints it: UTF-8 kept, C1 controls and bidi overrides escaped."""

    def render(self, content: Any) -> bytes:
        return json_text(content).encode("utf-8")


class BodyLimit:
    """Request bodies over ``max_body_bytes`` get a JSON 413: at once when Content-Length
    says so, else as soon as the bytes read pass the limit (a chunked body).

    (FastAPI's own ``max_body_size`` answers in plain text.)
    """

    def __init__(self, app: Any, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    def message(self, size: str) -> str:
        return f"the body has {size} bytes; at most {self.max_body_bytes} (--max-body-bytes)"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                # (int() refuses over 4,300 digits: a length that long is too long anyway)
                if value.isdigit() and (len(value) > 18 or int(value) > self.max_body_bytes):
                    size = str(int(value)) if len(value) <= 18 else \
                        f"more than {self.max_body_bytes}"
                    response = JSONText({"detail": self.message(size)},
                                        status_code=413, headers={"Connection": "close"})
                    await response(scope, receive, send)
                    return
                break
        read = 0

        async def counted() -> Any:
            nonlocal read
            message = await receive()
            read += len(message.get("body", b""))
            if read > self.max_body_bytes:  # FastAPI turns this into a JSON answer
                raise HTTPException(413, self.message(f"more than {self.max_body_bytes}"),
                                    headers={"Connection": "close"})
            return message

        await self.app(scope, counted, send)


class PredictRequest(BaseModel):
    """What to classify."""

    model_config = ConfigDict(extra="forbid")
    texts: list[StrictStr] = Field(min_length=1, description="the texts, one answer each",
                                   examples=[["a wonderful, moving film"]])
    top_k: StrictInt | None = Field(default=None, ge=1,
                                    description="also list the k most probable labels")
    trace: StrictBool = Field(default=False,
                              description="also give the prediction after each word")


class Prediction(BaseModel):
    """One text's answer: the record ``rnn-tui predict --format jsonl`` writes."""

    text: str
    model: str = Field(description="NAME:VERSION of the model version that answered")
    label: str
    probability: float
    probabilities: dict[str, float]
    top_k: list[dict[str, Any]] | None = None
    trace: list[dict[str, Any]] | None = None


class PredictResponse(BaseModel):
    model: str = Field(description="NAME:VERSION of the model version that answered")
    predictions: list[Prediction]


class ErrorResponse(BaseModel):
    detail: str


ERRORS = {code: {"model": ErrorResponse}
          for code in (400, 401, 404, 413, 415, 422, 500)}


def create_app(settings: ServeSettings | None = None, *, pool: ModelPool | None = None
               ) -> FastAPI:
    """The ASGI app for ``settings`` (models, limits, token); ``pool`` for tests."""
    settings = settings or ServeSettings()
    token = settings.read_token()
    pool = pool or ModelPool(settings.refs, check_interval=settings.check_interval)
    metrics = ServerMetrics()
    batcher = MicroBatcher(batch_size=settings.batch_size,
                           max_wait=settings.batch_wait_ms / 1000)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Predicting holds the GIL nearly throughout: more threads than this only add
        # switching and memory (anyio's default is 40).
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = PREDICT_THREADS
        pool.start()
        yield
        pool.stop()

    app = FastAPI(title="rnn-tui", version=__version__, lifespan=lifespan,
                  description="Recurrent text classifiers from the rnn-tui registry, "
                              "answered by its TensorFlow-free runtime.")
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes)
    app.state.pool = pool
    app.state.metrics = metrics
    bearer = HTTPBearer(auto_error=False, description="the token of `--token-file`")

    async def authorized(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
                   ) -> None:
        if token is None:
            return
        given = credentials.credentials if credentials is not None else ""
        if not secrets.compare_digest(given.encode(), token.encode()):
            metrics.errors.labels("-", "unauthorized").inc()
            raise HTTPException(401, "a valid bearer token is required "
                                "(Authorization: Bearer TOKEN)",
                                headers={"WWW-Authenticate": "Bearer"})

    guarded = [Depends(authorized)] if token is not None else []  # (no token: no check)

    # ------------------------------------------------------------------ errors
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONText:
        problems = error.errors()
        model = request.path_params.get("ref", "-")
        if any(problem.get("type") == "json_invalid" for problem in problems):
            metrics.errors.labels(pool.metric_label(model), "invalid_json").inc()
            problem = next(p for p in problems if p.get("type") == "json_invalid")
            reason = (problem.get("ctx") or {}).get("error", "")
            return JSONText({"detail": f"the body is not valid JSON: {reason}".rstrip(": ")},
                            status_code=400)
        metrics.errors.labels(pool.metric_label(model), "invalid_request").inc()
        content_type = request.headers.get("content-type", "")
        # (the body is still bytes when FastAPI did not take its content type for JSON)
        if any(tuple(problem.get("loc", ())) == ("body",) and (
                "json" not in content_type or isinstance(problem.get("input"), bytes))
               for problem in problems):
            return JSONText({"detail": "the body must be JSON, sent with Content-Type: "
                             f"application/json (not {content_type or 'none'!r})"},
                            status_code=415)
        lines = [f"{_where(problem.get('loc', ()))}: {problem.get('msg', 'invalid')}"
                 for problem in problems[:5]]
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        return JSONText({"detail": "; ".join(lines) + more,
                         "errors": [{"loc": list(p.get("loc", ())), "msg": p.get("msg"),
                                     "type": p.get("type")} for p in problems[:20]]},
                        status_code=422)

    @app.exception_handler(StarletteHTTPException)  # (FastAPI's own raises Starlette's)
    async def refused(request: Request, error: StarletteHTTPException) -> Response:
        # FastAPI says only "There was an error parsing the body" when reading the JSON
        # failed other than by a syntax error: say which problem it was.
        if error.status_code == 400 and error.__cause__ is not None \
                and error.detail == "There was an error parsing the body":
            metrics.errors.labels(pool.metric_label(request.path_params.get("ref", "-")),
                                  "invalid_json").inc()
            return JSONText({"detail": _unreadable_body(error.__cause__)}, status_code=400)
        return await http_exception_handler(request, error)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> JSONText:
        log.error("rnn-tui serve: %s %s failed: %s: %s", request.method,
                  escape(request.url.path), type(error).__name__, escape(str(error)))
        return JSONText({"detail": f"internal error ({type(error).__name__}); the server "
                         "goes on"}, status_code=500)

    # ------------------------------------------------------------------ endpoints
    @app.get("/health", tags=["status"])
    def health() -> dict[str, str]:
        """The process is up and answering."""
        return {"status": "ok"}

    @app.get("/ready", tags=["status"], responses={503: {"model": ErrorResponse}})
    def ready() -> Response:
        """The served models are loaded: route traffic here."""
        if not pool.ready.is_set():
            return JSONText({"detail": "loading the models"}, status_code=503)
        return JSONText({"status": "ready"})

    @app.get("/v1/models", tags=["models"], dependencies=guarded,
             responses=ERRORS)
    def models() -> Response:
        """The served models: versions, aliases, labels, language and a card summary."""
        return JSONText({"models": pool.listing()})

    @app.post("/v1/models/{ref}/predict", tags=["models"], response_model=PredictResponse,
              dependencies=guarded, responses=ERRORS)
    async def predict(ref: str, request: PredictRequest) -> Response:
        """Classify texts with the model ``ref``: ``NAME`` (the served version),
        ``NAME:VERSION`` or ``NAME@ALIAS``."""
        # A short request to a loaded model is answered on the event loop, batched with the
        # short requests that came with it (a few milliseconds at most); anything longer, a
        # trace, or a model still to load goes to a thread, so the loop stays free.
        if sum(len(text) for text in request.texts) > INLINE_CHARS or request.trace \
                or not pool.is_loaded(ref):
            return await run_in_threadpool(answer, ref, request)
        started = time.perf_counter()
        try:
            predictor, refusal = _prepare(pool, settings, ref, request)
            if refusal is None:
                results = await batcher.classify(predictor, request.texts,
                                                 request.top_k or 1)
                refusal = _respond(predictor, request, results)
            status, body = refusal
        except Exception as error:  # never a traceback to the client; the server goes on
            status, body = _internal_error(ref, error)
        return finish(ref, request, status, body, started)

    def answer(ref: str, request: PredictRequest) -> Response:
        started = time.perf_counter()
        try:
            status, body = _predict(pool, settings, ref, request)
        except Exception as error:
            status, body = _internal_error(ref, error)
        return finish(ref, request, status, body, started)

    def finish(ref: str, request: PredictRequest, status: int, body: dict[str, Any],
               started: float) -> Response:
        metrics.observe(pool.metric_label(ref), status, len(request.texts),
                        time.perf_counter() - started)
        return JSONText(body, status_code=status)

    @app.get("/metrics", tags=["status"], dependencies=guarded,
             response_class=Response)
    def prometheus() -> Response:
        """Requests, errors, texts and latency per model, in Prometheus' text format."""
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    return app


def app_from_environment() -> FastAPI:
    """The app for uvicorn's workers (``--factory``): settings from the environment."""
    return create_app(ServeSettings.from_environment())


# ---------------------------------------------------------------------------- helpers


def _predict(pool: ModelPool, settings: ServeSettings, ref: str, request: PredictRequest
             ) -> tuple[int, dict[str, Any]]:
    """(status, body) of one prediction request, computed here."""
    from rnn_tui.infer.answers import classify

    predictor, refusal = _prepare(pool, settings, ref, request)
    if refusal is not None:
        return refusal
    results = classify(predictor, request.texts, count=request.top_k or 1,
                       trace=request.trace, batch_size=settings.batch_size)
    return _respond(predictor, request, results)


def _prepare(pool: ModelPool, settings: ServeSettings, ref: str, request: PredictRequest
             ) -> tuple[Any, tuple[int, dict[str, Any]] | None]:
    """(the predictor, None), or (None, (status, body)) when the request is refused."""
    texts = request.texts
    if len(texts) > settings.max_texts:
        return None, (413, {"detail": f"{len(texts)} texts in one request; at most "
                                      f"{settings.max_texts} (--max-texts)"})
    for index, text in enumerate(texts):
        problem = _text_problem(text, settings.max_text_chars)
        if problem is not None:
            return None, (422, {"detail": f"texts[{index}]: {problem}"})
    try:
        predictor = pool.get(ref)
    except NotFoundError as error:
        return None, (404, {"detail": str(error)})
    except DataError as error:  # the model's own files: not the client's doing
        return None, (500, {"detail": f"model {ref} cannot be loaded: {error}"})
    except UserError as error:
        return None, (400, {"detail": str(error)})
    if predictor.input.kind != "text":
        return None, (422, {"detail": f"{predictor.name} reads numeric sequences, not text"})
    return predictor, None


def _respond(predictor: Any, request: PredictRequest, results: list[Any]
             ) -> tuple[int, dict[str, Any]]:
    """(status, body) from ``classify``'s results: the records, or the first text that
    could not be classified."""
    from rnn_tui.infer.answers import EMPTY_TEXT, answer_record, model_label

    records = []
    for index, (text, result) in enumerate(zip(request.texts, results)):
        if isinstance(result, str):
            reason = EMPTY_TEXT if not text.strip() else result
            return 422, {"detail": f"texts[{index}]: {reason}"}
        records.append(answer_record(text, result, ranked=request.top_k is not None))
    return 200, {"model": model_label(predictor), "predictions": records}


def _internal_error(ref: str, error: Exception) -> tuple[int, dict[str, Any]]:
    log.error("rnn-tui serve: predicting with %s failed: %s: %s", escape(ref),
              type(error).__name__, escape(str(error)))
    return 500, {"detail": f"internal error ({type(error).__name__}) while predicting; the "
                           "server goes on"}


def _unreadable_body(cause: BaseException) -> str:
    """Why a body that is not a JSON syntax error could still not be read as JSON."""
    if isinstance(cause, RecursionError):
        return "the body is not JSON that can be read: nested too deeply"
    if isinstance(cause, UnicodeDecodeError):
        return (f"the body is not JSON that can be read: not UTF-8 ({cause.reason} at byte "
                f"{cause.start})")
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "the body is not JSON that can be read: a number has over 4300 digits"
    return f"the body is not JSON that can be read ({type(cause).__name__})"


def _text_problem(text: str, limit: int) -> str | None:
    if len(text) > limit:
        return f"{len(text)} characters; at most {limit} (--max-text-chars)"
    if not text.strip():
        return "empty text"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # "\ud800" in JSON decodes to a lone surrogate
        return f"not valid Unicode (a lone surrogate at character {error.start + 1})"
    return None


def _where(location: Any) -> str:
    """("body", "texts", 2) -> "texts[2]"."""
    parts = [part for part in location if part != "body"]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"
