"""Server memory under the /ask API: resident memory of the real app (`ampi serve` on 127.0.0.1) over 5,000 calls.

    .venv/bin/python bench/api_memory.py                  # 5,000 calls, 4 at a time (`make bench`)
    .venv/bin/python bench/api_memory.py --calls 500

Each call is a plain HTTP `POST /gradio_api/call/ask` then `GET` of its result, as a script would make it: Gradio
gives every such call a session of its own, which is what used to pile up (≈ 0.11 MB a call, never returned).
RSS is read from /proc: after a warm-up of 100 calls and a few idle seconds (index, model and allocator settled;
the app hands freed memory back once its queue is quiet), every 500 calls, and after the last call plus the same
idle seconds. The figure that matters is end minus settled, the goal at most 50 MB (exit code 1 above it); the
peak under load is reported too. Results go to bench-results/api_memory.json. Needs an index (`ampi ingest`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # also runnable without the editable install

from loadtest import free_port, indexed_questions, rss_mb, start_server, stop_server  # noqa: E402  (bench/ is this script's folder)

GOAL_MB = 50.0
REQUEST_TIMEOUT = 60.0


def ask(session, url: str, question: str) -> dict:
    """One /ask call over plain HTTP: join, then read the result stream to its end."""
    join = session.post(url + "gradio_api/call/ask", json={"data": [question]}, timeout=REQUEST_TIMEOUT)
    join.raise_for_status()
    event, data = None, None
    with session.get(url + f"gradio_api/call/ask/{join.json()['event_id']}", stream=True, timeout=REQUEST_TIMEOUT) as reply:
        for line in reply.iter_lines():
            if line.startswith(b"event:"):
                event = line[6:].strip().decode()
            elif line.startswith(b"data:") and event in ("complete", "error"):
                data = json.loads(line[5:])
                break
    if event != "complete" or not isinstance(data, list) or not isinstance(data[0], dict):
        raise RuntimeError(f"{event}: {str(data)[:200]}")
    return data[0]


def run_calls(url: str, questions: list[str], count: int, workers: int, errors: list[str], done=None) -> None:
    """`count` calls, `workers` at a time, each thread with its own connection; `done(n)` after every call."""
    import requests

    local = threading.local()
    lock, finished = threading.Lock(), [0]

    def one(n: int) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        try:
            ask(local.session, url, questions[n % len(questions)])
        except Exception as exc:  # counted and shown; the run goes on
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        with lock:
            finished[0] += 1
            if done:
                done(finished[0])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, range(count)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4, help="calls under way at once")
    parser.add_argument("--idle", type=float, default=8.0, help="seconds to wait after the warm-up and the last call")
    parser.add_argument("--questions", default=str(ROOT / "tests" / "eval" / "dev.jsonl"))
    parser.add_argument("--out", default=str(ROOT / "bench-results" / "api_memory.json"))
    args = parser.parse_args()
    questions = indexed_questions(args.questions, "bench")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = start_server(port, out.with_name("api_memory-server.log"))
    url = f"http://127.0.0.1:{port}/"
    errors: list[str] = []
    samples: list[dict] = []

    def sample(n: int) -> None:
        if n % 500 == 0:
            samples.append({"calls": n, "rss_mb": rss_mb(server.pid)})
            print(f"  {n} calls: server RSS {samples[-1]['rss_mb']} MB", flush=True)

    try:
        rss_start = rss_mb(server.pid)
        run_calls(url, questions, args.warmup, args.workers, errors)
        time.sleep(args.idle)  # settled the same way as at the end: both figures after an idle pause
        rss_warm = rss_mb(server.pid)
        started = time.monotonic()
        run_calls(url, questions, args.calls, args.workers, errors, done=sample)
        wall = time.monotonic() - started
        time.sleep(args.idle)
        rss_end = rss_mb(server.pid)
    finally:
        stop_server(server)

    growth = round(rss_end - rss_warm, 1) if rss_end is not None and rss_warm is not None else None
    result = {
        "calls": args.calls, "workers": args.workers, "wall_seconds": round(wall, 1), "errors": len(errors),
        "server_rss_mb_start": rss_start, "server_rss_mb_after_warmup": rss_warm, "server_rss_mb_end": rss_end,
        "growth_mb": growth, "growth_kb_per_call": round(growth * 1024 / args.calls, 2) if growth is not None else None,
        "peak_rss_mb_under_load": max((s["rss_mb"] for s in samples if s["rss_mb"] is not None), default=None),
        "goal_mb": GOAL_MB, "samples": samples, "error_examples": sorted(set(errors))[:5],
        "python": sys.version.split()[0], "cpus": os.cpu_count(),
    }
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{args.calls} /ask calls in {result['wall_seconds']} s, {len(errors)} errors: server RSS {rss_warm} -> {rss_end} MB "
          f"(growth {growth} MB, {result['growth_kb_per_call']} KB a call; goal <= {GOAL_MB:g} MB; "
          f"peak under load {result['peak_rss_mb_under_load']} MB)")
    print(f"written: {out}")
    if errors or growth is None or growth > GOAL_MB:
        sys.exit(1)


if __name__ == "__main__":
    main()
