"""Every answerer proposes; none is gated by a guess at the question's intent.

Each answerer takes the same inputs (an `AnswerContext`) and returns a `Candidate` or None. The list
of answerers is `ANSWERERS`, in one place; `chooser.choose` scores every candidate with the fitted
weights and picks one, or the refusal, which is always proposed too. A wrong intent guess then costs
a little score instead of the whole answer.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from assistant.arithmetic import DIFFERENCE, YEARS_APART, compute, pointed_at, quantities
from assistant.compose import (
    NO_ANSWER,
    NOT_AVAILABLE,
    Citations,
    answer_definition,
    answer_from_sentences,
    answer_source,
    stated_gap,
    why_refused,
    with_footnotes,
)
from assistant.evidence import Evidence, best_sentences, name_present, names_in, unknown_counted, unknown_reference
from assistant.figures import generic, measures_met
from assistant.query import ASKS_REASON, Query
from assistant.summary import answer_summary, document_summary, reading_order, section_overview, summarise_overview
from assistant.table_answers import answer_from_tables
from assistant.table_ops import asks_rows, operate, years_given
from assistant.text import split_sentences, stems
from ingest.records import FigureRow, Hit
from ingest.settings import Settings


@dataclass
class Candidate:
    """One proposed answer: its text, what it cites, and which answerer made it."""

    answerer: str
    text: str
    cites: Citations
    figures: list[FigureRow] = field(default_factory=list)
    refused: bool = False
    support: float = 0.0  # the answerer's own evidence strength (0 when it has none)
    names_work: bool = False  # it names the cited work a statement rests on (a footnote, a table's Source line)
    whole_section: bool = False  # it summarises a section the question names ("summarise section 2")
    other_years: bool = False  # a refusal saying the tables give the figure only for other years than asked


@dataclass
class AnswerContext:
    """What every answerer may read: the question, the retrieved passages and the loaded index."""

    query: Query
    hits: list[Hit]
    loaded: object
    settings: Settings
    vector: np.ndarray | None = None  # the question's embedding
    embed: Callable[[list[str]], np.ndarray] | None = None  # embeds candidate texts (cached by the caller)

    @cached_property
    def with_notes(self) -> list[Hit]:
        return with_footnotes(self.hits, self.loaded)

    def evidence(self, query: Query | None = None, limit: int = 12) -> list[Evidence]:
        """Best sentences of the passages (and their footnotes) for the question as read by `query`."""
        query = query or self.query
        key = (query.kind, query.wants_number, limit)
        cache = self.__dict__.setdefault("_evidence", {})
        if key not in cache:
            cache[key] = best_sentences(query, self.with_notes, self.loaded.document_frequency,
                                        len(self.loaded.chunks), limit=limit)
        return cache[key]

    def as_kind(self, kind: str, wants_number: bool | None = None) -> Query:
        """The same question read as another kind (what that answerer needs to look for)."""
        wants = self.query.wants_number if wants_number is None else wants_number
        return dataclasses.replace(self.query, kind=kind, wants_number=wants)


def _support(evidence: list[Evidence]) -> float:
    return evidence[0].support if evidence else 0.0


def propose_sentence(ctx: AnswerContext) -> Candidate | None:
    """The best supporting sentence for the question as analysed (with the sentence it needs)."""
    cites = Citations(ctx.loaded)
    evidence = ctx.evidence()
    text = answer_from_sentences(ctx.query, evidence, cites, ctx.settings)
    return Candidate("sentence", text, cites, support=_support(evidence)) if text else None


def propose_plain_sentence(ctx: AnswerContext) -> Candidate | None:
    """The best sentence when the question is read as a plain fact (no number or comparison required)."""
    if ctx.query.kind == "fact" and not ctx.query.wants_number:
        return None  # the same as propose_sentence
    query = ctx.as_kind("fact", wants_number=False)
    cites = Citations(ctx.loaded)
    evidence = ctx.evidence(query)
    text = answer_from_sentences(query, evidence, cites, ctx.settings)
    return Candidate("plain_sentence", text, cites, support=_support(evidence)) if text else None


def propose_second_sentence(ctx: AnswerContext) -> Candidate | None:
    """The next best sentence, when it is another one: the best is often the lead-in or a near miss."""
    evidence = ctx.evidence()
    rest = [e for e in evidence[1:] if e.sentence != evidence[0].sentence] if evidence else []
    if not rest:
        return None
    cites = Citations(ctx.loaded)
    text = answer_from_sentences(ctx.query, rest, cites, ctx.settings)
    return Candidate("second_sentence", text, cites, support=_support(rest)) if text else None


PROSE = {"paragraph", "summary", "text", "page"}
PASSAGE_CHARS = 700  # a passage up to this long is quoted whole; a longer one around its best sentence


def _passage_candidate(ctx: AnswerContext, rank: int) -> Candidate | None:
    """The rank-th retrieved prose passage, quoted whole or as the three sentences around its best one."""
    prose = [h for h in ctx.hits if h.chunk.kind in PROSE]
    if len(prose) <= rank:
        return None
    chunk = prose[rank].chunk
    quote = chunk.text.strip()
    if len(quote) > PASSAGE_CHARS:
        sentences = split_sentences(chunk.text)
        best = next((e.sentence for e in ctx.evidence() if e.hit.chunk.id == chunk.id), None)
        at = sentences.index(best) if best in sentences else 0
        quote = " ".join(sentences[max(0, at - 1):at + 2])
    cites = Citations(ctx.loaded)
    return Candidate(f"passage_{rank + 1}", f"{quote} {cites.cite(chunk, quote)}", cites, support=prose[rank].score)


def propose_first_passage(ctx: AnswerContext) -> Candidate | None:
    """The best retrieved passage itself: the answer may span its sentences."""
    return _passage_candidate(ctx, 0)


def propose_second_passage(ctx: AnswerContext) -> Candidate | None:
    """The second retrieved passage itself."""
    return _passage_candidate(ctx, 1)


def propose_heading(ctx: AnswerContext) -> Candidate | None:
    """A finding the documents put in a heading ('X is particularly concentrated in Y'), with its passage's best sentence.

    Reports often state their main finding once, as the heading of the passages that support it."""
    for hit in ctx.hits[:3]:
        chunk = hit.chunk
        if chunk.kind not in PROSE or len(chunk.heading.split()) < 5 or chunk.heading in chunk.text:
            continue
        best = next((e.sentence for e in ctx.evidence() if e.hit.chunk.id == chunk.id), None)
        cites = Citations(ctx.loaded)
        quote = best or split_sentences(chunk.text)[0]
        return Candidate("heading", f"{chunk.heading.strip(' *')}. {quote} {cites.cite(chunk, quote)}", cites,
                         support=hit.score)
    return None


def _answers_reason(query: Query, text: str) -> bool:
    """A figure answers a 'why' question only by correcting its premise ('No: exports fell …')."""
    return not ASKS_REASON.match(query.text) or text.startswith("No: ")


def _sides(query: Query) -> list[str]:
    """The names a question sets against each other; an owner and what it owns are one side ("A's B" is B)."""
    names = list(dict.fromkeys(names_in(query.text) + query.areas))
    owners = {a for a in names for b in names if a != b and re.search(rf"\b{re.escape(a)}['’]s\s+{re.escape(b)}\b", query.text)}
    return [n for n in names if n not in owners]


def _sides_named(evidence: Evidence, sides: list[str]) -> list[str]:
    """The sides a sentence is about: named in it, or in the sentence before it in its passage."""
    sentences = split_sentences(evidence.hit.chunk.text)
    at = sentences.index(evidence.sentence) if evidence.sentence in sentences else 0
    around = " ".join(sentences[max(0, at - 1):at + 1]) if evidence.sentence in sentences else evidence.sentence
    named = [side for side in sides if name_present(side, evidence.sentence)]
    return named or [side for side in sides if name_present(side, around)]


def _labelled(evidence: Evidence, sides: list[str], with_years: bool, others: list[str]) -> list:
    """A sentence's figures; when it is about one side only (of those the other sentence does not name), each
    figure is read as that side's ('300 member firms' in a passage about one body are that body's)."""
    figures = quantities(evidence.sentence, with_years)
    own = [side for side in _sides_named(evidence, sides) if side not in others]
    if len(own) == 1:
        words = frozenset(stems(own[0]))
        figures = [dataclasses.replace(q, context=q.context | words) for q in figures]
    return figures


def _pointing(query: Query, sides: list[str], with_years: bool):
    """Orders (sentence, its sides) by how many of the question's other words stand beside one of its figures
    ('employs' beside '19,000 employees'), then by the sentence's own rank."""
    named = {w for side in sides for w in stems(side)}
    asked = {w for w in query.stems if w not in named}

    def key(item: tuple[Evidence, list[str]]) -> tuple[int, float]:
        evidence = item[0]
        return (max(((pointed_at(q.context, asked), pointed_at(q.close, asked))
                     for q in quantities(evidence.sentence, with_years)), default=(0, 0)), evidence.score)

    return key


