"""The HTTP API in process (FastAPI's TestClient): answers, refs, limits, errors, token,
metrics, moved aliases. tests/test_serve_process.py runs the same app as a real uvicorn
process. The models are tiny runtimes published by the tests (no TensorFlow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infer_helpers import make_vocabulary, pooled_lstm, publish_sentiment_pair, publish_version
from rnn_tui.registry import Registry
from rnn_tui.serve import ServeSettings, create_app

PREDICT = "/v1/models/imdb-sentiment/predict"


@pytest.fixture
def registry(isolated_home) -> Registry:
    publish_sentiment_pair(isolated_home / "models")
    return Registry(isolated_home / "models")


def serving(settings: ServeSettings | None = None) -> TestClient:
    """A client whose app has started (lifespan) and loaded its models."""
    client = TestClient(create_app(settings or ServeSettings(check_interval=0.05)))
    client.__enter__()
    deadline = time.monotonic() + 30
    while client.get("/ready").status_code != 200:
        assert time.monotonic() < deadline, "never ready"
        time.sleep(0.02)
    return client


@pytest.fixture
def client(registry):
    client = serving()
    yield client
    client.__exit__(None, None, None)


def publish_imdb_version(registry: Registry, seed: int):
    vocabulary = make_vocabulary()
    return publish_version(registry.root, "imdb-sentiment",
                           lambda path: pooled_lstm(10, True, seed=seed, write_to=path),
                           vocabulary=vocabulary)


def test_answers_are_predicts_jsonl_records(client):
    texts = ["a wonderful moving film", "dull and slow \u009b\u202e", "재미있을 줄 알았는데"]
    response = client.post(PREDICT, json={"texts": texts, "top_k": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == "imdb-sentiment:1"
    process = subprocess.run(
        [sys.executable, "-m", "rnn_tui", "predict", "-m", "imdb-sentiment", "--format",
         "jsonl", "--top-k", "2", *texts], capture_output=True, timeout=60,
        env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    expected = [json.loads(line) for line in process.stdout.decode().splitlines()]
    assert body["predictions"] == expected
    # control characters and bidi overrides travel escaped, as predict prints them
    assert "\\u009b\\u202e" in response.text


def test_trace_and_versions_and_aliases(client, registry):
    publish_imdb_version(registry, seed=9)
    registry.set_alias("imdb-sentiment", "prod", 1)
    for ref, version in [("imdb-sentiment", 2), ("imdb-sentiment:1", 1),
                         ("imdb-sentiment@prod", 1), ("imdb-sentiment@latest", 2)]:
        deadline = time.monotonic() + 5
        while True:
            body = client.post(f"/v1/models/{ref}/predict",
                               json={"texts": ["great film"], "trace": True}).json()
            if body["model"] == f"imdb-sentiment:{version}" or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert body["model"] == f"imdb-sentiment:{version}", ref
        assert [step["token"] for step in body["predictions"][0]["trace"]] == ["great", "film"]


def test_a_moved_alias_is_served_within_a_second(registry):
    registry.set_alias("imdb-sentiment", "prod", 1)
    publish_imdb_version(registry, seed=9)
    client = serving(ServeSettings(refs=["imdb-sentiment@prod"], check_interval=0.1))
    try:
        assert client.post(PREDICT, json={"texts": ["fine"]}).json()["model"] == \
            "imdb-sentiment:1"
        latest = client.post("/v1/models/imdb-sentiment@latest/predict",
                             json={"texts": ["fine"]}).json()
        assert latest["model"] == "imdb-sentiment:2"  # @latest is not the served @prod
        registry.set_alias("imdb-sentiment", "prod", 2)
        moved = time.monotonic()
        while client.post(PREDICT, json={"texts": ["fine"]}).json()["model"] != \
                "imdb-sentiment:2":
            assert time.monotonic() - moved < 1.0, "the moved alias was not served in 1 s"
            time.sleep(0.01)
        listing = {m["name"]: m for m in client.get("/v1/models").json()["models"]}
        assert list(listing) == ["imdb-sentiment"]  # only the served names
        assert listing["imdb-sentiment"]["serving_version"] == 2
        assert listing["imdb-sentiment"]["aliases"] == {"prod": 2}
    finally:
        client.__exit__(None, None, None)


def test_models_listing(client):
    models = {m["name"]: m for m in client.get("/v1/models").json()["models"]}
    assert sorted(models) == ["imdb-sentiment", "nsmc-sentiment"]
    assert models["nsmc-sentiment"]["language"] == "ko"
    assert models["imdb-sentiment"]["labels"] == ["negative", "positive"]
    assert models["imdb-sentiment"]["versions"] == [1]


@pytest.mark.parametrize("body, status, detail", [
    ('{"texts": [1]}', 422, "texts[0]: Input should be a valid string"),
    ('{"texts": "one"}', 422, "texts: Input should be a valid list"),
    ('{"texts": []}', 422, "texts: List should have at least 1 item"),
    ('{"texts": ["a"], "top_k": 0}', 422, "top_k: Input should be greater than or equal"),
    ('{"texts": ["a"], "top_k": "3"}', 422, "top_k: Input should be a valid integer"),
    ('{"texts": ["a"], "trace": "yes"}', 422, "trace: Input should be a valid boolean"),
    ('{"texts": ["a"], "model": "x"}', 422, "model: Extra inputs are not permitted"),
    ('{"texts": ["fine", "  "]}', 422, "texts[1]: empty text"),
    ('{"texts": ["\\ud800 lone"]}', 422, "texts[0]: not valid Unicode"),
    ('{"texts": ["zzz qqq"]}', 200, None),  # unknown words read as the OOV token
    ('{"texts": [', 400, "the body is not valid JSON"),
    ('[1, 2]', 422, "body: Input should be a valid dictionary"),
    ('', 422, "body: Field required"),
])
def test_bad_bodies_get_a_4xx_naming_the_problem(client, body, status, detail):
    response = client.post(PREDICT, content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    if detail is not None:
        assert detail in response.json()["detail"]
    # the server goes on
    assert client.post(PREDICT, json={"texts": ["fine"]}).status_code == 200


@pytest.mark.parametrize("body, headers, status, detail", [
    (b"[" * 50_000, {}, 400, "nested too deeply"),
    (b'{"texts": ["\xff\xfe"]}', {}, 400, "not UTF-8 (invalid start byte at byte 12)"),
    (b'{"texts": ["a"], "top_k": ' + b"9" * 5000 + b"}", {}, 400, "over 4300 digits"),
    (b'{"texts": ["a"]}', {"content-type": b"application/\xff\x00json"}, 415,
     "must be JSON"),
    (b'{"texts": ["a"]}', {"content-length": b"9" * 5000}, 413, "more than"),
], ids=["deep", "not-utf8", "long-number", "odd-content-type", "long-content-length"])
def test_bodies_json_cannot_read_are_named(client, body, headers, status, detail):
    """Found by the fuzz target of the request bodies: each was a bare "There was an
    error parsing the body", a 422 about a dictionary, or a 500 (the 5,000-digit
    Content-Length)."""
    response = client.post(PREDICT, content=body,
                           headers={"content-type": "application/json", **headers})
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]
    assert client.post(PREDICT, json={"texts": ["fine"]}).status_code == 200


def test_a_version_of_5000_digits_is_a_400(client):
    """(a ValueError from int(), a 500, before; found by the fuzz target of the paths)"""
    response = client.post("/v1/models/imdb-sentiment:" + "9" * 5000 + "/predict",
                           json={"texts": ["fine"]})
    assert response.status_code == 400
    assert "more than 18 digits" in response.json()["detail"]


def test_not_json_content_type(client):
    response = client.post(PREDICT, content=b'{"texts": ["a"]}',
                           headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


@pytest.mark.parametrize("ref, status, detail", [
    ("nope", 404, "no model named 'nope'"),
    ("imdb-sentiment:7", 404, "has no version 7"),
    ("imdb-sentiment@prod", 404, "has no alias 'prod'"),
    ("Bad..name", 400, "must not contain '..'"),
    ("imdb-sentiment:x", 400, "must be a positive number"),
])
def test_bad_references(client, ref, status, detail):
    response = client.post(f"/v1/models/{ref}/predict", json={"texts": ["fine"]})
    assert response.status_code == status
    assert detail in response.json()["detail"]


def test_limits(registry):
    settings = ServeSettings(max_texts=3, max_text_chars=50, max_body_bytes=2000)
    client = serving(settings)
    try:
        assert client.post(PREDICT, json={"texts": ["fine"] * 3}).status_code == 200
        response = client.post(PREDICT, json={"texts": ["fine"] * 4})
        assert response.status_code == 413
        assert "4 texts in one request; at most 3" in response.json()["detail"]
        response = client.post(PREDICT, json={"texts": ["fine", "x" * 51]})
        assert response.status_code == 422
        assert response.json()["detail"] == \
            "texts[1]: 51 characters; at most 50 (--max-text-chars)"
        response = client.post(PREDICT, json={"texts": ["y" * 3000]})
        assert response.status_code == 413
        assert "at most 2000 (--max-body-bytes)" in response.json()["detail"]

        def chunks():  # no Content-Length: the bytes are counted as they come
            yield b'{"texts": ["'
            for _ in range(10):
                yield b"z" * 400
            yield b'"]}'

        response = client.post(PREDICT, content=chunks(),
                               headers={"content-type": "application/json"})
        assert response.status_code == 413
        assert client.post(PREDICT, json={"texts": ["fine"]}).status_code == 200
    finally:
        client.__exit__(None, None, None)


def test_bearer_token(registry, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-token-0123456789\n")
    client = serving(ServeSettings(token_file=str(token_file)))
    try:
        assert client.get("/health").status_code == 200  # probes stay open
        assert client.get("/ready").status_code == 200
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
            for method, path in (("post", PREDICT), ("get", "/v1/models"),
                                 ("get", "/metrics")):
                response = getattr(client, method)(path, headers=headers,
                                                   **({"json": {"texts": ["a"]}}
                                                      if method == "post" else {}))
                assert response.status_code == 401, (path, headers)
                assert response.headers["www-authenticate"] == "Bearer"
        good = {"Authorization": "Bearer s3cret-token-0123456789"}
        assert client.post(PREDICT, json={"texts": ["a"]}, headers=good).status_code == 200
        assert client.get("/metrics", headers=good).status_code == 200
    finally:
        client.__exit__(None, None, None)


@pytest.mark.parametrize("content, problem", [
    ("short", "at least 16 printable characters"),
    ("two words here and more", "one word"),
    ("", "at least 16"),
])
def test_bad_token_files_are_refused(registry, tmp_path, content, problem):
    from rnn_tui.errors import UserError

    token_file = tmp_path / "token"
    token_file.write_text(content)
    with pytest.raises(UserError, match=problem):
        create_app(ServeSettings(token_file=str(token_file)))
    with pytest.raises(UserError, match="cannot read the token file"):
        create_app(ServeSettings(token_file=str(tmp_path / "absent")))


def test_metrics_count_requests_errors_and_latency(client):
    client.post(PREDICT, json={"texts": ["fine", "great"]})
    client.post(PREDICT, json={"texts": ["fine"]})
    client.post(PREDICT, json={"texts": [""]})
    client.post("/v1/models/made-up-name/predict", json={"texts": ["fine"]})
    text = client.get("/metrics").text
    assert 'rnn_tui_predict_requests_total{model="imdb-sentiment",status="200"} 2.0' in text
    assert 'rnn_tui_predict_requests_total{model="imdb-sentiment",status="422"} 1.0' in text
    assert 'rnn_tui_predict_texts_total{model="imdb-sentiment"} 3.0' in text
    assert 'rnn_tui_predict_requests_total{model="-",status="404"} 1.0' in text
    assert 'rnn_tui_predict_seconds_count{model="imdb-sentiment"} 3.0' in text
    assert "made-up-name" not in text


def test_a_damaged_model_is_one_line_and_the_rest_goes_on(client, registry):
    vocabulary = registry.resolve("nsmc-sentiment").path / "vocabulary.json"
    os.chmod(vocabulary, 0o644)
    vocabulary.write_text(vocabulary.read_text().replace("great", "grate"))
    response = client.post("/v1/models/nsmc-sentiment:1/predict", json={"texts": ["fine"]})
    # (nsmc-sentiment was loaded at start: the version already in memory goes on answering)
    assert response.status_code == 200
    fresh = serving()
    try:
        response = fresh.post("/v1/models/nsmc-sentiment/predict", json={"texts": ["fine"]})
        assert response.status_code == 500
        assert "does not match the sha256" in response.json()["detail"]
        assert "Traceback" not in response.text
        assert fresh.post(PREDICT, json={"texts": ["fine"]}).status_code == 200
    finally:
        fresh.__exit__(None, None, None)


def test_openapi_docs(client):
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/v1/models/{ref}/predict" in schema["paths"]


def test_serving_never_imports_tensorflow(registry):
    code = ("import sys, time\n"
            "from fastapi.testclient import TestClient\n"
            "from rnn_tui.serve import create_app\n"
            "with TestClient(create_app()) as client:\n"
            "    while client.get('/ready').status_code != 200: time.sleep(0.02)\n"
            "    r = client.post('/v1/models/imdb-sentiment/predict',"
            " json={'texts': ['great film'], 'trace': True})\n"
            "    assert r.status_code == 200, r.text\n"
            "    client.get('/v1/models'); client.get('/metrics')\n"
            "print('TF', 'tensorflow' in sys.modules, 'keras' in sys.modules)\n")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert process.stdout.decode().splitlines()[-1] == "TF False False", process.stderr


def test_concurrent_short_requests_share_model_calls(registry):
    """The micro-batcher: 24 concurrent requests (different top_k, one failing text) get
    exactly what each would get alone, from fewer model calls."""
    import asyncio

    from rnn_tui.infer import Predictor
    from rnn_tui.infer.answers import classify
    from rnn_tui.serve.batching import MicroBatcher

    predictor = Predictor.load("imdb-sentiment")
    requests = [([f"a wonderful film {k}", "dull and slow"][: 1 + k % 2], 1 + k % 2)
                for k in range(24)]

    async def run_all():
        batcher = MicroBatcher(max_texts=16)
        answers = await asyncio.gather(*(batcher.classify(predictor, texts, count)
                                         for texts, count in requests))
        return batcher, answers

    batcher, answers = asyncio.run(run_all())
    assert 1 < batcher.batches < len(requests)  # shared calls, none over 16 texts
    for (texts, count), got in zip(requests, answers):
        alone = classify(predictor, texts, count=count)
        assert [(r["ranked"], r["probabilities"]) for r in got] == \
            [(r["ranked"], r["probabilities"]) for r in alone]


def test_with_concurrent_clients_a_request_waits_for_others_a_lone_one_does_not(registry):
    """After a model call that joined two requests (concurrent clients), the next call
    waits up to ``max_wait`` for more; a client alone never waits (here max_wait is 60 s,
    so a wait would time the test out)."""
    import asyncio

    from rnn_tui.infer import Predictor
    from rnn_tui.serve.batching import MicroBatcher

    predictor = Predictor.load("imdb-sentiment")

    async def run_all():
        batcher = MicroBatcher(max_wait=60)
        for text in ("a fine film", "dull", "great"):  # one client: one call each, no wait
            await asyncio.wait_for(batcher.classify(predictor, [text], 1), 20)
        assert batcher.batches == 3
        await asyncio.gather(batcher.classify(predictor, ["a"], 1),
                             batcher.classify(predictor, ["b"], 1))
        assert batcher.batches == 4  # two at once: one call

        async def late(text, delay):
            await asyncio.sleep(delay)
            return await batcher.classify(predictor, [text], 1)

        # concurrent now: the first of these waits, so the later ones join its call; 64
        # texts fill a batch, which ends the wait
        answers = await asyncio.wait_for(asyncio.gather(
            late("good", 0), late("bad", 0.05), late("fine", 0.1),
            batcher.classify(predictor, ["x"] * 61, 1)), 20)
        assert batcher.batches == 5
        assert [len(answer) for answer in answers] == [1, 1, 1, 61]

    asyncio.run(run_all())
