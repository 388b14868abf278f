"""Benchmark ingest: cold (fresh process, empty index), model load alone, warm re-runs, peak memory.

    .venv/bin/python bench/bench_ingest.py                 # the repository's corpus, one cold run
    .venv/bin/python bench/bench_ingest.py --repeat 3      # three cold runs, medians reported

Every measured run happens in a fresh child process (this same file with `--child`), so a cold figure
includes the imports and the model load a user really pays, and each peak RSS (`ru_maxrss`) belongs to
that run alone. "Cold" means a fresh process and an empty index folder; the OS file cache is not
dropped (that needs root), so files read from disk may already be in memory.
Results go to bench-results/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # also runnable without the editable install


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kib / 1024 if sys.platform != "darwin" else kib / 1024 / 1024, 1)


# -- child side: one measured run ------------------------------------------------------------------------


def child(mode: str, corpus: Path, index_dir: Path) -> dict:
    """Run one phase in this fresh process and return its timings (seconds) and peak memory."""
    started = time.perf_counter()
    from ingest.settings import Settings, offline_environment

    offline_environment()
    from index.builder import build_index, settings_key
    from index.embedder import get_embedder, loaded_embedders, model_name

    settings = Settings(corpus_dir=corpus, data_dir=index_dir.parent, index_dir=index_dir, chroma_host=None)
    result: dict = {"mode": mode, "import_s": time.perf_counter() - started, "model": model_name(settings),
                    "settings_key": settings_key(settings), "chunk_words": settings.chunk_words}
    if mode == "model":
        begin = time.perf_counter()
        get_embedder(settings)
        result["model_load_s"] = time.perf_counter() - begin
    elif mode == "cold":
        # Load the model first, timed on its own, then ingest; both are part of a real cold ingest.
        begin = time.perf_counter()
        get_embedder(settings)
        result["model_load_s"] = time.perf_counter() - begin
        marks: dict[str, float] = {}

        def progress(what: str, done: int, total: int) -> None:
            # File callbacks come before each file is read; embedding callbacks after each batch.
            marks["embedded" if what == "embedding chunks" else "read"] = time.perf_counter()

        begin = time.perf_counter()
        report = build_index(settings, progress=progress)
        result["build_s"] = time.perf_counter() - begin
        result.update(chunks_total=report.chunks_total, chunks_embedded=report.chunks_embedded,
                      files=len(report.added), skipped=len(report.skipped))
        if "embedded" in marks:
            # From the last file callback (reading the last file is milliseconds) to the last batch.
            result["embedding_s"] = marks["embedded"] - marks["read"]
            result["embed_rate_per_s"] = report.chunks_embedded / result["embedding_s"]
            result["store_and_keyword_s"] = begin + result["build_s"] - marks["embedded"]
        begin = time.perf_counter()
        again = build_index(settings)
        result["warm_in_process_s"] = time.perf_counter() - begin
        assert again.chunks_embedded == 0 and again.collection == report.collection, again
    elif mode == "natural":
        # What `ampi ingest` does: build_index loads the model itself when it has something to embed.
        begin = time.perf_counter()
        report = build_index(settings)
        result["build_s"] = time.perf_counter() - begin
        result.update(chunks_total=report.chunks_total, chunks_embedded=report.chunks_embedded)
    elif mode == "warm":
        begin = time.perf_counter()
        report = build_index(settings)
        result["build_s"] = time.perf_counter() - begin
        result.update(chunks_total=report.chunks_total, chunks_embedded=report.chunks_embedded,
                      model_loaded=loaded_embedders() > 0)
    else:
        raise SystemExit(f"unknown mode {mode}")
    result["total_in_process_s"] = time.perf_counter() - started
    result["peak_rss_mb"] = peak_rss_mb()
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}


# -- parent side ------------------------------------------------------------------------------------------


def run_child(mode: str, corpus: Path, index_dir: Path) -> dict:
    """Run one phase in a fresh interpreter; adds the wall time seen from outside (interpreter start included)."""
    from index.onnx_embedder import cache_root
    from ingest.settings import Settings

    # Every run uses the repository's exported ONNX model (made once by `ampi ingest`), as a user's ingest would.
    env = {**os.environ, "AMPI_MODEL_CACHE_DIR": str(cache_root(Settings()))}
    begin = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", mode, "--corpus", str(corpus),
                           "--index-dir", str(index_dir)], capture_output=True, text=True, cwd=REPO, env=env)
    wall = time.perf_counter() - begin
    if done.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_s"] = round(wall, 3)
    return result


def median(runs: list[dict], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return round(statistics.median(values), 3) if values else None


def environment(corpus: Path) -> dict:
    import chromadb

    files = [p for p in sorted(corpus.rglob("*")) if p.is_file()]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=REPO).stdout.strip()
    except OSError:
        commit = ""
    return {"python": platform.python_version(), "chromadb": chromadb.__version__, "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()], "git_commit": commit,
            "corpus": str(corpus), "corpus_files": [{"name": str(p.relative_to(corpus)), "bytes": p.stat().st_size}
                                                    for p in files]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus", help="folder to ingest (default: corpus/)")
    parser.add_argument("--repeat", type=int, default=1, help="cold runs (each in a fresh process and index)")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "ingest.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--index-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.corpus.resolve(), args.index_dir)))
        return

    corpus = args.corpus.resolve()
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    env = environment(corpus)
    work = Path(tempfile.mkdtemp(prefix="ampi-bench-"))
    try:
        cold, warm = [], []
        for n in range(max(1, args.repeat)):
            index_dir = work / f"run{n}" / "index"
            cold.append(run_child("cold", corpus, index_dir))
            warm.append(run_child("warm", corpus, index_dir))  # unchanged files, fresh process
            print(f"run {n + 1}: cold {cold[-1]['wall_s']:.1f} s, warm {warm[-1]['wall_s']:.1f} s", file=sys.stderr)
        natural = run_child("natural", corpus, work / "natural" / "index")
        model = run_child("model", corpus, work / "model" / "index")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    summary = {
        "cold_ingest_wall_s": median(cold, "wall_s"),
        "cold_ingest_in_process_s": median(cold, "total_in_process_s"),
        "cold_ingest_natural_wall_s": natural["wall_s"],
        "cold_build_excluding_model_load_s": median(cold, "build_s"),
        "model_load_s": median(cold, "model_load_s"),
        "model_load_fresh_process_wall_s": model["wall_s"],
        "imports_s": median(cold, "import_s"),
        "warm_rerun_in_process_s": median(cold, "warm_in_process_s"),
        "warm_rerun_fresh_process_wall_s": median(warm, "wall_s"),
        "warm_rerun_build_s": median(warm, "build_s"),
        "embedding_s": median(cold, "embedding_s"),
        "embed_rate_chunks_per_s": median(cold, "embed_rate_per_s"),
        "chroma_add_and_keyword_index_s": median(cold, "store_and_keyword_s"),
        "chunks_total": cold[0]["chunks_total"],
        "peak_rss_cold_mb": max(r["peak_rss_mb"] for r in cold),
        "peak_rss_warm_mb": max(r["peak_rss_mb"] for r in warm),
        "peak_rss_model_only_mb": model["peak_rss_mb"],
        "warm_loaded_model": any(r.get("model_loaded") for r in warm),
    }
    result = {"benchmark": "ingest", "started": started, "summary": summary, "environment": env,
              "runs": {"cold": cold, "warm": warm, "natural": natural, "model": model},
              "notes": "wall_s includes interpreter start; cold = fresh process + empty index folder "
                       "(OS file cache not dropped); the machine may be shared: see load_average_at_start."}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        print(f"{key:<{width}}  {value}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
