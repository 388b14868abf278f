"""Section summaries: the key point of each passage, and every listed item, of the section a question is about.

Extractive only: each bullet is a sentence or a list item's lead taken from one passage, with that
passage's citation marker. The section comes from the passages retrieval ranks best (and its heading);
a neighbouring subsection joins it when it matches the question about as well. A section of one prose
passage gives that passage's first sentences; a long section, an overview of its subsections.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import TYPE_CHECKING

from assistant.evidence import SECTION_REFERENCE, blocked, context_text, named_section, support, unknown_reference
from assistant.query import (
    DOCUMENT_MAKING,
    DOCUMENT_NAMES,
    OPENS_ON_THE_DOCUMENT,
    THE_DOCUMENT,
    Query,
    aspect_words,
    unknown_stems,
)
from assistant.retrieve import idf
from assistant.text import YEAR, expand, split_sentences, stem, stems
from ingest.records import Chunk, Hit
from ingest.settings import Settings

if TYPE_CHECKING:
    from assistant.compose import Citations

PROSE = {"paragraph", "summary", "text", "page"}
CANDIDATES = 6  # top passages whose sections compete to be summarised
MAX_LINES = 14  # bullets in one answer, list items included
MAX_ITEMS = 10  # items taken from one list
MAX_PASSAGES = 8  # passages taken from one section
SAME_SECTION_BONUS = 0.03  # per other retrieved passage of the same section
ASPECT_BONUS = 0.25  # a heading naming the kind of thing asked for
HEADING_WEIGHT = 0.2  # times the share of the question's topic named by the heading
INTRO_PASSAGES = 2  # a section with no more passages of its own than this introduces its subsections
NEIGHBOUR_MARGIN = 0.15  # how close an adjacent subsection's best passage must score to join the summary
LONE_SENTENCES = 5  # a section of one passage without a list: its first sentences, one bullet each
SHORT_LEAD = 160  # a passage's first sentence shorter than this is often an introduction: keep the next one too
SHORT_ITEM = 120  # a listed item's first sentence shorter than this is often a label or opener: keep the next one too

_ITEM = re.compile(r"^(\s*)(?:[-*+•]|\d{1,2}[.)])\s+(.*)$")
_REFERRING = re.compile(r"^(This|These|That|Those|It|Its|They|Their|Such)\b")

# Words that say a summary is wanted and of what kind, not what it is about.
_CUES = {stem(w) for w in """summary summarise summarize overview outline key main trends drivers factors lessons
    implications challenges obstacles barriers difficulties hurdles problems issues risks success successful succeed
    stages themes points findings find explain explains briefing kinds types sorts forms make made consist comprise
    relevant relevance important role why come comes came write compose translate gist rundown lowdown recap""".split()}


@dataclass
class Item:
    """A listed item with the items nested under it."""

    text: str
    children: list[Item] = field(default_factory=list)


def answer_summary(query: Query, hits: list[Hit], loaded, cites: Citations, settings: Settings) -> str | None:
    """Bullets from the section the question is about, in reading order, each with its citation; None when unsupported."""
    if off_topic(query, loaded):
        return None
    prose = reading_order(loaded)
    runs = {h.chunk.id: _run(h.chunk, prose) for h in hits[:CANDIDATES] if h.chunk.kind in PROSE}
    # Names and years must be in the section, not in each passage: "regional devolution … the institute" spans two paragraphs.
    candidates = [h for h in hits[:CANDIDATES] if h.chunk.id in runs and not _section_blocked(query, runs[h.chunk.id])]
    if not _ASKS_STRUCTURE.search(query.text):
        # A passage about the document's own parts ("Section 2 provides an overview …") summarises no topic.
        candidates = [h for h in candidates if len(_PARTS_NAMED.findall(h.chunk.text)) < 2]
    if not candidates:
        return None
    wanted = aspect_words(query.text)
    weights = {t: idf(t, loaded.document_frequency, len(loaded.chunks)) for t in _topic(query)}
    anchor = _anchor(candidates, runs, wanted, weights)
    if _support(query, anchor.chunk, runs[anchor.chunk.id], loaded) < settings.refusal_threshold * 0.8:
        return None
    scope = _with_neighbour(anchor, candidates, runs, prose, wanted, weights)
    scope = _focus(query, _window(anchor.chunk, scope, set(runs)), anchor.chunk)
    return "\n".join(_within_cap(scope, anchor.chunk, cites)) or None


def reading_order(loaded) -> list[Chunk]:
    """The documents' prose passages in reading order."""
    return sorted((c for c in loaded.chunks if c.kind in PROSE), key=lambda c: (c.doc_id, c.order))


