"""Standard economic measures described in everyday words, named as the documents name them.

"How much value does each worker produce" asks for labour productivity; "exports minus imports" is the
trade balance. These are the textbook definitions of the measures (general economics, true of any report),
not one report's vocabulary: a measure is named only when the indexed documents use its name, so a report
without it is read as before. Each description is a list of word groups; a question describes the measure
when it has a word of every group (stems, with the general synonyms of assistant/text.py).
"""

from __future__ import annotations

import re
from collections import Counter

from assistant.text import expand, stems

_GROUPS: list[tuple[str, list[str]]] = [
    # output per person employed
    ("labour productivity", ["value output", "per each every", "worker employee employed head person job staff"]),
    # what is sold abroad less what is bought from abroad; a net exporter is a country whose balance is positive
    ("trade balance", ["exports exported sales sell sold", "imports imported purchases buy bought", "minus less subtract net"]),
    ("trade balance", ["net", "exporter exporters exporting exports"]),
    # the value a sector creates over its inputs
    ("value added", ["value wealth", "created creates create generated generates generate extra"]),
    # how concentrated an activity is in a place relative to the national average
    ("location quotient", ["concentrated concentration specialised specialized overrepresented", "average national relative"]),
    # growth averaged over years, compounded
    ("compound annual growth rate", ["average", "annual year yearly", "compound compounded"]),
]
DESCRIPTIONS: list[tuple[str, list[frozenset[str]]]] = [
    (term, [frozenset(stems(words, keep_stopwords=True)) for words in groups]) for term, groups in _GROUPS
]
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")  # hyphenated words are read word by word ('exports-minus-imports')
SHORT_PHRASE = 4  # a description spanning fewer words than this is replaced by the name


def name_measures(question: str, words: Counter) -> str:
    """The question with the documents' name of each measure it describes in everyday words: the description
    replaced by the name when it is a short phrase ('exports minus imports' -> 'trade balance'), else the name
    added after its last word ('value does each worker (labour productivity) produce')."""
    for term, groups in DESCRIPTIONS:
        tokens = [(m, set(expand({s})) | {s}) for m in _WORD.finditer(question) for s in stems(m.group(0), True)[:1]]
        asked = set().union(*(t for _, t in tokens)) if tokens else set()
        head = stems(term.split()[-1], keep_stopwords=True)[0]  # 'productivity' of 'labour productivity'
        if not all(words.get(w) for w in term.split()) or head in asked:
            continue  # the documents do not use the name, or the question already names the measure
        if not all(group & asked for group in groups):
            continue
        describing = [i for i, (_, forms) in enumerate(tokens) if any(group & forms for group in groups)]
        first, last = tokens[describing[0]][0], tokens[describing[-1]][0]
        if describing[-1] - describing[0] < SHORT_PHRASE and not re.search(r"[,;:?()]", question[first.start():last.end()]):
            question = f"{question[:first.start()]}{term}{question[last.end():]}"
        else:
            end = last.end() + (question[last.end():last.end() + 1] == ")")  # after an aside it closes, not inside
            question = f"{question[:end]} ({term}){question[end:]}"
    return question


# Business abbreviations everyone uses (general English): read as their words when the documents write the
# abbreviation without ever spelling it out ('60% of which are SMEs' answers 'small or medium-sized firms').
GENERAL_ABBREVIATIONS = {
    "sme": "small and medium-sized enterprise", "smes": "small and medium-sized enterprises",
    "r&d": "research and development", "gdp": "gross domestic product", "gva": "gross value added",
    "cagr": "compound annual growth rate", "fdi": "foreign direct investment", "ip": "intellectual property",
    "ai": "artificial intelligence", "hq": "headquarters", "ceo": "chief executive officer", "eu": "European Union",
    "roi": "return on investment", "kpi": "key performance indicator", "kpis": "key performance indicators",
    "b2b": "business to business", "stem": "science technology engineering and mathematics", "hr": "human resources",
}

