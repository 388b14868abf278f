"""The documents' vocabulary read at load time (assistant/domain.py), on small made-up documents."""

from __future__ import annotations

from assistant.domain import spelling_variants
from ingest.records import Chunk


def _chunk(text: str, order: int) -> Chunk:
    return Chunk(id=f"c{order}", doc_id="d1", doc_title="Lab notes", doc_path="/notes.md", kind="paragraph",
                 locator=f"1.{order}", text=text, order=order)


def test_a_name_spelled_two_ways_is_one_name_but_different_words_stay_apart():
    found = spelling_variants([
        _chunk("Zentravix is the largest applied research lab in Kent.", 1),
        _chunk("Across the group, Zentavix employs over 400 people.", 2),  # the same lab, a letter dropped
        _chunk("The County runs one site and the Country another.", 3),  # English words, not spellings of a name
        _chunk("Offices in Iceland and Ireland; partners in Austria and Australia.", 4),  # a letter swapped: other places
    ])
    assert "zentavix" in found["zentravix"] and "zentravix" in found["zentavix"]
    assert "county" not in found and "country" not in found
    assert not {"iceland", "ireland", "austria", "australia"} & set(found)