def summarise_overview(overview: list[Chunk], cites: Citations) -> str | None:
    """Cited bullets of a section's overview passages (see section_overview)."""
    return "\n".join(_within_cap(overview, overview[0], cites)) or None


OPENING_PASSAGES = 3  # a section without a summary of its own is summarised from this many opening passages


def section_overview(query: Query, prose: list[Chunk]) -> list[Chunk]:
    """The passages that summarise a section the question names by number ('section 2') or by its title
    ('the section on learning from elsewhere'): its own 'Summary' subsection when it has one, else its opening
    passages. Empty when it names none, or none the documents have."""
    numbered = SECTION_REFERENCE.search(query.text)
    if numbered:
        part = next((c.section.split(" > ")[0] for c in prose if c.section.startswith(f"{numbered.group(2)}. ")), None)
    else:
        part = named_section(query, prose)
    if not part:
        return []
    inside = [c for c in prose if c.section == part or c.section.startswith(f"{part} > ")
              or f" > {part} > " in f" > {c.section} > "]
    own = [c for c in inside if stem(c.section.rsplit(" > ", 1)[-1].lower()) in _SUMMARY_HEADINGS]
    return own or inside[:OPENING_PASSAGES]


_SUMMARY_HEADINGS = {stem(w) for w in ("summary", "overview", "abstract")}

# "Summarise the report", "what is this report about?": the document itself, and nothing in it, is asked about.
_DOCUMENT_STEMS = {stem(w) for w in (*DOCUMENT_NAMES, "whole", "entire")}
_CONCLUDING = re.compile(r"(?:key )?(?:conclusions?|implications|findings)\b", re.I)
SECTION_POINTS = 2  # key points taken from each section's own summary in an overview of a whole document


def document_summary(query: Query, loaded, cites: Citations) -> str | None:
    """An overview of the report as a whole: for each of its numbered sections, in order, the first points of
    the section's own summary (or its opening passage's key point), cited. None unless the question asks about
    the document and nothing more specific ('summarise the report on exports' is about exports)."""
    if not THE_DOCUMENT.search(query.text) or _topic(query) - _DOCUMENT_STEMS - DOCUMENT_MAKING:
        return None
    prose = [c for c in reading_order(loaded) if c.doc_id in loaded.report_ids]
    parts = list(dict.fromkeys(c.section.split(" > ")[0] for c in prose if re.match(r"\d+\.\s", c.section)))
    lines = []
    for part in parts:
        inside = [c for c in prose if c.section.split(" > ")[0] == part]
        own = [c for c in inside if c.kind == "summary" or stem(c.section.rsplit(" > ", 1)[-1].lower()) in _SUMMARY_HEADINGS]
        # (without a summary of its own, a section's conclusions say what it found better than its opening)
        concluding = [c for c in inside if _CONCLUDING.match(c.section.rsplit(" > ", 1)[-1])]
        chunk = (own or concluding or inside)[0]
        items = parse_list(chunk.text)[1]
        points = [item_head(i.text) for i in items[:SECTION_POINTS]] or [key_point(chunk)]
        marker = cites.cite(chunk, "")
        lines.append(f"- {part}: {points[0]} {marker}")
        lines += [f"  - {point} {marker}" for point in points[1:]]
        if not (own or concluding):  # an opening section says what the document is and how it was made
            lines += [f"  - {said} {cites.cite(where, '')}" for where, said in _document_described(inside, chunk)]
    return "\n".join(lines) or None


def _document_described(inside: list[Chunk], shown: Chunk) -> list[tuple[Chunk, str]]:
    """The first sentence of a section whose subject is the document itself ("This study draws on …")."""
    for chunk in inside:
        for sentence in _sentences(chunk):
            if OPENS_ON_THE_DOCUMENT.match(sentence) and not (chunk is shown and sentence in key_point(chunk)):
                return [(chunk, sentence)]
    return []


_PARTS_NAMED = re.compile(r"\b(?:section|chapter|part|annex)\s+\d", re.I)
_ASKS_STRUCTURE = re.compile(r"\b(?:sections?|chapters?|structure\w*|organi[sz]ed|contents|parts? of the (?:report|document))\b",
                             re.I)


