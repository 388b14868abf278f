"""The bundled all-MiniLM-L6-v2 through onnxruntime: the same vectors as sentence-transformers, without torch.

Importing torch, transformers and sentence-transformers costs ≈ 6 s and ≈ 400 MB before a single
question is embedded; onnxruntime and tokenizers cost ≈ 0.3 s. So the bundled model's weights are
exported once to ONNX (fp32, by torch.onnx in a child process, so the process that asked never
imports torch) and cached in a folder of the data directory (`<data_dir>/models/`, or
`AMPI_MODEL_CACHE_DIR`), keyed by a hash of the model folder and of this export recipe. Queries and
ingest then tokenise with the model's own `tokenizer.json` (`tokenizers`), run the ONNX graph, and
mean-pool with the attention mask and L2-normalise exactly as sentence-transformers does, truncating
at the model's `max_seq_length` (256 in `sentence_bert_config.json`).

sentence-transformers stays the reference: the export checks its vectors against it, and every load
checks the file against the hash written at export and re-embeds a few probe texts against the
reference vectors stored with it. Whatever fails (no torch to export with, a read-only folder, a
damaged or edited file) raises `OnnxUnavailable`; `index.embedder.get_embedder` then logs one
warning and uses sentence-transformers. A wrong vector is never served.

    .venv/bin/python -m index.onnx_embedder export MODEL_DIR FOLDER   # what the child process runs
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from ingest.settings import REPO_ROOT, Settings, offline_environment

log = logging.getLogger(__name__)

# Bump when the export or the pooling changes: the cache key changes and the model is exported again.
EXPORT_VERSION = "1"
OPSET = 17
MODEL_FILE = "model.onnx"
META_FILE = "meta.json"
EXPORT_TIMEOUT_S = 900.0
RETRY_FAILED_EXPORT_S = 24 * 3600.0
# Passages per onnxruntime call, at most: with length-sorted batches 8 needs the least CPU and memory
# of 4/8/16/32/64 on the report (bench/bench_embed.py; 32 costs ≈ 30 % more CPU and ≈ 400 MB more peak RSS).
BATCH = 8
# Vectors of the probe texts must match the reference this closely (cosine), at export and at every load.
PROBE_COSINE = 0.99999
# Texts embedded at export (by sentence-transformers) and at every load (by the ONNX file): a short
# one, a typical passage, and one longer than max_seq_length, together in one padded batch.
PROBES = [
    "What was Japan's M&E value added in 2021?",
    "Advanced machinery manufacturing employs around 73,000 people across the UK, with productivity "
    "above the manufacturing average and exports concentrated in a few specialised product groups.",
    " ".join(["The sector's future state depends on skills, automation, trade, investment and the "
              "adoption of digital technologies by small and medium-sized manufacturers."] * 24),
]


class OnnxUnavailable(RuntimeError):
    """The ONNX path cannot be used here; the reason is one line, for a warning.

    `damaged` is True when the exported files exist but fail their checks (they are then removed).
    """

    def __init__(self, reason: str, damaged: bool = False):
        super().__init__(reason)
        self.damaged = damaged


# -- where the exported model lives -------------------------------------------------------------------
def cache_root(settings: Settings) -> Path:
    """Folder holding exported models: settings.model_cache_dir (AMPI_MODEL_CACHE_DIR), else `<data_dir>/models`."""
    return Path(settings.model_cache_dir or Path(settings.data_dir) / "models")


def model_key(model_dir: str | Path) -> str:
    """Hash of the model folder (each file's path, size and modification time) and of the export recipe.

    Sizes and times rather than contents: hashing the 90 MB of weights on every start would cost more
    than the whole ONNX load. Reinstalling or replacing the model changes the times, so the key.
    """
    root = Path(model_dir)
    digest = hashlib.sha256(f"export {EXPORT_VERSION} opset {OPSET}\n".encode())
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        info = file.stat()
        digest.update(f"{file.relative_to(root).as_posix()}\t{info.st_size}\t{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def cached_folder(settings: Settings, model_dir: str | Path, name: str) -> Path:
    """The folder of the exported model for this model folder (it may not exist yet)."""
    return cache_root(settings) / f"{name}-onnx-{model_key(model_dir)}"


# -- what sentence-transformers would do, read from the model folder --------------------------------------
def model_settings(model_dir: str | Path) -> dict:
    """max_seq_length and dimension of a Transformer → mean Pooling → (Normalize) model, else OnnxUnavailable."""
    root = Path(model_dir)
    try:
        modules = json.loads((root / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds not in (["Transformer", "Pooling", "Normalize"], ["Transformer", "Pooling"]) or modules[0].get("path"):
            raise OnnxUnavailable(f"model modules {kinds} are not Transformer, Pooling, Normalize")
        pooling = json.loads((root / modules[1]["path"] / "config.json").read_text())
        modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
        if modes != ["pooling_mode_mean_tokens"]:
            raise OnnxUnavailable(f"pooling {modes} is not mean pooling")
        bert = json.loads((root / "sentence_bert_config.json").read_text())
        if bert.get("do_lower_case"):
            raise OnnxUnavailable("do_lower_case models are not handled")
        config = json.loads((root / "config.json").read_text())
        tokenizer_config = json.loads((root / "tokenizer_config.json").read_text())
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise OnnxUnavailable(f"model folder {root} not readable as a sentence-transformers model ({exc})") from exc
    limits = [bert.get("max_seq_length"), tokenizer_config.get("model_max_length"), config.get("max_position_embeddings")]
    return {"max_seq_length": int(min(x for x in limits if isinstance(x, int))),
            "dimension": int(pooling["word_embedding_dimension"])}


def _load_tokenizer(model_dir: str | Path, max_length: int):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    # tokenizer.json carries its own limits (128, fixed padding): sentence-transformers replaces them with
    # truncation at max_seq_length and padding to the longest text of the batch, as here (padding below).
    tokenizer.enable_truncation(max_length=max_length, strategy="longest_first")
    tokenizer.no_padding()
    return tokenizer


def mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' mean Pooling then Normalize: masked mean over tokens, then unit length."""
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / np.clip(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12, None)


def default_threads() -> int:
    """Threads for one onnxruntime call when settings.onnx_threads is empty: the cores, at most 2 (see bench/bench_embed.py)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))


# -- the embedder ------------------------------------------------------------------------------------------
class OnnxEmbedder:
    """Same interface as `index.embedder.Embedder` (embed, embed_query, dimension), run by onnxruntime."""

    backend = "onnx"

    def __init__(self, model_dir: str | Path, folder: Path, batch_size: int = BATCH, threads: int | None = None,
                 meta_file: str = META_FILE):
        offline_environment()  # ORT_DISABLE_TELEMETRY must be set before onnxruntime starts (STACK-NOTES)
        shape = model_settings(model_dir)
        self.max_length = shape["max_seq_length"]
        self.dimension = shape["dimension"]
        self.batch_size = max(1, batch_size)
        self.folder = folder
        try:
            meta = json.loads((folder / meta_file).read_text())
            with open(folder / MODEL_FILE, "rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()  # ≈ 50 ms; streamed, not held
        except FileNotFoundError as exc:
            raise OnnxUnavailable(f"no exported model in {folder}", (folder / meta_file).is_file()) from exc
        except (OSError, ValueError) as exc:
            raise OnnxUnavailable(f"exported model in {folder} unreadable ({type(exc).__name__}: {exc})", True) from exc
        if digest != meta.get("sha256"):
            raise OnnxUnavailable(f"{folder / MODEL_FILE} is damaged (its hash differs from the one written at export)", True)
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # Do not busy-wait between calls: the machine is shared with the web server's other threads.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            # From the path, not from bytes read here: ≈ 100 MB less resident memory for the same session.
            self.session = ort.InferenceSession(str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own error types for a bad graph
            raise OnnxUnavailable(f"{folder / MODEL_FILE} does not load ({type(exc).__name__}: "
                                  f"{' '.join(str(exc).split())[:200]})", True) from exc
        self.inputs = {i.name for i in self.session.get_inputs()}
        try:
            self.tokenizer = _load_tokenizer(model_dir, self.max_length)
        except Exception as exc:
            raise OnnxUnavailable(f"tokenizer.json of {model_dir} not usable ({exc})") from exc
        self._check(meta)

    def _check(self, meta: dict) -> None:
        """Embed the probe texts and compare with the reference vectors stored at export."""
        try:
            reference = np.asarray(meta["probe_vectors"], dtype=np.float32)
            got = self.embed(list(meta["probes"]))
        except Exception as exc:
            raise OnnxUnavailable(f"exported model in {self.folder} fails its check ({type(exc).__name__}: {exc})", True) from exc
        if got.shape != reference.shape or float(_cosines(got, reference).min()) < PROBE_COSINE:
            raise OnnxUnavailable(f"exported model in {self.folder} gives vectors that differ from sentence-transformers", True)

    def _run(self, encodings: list) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, :len(encoding.ids)] = encoding.ids
            mask[row, :len(encoding.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feed)[0]
        return mean_pool_normalise(hidden, mask)

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Vectors for passages, one row each: batches of similar length (less padding), in the input order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self.tokenizer.encode_batch([str(t) for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids), reverse=True)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            vectors[rows] = self._run([encodings[i] for i in rows])
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        """Vector for one query."""
        return self.embed([text])[0]


# -- export (in a child process) ---------------------------------------------------------------------------
_export_lock = threading.Lock()


def ensure_exported(settings: Settings, model_dir: str | Path, name: str) -> Path:
    """The folder of the exported model, exporting it first (once, in a child process) when it is missing.

    One export at a time per cache folder (an flock, so across processes too); the result is written
    to a temporary folder and renamed into place, so a reader sees a complete export or none.
    """
    folder = cached_folder(settings, model_dir, name)
    if (folder / META_FILE).is_file():
        return folder
    root = folder.parent
    try:
        root.mkdir(parents=True, exist_ok=True)
        handle = open(root / ".export.lock", "a+")
    except OSError as exc:
        raise OnnxUnavailable(f"cannot write the model cache {root} ({exc.strerror or exc})") from exc
    failed = root / f".failed-{folder.name}"
    with _export_lock, handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if (folder / META_FILE).is_file():  # another process exported it while this one waited
            return folder
        with contextlib.suppress(OSError):
            if time.time() - failed.stat().st_mtime < RETRY_FAILED_EXPORT_S:
                # A failed export costs a child process and a torch import: not again on every start.
                raise OnnxUnavailable(f"{failed.read_text().strip()} (tried again after a day, or delete {failed})")
        tmp = root / f".tmp-{folder.name}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        started = time.perf_counter()
        log.info("exporting %s to ONNX in %s (once)", name, folder)
        if sys.stderr.isatty():  # a person is waiting at a terminal: say why this first start is slow
            print(f"Preparing the embedding model for fast starts (once, about 10-15 s): {folder}", file=sys.stderr)
        try:
            done = subprocess.run([sys.executable, "-m", "index.onnx_embedder", "export", str(model_dir), str(tmp)],
                                  cwd=REPO_ROOT, capture_output=True, text=True, timeout=EXPORT_TIMEOUT_S,
                                  env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                      [str(REPO_ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])})
            if done.returncode != 0 or not (tmp / META_FILE).is_file():
                lines = [line for line in (done.stderr or "").splitlines() if line.strip()]
                raise OnnxUnavailable(f"export failed ({lines[-1].strip()[:300] if lines else f'exit {done.returncode}'})")
            _remove(folder)  # a damaged export left under the same key
            os.rename(tmp, folder)
        except (OSError, subprocess.SubprocessError, OnnxUnavailable) as exc:
            reason = str(exc) if isinstance(exc, OnnxUnavailable) else f"export failed ({type(exc).__name__}: {exc})"
            with contextlib.suppress(OSError):
                failed.write_text(reason + "\n")
            raise OnnxUnavailable(reason) from exc
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(OSError):
            failed.unlink()
        log.info("exported %s to ONNX in %.1f s", name, time.perf_counter() - started)
    return folder


def _remove(folder: Path) -> None:
    if folder.exists():
        aside = folder.with_name(f".old-{folder.name}-{os.getpid()}")
        os.rename(folder, aside)
        shutil.rmtree(aside, ignore_errors=True)


def discard(folder: Path) -> None:
    """Remove a damaged export so that the next start exports it again; never fatal."""
    try:
        with open(folder.parent / ".export.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            _remove(folder)
    except OSError as exc:
        log.debug("could not remove %s (%s)", folder, exc)


def export(model_dir: str | Path, folder: Path) -> dict:
    """Export the model's transformer to `folder`/model.onnx and check it against sentence-transformers.

    Runs in the child process (imports torch). Writes meta.json last: its presence marks a complete export.
    """
    offline_environment()
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    shape = model_settings(model_dir)
    reference_model = SentenceTransformer(str(model_dir), device="cpu")
    if reference_model.max_seq_length != shape["max_seq_length"]:
        raise OnnxUnavailable(f"max_seq_length {reference_model.max_seq_length} != {shape['max_seq_length']}")
    reference = reference_model.encode(PROBES, batch_size=len(PROBES), normalize_embeddings=True,
                                       convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
    # The plain attention implementation: it traces to standard ONNX operators with the padding mask kept.
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
    model.eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]

    class Hidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    # Trace with a padded batch (texts of different lengths), so the graph keeps the mask path.
    tokenizer = _load_tokenizer(model_dir, shape["max_seq_length"])
    sample = tokenizer.encode_batch(PROBES[:2])
    width = max(len(e.ids) for e in sample)
    ids = torch.zeros((2, width), dtype=torch.long)
    mask = torch.zeros((2, width), dtype=torch.long)
    for row, encoding in enumerate(sample):
        ids[row, :len(encoding.ids)] = torch.tensor(encoding.ids)
        mask[row, :len(encoding.ids)] = 1
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / MODEL_FILE
    import warnings

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about constant shapes checks that do not apply here
        torch.onnx.export(Hidden(model), (ids, mask, torch.zeros_like(ids)), str(target), dynamo=False,
                          input_names=names, output_names=["last_hidden_state"], opset_version=OPSET,
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names + ["last_hidden_state"]})
    data = target.read_bytes()
    meta = {"model_dir": str(model_dir), "key": model_key(model_dir), "export_version": EXPORT_VERSION,
            "opset": OPSET, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
            "max_seq_length": shape["max_seq_length"], "dimension": shape["dimension"],
            "torch": torch.__version__, "created_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "probes": PROBES, "probe_vectors": reference.tolist()}
    (folder / (META_FILE + ".tmp")).write_text(json.dumps(meta))
    # The check every load makes (hash, then probe vectors against the reference): an export that
    # fails it is never published.
    OnnxEmbedder(model_dir, folder, batch_size=len(PROBES), meta_file=META_FILE + ".tmp")
    os.rename(folder / (META_FILE + ".tmp"), folder / META_FILE)
    return {k: v for k, v in meta.items() if k not in ("probes", "probe_vectors")}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[0] != "export":
        print("usage: python -m index.onnx_embedder export MODEL_DIR FOLDER", file=sys.stderr)
        return 2
    try:
        print(json.dumps(export(args[1], Path(args[2]))))
    except Exception as exc:
        print(f"{type(exc).__name__}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
