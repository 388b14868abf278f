"""Shared fixtures: every test runs offline, with its data and index folders under tmp_path.

Fixtures other test files rely on (keep these names stable):

``isolated_env`` (autouse)
    Removes every ``AMPI_*`` variable inherited from the shell, points ``AMPI_DATA_DIR`` and
    ``AMPI_INDEX_DIR`` at ``tmp_path`` and switches off network and telemetry
    (``HF_HUB_OFFLINE``, ``TRANSFORMERS_OFFLINE``, ``ANONYMIZED_TELEMETRY``,
    ``GRADIO_ANALYTICS_ENABLED``, ...). A bare ``Settings()`` inside a test therefore never
    touches the repository's ``.ampi`` folder. Returns ``tmp_path``.

``settings``
    A fresh ``Settings`` for one test: ``corpus_dir`` is a tmp copy holding only the bundled
    report (plus an empty ``sources/`` folder, as in the repository); ``data_dir`` and
    ``index_dir`` are empty tmp folders. Nothing is indexed yet: call ``build_index(settings)``.
    Tests may change the corpus copy and the settings freely.

``built_index`` (session scope)
    ``Settings`` of an index of the bundled report, built once per test session in its own tmp
    folder (about 10 s, model load included). Treat it as read-only: query it through
    ``ChromaStore(built_index)``, ``get_embedder(built_index)`` or ``Assistant(built_index)``, but do
    not ingest into it or edit its corpus; use ``settings`` for that. Use ``built_index.model_copy()``
    when a test needs to change a field.

``report_path`` (session scope)
    Path of the bundled report in the repository (read-only).

``model_cache`` (session scope)
    Folder of the exported ONNX embedding model (``AMPI_MODEL_CACHE_DIR``, set for every test and for
    ``built_index``), shared by the whole session and by the CLI processes tests start, so the model
    is exported at most once per session (copied from the repository's ``.ampi/models`` when present).

``report_vectors``
    Makes ``build_index`` reuse the vectors ``built_index`` already computed for the report's
    passages (same model, same numbers), so a test that changes a copy of the corpus and rebuilds
    embeds only the text it added.

The embedding model is cached per process by ``index.embedder.get_embedder``, so it loads once.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.settings import BUNDLED_REPORT, OFFLINE_ENV, REPO_ROOT, Settings

OFFLINE = OFFLINE_ENV

# huggingface_hub reads HF_HUB_OFFLINE once, when it is first imported; a session fixture may import
# it before any function-scoped fixture runs, so the variables are also set when this file loads.
for _key, _value in OFFLINE.items():
    os.environ.setdefault(_key, _value)

REPORT = REPO_ROOT / "corpus" / BUNDLED_REPORT


def _clear_ampi(mp: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.upper().startswith("AMPI_")]:
        mp.delenv(key)
    for key, value in OFFLINE.items():
        mp.setenv(key, value)


def _report_corpus(root: Path) -> Path:
    """A corpus folder holding only a copy of the bundled report."""
    corpus = root / "corpus"
    (corpus / "sources").mkdir(parents=True)
    shutil.copy2(REPORT, corpus / BUNDLED_REPORT)
    return corpus


MODEL_CACHE_ENV = "AMPI_MODEL_CACHE_DIR"  # Settings.model_cache_dir


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One folder for the exported ONNX model for the whole session, seeded from the repository's cache.

    Set in the environment for the whole session (not only by `isolated_env`): module fixtures that
    build an index run before the function-scoped autouse fixture, and would otherwise export the model
    into their own data folder.
    """
    folder = tmp_path_factory.mktemp("model-cache")
    seed = REPO_ROOT / ".ampi" / "models"  # read only: a damaged copy is detected, removed and exported again
    if seed.is_dir():
        for entry in seed.iterdir():
            if entry.is_dir() and not entry.name.startswith("."):
                shutil.copytree(entry, folder / entry.name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(MODEL_CACHE_ENV, str(folder))
        yield folder


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_cache: Path) -> Path:
    """Point every AMPI data and index folder at tmp_path and keep all libraries offline."""
    _clear_ampi(monkeypatch)
    monkeypatch.setenv(MODEL_CACHE_ENV, str(model_cache))
    monkeypatch.setenv("AMPI_DATA_DIR", str(tmp_path / "ampi-data"))
    monkeypatch.setenv("AMPI_INDEX_DIR", str(tmp_path / "ampi-data" / "index"))
    # Replaced generations go at once, so tests can count them; test_staging checks the default grace period.
    monkeypatch.setenv("AMPI_GENERATION_GRACE_S", "0")
    return tmp_path


@pytest.fixture(scope="session")
def report_path() -> Path:
    """The bundled report in the repository (do not modify)."""
    return REPORT


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings over a tmp corpus holding only the report, with empty tmp data and index folders."""
    return Settings(corpus_dir=_report_corpus(tmp_path), data_dir=tmp_path / "data",
                    index_dir=tmp_path / "data" / "index", chroma_host=None)


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Settings:
    """Settings of an index of the bundled report, built once per session; treat as read-only."""
    from index.builder import build_index

    root = tmp_path_factory.mktemp("built_index")
    with pytest.MonkeyPatch.context() as mp:
        # Session fixtures run before the autouse one: keep the shell's AMPI_* out of this build too.
        _clear_ampi(mp)
        mp.setenv(MODEL_CACHE_ENV, str(model_cache))
        built = Settings(corpus_dir=_report_corpus(root), data_dir=root / "data",
                         index_dir=root / "data" / "index", chroma_host=None)
        report = build_index(built)
    assert not report.skipped, report.skipped
    assert report.chunks_total > 0 and report.collection
    return built


class _ReusingEmbedder:
    """The real embedder, answering passages whose vectors are already known from memory."""

    def __init__(self, real, known: dict[str, object]):
        self.real, self.known, self.dimension = real, known, real.dimension

    def embed(self, texts: list[str], progress: bool = False):
        import numpy as np

        new = [t for t in dict.fromkeys(texts) if t not in self.known]
        if new:
            self.known.update(zip(new, self.real.embed(new), strict=True))
        return np.vstack([self.known[t] for t in texts]) if texts else self.real.embed([])

    def embed_query(self, text: str):
        return self.real.embed_query(text)


_REPORT_VECTORS: dict[str, object] = {}


@pytest.fixture
def report_vectors(monkeypatch: pytest.MonkeyPatch, built_index: Settings) -> None:
    """build_index in this test reuses the session's vectors of the report's passages (see module doc)."""
    import index.builder
    from index.embedder import get_embedder, model_path
    from index.store import ChromaStore

    if not _REPORT_VECTORS:
        chunks, vectors = ChromaStore(built_index).all_chunks(with_embeddings=True)
        _REPORT_VECTORS.update({c.search_text(): v for c, v in zip(chunks, vectors, strict=True)})
    reference = model_path(built_index)

    def embedder(settings: Settings):
        real = get_embedder(settings)
        return _ReusingEmbedder(real, _REPORT_VECTORS) if model_path(settings) == reference else real

    monkeypatch.setattr(index.builder, "get_embedder", embedder)
