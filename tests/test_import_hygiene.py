"""`ampi ask`, `ampi status` and `ampi sources` start fast: none of them imports the heavy libraries.

Each command runs for real in a new process (the `ampi` entry point's `main`, against the session's
built index), which then writes the names of every module it imported. torch, transformers and
sentence-transformers cost ≈ 6 s and ≈ 400 MB, llama-index ≈ 1.3 s, gradio ≈ 2.7 s: questions use
the ONNX model and bm25s instead, and the web app's code is never reached. The same run checks that
onnxruntime's telemetry wrote nothing under the home folder (STACK-NOTES: ORT_DISABLE_TELEMETRY).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.settings import REPO_ROOT

HEAVY = ("torch", "transformers", "sentence_transformers", "llama_index", "gradio")

# Runs the real command, then records what it imported (stdout stays the command's own).
WRAPPER = """
import json, sys
from ui.cli import main
try:
    code = main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""


def run_command(settings, tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    record = tmp_path / "modules.json"
    env = {**os.environ, "AMPI_INDEX_DIR": str(settings.index_dir), "AMPI_CORPUS_DIR": str(settings.corpus_dir),
           "AMPI_DATA_DIR": str(settings.data_dir), "HOME": str(home), "PYTHONPATH": str(REPO_ROOT)}
    env.pop("XDG_CACHE_HOME", None)
    env.pop("ORT_DISABLE_TELEMETRY", None)  # the entry point must set it itself
    done = subprocess.run([sys.executable, "-c", WRAPPER, str(record), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert record.exists(), done.stderr[-3000:]
    return done, json.loads(record.read_text())


def heavy(modules: list[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules if m.split(".")[0] in HEAVY})


@pytest.mark.parametrize("args", [("ask", "What was Japan's M&E value added in 2021?"), ("status",), ("sources",)],
                         ids=["ask", "status", "sources"])
def test_the_quick_commands_import_no_heavy_library(built_index, tmp_path, args):
    done, result = run_command(built_index, tmp_path, *args)
    assert result["code"] == 0, done.stderr[-3000:]
    assert heavy(result["modules"]) == [], f"`ampi {args[0]}` imported {heavy(result['modules'])}"
    assert "falling back" not in done.stderr, done.stderr  # the ONNX model was used, not sentence-transformers
    if args[0] == "ask":
        assert "155" in done.stdout and "Table 2-2" in done.stdout, done.stdout
        assert "onnxruntime" in result["modules"]
        assert not (tmp_path / "home" / ".cache" / "Microsoft").exists(), "onnxruntime telemetry wrote its files"
    else:
        assert "onnxruntime" not in result["modules"]  # status and sources embed nothing


def test_ask_with_a_damaged_model_cache_warns_once_and_still_answers(built_index, tmp_path, monkeypatch):
    """The fallback as a user sees it: one warning line on stderr, then the same answer."""
    from index import onnx_embedder
    from index.embedder import model_name, model_path

    good = onnx_embedder.cached_folder(built_index, model_path(built_index), model_name(built_index))
    cache = tmp_path / "models"
    (cache / good.name).mkdir(parents=True)
    (cache / good.name / "meta.json").write_text((good / "meta.json").read_text())
    (cache / good.name / "model.onnx").write_bytes(b"\0" * 1024)
    monkeypatch.setenv("AMPI_MODEL_CACHE_DIR", str(cache))  # read by the child's Settings
    done, result = run_command(built_index, tmp_path, "ask", "What was Japan's M&E value added in 2021?")
    assert result["code"] == 0, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "falling back to sentence-transformers" in lines[0], done.stderr
    assert "155" in done.stdout and "Table 2-2" in done.stdout, done.stdout


def test_keyword_search_without_llama_index_ranks_as_its_bm25_retriever(built_index, tmp_path):
    """bm25s used directly (saved, loaded) gives llama-index's BM25Retriever's ids and scores for every dev question."""
    from llama_index.core.schema import TextNode
    from llama_index.retrievers.bm25 import BM25Retriever

    from index.keyword import KeywordIndex
    from index.store import ChromaStore
    from ingest.markup import strip_superscripts

    chunks, _ = ChromaStore(built_index).all_chunks()
    nodes = [TextNode(id_=c.id, text=strip_superscripts(c.search_text())) for c in chunks]
    theirs = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=built_index.candidate_k)
    KeywordIndex.build(chunks, built_index.candidate_k).save(tmp_path / "keyword")
    ours = KeywordIndex.load(tmp_path / "keyword", built_index.candidate_k)
    theirs.persist(str(tmp_path / "llama"))  # a folder written by llama-index (older indexes) loads too
    older = KeywordIndex.load(tmp_path / "llama", built_index.candidate_k)
    questions = [json.loads(line)["question"] for line in (REPO_ROOT / "tests/eval/dev.jsonl").read_text().splitlines() if line]
    for question in questions + ["the and of", "Japan M&E value added 2021"]:
        expected = [(hit.node.node_id, round(float(hit.score), 4)) for hit in theirs.retrieve(question)]
        for index in (ours, older):
            assert [(i, round(s, 4)) for i, s in index.search(question)] == expected, question
