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

_GROUPS: dict[str, list[str]] = {
    # output per person employed
    "labour productivity": ["value output", "per each every", "worker employee employed head person job staff"],
    # what is sold abroad less what is bought from abroad
    "trade balance": ["exports exported sales sell sold", "imports imported purchases buy bought", "minus less subtract net"],
    # the value a sector creates over its inputs
    "value added": ["value wealth", "created creates create generated generates generate extra"],
    # growth averaged over years, compounded
    "compound annual growth rate": ["average", "annual year yearly", "compound compounded"],
}
DESCRIPTIONS: dict[str, list[frozenset[str]]] = {
    term: [frozenset(stems(words, keep_stopwords=True)) for words in groups] for term, groups in _GROUPS.items()
}
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def name_measures(question: str, words: Counter) -> str:
    """The question with the documents' name of each measure it describes in everyday words, after the last
    word describing it: 'value per worker' -> 'value per worker (labour productivity)'."""
    tokens = [(m, set(expand({s})) | {s}) for m in _WORD.finditer(question) for s in stems(m.group(0), True)[:1]]
    asked = set().union(*(t for _, t in tokens)) if tokens else set()
    for term, groups in DESCRIPTIONS.items():
        named = set(stems(term, keep_stopwords=True))
        if not all(words.get(w) for w in term.split()) or named <= asked:
            continue  # the documents do not use the name, or the question already says it
        if not all(group & asked for group in groups):
            continue
        last = max(m.end() for m, forms in tokens if any(group & forms for group in groups))
        last += question[last:last + 1] == ")"  # after an aside the word closes, not inside it
        question = f"{question[:last]} ({term}){question[last:]}"
        tokens = [(m, f) for m, f in tokens if m.end() <= last]  # later terms go before this one
    return question
