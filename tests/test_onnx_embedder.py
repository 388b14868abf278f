"""The ONNX path gives sentence-transformers' vectors and rankings, and falls back to it when it cannot.

sentence-transformers is the reference: 200 passages of the bundled report must embed to the same
vectors (cosine ≥ 0.9999) and every dev question must retrieve the same top 10 passages. A damaged
cached model (changed bytes, not an ONNX file, wrong weights) or a failed export falls back to
sentence-transformers with one warning, never a wrong vector.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

import index.embedder
from index import onnx_embedder
from index.embedder import Embedder, get_embedder, model_name, model_path
from index.store import ChromaStore
from ingest.settings import REPO_ROOT, Settings

DEV = REPO_ROOT / "tests" / "eval" / "dev.jsonl"
COSINE = 0.9999


@pytest.fixture(scope="module")
def reference(built_index: Settings) -> Embedder:
    """The sentence-transformers embedder of the bundled model (the reference)."""
    return Embedder(model_path(built_index), built_index.embedding_batch_size)


@pytest.fixture(scope="module")
def passages(built_index: Settings, report_path: Path) -> list[str]:
    """200 passages of the bundled report: every indexed chunk, then its first other paragraphs."""
    chunks, _ = ChromaStore(built_index).all_chunks()
    texts = list(dict.fromkeys(c.search_text() for c in chunks))
    blocks = [b.strip() for b in report_path.read_text(encoding="utf-8").split("\n\n") if len(b.strip()) > 40]
    texts += [b for b in blocks if b not in texts][: 200 - len(texts)]
    assert len(texts) == 200
    return texts


@pytest.fixture(scope="module")
def reference_vectors(reference: Embedder, passages: list[str]) -> dict[str, np.ndarray]:
    """sentence-transformers' vectors of the 200 passages (embedded once: the slow part of these tests)."""
    return dict(zip(passages, reference.embed(passages), strict=True))


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_the_bundled_model_runs_through_onnx(built_index):
    embedder = get_embedder(built_index)
    assert embedder.backend == "onnx" and embedder.dimension == 384 and embedder.max_length == 256


def test_the_onnx_thread_count_comes_from_settings(built_index, monkeypatch):
    monkeypatch.setattr(index.embedder, "_loaded", {})
    monkeypatch.setenv("AMPI_ONNX_THREADS", "1")
    one = Settings().model_copy(update=built_index.model_dump(exclude={"onnx_threads"}))
    assert one.onnx_threads == 1
    assert get_embedder(one).session.get_session_options().intra_op_num_threads == 1


def test_onnx_vectors_match_sentence_transformers_on_200_report_passages(built_index, reference_vectors, passages):
    onnx = get_embedder(built_index).embed(passages)
    expected = np.vstack([reference_vectors[t] for t in passages])
    assert onnx.shape == expected.shape == (200, 384) and onnx.dtype == np.float32
    cosines = _cosines(onnx, expected)
    assert cosines.min() >= COSINE, [(passages[i][:60], float(cosines[i])) for i in np.argsort(cosines)[:3]]
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    # Passages longer than max_seq_length are cut at 256 tokens, as sentence-transformers cuts them.
    tokenizer = get_embedder(built_index).tokenizer
    assert any(len(tokenizer.encode(t).ids) == 256 for t in passages)
    # Batching (sorted by length, padded per batch) changes nothing: one at a time gives the same vectors.
    alone = np.vstack([get_embedder(built_index).embed_query(t) for t in passages[:12]])
    assert _cosines(alone, onnx[:12]).min() >= 0.99999


