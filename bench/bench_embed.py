"""Ingest embedding through onnxruntime: batch size, length-sorted batches and threads, on the bundled report.

    .venv/bin/python bench/bench_embed.py                 # batches 8/16/32/64, threads 1 and 2, 3 runs each
    .venv/bin/python bench/bench_embed.py --repeat 5 --threads 2

Embeds the report's passages (the chunks `ampi ingest` makes) as the ingest does. Each (threads, batch
size) runs in a fresh process (onnxruntime's memory arena grows to the largest batch it has seen, so
its peak RSS belongs to that setting alone) and times, median of --repeat runs:
  input order   batches in the chunks' own order (each batch padded to its longest passage);
  sorted        batches of passages of similar length (what OnnxEmbedder.embed does);
  sorted / 32   sorted within the builder's slices of `embedding_batch_size` passages only.
Results go to bench-results/embed.json. The machine may be shared: see load_average_at_start.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def passages() -> list[str]:
    from ingest.loader import load_document
    from ingest.settings import BUNDLED_REPORT, Settings

    settings = Settings()
    return [c.search_text() for c in load_document(settings.corpus_dir / BUNDLED_REPORT, settings).chunks]


def child(threads: int, batch: int, repeat: int) -> dict:
    from index.embedder import model_name, model_path
    from index.onnx_embedder import OnnxEmbedder, ensure_exported
    from ingest.settings import Settings, offline_environment

    offline_environment()
    settings = Settings()
    path = model_path(settings)
    embedder = OnnxEmbedder(path, ensure_exported(settings, path, model_name(settings)), batch_size=batch, threads=threads)
    texts = passages()
    tokens = [len(e.ids) for e in embedder.tokenizer.encode_batch(texts)]

    def input_order() -> None:
        for start in range(0, len(texts), batch):
            embedder._run(embedder.tokenizer.encode_batch(texts[start:start + batch]))

    def sorted_all() -> None:
        embedder.embed(texts)

    def sorted_slices() -> None:
        for start in range(0, len(texts), 32):
            embedder.embed(texts[start:start + 32])

    result: dict = {"threads": threads, "batch": batch, "passages": len(texts), "tokens": sum(tokens),
                    "max_tokens": max(tokens)}
    embedder.embed(texts[:batch])  # warm-up: first-call allocations are not part of any figure
    for name, run in (("input_order_s", input_order), ("sorted_s", sorted_all), ("sorted_within_32_s", sorted_slices)):
        times, cpu = [], []
        for _ in range(repeat):
            began, began_cpu = time.perf_counter(), time.process_time()
            run()
            times.append(time.perf_counter() - began)
            cpu.append(time.process_time() - began_cpu)
        result[name] = round(statistics.median(times), 3)
        # CPU seconds (all threads): steadier than wall time on a shared machine, and what a batch costs.
        result[name.replace("_s", "_cpu_s")] = round(statistics.median(cpu), 3)
    result["passages_per_s_sorted"] = round(len(texts) / result["sorted_s"], 1)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="8,16,32,64")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "embed.json")
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.repeat)))
        return
    load = [round(x, 2) for x in os.getloadavg()]
    runs = []
    for threads in [int(t) for t in args.threads.split(",")]:
        for batch in [int(b) for b in args.batches.split(",")]:
            done = subprocess.run([sys.executable, __file__, "--child", str(threads), str(batch), "--repeat", str(args.repeat)],
                                  capture_output=True, text=True, cwd=ROOT)
            if done.returncode:
                raise SystemExit(done.stderr[-3000:])
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            r = runs[-1]
            print(f"threads {threads} batch {batch:>2}: input order {r['input_order_s']:.2f} s, sorted {r['sorted_s']:.2f} s, "
                  f"sorted within 32 {r['sorted_within_32_s']:.2f} s (CPU: {r['input_order_cpu_s']:.2f} / {r['sorted_cpu_s']:.2f} / "
                  f"{r['sorted_within_32_cpu_s']:.2f} s), {r['passages_per_s_sorted']} passages/s, "
                  f"peak RSS {r['peak_rss_mb']} MB", flush=True)
    best = min(runs, key=lambda r: r["sorted_s"])
    result = {"benchmark": "embed", "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "cpus": os.cpu_count(),
              "load_average_at_start": load, "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
              "best": {k: best[k] for k in ("threads", "batch", "sorted_s", "peak_rss_mb")}, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"best: {result['best']}; wrote {args.out}")


if __name__ == "__main__":
    main()
