"""Fast start (issue 10): the figures a user feels, each against its target, in one table.

    .venv/bin/python bench/bench_startup.py              # everything (`make bench`; ≈ 3-6 min)
    .venv/bin/python bench/bench_startup.py --quick      # no server run, no first-time export

  cold `ampi ask`        a new process answering one question (the real entry point), median of --repeat
  cold `ampi status`     a new process listing the index, median of --repeat
  warm p50 / p95         one Assistant in this process over the dev questions (3 rounds, after a warm-up)
  cold ingest            `ampi ingest` of the bundled report into an empty index folder, new process, median
  unchanged re-ingest    `ampi ingest` again over the same files, new process, median
  server RSS             `ampi serve` after 100 warm-up and 1,000 /ask calls (bench/api_memory.py --calls 1000)
  first ingest ever      informational: a cold ingest that also exports the ONNX model (once per model folder)

Needs the index of the repository's corpus (`make bench` runs `ampi ingest` first) and its exported model
(that ingest makes it). "Cold" is a new process; the OS file cache is not dropped (that needs root).
The machine may be shared: the load average is recorded at start and end. Results go to
bench-results/startup.json; the exit code is 0 whatever the figures (they are noisy on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # also runnable without the editable install

from ingest.settings import BUNDLED_REPORT, OFFLINE_ENV, Settings, offline_environment  # noqa: E402

AMPI = Path(sys.executable).parent / "ampi"
QUESTION = "What was Japan's M&E value added in 2021?"
TARGETS = {  # figure: (target, unit)
    "cold_ask_s": (2.5, "s"),
    "cold_status_s": (1.0, "s"),
    "warm_p50_ms": (25.0, "ms"),
    "warm_p95_ms": (60.0, "ms"),
    "cold_ingest_s": (8.0, "s"),
    "unchanged_reingest_s": (1.0, "s"),
    "server_rss_after_1000_mb": (450.0, "MB"),
}
LABELS = {
    "cold_ask_s": "cold `ampi ask` (new process, median)",
    "cold_status_s": "cold `ampi status` (new process, median)",
    "warm_p50_ms": "warm question p50",
    "warm_p95_ms": "warm question p95",
    "cold_ingest_s": "cold ingest of the report, empty index (new process, median)",
    "unchanged_reingest_s": "unchanged re-ingest (new process, median)",
    "server_rss_after_1000_mb": "server RSS after 1,000 questions",
    "first_ingest_with_export_s": "first ingest ever: exports the ONNX model too (once)",
}


CPU: dict[str, list[float]] = {}  # CPU seconds (user + system) of each child run, by figure


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str], env: dict, expect: int = 0, figure: str = "") -> float:
    """Wall seconds of one child process; its CPU seconds go to CPU[figure] (steadier on a busy machine)."""
    began, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - began
    CPU.setdefault(figure, []).append(_children_cpu() - cpu)
    if done.returncode != expect:
        raise SystemExit(f"{' '.join(args[:3])} exited with {done.returncode}:\n{done.stderr[-3000:]}")
    return seconds


def median_of(repeat: int, run) -> tuple[float, list[float]]:
    runs = [run() for _ in range(repeat)]
    return round(statistics.median(runs), 3), [round(r, 3) for r in runs]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def warm_latency() -> dict:
    from assistant.service import Assistant

    questions = [json.loads(line)["question"] for line in (ROOT / "tests/eval/dev.jsonl").read_text().splitlines() if line]
    assistant = Assistant(Settings())
    assistant.answer(QUESTION)
    latencies = []
    for _ in range(3):
        for question in questions:
            began = time.perf_counter()
            assistant.answer(question)
            latencies.append((time.perf_counter() - began) * 1000)
    return {"warm_p50_ms": round(statistics.median(latencies), 1), "warm_p95_ms": round(percentile(latencies, 0.95), 1),
            "warm_questions": len(latencies), "warm_backend": assistant.embedder.backend}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="skip the server run and the first-time export")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "startup.json")
    args = parser.parse_args()
    offline_environment()
    settings = Settings()
    from index.embedder import model_name, model_path
    from index.onnx_embedder import META_FILE, cache_root, cached_folder

    if not (cached_folder(settings, model_path(settings), model_name(settings)) / META_FILE).is_file():
        raise SystemExit("no exported ONNX model yet: run `ampi ingest` first (make bench does)")
    env = {**os.environ, **OFFLINE_ENV}
    load_start = [round(x, 2) for x in os.getloadavg()]
    result: dict = {"runs": {}}

    result["cold_ask_s"], result["runs"]["cold_ask"] = median_of(
        args.repeat, lambda: timed([str(AMPI), "ask", QUESTION], env, figure="cold_ask_s"))
    result["cold_status_s"], result["runs"]["cold_status"] = median_of(
        args.repeat, lambda: timed([str(AMPI), "status"], env, figure="cold_status_s"))
    result.update(warm_latency())

    work = Path(tempfile.mkdtemp(prefix="ampi-bench-startup-"))
    try:
        corpus = work / "corpus"
        (corpus / "sources").mkdir(parents=True)
        shutil.copy2(settings.corpus_dir / BUNDLED_REPORT, corpus / BUNDLED_REPORT)
        # The exported model is shared by every index of a data folder: keep using the repository's.
        ingest_env = {**env, "AMPI_CORPUS_DIR": str(corpus), "AMPI_MODEL_CACHE_DIR": str(cache_root(settings))}
        ingest = [str(AMPI), "ingest", "-q"]

        def cold_ingest() -> float:
            shutil.rmtree(work / "data", ignore_errors=True)
            return timed(ingest, {**ingest_env, "AMPI_DATA_DIR": str(work / "data"), "AMPI_INDEX_DIR": str(work / "data" / "index")},
                         figure="cold_ingest_s")

        result["cold_ingest_s"], result["runs"]["cold_ingest"] = median_of(args.repeat, cold_ingest)
        warm_env = {**ingest_env, "AMPI_DATA_DIR": str(work / "data"), "AMPI_INDEX_DIR": str(work / "data" / "index")}
        result["unchanged_reingest_s"], result["runs"]["unchanged_reingest"] = median_of(
            args.repeat, lambda: timed(ingest, warm_env, figure="unchanged_reingest_s"))
        if not args.quick:
            fresh = {**ingest_env, "AMPI_DATA_DIR": str(work / "fresh"), "AMPI_INDEX_DIR": str(work / "fresh" / "index"),
                     "AMPI_MODEL_CACHE_DIR": str(work / "fresh" / "models")}
            result["first_ingest_with_export_s"] = round(timed(ingest, fresh, figure="first_ingest_with_export_s"), 3)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if not args.quick:
        memory_out = args.out.with_name("api_memory-1000.json")
        done = subprocess.run([sys.executable, str(ROOT / "bench" / "api_memory.py"), "--calls", "1000", "--out", str(memory_out)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
        if memory_out.exists():
            memory = json.loads(memory_out.read_text())
            result["server_errors"] = memory.get("errors")
            if memory.get("errors"):  # failed calls answer nothing: their memory figure means nothing
                print(f"api_memory.py: {memory['errors']} of {memory['calls']} calls failed, e.g. "
                      f"{(memory.get('error_examples') or [''])[0][:200]}; no server RSS figure", file=sys.stderr)
            else:
                result["server_rss_after_1000_mb"] = memory.get("server_rss_mb_end")
                result["server_rss_peak_under_load_mb"] = memory.get("peak_rss_mb_under_load")
        else:
            print(f"api_memory.py failed:\n{done.stdout[-1500:]}{done.stderr[-1500:]}", file=sys.stderr)

    result["cpu_seconds_median"] = {k: round(statistics.median(v), 3) for k, v in CPU.items()}
    result["load_average"] = {"start": load_start, "end": [round(x, 2) for x in os.getloadavg()]}
    result["cpus"] = os.cpu_count()
    result["started"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")

    width = max(len(v) for v in LABELS.values())
    print(f"{'figure':<{width}}  {'measured':>10}  {'target':>9}       CPU s")
    for key, label in LABELS.items():
        if key not in result or result[key] is None:
            continue
        target, unit = TARGETS.get(key, (None, "s"))
        verdict = "" if target is None else ("  ok  " if result[key] <= target else "  OVER")
        cpu = result["cpu_seconds_median"].get(key)
        print(f"{label:<{width}}  {result[key]:>8g} {unit:<2} {'' if target is None else f'≤ {target:g} {unit}':>9}{verdict}"
              f"{'' if cpu is None else f'{cpu:>8.2f}'}")
    print(f"load average {result['load_average']['start']} -> {result['load_average']['end']} on {result['cpus']} CPUs; "
          f"wrote {args.out}")


if __name__ == "__main__":
    main()
