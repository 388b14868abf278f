"""The source registry: readable names for footnotes, 'Ibid', and cited sources present in corpus/sources."""

from __future__ import annotations

from index.builder import build_index
from index.store import ChromaStore
from ingest.records import Footnote
from ingest.sources import build_registry


def test_bare_url_footnote_named_from_table_source_line():
    notes = [Footnote(number=2, text="https://www.ciip.group.cam.ac.uk/innovation/the-uk-innovation-report-2024/",
                      url="https://www.ciip.group.cam.ac.uk/innovation/the-uk-innovation-report-2024/")]
    (source,) = build_registry(notes, ["Adapted from UK Innovation Report 2024 (Institute for Manufacturing) 2024"], [])
    assert source.title.startswith("UK Innovation Report 2024 (Institute for Manufacturing)")
    assert source.url and source.url in source.label()


def test_ibid_names_the_previous_work():
    notes = [Footnote(number=32, text="German Chamber of Commerce and Industry (2024) German economy is losing ground"),
             Footnote(number=33, text="Ibid")]
    registry = build_registry(notes, [], [])
    assert registry[1].title == "German Chamber of Commerce and Industry (2024) German economy is losing ground (ibid.)"


def test_source_document_in_corpus_sources_is_matched_to_its_footnote(settings, report_vectors):
    (settings.sources_dir / "innovation-superclusters-evaluation.md").write_text(
        "# Evaluation of ISED Canada's Innovation Superclusters Initiative\n\n"
        "This evaluation looked at the Superclusters and found that an industry-led approach worked well.\n",
        encoding="utf-8")
    build_index(settings)
    manifest = ChromaStore(settings).manifest()
    roles = {d["title"]: d["role"] for d in manifest["documents"]}
    assert roles["Evaluation of ISED Canada's Innovation Superclusters Initiative"] == "source"
    by_number = {s["number"]: s for s in manifest["sources"]}
    assert by_number[64]["local_doc"] == "Evaluation of ISED Canada's Innovation Superclusters Initiative"
    assert sum(1 for s in manifest["sources"] if s["local_doc"]) == 1
