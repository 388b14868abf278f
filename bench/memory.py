"""Memory over time: resident memory of one Assistant before and after 1,000 questions.

    .venv/bin/python bench/memory.py                    # 1,000 dev questions (random order, repeated)
    .venv/bin/python bench/memory.py --questions 200

RSS is read from /proc/self/status (VmRSS) at three points: at start (imports only), once the index and
model are loaded (after the first answer), and after the last question; the growth that matters for a
long-running app is end minus loaded. Bounded in time: stops early after --max-seconds (default 600).
Results go to bench-results/memory.json. Needs an index (`ampi ingest`); nothing touches the network.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # also runnable without the editable install

from ingest.settings import Settings, offline_environment  # noqa: E402


def rss_mb() -> float:
    """Current resident memory of this process in MB (Linux /proc; peak RSS elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=1000, help="how many questions to ask")
    parser.add_argument("--file", default=str(ROOT / "tests" / "eval" / "dev.jsonl"))
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--out", default=str(ROOT / "bench-results" / "memory.json"))
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    offline_environment()
    gc.collect()
    rss_start = rss_mb()

    from assistant.service import Assistant

    dev = [json.loads(line)["question"] for line in Path(args.file).read_text(encoding="utf-8").splitlines() if line.strip()]
    assistant = Assistant(Settings())
    assistant.answer(dev[0])  # loads the index and the model
    gc.collect()
    rss_loaded = rss_mb()

    rng = random.Random(args.seed)
    order: list[str] = []
    latencies, samples = [], []
    started = time.monotonic()
    for n in range(1, args.questions + 1):
        if time.monotonic() - started > args.max_seconds:
            print(f"stopped after {n - 1} questions: --max-seconds {args.max_seconds:g} reached", file=sys.stderr)
            break
        if not order:
            order = rng.sample(dev, len(dev))
        t = time.perf_counter()
        assistant.answer(order.pop())
        latencies.append((time.perf_counter() - t) * 1000)
        if n % 100 == 0:
            samples.append({"questions": n, "rss_mb": rss_mb()})
    gc.collect()
    rss_end = rss_mb()

    result = {
        "questions": len(latencies),
        "rss_mb_start": rss_start,
        "rss_mb_loaded": rss_loaded,
        "rss_mb_end": rss_end,
        "growth_mb_after_load": round(rss_end - rss_loaded, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_every_100": samples,
        "latency_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "seconds": round(time.monotonic() - started, 1),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"RSS at start {rss_start} MB, loaded {rss_loaded} MB, after {len(latencies)} questions {rss_end} MB "
          f"(growth {result['growth_mb_after_load']} MB)")
    print(f"written: {out}")


if __name__ == "__main__":
    main()
