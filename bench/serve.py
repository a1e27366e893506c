"""``rnn-tui serve`` against its peers over real HTTP on loopback, side by side in one run.

    python bench/serve.py                          # 3 rounds x 6 s per server and load
    python bench/serve.py --rounds 5 --seconds 10 --skip-keras
    python bench/serve.py --skip-keras --compare ../main --loads single   # a change vs main

Three servers, each one uvicorn worker with the same settings (no access log, uvicorn's
default loop and parser), all on 127.0.0.1, started once and kept for the run:

- ``rnn-tui serve imdb-sentiment@prod`` (the TensorFlow-free runtime);
- ``keras``: a FastAPI app calling Keras' ``model.predict`` on the same model's
  ``model.keras`` (bench/serve_peers.py);
- ``fixed``: a FastAPI app that parses the same request and returns a fixed answer: the
  framework's ceiling on this machine;
- with ``--compare TREE``, ``rnn-tui@base``: ``rnn-tui serve`` run from another checkout
  (e.g. main), to measure a change to the server in the same alternating rounds.

The model is the shipped imdb-sentiment, published twice into a scratch registry so that
``@prod`` can move between version 1 and 2 every 2 s for the whole run; every rnn-tui answer
must name one of the two, and no request may fail.

Loads, each measured in rounds that alternate the servers (the order rotates per round),
after a warm-up on each: single-text requests from 16 concurrent clients (httpx, one
asyncio process), and requests of 256 texts. Per round: requests/s, texts/s, p50 and p99
latency, and the server's CPU time per request (user + system, from /proc: what a request
costs the server, which the load of other processes on a shared machine moves much less
than the rates); the summary gives the median over rounds and the min-max spread. Then the resident
memory of each server, and of ``rnn-tui serve`` with every shipped model loaded.

The clients share the machine with the servers (2 cores here, shared with other work): the
figures are what this box gives, the ratios are the point.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "models"
MODEL = "imdb-sentiment"
SENTENCES = [
    "An absolute delight from start to finish, the cast is wonderful.",
    "I loved every minute; the best film I have seen this year.",
    "Boring, predictable and far too long.",
    "The plot makes no sense and the acting is terrible.",
    "A quiet, moving story with a final scene that stays with you.",
    "The first half drags, but the ending almost makes up for it.",
    "Not worth the ticket: flat jokes and a lazy script.",
    "Beautifully shot, though the characters never come alive.",
    "My kids laughed all the way through and so did I.",
    "It tries hard to be clever and ends up merely confusing.",
    "A masterpiece of tension; I was on the edge of my seat.",
    "Forgettable in every way, from the music to the dialogue.",
]


def review_texts(count: int = 64) -> list[str]:
    """Reviews of 1 to 5 sentences (8 to 60 words), the same every run."""
    texts = []
    for index in range(count):
        size = 1 + index % 5
        start = (index * 7) % len(SENTENCES)
        texts.append(" ".join(SENTENCES[(start + k) % len(SENTENCES)] for k in range(size)))
    return texts


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ---------------------------------------------------------------------------- servers


class Server:
    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path,
                 cwd: Path | None = None):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(command + ["--port", str(self.port)], env=env, cwd=cwd,
                                        stdout=open(log, "wb"), stderr=subprocess.STDOUT)
        self.log = log

    def wait(self, timeout: float = 180) -> None:
        import httpx

        body = {"texts": ["warming up"]}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.post(f"{self.url}/v1/models/{MODEL}/predict", json=body,
                              timeout=30).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        sys.exit(f"{self.name} was not ready in {timeout} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def uvicorn_peer(factory: str) -> list[str]:
    return [sys.executable, "-m", "uvicorn", f"serve_peers:{factory}", "--factory",
            "--app-dir", str(ROOT / "bench"), "--host", "127.0.0.1", "--workers", "1",
            "--no-access-log", "--no-server-header", "--log-level", "warning"]


def scratch_registry(home: Path) -> None:
    """The shipped model published twice into ``home``'s registry, @prod on version 1."""
    os.environ["RNN_TUI_HOME"] = str(home)
    os.environ["RNN_TUI_SHIPPED_MODELS"] = str(SHIPPED)
    from rnn_tui.registry import open_registries

    registries = open_registries()
    archive = home / "model.tar.gz"
    registries.export(MODEL, archive)
    for _ in range(2):
        registries.import_archive(archive, MODEL)
    registries.set_alias(MODEL, "prod", 1)


class AliasMover(threading.Thread):
    """Moves ``@prod`` between version 1 and 2 every ``interval`` seconds."""

    def __init__(self, interval: float = 2.0):
        super().__init__(daemon=True)
        self.interval = interval
        self.moves = 0
        self.halt = threading.Event()

    def run(self) -> None:
        from rnn_tui.registry import open_registries

        registries = open_registries()
        while not self.halt.wait(self.interval):
            self.moves += 1
            registries.set_alias(MODEL, "prod", 2 if self.moves % 2 else 1)


