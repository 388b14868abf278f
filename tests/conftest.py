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

The embedding model is cached per process by ``index.embedder.get_embedder``, so it loads once.
"""

from __future__ import annotations

import os
import shutil
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


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every AMPI data and index folder at tmp_path and keep all libraries offline."""
    _clear_ampi(monkeypatch)
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
def built_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of an index of the bundled report, built once per session; treat as read-only."""
    from index.builder import build_index

    root = tmp_path_factory.mktemp("built_index")
    with pytest.MonkeyPatch.context() as mp:
        # Session fixtures run before the autouse one: keep the shell's AMPI_* out of this build too.
        _clear_ampi(mp)
        built = Settings(corpus_dir=_report_corpus(root), data_dir=root / "data",
                         index_dir=root / "data" / "index", chroma_host=None)
        report = build_index(built)
    assert not report.skipped, report.skipped
    assert report.chunks_total > 0 and report.collection
    return built