def _within_cap(scope: list[Chunk], anchor: Chunk, cites: Citations) -> list[str]:
    """Each passage's bullets, in reading order, while they fit the cap; the anchor's always fit (its list is the answer)."""
    if len(scope) == 1 and not parse_list(anchor.text)[1]:
        return _sentence_lines(anchor, cites)
    blocks = [(chunk, _lines(chunk, cites)) for chunk in scope]
    reserved = next(len(lines) for chunk, lines in blocks if chunk.id == anchor.id)
    out: list[str] = []
    for chunk, lines in blocks:
        if chunk.id == anchor.id:
            out += lines
            reserved = 0
        elif len(out) + len(lines) + reserved <= MAX_LINES:
            out += lines
    return out


def _topic(query: Query) -> set[str]:
    """What the question is about: its content words without the cue words."""
    return {s for s in query.stems if s not in _CUES and not s.isdigit()}


def misspelt_known(term: str, frequency: dict[str, int]) -> bool:
    """True when an unknown word is one typo away from a word the documents use ('machinari', 'enterpriz')."""
    if len(term) < 5:
        return False
    # Remembered per vocabulary: the search over every word of the documents costs milliseconds a word.
    known = _MISSPELT.get(id(frequency))
    if known is None or known[0] is not frequency:
        known = _MISSPELT[id(frequency)] = (frequency, {})
        while len(_MISSPELT) > 4:  # indexes that are no longer served
            del _MISSPELT[next(iter(_MISSPELT))]
    answers = known[1]
    if term not in answers:
        if len(answers) > 10_000:
            answers.clear()
        answers[term] = bool(get_close_matches(term, [t for t in frequency if abs(len(t) - len(term)) <= 2], n=1,
                                               cutoff=0.8))
    return answers[term]


_MISSPELT: dict[int, tuple[dict, dict[str, bool]]] = {}


def off_topic(query: Query, loaded) -> bool:
    """True when half or more of what the question is about (cue words aside) never occurs in the documents."""
    topic = _topic(query)
    total = len(loaded.chunks)
    if any(s[0].isdigit() and not YEAR.fullmatch(s) and len(s) > 2 and loaded.document_frequency.get(s) for s in query.stems):
        return False  # "where does the 42,000 figure come from": a figure the documents state is their topic
    if (query.locators or SECTION_REFERENCE.search(query.text)) and not unknown_reference(query, loaded.chunks):
        return False  # "where does Table 2-2 come from", "summarise chapter 4": a part the documents have is their topic
    known = {t: idf(t, loaded.document_frequency, total) for t in topic if loaded.document_frequency.get(t)}
    # A word read as one of the documents' terms (a typo of it, or an everyday word for it) is not unknown.
    unknown = {t for t in topic & set(unknown_stems(query, loaded.document_frequency))
               if not misspelt_known(t, loaded.document_frequency)}
    if not unknown:
        return False
    # An unknown word weighs like a typical word of the question (it may just be the user's phrasing).
    typical = sorted(known.values())[len(known) // 2] if known else 1.0
    unknown_weight, known_weight = len(unknown) * typical, sum(known.values())
    if not math.isclose(unknown_weight, known_weight):
        return unknown_weight > known_weight
    # Half and half is off topic ('a joke about robots'), unless the known half names something the documents
    # name ('whats acme, never herd of it': the asker's aside is what they don't know, not the subject).
    return not any(t in loaded.domain.names | loaded.domain.acronyms for t in known)


def _merged(run: list[Chunk]) -> Chunk:
    """A section's passages as one chunk, so that checks meant for one passage apply to the section."""
    return run[0].model_copy(update={"text": "\n".join(c.text for c in run)})


def _section_blocked(query: Query, run: list[Chunk]) -> bool:
    merged = _merged(run)
    return bool(blocked(query, merged, merged.text))


def _support(query: Query, anchor: Chunk, run: list[Chunk], loaded) -> float:
    """How well the anchor's best sentence, read within its whole section, supports the question (0-1)."""
    merged = _merged(run)
    total = len(loaded.chunks)
    return max((support(query, sentence, merged, loaded.document_frequency, total)
                for sentence in split_sentences(anchor.text)), default=0.0)


def _heading_words(chunk: Chunk) -> set[str]:
    """Words of the heading a passage sits under."""
    return set(stems(chunk.section.rsplit(" > ", 1)[-1] + " " + chunk.heading))


def _aspect_words(chunk: Chunk) -> set[str]:
    """Words naming the kind of section a passage is in; a summary box is whatever its text covers."""
    words = _heading_words(chunk)
    return words | set(stems(chunk.text)) if chunk.kind == "summary" else words


def _heading_fit(chunk: Chunk, wanted: set[str], weights: dict[str, float]) -> tuple[bool, float]:
    """Whether a passage's heading names the kind of thing asked for ("Key challenges" for "what obstacles …"),
    and the IDF-weighted share of the question's topic it names ("Technology developments")."""
    heading = _heading_words(chunk)
    named = sum(w for t, w in weights.items() if expand({t}) & heading) / (sum(weights.values()) or 1.0)
    return bool(wanted & _aspect_words(chunk)), named


def _anchor(candidates: list[Hit], runs: dict[str, list[Chunk]], wanted: set[str], weights: dict[str, float]) -> Hit:
    """The best passage of the best section: a section scores by its best passage, a little more for each
    other passage of it retrieved, and more when its heading fits the question."""
    sections = [runs[h.chunk.id][0].id for h in candidates]

    def score(index: int) -> float:
        aspect, named = _heading_fit(candidates[index].chunk, wanted, weights)
        return (candidates[index].score + SAME_SECTION_BONUS * (sections.count(sections[index]) - 1)
                + ASPECT_BONUS * aspect + HEADING_WEIGHT * named)

    return candidates[max(range(len(candidates)), key=score)]  # max keeps the higher ranked passage on ties


def _with_neighbour(anchor: Hit, candidates: list[Hit], runs: dict[str, list[Chunk]], prose: list[Chunk],
                    wanted: set[str], weights: dict[str, float]) -> list[Chunk]:
    """The anchor's section, joined by an adjacent subsection whose passage scores about as well and whose
    heading fits the question at least as well (both subsections then answer it)."""
    run = runs[anchor.chunk.id]
    aspect, named = _heading_fit(anchor.chunk, wanted, weights)
    for hit in candidates:
        other = runs[hit.chunk.id]
        other_aspect, other_named = _heading_fit(hit.chunk, wanted, weights)
        if hit.chunk.section == anchor.chunk.section or hit.score < anchor.score - NEIGHBOUR_MARGIN \
                or other_aspect < aspect or other_named < named or not (other_aspect or other_named):
            continue
        if _next(other[-1], prose) is run[0]:
            return other + run
        if _next(run[-1], prose) is other[0]:
            return run + other
    return run


def _run(chunk: Chunk, prose: list[Chunk]) -> list[Chunk]:
    """Consecutive passages of a document under the same heading as a chunk; when they only introduce
    subsections ("Trends and drivers" then "Offshoring …"), the subsections too."""
    index = next(i for i, c in enumerate(prose) if c.id == chunk.id)
    start = end = index
    while start > 0 and prose[start - 1].section == chunk.section and prose[start - 1].doc_id == chunk.doc_id:
        start -= 1
    while end + 1 < len(prose) and prose[end + 1].section == chunk.section and prose[end + 1].doc_id == chunk.doc_id:
        end += 1
    if end - start + 1 <= INTRO_PASSAGES:
        while end + 1 < len(prose) and prose[end + 1].doc_id == chunk.doc_id \
                and prose[end + 1].section.startswith(f"{chunk.section} > "):
            end += 1
    return prose[start:end + 1]


def _next(chunk: Chunk, prose: list[Chunk]) -> Chunk | None:
    index = next(i for i, c in enumerate(prose) if c.id == chunk.id)
    return prose[index + 1] if index + 1 < len(prose) and prose[index + 1].doc_id == chunk.doc_id else None


def _window(anchor: Chunk, run: list[Chunk], retrieved: set[str]) -> list[Chunk]:
    """A long run is cut, still in reading order: over subsections, to the section's own passages and the first
    of each subsection (an overview), then retrieved ones; in one unnamed stretch (a PDF without an outline),
    to the anchor's neighbours and the retrieved passages."""
    if len(run) <= MAX_PASSAGES:
        return run
    firsts = [c for i, c in enumerate(run) if i == 0 or c.section != run[i - 1].section]
    if len(firsts) > 1:
        first = [c for c in run if c.section == run[0].section] + firsts
    else:
        index = next(i for i, c in enumerate(run) if c.id == anchor.id)
        first = run[max(0, index - 1):index + 3]
    ranked = [anchor.id] + [c.id for c in first] + [c.id for c in run if c.id in retrieved]
    kept = set(list(dict.fromkeys(ranked))[:MAX_PASSAGES])  # the anchor first, then by priority, no repeats
    return [c for c in run if c.id in kept]


def _focus(query: Query, scope: list[Chunk], anchor: Chunk) -> list[Chunk]:
    """Only the anchor when it introduces a list with words of the question no other passage of the section
    uses ("… the programme's incubator", "what criteria …"): that list is the answer, the rest is context."""
    lead, items = parse_list(anchor.text)
    if len(scope) < 2 or not items:
        return scope
    others: set[str] = set()
    for chunk in scope:
        if chunk.id != anchor.id:
            others |= set(stems(context_text(chunk)))
    own = (query.stems - _CUES) & set(stems(lead))
    return [anchor] if any(not expand({t}) & others for t in own) else scope


def _lines(chunk: Chunk, cites: Citations) -> list[str]:
    """One bullet for a passage's key point; a list it introduces follows as nested bullets."""
    lead, items = parse_list(chunk.text)
    marker = cites.cite(chunk, "")
    out = []
    point = _lead_in(lead) if items else key_point(chunk)
    if point:
        out.append(f"- {point} {marker}")
    depth = "  " if point else ""
    for item in items[:MAX_ITEMS]:
        out.append(f"{depth}- {item_head(item.text)} {marker}")
        out += [f"{depth}  - {item_head(child.text)} {marker}" for child in item.children[:MAX_ITEMS]]
    if len(items) > MAX_ITEMS:  # say what was left out rather than cut a list silently
        out.append(f"{depth}- … {len(items) - MAX_ITEMS} more listed in {chunk.locator} {marker}")
    return out


def _sentence_lines(chunk: Chunk, cites: Citations) -> list[str]:
    """A section of one prose passage: its key point alone would be a one-line summary, so its first sentences."""
    marker = cites.cite(chunk, "")
    return [f"- {sentence} {marker}" for sentence in _sentences(chunk)[:LONE_SENTENCES]]


def _sentences(chunk: Chunk) -> list[str]:
    """A passage's sentences; a page passage split mid-sentence loses the words ending a sentence begun before."""
    sentences = split_sentences(chunk.text)
    return sentences[1:] if sentences and sentences[0][:1].islower() else sentences


def parse_list(text: str) -> tuple[str, list[Item]]:
    """The prose before a passage's list, and its items (a more indented item nests under the one above when
    that one introduces it with ':' or the indent is clear; an unmarked line continues the item above)."""
    lead: list[str] = []
    items: list[Item] = []
    base: int | None = None
    for line in text.splitlines():
        match = _ITEM.match(line)
        if match:
            indent = len(match.group(1).expandtabs(4))
            base = indent if base is None else base
            if items and (indent >= base + 2 or (indent > base and (items[-1].children or items[-1].text.endswith(":")))):
                items[-1].children.append(Item(match.group(2).strip()))
            else:
                items.append(Item(match.group(2).strip()))
        elif items and line.strip():
            target = items[-1].children[-1] if items[-1].children else items[-1]
            target.text = f"{target.text} {line.strip()}"
        elif line.strip():
            lead.append(line.strip())
    if len(items) < 2:  # one dash line is prose, not a list
        return text, []
    return " ".join(lead), items


def key_point(chunk: Chunk) -> str:
    """A passage's topic sentence, with the next one when the first only introduces it."""
    sentences = _sentences(chunk)
    if not sentences:
        return ""
    if len(sentences) > 1 and (len(sentences[0]) < SHORT_LEAD or sentences[0].endswith(":")):
        return f"{sentences[0]} {sentences[1]}"
    return sentences[0]


def _lead_in(lead: str) -> str:
    """The sentence introducing a list (ending in ':'), with the sentence it refers back to or opens with."""
    sentences = split_sentences(lead)
    if len(sentences) <= 2:
        return " ".join(sentences)
    last = sentences[-1]
    before = sentences[-2] if _REFERRING.match(last) else sentences[0]
    return f"{before} {last}"


def item_head(text: str) -> str:
    """A listed item's first sentence; a label ('Geography.') or a short opener keeps the sentence after it."""
    sentences = split_sentences(text) or [text]
    if len(sentences) > 1 and len(sentences[0]) < SHORT_ITEM:
        return f"{sentences[0]} {sentences[1]}"
    return sentences[0]