def _paired(query: Query, evidence: list[Evidence]) -> Evidence | None:
    """When the best sentence states fewer than two figures of the measure asked, a close one that states two
    ("grew from £91,000 to £102,000") rather than one figure from each of two sentences about different things."""
    def asked_figures(sentence: str) -> list:
        return [q for q in quantities(sentence) if measures_met(query, " ".join(q.context))]

    if (YEARS_APART.search(query.text) or not DIFFERENCE.search(query.text)
            or len(asked_figures(evidence[0].sentence)) >= 2):
        return None
    asked = {w for w in query.stems if not w[0].isdigit()} - generic()  # (the subject words stand beside everything)
    return next((e for e in evidence[1:4] if len(found := asked_figures(e.sentence)) >= 2
                 and all(pointed_at(q.context, asked) for q in found)), None)


def propose_arithmetic(ctx: AnswerContext) -> Candidate | None:
    """A total, share, gap in years, difference or change computed from figures the best sentences state, shown with them.

    When the question sets two names against each other and no one sentence gives both their figures, the
    second sentence is the best one about the other name ('which has more members, A or B': A's passage, B's)."""
    if ASKS_REASON.match(ctx.query.text):
        return None
    with_years = bool(YEARS_APART.search(ctx.query.text))
    sides = _sides(ctx.query)
    # Set against each other, each side's passage counts even though it names only that side.
    two_sided = len(sides) >= 2 and bool(DIFFERENCE.search(ctx.query.text))
    query = ctx.as_kind("compare") if two_sided else ctx.query
    # Each side may be in a passage of its own, further down: read more of them (only then: it costs a pass).
    evidence = [e for e in ctx.evidence(query, limit=24 if two_sided else 12) if quantities(e.sentence, with_years)]
    if not evidence:
        return None
    used = [evidence[0]]
    figures = quantities(evidence[0].sentence, with_years)
    # Of the sentences giving every side a figure, the one whose figures the question's other words point at.
    point = _pointing(ctx.query, sides, with_years)
    both = max((e for e in evidence if len(sides) >= 2 and set(_sides_named(e, sides)) == set(sides)
                and len(quantities(e.sentence, with_years)) >= 2), key=lambda e: point((e, sides)), default=None)
    if both is not None:  # one sentence gives every side's figure
        used, figures = [both], quantities(both.sentence, with_years)
    elif len(sides) >= 2 and query.kind == "compare":
        # Each side from its own sentence: the one whose figures the question's other words point at.
        about = [(e, _sides_named(e, sides)) for e in evidence]
        first, first_sides = max(((e, named) for e, named in about if named), key=point, default=(None, []))
        others = [(e, named) for e, named in about if set(named) - set(first_sides) and e.sentence != first.sentence]
        if first is None or not others:
            return None
        other, other_sides = max(others, key=point)
        used = [first, other]
        figures = (_labelled(first, sides, with_years, other_sides) + _labelled(other, sides, with_years, first_sides))
    elif (paired := _paired(ctx.query, evidence)) is not None:
        used, figures = [paired], quantities(paired.sentence)
    elif len(figures) < 2 or with_years:  # one figure per sentence (or a year each): the next may give the other side
        other = next((e for e in evidence[1:] if e.sentence != evidence[0].sentence), None)
        if other is None:
            return None
        used.append(other)
        figures += quantities(other.sentence, with_years)
    # Each figure worked with must be of the measure asked (an export total is not set against a deficit).
    figures = [q for q in figures if measures_met(ctx.query, " ".join(q.context))]
    worked = compute(ctx.query.text, figures, sides)
    if not worked:
        return None
    cites = Citations(ctx.loaded)
    stated = " ".join(f"“{e.sentence}” {cites.cite(e.hit.chunk, e.sentence)}" for e in used)
    return Candidate("arithmetic", f"{worked}. Worked out from the figures stated: {stated}", cites,
                     support=_support(used))


def propose_table(ctx: AnswerContext) -> Candidate | None:
    """A value, comparison, change or ranking from the typed table records."""
    if asks_rows(ctx.query.text):
        return None  # "how many have higher X than the UK": the rows meeting it (a table operation), not the UK's row
    query = ctx.query if ctx.query.kind in {"figure", "compare", "fact", "locator"} else ctx.as_kind("figure")
    cites = Citations(ctx.loaded)
    found = answer_from_tables(query, ctx.loaded, cites)
    if not found:
        return None
    text, figures = found
    if not _answers_reason(ctx.query, text):
        return None
    if ctx.query.kind == "source":  # "what's the source for Chile's output": the figure with its Source line
        lines = dict.fromkeys(f"{c.locator}: {c.table.source}" for c in ctx.loaded.chunks
                              if c.table is not None and c.table.source
                              and any((c.doc_title, c.locator) == (i.doc, i.locator) for i in cites.items))
        if not lines:
            return None
        text += "\n\nSource cited by the report:\n" + "\n".join(f"- {line}" for line in lines)
    return Candidate("table", text, cites, figures=figures, support=1.0, names_work=ctx.query.kind == "source")


def propose_table_operation(ctx: AnswerContext) -> Candidate | None:
    """An operation over a table's rows: extremes, top n, filters, counts, ratios, changes between panels."""
    cites = Citations(ctx.loaded)
    tables = [c for c in ctx.loaded.chunks if c.table is not None]
    found = operate(ctx.query, tables, lambda chunk: cites.cite(chunk, "\n".join(r.text for r in chunk.table.rows[:3])))
    if not found:
        return None
    text, figures = found
    if not _answers_reason(ctx.query, text):
        return None
    return Candidate("table_operation", text, cites, figures=figures, support=1.0)


def propose_source(ctx: AnswerContext) -> Candidate | None:
    """The work a statement's footnote or a table's Source line names."""
    query = ctx.as_kind("source", wants_number=False)
    cites = Citations(ctx.loaded)
    evidence = ctx.evidence(query)
    text = answer_source(query, evidence, ctx.hits, ctx.loaded, cites, ctx.settings)
    return Candidate("source", text, cites, support=_support(evidence), names_work=True) if text else None


def propose_summary(ctx: AnswerContext) -> Candidate | None:
    """Cited bullets from the section the question is about."""
    query = ctx.as_kind("summary", wants_number=False)
    cites = Citations(ctx.loaded)
    whole = document_summary(query, ctx.loaded, cites)
    if whole:  # "summarise the report": each section's own summary, in order
        return Candidate("summary", whole, cites, support=1.0, whole_section=True)
    overview = section_overview(query, reading_order(ctx.loaded))
    if overview:  # "summarise section 2": the section's own summary, or its opening passages
        text = summarise_overview(overview, cites)
        return Candidate("summary", text, cites, support=1.0, whole_section=True) if text else None
    text = answer_summary(query, ctx.hits, ctx.loaded, cites, ctx.settings)
    return Candidate("summary", text, cites, support=1.0) if text else None


def propose_definition(ctx: AnswerContext) -> Candidate | None:
    """An abbreviation's expansion from the glossary the documents define."""
    if not ctx.query.term:
        return None
    cites = Citations(ctx.loaded)
    text = answer_definition(ctx.query, ctx.loaded, cites)
    return Candidate("definition", text, cites, support=1.0) if text else None


