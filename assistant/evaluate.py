"""Evaluation over questions with gold answers: accuracy by type, evidence recall@5, refusals, latency.

A file of chat conversations (items with a "history" of earlier questions) gets the conversation score
instead: the last question of each is answered in the context of the ones before it.

Also scores the tutorial llama-index pipeline (default SentenceSplitter chunks, same embedding
model, VectorStoreIndex top 5) on recall@5, so every change is measured against it.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path

from pydantic import BaseModel

from ingest.records import Answer, Hit
from ingest.settings import BUNDLED_REPORT, Settings


class ItemResult(BaseModel):
    id: str
    type: str
    question: str
    correct: bool
    refused: bool
    false_refusal: bool
    evidence_hit: bool | None
    latency_ms: float
    answer: str
    top5: list[str]


def load_items(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\\$", "$")).strip()


def evidence_hit(item: dict, retrieved: list[Hit]) -> bool | None:
    """Gold evidence locator or quote within the top 5 retrieved passages (None when the item has none)."""
    if not item.get("evidence"):
        return None
    top = retrieved[:5]
    wanted = {e.lower() for e in item["evidence"]}
    if any(h.chunk.locator.lower() in wanted for h in top):
        return True
    quote = _normalise(item.get("evidence_quote", ""))
    return bool(quote) and any(quote in _normalise(h.chunk.text) for h in top)


def is_correct(item: dict, answer: Answer) -> bool:
    if item["type"] == "unanswerable":
        return answer.refused
    return not answer.refused and any(re.search(p, answer.text, re.IGNORECASE) for p in item["accept"])


def evaluate(items: list[dict], assistant) -> list[ItemResult]:
    results = []
    for item in items:
        answer = assistant.answer(item["question"])
        results.append(ItemResult(
            id=item["id"], type=item["type"], question=item["question"], correct=is_correct(item, answer),
            refused=answer.refused, false_refusal=answer.refused and item["type"] != "unanswerable",
            evidence_hit=evidence_hit(item, answer.retrieved), latency_ms=answer.latency_ms, answer=answer.text,
            top5=[h.chunk.locator for h in answer.retrieved[:5]]))
    return results


def summarise(results: list[ItemResult]) -> dict:
    by_type: dict[str, list[bool]] = {}
    for r in results:
        by_type.setdefault(r.type, []).append(r.correct)
    latencies = sorted(r.latency_ms for r in results)
    with_evidence = [r.evidence_hit for r in results if r.evidence_hit is not None]
    return {
        "questions": len(results),
        "accuracy": round(sum(r.correct for r in results) / max(1, len(results)), 3),
        "accuracy_by_type": {t: round(sum(v) / len(v), 3) for t, v in sorted(by_type.items())},
        # None when the set labels no evidence (the conversation sets): 0.0 would read as a retrieval failure.
        "evidence_recall_at_5": round(sum(with_evidence) / len(with_evidence), 3) if with_evidence else None,
        "false_refusals": sum(r.false_refusal for r in results),
        "latency_p50_ms": round(statistics.median(latencies), 1) if latencies else 0,
        "latency_p95_ms": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 1) if latencies else 0,
    }


class ConversationResult(ItemResult):
    """One chat conversation: its earlier questions, how the last was read, and whether the answer is right."""

    history: list[str]
    followup: str
    resolved: str | None
    reading_ok: bool  # a question that stands alone was left alone (always true for follow-ups)
    reference_correct: bool | None  # the item's own standalone wording, answered directly (the answerer's ceiling)


def evaluate_conversations(items: list[dict], assistant) -> list[ConversationResult]:
    """Each item's earlier questions are asked in turn, then its question with that history.

    Correct = the answer meets the gold (a refusal for unanswerable items) and, for items marked
    "standalone", the question was not rewritten. Each item's "reference" (how a person would ask the
    follow-up on its own) is also answered directly: that accuracy is the ceiling reading can reach.
    """
    results = []
    for item in items:
        history = list(item.get("history", []))
        for n in range(len(history)):  # as in a chat: each earlier question answered in its own context
            assistant.answer(history[n], history=history[:n])
        answer = assistant.answer(item["question"], history=history)
        reading_ok = answer.resolved is None if item.get("standalone") else True
        reference = item.get("reference")
        reference_correct = is_correct(item, assistant.answer(reference)) if reference else None
        results.append(ConversationResult(
            id=item["id"], type=item["type"], question=item["question"],
            correct=is_correct(item, answer) and reading_ok, refused=answer.refused,
            false_refusal=answer.refused and item["type"] != "unanswerable", evidence_hit=evidence_hit(item, answer.retrieved),
            latency_ms=answer.latency_ms, answer=answer.text, top5=[h.chunk.locator for h in answer.retrieved[:5]],
            history=history, followup=item.get("followup", ""), resolved=answer.resolved, reading_ok=reading_ok,
            reference_correct=reference_correct))
    return results


def summarise_conversations(results: list[ConversationResult]) -> dict:
    """The conversation score, by kind of follow-up, with how often questions were rewritten."""
    summary = summarise(results)
    by_followup: dict[str, list[bool]] = {}
    for r in results:
        by_followup.setdefault(r.followup or "other", []).append(r.correct)
    references = [r.reference_correct for r in results if r.reference_correct is not None]
    return {"conversations": summary.pop("questions"), "conversation_score": summary.pop("accuracy"),
            "score_by_followup": {k: round(sum(v) / len(v), 3) for k, v in sorted(by_followup.items())},
            "rewritten": sum(r.resolved is not None for r in results),
            "standalone_rewritten": sum(not r.reading_ok for r in results),
            "reference_accuracy": round(sum(references) / max(1, len(references)), 3),
            **summary}


def is_conversation_file(items: list[dict]) -> bool:
    return bool(items) and all("history" in item for item in items)


def baseline_recall(items: list[dict], settings: Settings) -> float:
    """Recall@5 of the plain llama-index pipeline over the bundled report, in memory."""
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core import Settings as LlamaSettings
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from index.embedder import model_path

    LlamaSettings.llm = None
    embed = HuggingFaceEmbedding(model_name=model_path(settings), device="cpu")
    text = (settings.corpus_dir / BUNDLED_REPORT).read_text(encoding="utf-8")
    index = VectorStoreIndex.from_documents([Document(text=text)], embed_model=embed)
    retriever = index.as_retriever(similarity_top_k=5)
    hits = 0
    counted = 0
    for item in items:
        if not item.get("evidence"):
            continue
        counted += 1
        nodes = retriever.retrieve(item["question"])
        quote = _normalise(item.get("evidence_quote", ""))
        texts = [_normalise(n.node.get_content()) for n in nodes]
        # The tutorial chunks carry no locators: count a hit when the gold quote or a gold paragraph marker is inside.
        markers = [e for e in item["evidence"] if re.fullmatch(r"\d+\.\d+", e)]
        if (quote and any(quote in t for t in texts)) or any(
                re.search(rf"\*\*{re.escape(m)}\*\*", n.node.get_content()) for m in markers for n in nodes):
            hits += 1
    return round(hits / max(1, counted), 3)


def run(path: Path, settings: Settings, out_dir: Path, with_baseline: bool = True) -> dict:
    """Evaluate, write per-question results to out_dir, and return the summary."""
    from assistant.service import Assistant

    items = load_items(path)
    assistant = Assistant(settings)
    assistant.answer("warm up")  # load the model and index outside the timed questions
    started = time.perf_counter()
    chat = is_conversation_file(items)  # conversations (tests/eval/conversations.jsonl): the follow-up score
    results = evaluate_conversations(items, assistant) if chat else evaluate(items, assistant)
    summary = summarise_conversations(results) if chat else summarise(results)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    if with_baseline and not chat:
        summary["baseline_llamaindex_recall_at_5"] = baseline_recall(items, settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.jsonl").write_text("\n".join(r.model_dump_json() for r in results) + "\n", encoding="utf-8")
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary
