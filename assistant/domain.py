"""The documents' own vocabulary, read from the index when it loads: nothing here names one report's terms.

What one report calls 'A&D' and another 'F&B' is learned from its glossary (an acronym and the words it
stands for are interchangeable), and the words every table shares (the sector, the currency, 'global')
from the tables themselves: such words cannot tell one table's measure from another's.

The vocabulary of the index being answered from is the active one (`activate`): the text tools consult it
when they expand a question's stems or look for a name in a passage. One process answers from one index
at a time, and a reload activates the new index's vocabulary before any question is answered from it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from assistant.catalog import GlossaryEntry
from assistant.glosses import GENERAL_ABBREVIATIONS
from assistant.text import STOPWORDS, expand, stem, stems
from ingest.records import Chunk

# A word is shared by the tables when the descriptions of at least this share of them use it.
TABLE_COMMON_SHARE = 0.6
# A word in at least this share of all passages is the documents' subject ('aerospace' in an aerospace
# report): it cannot tell one passage or measure from another.
SUBJECT_SHARE = 0.3
# An expansion's words this common are not needed to recognise it ('sector' in 'Aerospace and Defence sector').
COMMON_SHARE = 0.2
# Units and currencies say how a measure is counted, not which measure it is (general English, any report).
UNIT_STEMS = frozenset(stems("usd us dollar dollars gbp pound pounds sterling eur euro euros yen billion billions "
                             "million millions thousand thousands bn per cent percent percentage number"))
# A word written capitalised in mid-sentence at least this often is a name ('Trade Balance' in a heading
# now and then does not make 'balance' one).
NAME_SHARE = 0.8
# A stem this short is ambiguous ('ad' is 'added' and 'adding'): a measure only beside its other words.
MIN_MEASURE_STEM = 3


@dataclass(frozen=True)
class Domain:
    """What the indexed documents call things."""

    acronym_stems: dict[str, frozenset[str]] = field(default_factory=dict)  # 'a&d' -> stems of its expansion
    acronym_marks: dict[str, frozenset[str]] = field(default_factory=dict)  # 'a&d' -> the expansion's telling stems
    subject: frozenset[str] = frozenset()  # stems in a large share of all passages
    table_common: frozenset[str] = frozenset()  # stems nearly every table's title and headers use
    table_words: frozenset[str] = frozenset()  # stems of any table's title, panel or headers (its measures)
    table_descriptions: tuple[frozenset[str], ...] = ()  # each table's title, panel and header stems, expanded
    table_entities: frozenset[str] = frozenset()  # stems of row labels: who, not what
    names: frozenset[str] = frozenset()  # stems of words the documents write capitalised: names, not measures
    acronyms: frozenset[str] = frozenset()  # words the documents write with two capitals or more (lower case)
    terms: frozenset[str] = frozenset()  # acronyms of common nouns ('f&b': 'food and beverage' written in lower case)
    year_names: dict[str, str] = field(default_factory=dict)  # 'vision 2040' -> 'Vision 2040': a name, not a year
    spellings: dict[str, frozenset[str]] = field(default_factory=dict)  # a name's other spellings in the documents
    # Words the documents never use, read as their nearest term ('money' -> 'funding'; assistant/bridge.py),
    # filled as questions bring them; and those with no term close enough.
    bridges: dict[str, frozenset[str]] = field(default_factory=dict, compare=False)
    unbridged: set[str] = field(default_factory=set, compare=False)
    # Checks worked out with this vocabulary, remembered (evidence.name_present reads each sentence several times).
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def measure_words(self) -> frozenset[str]:
        """Words that tell one table's measure from another's: in some tables' descriptions, not in all, and
        neither a unit, a row's entity nor a name ('exports', not 'USD', 'country' or an organisation)."""
        shared = frozenset.intersection(*self.table_descriptions) if len(self.table_descriptions) > 1 else frozenset()
        return frozenset(self.table_words - shared - UNIT_STEMS - self.table_entities - self.names)

    def measures_in(self, stem_set: set[str]) -> set[str]:
        """The measure words among a question's stems. A short stem ('ad' of 'added', also of 'adding') counts
        only beside another word of a table description that has it ('value added'; not 'adding up')."""
        found = stem_set & self.measure_words
        return {s for s in found if len(s) >= MIN_MEASURE_STEM
                or any(s in d and (stem_set - {s}) & d & self.table_words for d in self.table_descriptions)}

    @property
    def generic(self) -> frozenset[str]:
        """Stems that say nothing about which passage or measure is meant."""
        return self.subject | self.table_common

    def expansions(self, stem_set: set[str]) -> set[str]:
        """Acronyms for their words and words for their acronyms, bridged words and names' other spellings, as
        used in these documents."""
        out: set[str] = set()
        for item in stem_set:  # one lookup at a time: another thread may be adding bridges (dict.get is atomic)
            out |= self.bridges.get(item, frozenset()) | self.spellings.get(item, frozenset())
        for acronym, words in self.acronym_stems.items():
            if acronym in stem_set:
                out |= words
            elif self.acronym_marks.get(acronym, words) <= stem_set:  # the expansion's telling words: the acronym
                out.add(acronym)
        return out

    def covered_by_acronyms(self, asked: set[str], have: set[str]) -> set[str]:
        """The asked stems a text covers by an acronym: 'Joint Test Facility' asked, 'JTF' written (also when the
        question gives both, 'the JTF test facility': the written acronym stands for its words)."""
        out: set[str] = set()
        for acronym, words in self.acronym_stems.items():
            if acronym in have and (acronym in asked or self.acronym_marks.get(acronym, words) <= asked):
                out |= words & asked
        return out

    def spelled_out(self, name: str) -> frozenset[str]:
        """The telling stems of what an acronym stands for ('' when the documents do not spell it out)."""
        return self.acronym_marks.get(name.lower(), frozenset())


def build_domain(chunks: list[Chunk], glossary: list[GlossaryEntry], frequency: dict[str, int]) -> Domain:
    """The vocabulary of one index: its glossary's acronyms, its subject words and the words its tables share.

    `frequency` is the number of passages each stem occurs in."""
    total = max(1, len(chunks))
    acronym_stems: dict[str, frozenset[str]] = {}
    acronym_marks: dict[str, frozenset[str]] = {}
    written = acronyms(chunks)
    spelled = [(entry.term.lower(), entry.meaning) for entry in glossary]
    # General business abbreviations the documents use without spelling them out (assistant/glosses.py).
    spelled += [(a, words) for a, words in GENERAL_ABBREVIATIONS.items()
                if a in written and a not in {term for term, _ in spelled}]
    for key, meaning in spelled:
        words = frozenset(s for s in stems(meaning) if s not in STOPWORDS and not s.isdigit())
        if words:
            acronym_stems[key] = words
            telling = frozenset(s for s in words if frequency.get(s, 0) < COMMON_SHARE * total)
            acronym_marks[key] = telling or words
    # The plural as written ('NGOs', 'PhDs') stands for the same words as the acronym.
    for key in list(acronym_stems):
        plural = stem(key + "s")
        if key + "s" in written and plural not in acronym_stems:
            acronym_stems[plural], acronym_marks[plural] = acronym_stems[key], acronym_marks[key]
    subject = frozenset(s for s, n in frequency.items() if n >= SUBJECT_SHARE * total and not s.isdigit())
    described = [c.table for c in chunks if c.table is not None]
    table_words = frozenset(s for table in described for s in stems(f"{table.title} {table.panel} {' '.join(table.headers)}")
                            if not s.isdigit()) - subject
    # A label-less row is named after its panel ('Chile exports'): its entity is the panel's first word.
    # The header over the labels ('Country') names what the rows are, not a measure.
    entities = frozenset(s for table in described for row in table.rows
                         for s in stems(" ".join([table.panel.split()[0] if row.entity == table.panel else row.entity]
                                                 + [cell.header for cell in row.cells if cell.text == row.entity])))
    domain = Domain(acronym_stems=acronym_stems, acronym_marks=acronym_marks, subject=subject,
                    table_common=table_common(chunks), table_words=table_words, table_entities=entities,
                    names=capitalised(chunks), acronyms=written, spellings=spelling_variants(chunks),
                    terms=common_noun_acronyms(chunks, spelled, frequency, total), year_names=names_with_years(chunks))
    # Expanded with this domain's own acronyms ('aerospace and defence' describes an 'A&D' table).
    descriptions = tuple(frozenset(expand(set(stems(f"{t.title} {t.panel} {' '.join(t.headers)}")), domain))
                         for t in described)
    return dataclasses.replace(domain, table_descriptions=descriptions)


def common_noun_acronyms(chunks: list[Chunk], spelled: list[tuple[str, str]], frequency: dict[str, int],
                         total: int) -> frozenset[str]:
    """Acronyms of a thing, not of a body: the documents write what they stand for in lower case somewhere
    ('food and beverage', for 'Food and Beverage sector' less its common last word), as they never
    do a body's name ('Advanced … Institute'). A sentence about the thing may leave the acronym to its passage."""
    text = " ".join(c.text for c in chunks if c.table is None)
    out = set()
    for key, meaning in spelled:
        words = meaning.split()
        while len(words) > 1 and frequency.get(stem(words[-1].lower()), 0) >= COMMON_SHARE * total:
            words = words[:-1]  # ('sector': too common to be part of what is named)
        phrase = " ".join(words).lower()
        if len(words) > 1 and re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text):
            out.add(key)
    return frozenset(out)


_NAME_AND_YEAR = re.compile(r"(?<=[a-z,;:] )([A-Z][a-z]+ (?:19|20)\d{2})\b")


def names_with_years(chunks: list[Chunk]) -> dict[str, str]:
    """Names that end in a year ('Vision 2040', 'Expo 2030'), as written mid-sentence: a question typing them in
    lower case ('how many goals are in vision 2040') names them, and asks about no year."""
    from assistant.query import NOT_NAME_BEFORE_YEAR  # (imported here: query reads this module's vocabulary)

    found: dict[str, str] = {}
    for chunk in chunks:
        for name in _NAME_AND_YEAR.findall(chunk.text):
            if name.split()[0].lower() not in NOT_NAME_BEFORE_YEAR:
                found[name.lower()] = name
    return found


_WORD_IN_SENTENCE = re.compile(r"(?<=[a-z,;:] )([A-Za-z][A-Za-z&-]+)")


def capitalised(chunks: list[Chunk]) -> frozenset[str]:
    """Stems of words the documents nearly always write with a capital (or in capitals) in mid-sentence."""
    upper: dict[str, int] = {}
    seen: dict[str, int] = {}
    for chunk in chunks:
        if chunk.table is not None:
            continue
        for word in _WORD_IN_SENTENCE.findall(chunk.text):
            key = stem(word.lower())
            seen[key] = seen.get(key, 0) + 1
            upper[key] = upper.get(key, 0) + word[0].isupper()
    return frozenset(k for k, n in seen.items() if upper[k] >= NAME_SHARE * n)


MIN_VARIANT_LENGTH = 6  # shorter names one letter apart are too often different names


def spelling_variants(chunks: list[Chunk]) -> dict[str, frozenset[str]]:
    """Capitalised words the documents spell two ways, one letter added or dropped ('Zentravix' and 'Zentavix'
    in one report): a question using either spelling names the same thing. A letter swapped for another is
    left out: 'Iceland' and 'Ireland' are different places, and so are English words ('County', 'Country')."""
    from assistant.wording import english_words  # (imported here: wording reads this module's vocabulary)

    english = english_words()
    capitalised_word = re.compile(rf"\b[A-Z][a-z]{{{MIN_VARIANT_LENGTH - 1},}}\b")
    written = {w.lower() for chunk in chunks for w in capitalised_word.findall(chunk.text)}
    written -= english
    by_deletion: dict[str, set[str]] = {}
    for word in written:
        for i in range(len(word)):
            by_deletion.setdefault(word[:i] + word[i + 1:], set()).add(word)
    found: dict[str, set[str]] = {}
    for shorter in written:
        for longer in by_deletion.get(shorter, ()):  # the longer word with one letter dropped is the shorter
            if not longer.startswith(shorter) and not longer.endswith(shorter):  # (not a plural or a prefix)
                found.setdefault(shorter, set()).add(longer)
                found.setdefault(longer, set()).add(shorter)
    # Keyed and valued by the word and its stem: names are matched as written, topics as stems.
    variants: dict[str, frozenset[str]] = {}
    for word, others in found.items():
        forms = frozenset(others) | frozenset(stem(o) for o in others)
        variants[word] = variants[stem(word)] = forms
    return variants


def acronyms(chunks: list[Chunk]) -> frozenset[str]:
    """Words the documents write with two capitals or more ('NATO', 'PhD'), lower-cased: names even when a
    question is typed in lower case."""
    found = {w for chunk in chunks for w in re.findall(r"\b[A-Za-z][A-Za-z&]*[A-Z][A-Za-z&]*\b", chunk.text)
             if sum(ch.isupper() for ch in w) >= 2}
    return frozenset(w.lower() for w in found)


def table_common(chunks: list[Chunk]) -> frozenset[str]:
    """Stems used by the title, panel or headers of most tables (only with three tables or more)."""
    # Panels of one figure are one table here: their shared title must not count as shared by all tables.
    tables = list({(c.locator, c.table.title): c.table for c in chunks if c.table is not None}.values())
    if len(tables) < 3:
        return frozenset()
    counts: dict[str, int] = {}
    for table in tables:
        for item in set(stems(f"{table.title} {table.panel} {' '.join(table.headers)}")):
            counts[item] = counts.get(item, 0) + 1
    return frozenset(s for s, n in counts.items() if n >= TABLE_COMMON_SHARE * len(tables) and not s.isdigit())


_active = Domain()


def activate(domain: Domain) -> None:
    """Make `domain` the vocabulary questions are read with (see the module note)."""
    global _active
    _active = domain


def active() -> Domain:
    return _active