def propose_refusal(ctx: AnswerContext) -> Candidate:
    """'The documents don't say', quoting them when they say outright that the data is not available."""
    cites = Citations(ctx.loaded)
    query = ctx.query
    unknown = unknown_counted(query, ctx.loaded.document_frequency) if query.kind not in {"source", "summary"} else None
    if unknown:
        return Candidate("refusal", f"{NO_ANSWER} anything about {unknown}: the word does not occur in them.",
                         cites, refused=True)
    missing = unknown_reference(query, ctx.loaded.chunks)
    if missing:
        closest = list(dict.fromkeys(h.chunk.section for h in ctx.hits[:6] if h.chunk.section))[:3]
        offer = f" The closest sections are: {'; '.join(closest)}." if closest else ""
        return Candidate("refusal", f"{NO_ANSWER} this: they have no {missing}.{offer}", cites, refused=True)
    tables = [c for c in ctx.loaded.chunks if c.table is not None]
    given = years_given(query, tables, lambda chunk: cites.cite(chunk, "\n".join(r.text for r in chunk.table.rows[:3])))
    if given:  # a near miss by year: say what the documents do give
        return Candidate("refusal", f"{NO_ANSWER} this; {given}", cites, refused=True, other_years=True)
    evidence = ctx.evidence()
    if evidence and NOT_AVAILABLE.search(evidence[0].sentence) and not re.match(r"why\b", query.text, re.I):
        sentence, chunk = evidence[0].sentence, evidence[0].hit.chunk
        return Candidate("refusal", f"{NO_ANSWER} this; they state that the data is not available: "
                                    f"{sentence} {cites.cite(chunk, sentence)}", cites, refused=True)
    gap = stated_gap(query, ctx.with_notes)
    if gap:
        sentence, chunk = gap
        return Candidate("refusal", f"{NO_ANSWER} this; they note: “{sentence}” {cites.cite(chunk, sentence)}",
                         cites, refused=True)
    places = ", ".join(h.chunk.locator for h in ctx.hits[:3])
    text = f"{NO_ANSWER} {why_refused(query, ctx.loaded)}." + (
        f" The closest passages are {places} (shown as related, not as an answer)." if places else "")
    return Candidate("refusal", text, cites, refused=True)


# The answerers, in one place. Each sees the same context; the chooser decides among what they propose.
ANSWERERS: list[tuple[str, Callable[[AnswerContext], Candidate | None]]] = [
    ("table", propose_table),
    ("table_operation", propose_table_operation),
    ("sentence", propose_sentence),
    ("plain_sentence", propose_plain_sentence),
    ("second_sentence", propose_second_sentence),
    ("passage_1", propose_first_passage),
    ("passage_2", propose_second_passage),
    ("arithmetic", propose_arithmetic),
    ("heading", propose_heading),
    ("source", propose_source),
    ("summary", propose_summary),
    ("definition", propose_definition),
    ("refusal", propose_refusal),
]
ANSWERER_NAMES = [name for name, _ in ANSWERERS]


def propose(ctx: AnswerContext) -> list[Candidate]:
    """Every answerer's candidate (the refusal is always among them)."""
    out = []
    for _, answerer in ANSWERERS:
        candidate = answerer(ctx)
        if candidate is not None and candidate.text.strip():
            out.append(candidate)
    return out
