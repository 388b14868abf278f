"""The answerer reads its domain from the documents: a report about another sector is answered as well.

A copy of the bundled report with its sector, sector acronym and organisation names renamed (machinery →
aerospace, M&E → A&D, AMPI → ASPI, NGen → CGen), and the same renaming applied to the dev questions and
their accepted answers, must score within 2 points of the original. Any word of the original report
written into the answerer's code (a synonym list, a stop list, a stem exception) shows up here.
"""

from __future__ import annotations

import json
import re

import pytest

from assistant.evaluate import evaluate, load_items
from assistant.service import Assistant
from index.builder import build_index
from ingest.settings import BUNDLED_REPORT, REPO_ROOT

DEV = REPO_ROOT / "tests" / "eval" / "dev.jsonl"

# Longest first: the phrase is renamed before its words. Case is kept (Machinery → Aerospace).
RENAMES = [("machinery and equipment", "aerospace and defence"), ("machinery", "aerospace"),
           ("M&E", "A&D"), ("AMPI", "ASPI"), ("NGen", "CGen")]


def rename(text: str) -> str:
    for old, new in RENAMES:
        def keep_case(match: re.Match, old: str = old, new: str = new) -> str:
            found = match.group(0)
            if found.isupper() and len(found) > 1 and not old.isupper():
                return new.upper()
            return new[0].upper() + new[1:] if found[0].isupper() and not old.isupper() else new
        flags = 0 if old.isupper() or old != old.lower() else re.IGNORECASE
        text = re.sub(rf"(?<![A-Za-z]){re.escape(old)}(?![a-z])", keep_case, text, flags=flags)
    return text


def rename_item(item: dict) -> dict:
    out = dict(item, question=rename(item["question"]))
    if "accept" in item:
        out["accept"] = [rename(p) for p in item["accept"]]
    return out


def test_rename_rewrites_every_form():
    assert rename("Machinery and Equipment (M&E) machinery AMPI's NGen") == "Aerospace and defence (A&D) aerospace ASPI's CGen"
    assert rename("MACHINERY") == "AEROSPACE"


@pytest.fixture(scope="module")
def renamed_index(tmp_path_factory, model_cache):
    root = tmp_path_factory.mktemp("renamed")
    corpus = root / "corpus"
    (corpus / "sources").mkdir(parents=True)
    original = (REPO_ROOT / "corpus" / BUNDLED_REPORT).read_text(encoding="utf-8")
    renamed = rename(original)
    assert renamed.count("aerospace") > 100 and "machinery" not in renamed.lower()
    (corpus / BUNDLED_REPORT).write_text(renamed, encoding="utf-8")  # the file name marks the bundled report
    from ingest.settings import Settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AMPI_MODEL_CACHE_DIR", str(model_cache))
        settings = Settings(corpus_dir=corpus, data_dir=root / "data", index_dir=root / "data" / "index",
                            chroma_host=None)
        build_index(settings)
    return settings


def _accuracy(settings, items: list[dict]) -> tuple[float, list]:
    results = evaluate(items, Assistant(settings))
    return sum(r.correct for r in results) / len(results), results


def test_renamed_report_scores_within_two_points(built_index, renamed_index):
    items = load_items(DEV)
    original, original_results = _accuracy(built_index, items)
    renamed, renamed_results = _accuracy(renamed_index, [rename_item(i) for i in items])
    lost = [f"{a.id}: {b.question} -> {b.answer[:120]!r}" for a, b in zip(original_results, renamed_results, strict=True)
            if a.correct and not b.correct]
    assert renamed >= original - 0.02, f"original {original:.3f}, renamed {renamed:.3f}; lost:\n" + "\n".join(lost)


def test_renamed_glossary_drives_expansion(renamed_index):
    assistant = Assistant(renamed_index)
    loaded = assistant.index()
    terms = {g.term: g.meaning for g in loaded.glossary}
    assert "A&D" in terms and "aerospace" in terms["A&D"].lower()
    assert loaded.domain.spelled_out("A&D")  # learned from this report, not from code
    answer = assistant.answer("What was Japan's A&D value added in 2021?")
    assert not answer.refused and "155" in answer.text, json.dumps(answer.text)
