"""``rnn-tui serve``: the registry's models over HTTP (FastAPI on uvicorn), no TensorFlow.

The references are checked before the server starts (a typo is one line and exit code 2,
not a server that answers 404 to everything). uvicorn runs the app built by
``rnn_tui.serve.app_from_environment`` in each worker; SIGTERM lets requests in flight finish
(up to --graceful-timeout seconds) and exits with code 0.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import socket
import sys
import tempfile

import click

from rnn_tui.errors import UserError
from rnn_tui.terminal import escape

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command("serve", context_settings=CONTEXT_SETTINGS)
@click.argument("model_refs", nargs=-1, metavar="[MODEL_REF]...")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback: only this machine; 0.0.0.0: every "
                   "interface, then give --token-file).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes (each loads the models; requests are shared).")
@click.option("--token-file", type=click.Path(dir_okay=False),
              help="A file holding a bearer token that /v1 and /metrics requests must send "
                   "(Authorization: Bearer TOKEN); /health and /ready stay open.")
@click.option("--max-body-bytes", type=click.IntRange(min=1), default=4 * 1024 * 1024,
              show_default=True, help="Largest request body accepted (413 beyond).")
@click.option("--max-texts", type=click.IntRange(min=1), default=1024, show_default=True,
              help="Most texts in one request (413 beyond).")
@click.option("--max-text-chars", type=click.IntRange(min=1), default=100_000,
              show_default=True, help="Longest text accepted, in characters (422 beyond).")
@click.option("--batch-wait-ms", type=click.FloatRange(0, 1000), default=6.0,
              show_default=True,
              help="With concurrent clients, how long a short request may wait for others "
                   "to share its model call (fewer, larger calls: more requests/s); 0: never.")
@click.option("--graceful-timeout", type=click.IntRange(min=0), default=30, show_default=True,
              help="Seconds that requests in flight get to finish after SIGTERM.")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="One log line per request (the /metrics counters are always kept).")
def serve(model_refs: tuple[str, ...], host: str, port: int, workers: int,
          token_file: str | None, max_body_bytes: int, max_texts: int, max_text_chars: int,
          batch_wait_ms: float, graceful_timeout: int, access_log: bool) -> None:
    """Answer predictions over HTTP: the models of the registry, without TensorFlow.

    With no MODEL_REF every model of your registry and the shipped ones is served; with
    some, only those names (a bare name in a request then means the reference given here,
    so `serve imdb-sentiment@prod` answers `imdb-sentiment` with @prod). A moved alias or a
    new version is answered within a second, and every answer names its version.

    \b
    Endpoints: GET /health, GET /ready, GET /v1/models,
               POST /v1/models/{ref}/predict  {"texts": [...], "top_k": 3, "trace": false},
               GET /metrics (Prometheus), GET /docs (OpenAPI).
    \b
      rnn-tui serve
      rnn-tui serve imdb-sentiment@prod reuters-topics --port 9000 --workers 2
      rnn-tui serve --host 0.0.0.0 --token-file ~/.config/rnn-tui/token
      curl -s localhost:8000/v1/models/imdb-sentiment/predict \\
           -H 'content-type: application/json' -d '{"texts": ["a fine film"]}'
    """
    from rnn_tui.serve.settings import ENVIRONMENT_KEY, ServeSettings

    settings = ServeSettings(refs=list(model_refs), max_body_bytes=max_body_bytes,
                             max_texts=max_texts, max_text_chars=max_text_chars,
                             batch_wait_ms=batch_wait_ms,
                             token_file=os.path.abspath(token_file) if token_file else None)
    token = settings.read_token()  # a bad file: one line now, not one per worker
    check_refs(model_refs)
    check_address(host, port)
    if token is None and not is_loopback(host):
        click.echo(f"rnn-tui serve: warning: listening on {escape(host)} without "
                   "--token-file: anyone who can reach this port can use the models",
                   err=True)
    os.environ[ENVIRONMENT_KEY] = settings.to_json()
    metrics_dir = None
    if workers > 1:  # prometheus-client's multiprocess mode: /metrics sums every worker
        metrics_dir = tempfile.mkdtemp(prefix="rnn-tui-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    import uvicorn

    # uvicorn re-raises SIGTERM once it has shut down gracefully: that is a clean exit here
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        uvicorn.run("rnn_tui.serve.app:app_from_environment", factory=True, host=host,
                    port=port, workers=workers, timeout_graceful_shutdown=graceful_timeout,
                    access_log=access_log, server_header=False, log_level="info")
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def check_refs(model_refs: tuple[str, ...]) -> None:
    """Every reference names a model that exists now (UserError otherwise)."""
    if not model_refs:
        return
    from rnn_tui.registry import ModelRef, open_registries

    registries = open_registries()
    names = set()
    for text in model_refs:
        ref = ModelRef.parse(text)
        if ref.name in names:
            raise UserError(f"model {ref.name!r} is given twice: give one reference per name")
        names.add(ref.name)
        registries.resolve(ref)


def is_loopback(host: str) -> bool:
    """
    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), \
is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_address(host: str, port: int) -> None:
    """Fail with one line now when the address cannot be listened on."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise UserError(f"cannot listen on {host!r}: {error.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            hint = ": choose another with --port" if error.errno == 98 else ""
            raise UserError(f"cannot listen on {host}:{port}: "
                            f"{error.strerror or error}{hint}") from None
