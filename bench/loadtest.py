"""Load test: the real app (`ampi serve` in a child process on 127.0.0.1) under concurrent /ask clients.

    .venv/bin/python bench/loadtest.py                        # 20 clients for 60 s each (`make loadtest`)
    .venv/bin/python bench/loadtest.py --clients 5 --seconds 10

Each client is its own gradio_client.Client asking the dev questions (tests/eval/dev.jsonl) in its own
random order. A reply whose "question" is not the one the client asked counts as a mismatch (an answer
delivered to the wrong caller); an exception or a reply that is not an answer record counts as an error.
Results go to bench-results/loadtest.json. Everything binds to 127.0.0.1, and every wait is bounded:
the server must come up in 120 s, each request must finish in 60 s, the whole run ends by
seconds + 180 s. Needs an index (`make loadtest` runs `ampi ingest` first).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # also runnable without the editable install

from ingest.settings import Settings, offline_environment  # noqa: E402

RECORD_KEYS = {"id", "question", "answer", "refused", "citations", "retrieved", "latency_ms"}
REQUEST_TIMEOUT = 60.0
STARTUP_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def rss_mb(pid: int) -> float | None:
    """Current resident memory of a process, from /proc (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def start_server(port: int, log_path: Path) -> subprocess.Popen:
    """`python -m ui.cli serve` on 127.0.0.1:port, without login; returns once the page answers."""
    env = {k: v for k, v in os.environ.items() if k not in ("AMPI_UI_USERS", "AMPI_UI_PASSWORD_FILE")}
    log = log_path.open("w")
    server = subprocess.Popen([sys.executable, "-m", "ui.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=2) as reply:
                if reply.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise SystemExit(f"the server did not answer within {STARTUP_TIMEOUT:.0f} s; see {log_path}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


class Tally:
    """Counts shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.mismatches: list[tuple[str, str]] = []
        self.requests = 0

    def add(self, seconds: float, error: str | None = None, mismatch: tuple[str, str] | None = None) -> None:
        with self.lock:
            self.requests += 1
            self.latencies.append(seconds)
            if error:
                self.errors.append(error)
            if mismatch:
                self.mismatches.append(mismatch)


def client_loop(url: str, questions: list[str], seconds: float, seed: int, tally: Tally, ready: threading.Barrier) -> None:
    """One client: its own connection, its own random order, until its time is up."""
    from gradio_client import Client

    try:
        client = Client(url, verbose=False, analytics_enabled=False)
    except Exception as exc:  # counted, so a client that cannot connect shows up in the figures
        tally.add(0.0, error=f"connect: {type(exc).__name__}: {exc}")
        ready.abort()
        return
    rng = random.Random(seed)
    order: list[str] = []
    try:
        ready.wait(timeout=STARTUP_TIMEOUT)  # all clients start asking together
    except threading.BrokenBarrierError:
        pass
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        if not order:
            order = rng.sample(questions, len(questions))
        question = order.pop()
        started = time.perf_counter()
        try:
            record = client.submit(question, api_name="/ask").result(timeout=REQUEST_TIMEOUT)
        except (FutureTimeout, TimeoutError):
            tally.add(time.perf_counter() - started, error=f"timeout after {REQUEST_TIMEOUT:.0f} s")
            continue
        except Exception as exc:
            tally.add(time.perf_counter() - started, error=f"{type(exc).__name__}: {exc}")
            continue
        elapsed = time.perf_counter() - started
        if not isinstance(record, dict) or set(record) != RECORD_KEYS or not record.get("answer"):
            tally.add(elapsed, error=f"not an answer record: {str(record)[:200]}")
        elif record["question"] != question:
            tally.add(elapsed, mismatch=(question, str(record["question"])))
        else:
            tally.add(elapsed)


def ingest_during(seconds: float, count: int, folder: Path, tally: Tally, log: list[str]) -> None:
    """`count` ingests spread over the run, each adding a new document: every one switches the index under load.

    They go through `ampi ingest PATH` (its own process, as an upload's ingest is), and `main` removes the
    documents again with `ampi remove` so the index ends as it began."""
    for n in range(count):
        time.sleep(seconds / (count + 1))
        path = folder / f"loadtest-note-{n}.md"
        path.write_text(f"# Load test note {n}\n\nShift log {n}: the test rig ran for {n + 1} hours.\n", encoding="utf-8")
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "ui.cli", "ingest", "--quiet", str(path)], cwd=ROOT,
                              capture_output=True, text=True, timeout=600)
        log.append(f"ingest {n}: exit {done.returncode} in {time.perf_counter() - started:.1f} s")
        if done.returncode != 0:
            tally.add(0.0, error=f"ingest {n} failed: {done.stderr.strip()[-300:]}")


def indexed_questions(path: str, target: str) -> list[str]:
    """The questions of a JSONL file, once an index exists (else exit saying which make target builds it)."""
    offline_environment()
    from index.store import ChromaStore

    settings = Settings()
    if not ChromaStore(settings).current_name():
        raise SystemExit(f"no index in {settings.index_dir}: run `ampi ingest` first (make {target} does)")
    return [json.loads(line)["question"] for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long each client keeps asking")
    parser.add_argument("--questions", default=str(ROOT / "tests" / "eval" / "dev.jsonl"))
    parser.add_argument("--out", default=str(ROOT / "bench-results" / "loadtest.json"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ingests", type=int, default=3, help="documents added (index switches) during the run")
    args = parser.parse_args()
    questions = indexed_questions(args.questions, "loadtest")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = start_server(port, out.with_name("loadtest-server.log"))
    url = f"http://127.0.0.1:{port}/"
    tally = Tally()
    try:
        rss_start = rss_mb(server.pid)
        ready = threading.Barrier(args.clients)  # the ingest thread does not wait on it
        threads = [threading.Thread(target=client_loop, args=(url, questions, args.seconds, args.seed + n, tally, ready),
                                    daemon=True, name=f"client-{n}") for n in range(args.clients)]
        import tempfile

        notes = Path(tempfile.mkdtemp(prefix="ampi-loadtest-"))
        ingest_log: list[str] = []
        threads.append(threading.Thread(target=ingest_during, args=(args.seconds, args.ingests, notes, tally, ingest_log),
                                        daemon=True, name="ingests"))
        started = time.monotonic()
        for thread in threads:
            thread.start()
        deadline = started + STARTUP_TIMEOUT + args.seconds + REQUEST_TIMEOUT
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        wall = time.monotonic() - started
        stuck = sum(thread.is_alive() for thread in threads)
        rss_end = rss_mb(server.pid)
    finally:
        stop_server(server)
        for note in sorted(notes.glob("*.md")):
            subprocess.run([sys.executable, "-m", "ui.cli", "remove", str(note)], cwd=ROOT, capture_output=True, timeout=600)

    answered = [s for s in tally.latencies if s > 0]
    result = {
        "clients": args.clients,
        "seconds_per_client": args.seconds,
        "wall_seconds": round(wall, 1),
        "requests": tally.requests,
        "errors": len(tally.errors),
        "mismatches": len(tally.mismatches),
        "clients_still_running_at_deadline": stuck,
        "throughput_rps": round(tally.requests / wall, 2) if wall else 0.0,
        "latency_p50_ms": round(statistics.median(answered) * 1000, 1) if answered else None,
        "latency_p95_ms": round(percentile(answered, 0.95) * 1000, 1) if answered else None,
        "latency_max_ms": round(max(answered) * 1000, 1) if answered else None,
        "server_rss_mb_start": rss_start,
        "server_rss_mb_end": rss_end,
        "ingests_during_run": ingest_log,
        "error_examples": sorted(set(tally.errors))[:5],
        "mismatch_examples": tally.mismatches[:5],
        "host": "127.0.0.1",
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"requests {result['requests']}  errors {result['errors']}  mismatches {result['mismatches']}  "
          f"throughput {result['throughput_rps']} req/s  p50 {result['latency_p50_ms']} ms  p95 {result['latency_p95_ms']} ms"
          f"  (server RSS {rss_start} -> {rss_end} MB)")
    print(f"written: {out}")
    if result["errors"] or result["mismatches"] or stuck:
        sys.exit(1)


if __name__ == "__main__":
    main()