# ---------------------------------------------------------------------------- clients


async def load(url: str, bodies: list[bytes], texts_per_request: int, clients: int,
               seconds: float) -> dict:
    """``clients`` concurrent clients posting bodies in turn for ``seconds``."""
    import httpx

    latencies: list[float] = []
    failed = 0
    versions: dict[str, int] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"content-type": "application/json"}
    target = f"{url}/v1/models/{MODEL}/predict"
    async with httpx.AsyncClient(limits=limits, timeout=120) as http:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds

        async def client(offset: int) -> None:
            nonlocal failed
            for body in itertools.islice(itertools.cycle(bodies), offset, None):
                if loop.time() >= deadline:
                    return
                started = time.perf_counter()
                try:
                    response = await http.post(target, content=body, headers=headers)
                except httpx.HTTPError:
                    failed += 1
                    continue
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    failed += 1
                    continue
                model = json.loads(response.content)["model"]
                versions[model] = versions.get(model, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(client(k * 3) for k in range(clients)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    count = len(latencies)
    return {"requests": count, "failed": failed, "seconds": elapsed,
            "rps": count / elapsed, "texts_per_s": count * texts_per_request / elapsed,
            "p50_ms": latencies[count // 2] * 1000 if count else float("nan"),
            "p99_ms": latencies[min(count - 1, int(count * 0.99))] * 1000
            if count else float("nan"),
            "versions": versions}


def bodies_for(texts: list[str], per_request: int) -> list[bytes]:
    if per_request == 1:
        return [json.dumps({"texts": [text]}).encode() for text in texts]
    cycle = itertools.cycle(texts)
    return [json.dumps({"texts": [next(cycle) for _ in range(per_request)]}).encode()
            for _ in range(4)]


# ---------------------------------------------------------------------------- the run


def spread(values: list[float], digits: int = 1) -> str:
    return (f"{statistics.median(values):9.{digits}f}  ({min(values):.{digits}f}-"
            f"{max(values):.{digits}f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=6.0, help="per measured round")
    parser.add_argument("--warmup", type=float, default=1.5, help="per server, per round")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--skip-keras", action="store_true")
    parser.add_argument("--compare", type=Path, metavar="TREE",
                        help="also run `rnn-tui serve` from this checkout (rnn-tui@base)")
    parser.add_argument("--loads", default="single,batch", help="single,batch [both]")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    scratch = Path(tempfile.mkdtemp(prefix="rnn-tui-bench-serve-"))
    scratch_registry(scratch / "home")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    load_before = os.getloadavg()
    servers = {"rnn-tui": Server("rnn-tui", [sys.executable, "-m", "rnn_tui", "serve",
                                             f"{MODEL}@prod", "--max-texts", "1024"],
                                 env, scratch / "rnn-tui.log", cwd=ROOT)}
    if args.compare:
        servers["rnn-tui@base"] = Server(
            "rnn-tui@base", [sys.executable, "-m", "rnn_tui", "serve", f"{MODEL}@prod",
                             "--max-texts", "1024"],
            dict(env, PYTHONPATH=str(args.compare.resolve())), scratch / "base.log",
            cwd=args.compare.resolve())  # (python -m puts the working folder first)
    servers["fixed"] = Server("fixed", uvicorn_peer("fixed_app"), env, scratch / "fixed.log")
    if not args.skip_keras:
        servers["keras"] = Server("keras", uvicorn_peer("keras_app"),
                                  dict(env, BENCH_PEER_MODEL=f"{MODEL}@prod"),
                                  scratch / "keras.log")
    mover = AliasMover()
    try:
        for server in servers.values():
            server.wait()
        mover.start()
        texts = review_texts()
        results: dict[str, dict[str, list[dict]]] = {}
        plans = [("single", 1, list(servers)),
                 ("batch", args.batch, [name for name in servers if name != "fixed"])]
        plans = [plan for plan in plans if plan[0] in args.loads.split(",")]
        for load_name, per_request, names in plans:
            bodies = bodies_for(texts, per_request)
            print(f"\n{load_name}: {per_request} text(s) per request, {args.clients} clients, "
                  f"{args.rounds} rounds x {args.seconds:g} s (+{args.warmup:g} s warm-up)")
            for round_index in range(args.rounds):
                order = names[round_index % len(names):] + names[:round_index % len(names)]
                for name in order:
                    url = servers[name].url
                    asyncio.run(load(url, bodies, per_request, args.clients, args.warmup))
                    cpu = cpu_seconds(servers[name].process.pid)
                    figures = asyncio.run(load(url, bodies, per_request, args.clients,
                                               args.seconds))
                    figures["cpu_ms"] = (cpu_seconds(servers[name].process.pid) - cpu) \
                        * 1000 / max(1, figures["requests"])
                    results.setdefault(load_name, {}).setdefault(name, []).append(figures)
                    print(f"  round {round_index + 1} {name:8s} {figures['rps']:8.1f} req/s "
                          f"{figures['texts_per_s']:9.1f} texts/s  p50 {figures['p50_ms']:7.2f}"
                          f" ms  p99 {figures['p99_ms']:8.2f} ms  cpu {figures['cpu_ms']:6.3f} "
                          f"ms/req  failed {figures['failed']}"
                          + (f"  versions {figures['versions']}" if name == "rnn-tui" else ""))
        memory = {name: rss_mib(server.process.pid) for name, server in servers.items()}
    finally:
        mover.halt.set()
        for server in servers.values():
            server.stop()
    shipped_rss = shipped_memory(scratch)
    load_after = os.getloadavg()
    shutil.rmtree(scratch, ignore_errors=True)
    report(results, memory, shipped_rss, mover.moves, load_before, load_after, args)


def shipped_memory(scratch: Path) -> float:
    """Resident memory of `rnn-tui serve` with every shipped model loaded and used once."""
    import httpx

    env = dict(os.environ, RNN_TUI_HOME=str(scratch / "empty-home"))
    server = Server("shipped", [sys.executable, "-m", "rnn_tui", "serve"], env,
                    scratch / "shipped.log")
    try:
        server.wait()
        for name in ("imdb-sentiment", "nsmc-sentiment", "reuters-topics"):
            httpx.post(f"{server.url}/v1/models/{name}/predict",
                       json={"texts": ["a fine film"] * 8}, timeout=60)
        return rss_mib(server.process.pid)
    finally:
        server.stop()


def report(results, memory, shipped_rss, moves, load_before, load_after, args) -> None:
    print(f"\nsummary: median over {args.rounds} rounds (min-max); alias moved {moves} times")
    for load_name, by_server in results.items():
        print(f"\n{load_name:6s}       {'req/s':>24s} {'texts/s':>26s} {'p50 ms':>22s} "
              f"{'p99 ms':>22s} {'cpu ms/req':>22s}  failed")
        for name, rounds in by_server.items():
            print(f"  {name:12s} {spread([r['rps'] for r in rounds])} "
                  f"{spread([r['texts_per_s'] for r in rounds])} "
                  f"{spread([r['p50_ms'] for r in rounds])} "
                  f"{spread([r['p99_ms'] for r in rounds])} "
                  f"{spread([r['cpu_ms'] for r in rounds], 3)}  "
                  f"{sum(r['failed'] for r in rounds)}")
        ours = by_server.get("rnn-tui")
        median = lambda rounds, key: statistics.median(r[key] for r in rounds)  # noqa: E731
        if ours and "keras" in by_server:
            keras = by_server["keras"]
            print(f"  rnn-tui / keras: {median(ours, 'rps') / median(keras, 'rps'):.2f}x "
                  f"requests/s, {median(ours, 'texts_per_s') / median(keras, 'texts_per_s'):.2f}"
                  f"x texts/s, p99 {median(ours, 'p99_ms') / median(keras, 'p99_ms'):.3f} of "
                  "keras'")
        if ours and "fixed" in by_server:
            fixed = by_server["fixed"]
            print(f"  rnn-tui / fixed (the ceiling): "
                  f"{median(ours, 'rps') / median(fixed, 'rps'):.1%} of its requests/s "
                  "(per round: " + ", ".join(f"{a['rps'] / b['rps']:.0%}"
                                             for a, b in zip(ours, fixed)) + ")")
        base = by_server.get("rnn-tui@base")
        if ours and base:
            print("  rnn-tui / rnn-tui@base per round: requests/s " + ", ".join(
                f"{a['rps'] / b['rps']:.2f}" for a, b in zip(ours, base)) + "; cpu ms/req "
                + ", ".join(f"{a['cpu_ms'] / b['cpu_ms']:.2f}" for a, b in zip(ours, base)))
    versions: dict[str, int] = {}
    for rounds in (by_server.get("rnn-tui", []) for by_server in results.values()):
        for figures in rounds:
            for model, count in figures["versions"].items():
                versions[model] = versions.get(model, 0) + count
    print(f"\nrnn-tui answers by version while @prod moved: {versions}")
    print("resident memory (MiB) after the run: "
          + ", ".join(f"{name} {value:.0f}" for name, value in memory.items())
          + f"; rnn-tui serve with the 3 shipped text models (+ multiplication) loaded: "
            f"{shipped_rss:.0f}")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          f"({os.cpu_count()} CPUs, clients on the same machine)")


if __name__ == "__main__":
    main()