def _dev_questions() -> list[str]:
    return [json.loads(line)["question"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_same_top10_for_every_dev_question(built_index, reference, reference_vectors):
    """Dense ranking over the report (each path with its own passage vectors) and the assistant's hybrid retrieval."""
    from assistant.query import analyse
    from assistant.service import Assistant

    onnx = get_embedder(built_index)
    chunks, stored = ChromaStore(built_index).all_chunks(with_embeddings=True)
    texts = [c.search_text() for c in chunks]
    assert np.abs(onnx.embed(texts) - stored).max() < 1e-5  # the session index holds ONNX vectors
    st_passages = np.vstack([reference_vectors[t] for t in texts])  # every chunk is one of the 200 passages
    questions = _dev_questions()
    assert len(questions) >= 60
    st_queries, onnx_queries = reference.embed(questions), onnx.embed(questions)
    for n, question in enumerate(questions):
        st_top = list(np.argsort(-(st_passages @ st_queries[n]), kind="stable")[:10])
        onnx_top = list(np.argsort(-(stored @ onnx_queries[n]), kind="stable")[:10])
        assert st_top == onnx_top, question

    with_onnx, with_st = Assistant(built_index), Assistant(built_index, embedder=reference)
    for question in questions:
        query = analyse(question)
        if query.empty:
            continue
        ids = [[h.chunk.id for h in bot.search(query)[2][:10]] for bot in (with_onnx, with_st)]
        assert ids[0] == ids[1], question


# -- fallbacks --------------------------------------------------------------------------------------
@pytest.fixture
def own_settings(built_index, tmp_path) -> Settings:
    """The session index's settings with a private model cache folder (settings.model_cache_dir)."""
    return built_index.model_copy(update={"model_cache_dir": tmp_path / "models"})


@pytest.fixture
def own_cache(built_index, own_settings, monkeypatch) -> Path:
    """A private copy of the exported model, and an empty embedder cache (so the next get_embedder loads)."""
    good = onnx_embedder.cached_folder(built_index, model_path(built_index), model_name(built_index))
    assert (good / onnx_embedder.META_FILE).is_file(), "the session's index was built without the ONNX model"
    root = own_settings.model_cache_dir
    shutil.copytree(good, root / good.name)
    monkeypatch.setattr(index.embedder, "_loaded", {})
    return root / good.name


def _rehash(folder: Path) -> None:
    """Record the current bytes as the exported ones, so that the later checks are what fails."""
    meta = json.loads((folder / "meta.json").read_text())
    meta["sha256"] = hashlib.sha256((folder / "model.onnx").read_bytes()).hexdigest()
    (folder / "meta.json").write_text(json.dumps(meta))


def _flip_bytes(folder: Path) -> None:
    path = folder / "model.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = bytes(64)
    path.write_bytes(bytes(data))


def _not_onnx(folder: Path) -> None:
    (folder / "model.onnx").write_bytes(b"this is not a model\n" * 100)
    _rehash(folder)


def _wrong_weights(folder: Path) -> None:
    """A valid ONNX graph whose weights were changed: it loads, so only the probe vectors can tell."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(folder / "model.onnx"))
    for init in model.graph.initializer:
        if init.name.endswith("attention.output.LayerNorm.weight"):
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) * 0.5, init.name))
            break
    else:
        raise AssertionError("no LayerNorm weight in the exported graph")
    onnx.save(model, str(folder / "model.onnx"))
    _rehash(folder)


@pytest.mark.parametrize("damage", [_flip_bytes, _not_onnx, _wrong_weights], ids=["changed-bytes", "not-onnx", "wrong-weights"])
def test_a_damaged_cached_model_falls_back_to_sentence_transformers_with_one_warning(
        own_settings, reference, own_cache, caplog, damage):
    damage(own_cache)
    with caplog.at_level(logging.WARNING, logger="index"):
        embedder = get_embedder(own_settings)
    assert embedder.backend == "sentence-transformers"
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "falling back to sentence-transformers" in warnings[0].getMessage()
    assert "\n" not in warnings[0].getMessage()
    text = "What was Japan's M&E value added in 2021?"
    assert float(embedder.embed_query(text) @ reference.embed_query(text)) >= 0.99999
    assert not own_cache.exists(), "the damaged export was kept: it would fail again on every start"


def test_a_failed_export_falls_back_and_is_not_retried_on_every_start(own_settings, monkeypatch, caplog):
    monkeypatch.setattr(index.embedder, "_loaded", {})
    monkeypatch.setattr(onnx_embedder.sys, "executable", shutil.which("false"))  # the export child fails
    calls = []
    real_run = onnx_embedder.subprocess.run
    monkeypatch.setattr(onnx_embedder.subprocess, "run", lambda *a, **k: calls.append(a) or real_run(*a, **k))
    with caplog.at_level(logging.WARNING, logger="index"):
        first = get_embedder(own_settings)
        monkeypatch.setattr(index.embedder, "_loaded", {})  # as a new process would
        second = get_embedder(own_settings)
    assert first.backend == second.backend == "sentence-transformers"
    assert len(calls) == 1, "the failed export was tried again at once"
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(messages) == 2 and all("export failed" in m for m in messages), messages


def test_another_model_setting_uses_sentence_transformers(built_index, monkeypatch):
    monkeypatch.setattr(index.embedder, "_loaded", {})
    other = built_index.model_copy(update={"embedding_model": model_path(built_index)})
    assert index.embedder.backend(other) == "sentence-transformers"
    monkeypatch.setenv("AMPI_EMBEDDING_BACKEND", "sentence-transformers")
    assert index.embedder.backend(Settings()) == "sentence-transformers", "AMPI_EMBEDDING_BACKEND was not read"
