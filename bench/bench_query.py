"""Query speed: warm latency p50/p95 over the dev questions, cold `ampi ask` start, peak memory.

Run with `make bench` (after `ampi ingest`); writes bench-results/query.json.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.settings import Settings, offline_environment  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    offline_environment()
    from assistant.service import Assistant

    questions = [json.loads(line)["question"] for line in (ROOT / "tests/eval/dev.jsonl").read_text().splitlines() if line]
    started = time.perf_counter()
    assistant = Assistant(Settings())
    assistant.answer("warm up")
    load_seconds = time.perf_counter() - started
    latencies = []
    for _ in range(3):
        for question in questions:
            t = time.perf_counter()
            assistant.answer(question)
            latencies.append((time.perf_counter() - t) * 1000)
    cold = []
    for _ in range(2):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ui.cli", "ask", "What was Japan's M&E value added in 2021?"],
                       cwd=ROOT, check=True, capture_output=True)
        cold.append(time.perf_counter() - t)
    result = {
        "questions": len(latencies),
        "warm_p50_ms": round(statistics.median(latencies), 1),
        "warm_p95_ms": round(percentile(latencies, 0.95), 1),
        "warm_max_ms": round(max(latencies), 1),
        "in_process_load_s": round(load_seconds, 2),
        "cold_ampi_ask_s": round(min(cold), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "query.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
