"""Everyday words read as the documents' own: a word the documents never use stands for their nearest term.

"How much money does the programme get" over documents that say "funding" and "grant": 'money' occurs
nowhere in them, so matching it finds nothing and the question looked off-topic. Its nearest term in
meaning among the documents' own words and word pairs (cosine of the embedding model's vectors) is taken
as its synonym when close enough. The vocabulary comes from the indexed documents, so another report
brings its own terms. Names are never bridged either way (a country the documents lack is not another
country they have), nor numbers ("twelve" is not "six").
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.text import STOPWORDS, stem, stems

log = logging.getLogger(__name__)

# Closer than this in meaning, an unknown word is read as the documents' term. Measured on the project's
# questions: 0.68 takes 'fixing'→'repair', 'staff'→'employees', 'biggest'→'largest', 'obstacles'→'barriers'
# and leaves 'joke', 'weather', 'recipe' unknown (off-topic questions stay off-topic).
MIN_SIMILARITY = 0.68
MIN_TERM_PASSAGES = 2  # a term the documents use once is too rare to stand for an everyday word
NUMBER_WORDS = frozenset("""zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million
billion trillion dozen half quarter first second third fourth fifth sixth seventh eighth ninth tenth""".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


@dataclass(frozen=True)
class Vocabulary:
    """The documents' terms (words and word pairs) with their stems and unit-length vectors."""

    terms: tuple[str, ...]
    stems: tuple[frozenset[str], ...]
    vectors: np.ndarray


def vocabulary_terms(texts: list[str], names: frozenset[str]) -> list[str]:
    """Words and word pairs the documents use in at least MIN_TERM_PASSAGES passages (names and numbers left out)."""
    passages: dict[str, int] = {}
    surface: dict[str, str] = {}
    for text in texts:
        tokens = [w.lower().strip("'’") for w in _WORD.findall(text)]
        seen = set()
        for size in (1, 2):
            for i in range(len(tokens) - size + 1):
                gram = tokens[i:i + size]
                if gram[0] in STOPWORDS or gram[-1] in STOPWORDS or len(gram[0]) < 3:
                    continue
                keys = [stem(w) for w in gram]
                if any(k in names or w in NUMBER_WORDS for k, w in zip(keys, gram, strict=True)):
                    continue
                key = " ".join(keys)
                seen.add(key)
                surface.setdefault(key, " ".join(gram))
        for key in seen:
            passages[key] = passages.get(key, 0) + 1
    return sorted(surface[k] for k, n in passages.items() if n >= MIN_TERM_PASSAGES)


def load_or_build(texts: list[str], names: frozenset[str], embed: Callable[[list[str]], np.ndarray],
                  folder: Path, model: str) -> Vocabulary:
    """The vocabulary with its vectors, kept in `folder` (embedding ~1,400 terms takes about a second)."""
    terms = vocabulary_terms(texts, names)
    key = hashlib.sha1(("\n".join(terms) + "\0" + model).encode()).hexdigest()
    path = folder / "bridge.npz"
    vectors = None
    try:
        with np.load(path) as saved:
            if str(saved["key"]) == key:
                vectors = saved["vectors"]
    except Exception:  # noqa: BLE001 - a damaged or foreign cache file is rebuilt, whatever is wrong with it
        pass
    if vectors is None:
        vectors = np.asarray(embed(terms), dtype=np.float32) if terms else np.zeros((0, 1), np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
        try:  # a cache only: an index folder that cannot be written still answers
            folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez(tmp, key=np.array(key), vectors=vectors)
            os.replace(tmp, path)
        except OSError as exc:
            log.debug("bridge vocabulary not saved in %s: %s", folder, exc)
    return Vocabulary(terms=tuple(terms), stems=tuple(frozenset(stems(t)) for t in terms), vectors=vectors)


def unknown_words(text: str, frequency: dict[str, int], domain) -> list[str]:
    """The question's words the documents never use (nor misspell), not yet bridged or found unbridgeable.

    Left out: stopwords, number words, places (a country the documents lack is no other country) and words
    capitalised in mid-question (a name the documents lack stays unknown, so the question is refused)."""
    from assistant.figures import ALIASES
    from assistant.query import AREA_ALIASES
    from assistant.summary import misspelt_known

    places = set(ALIASES) | {a for aliases in ALIASES.values() for a in aliases} | set(AREA_ALIASES)
    unknown: list[str] = []
    for found in re.finditer(r"[A-Za-z][A-Za-z-]+", text):
        word = found.group(0)
        low, key = word.lower(), stem(word.lower())
        if (low in STOPWORDS or low in NUMBER_WORDS or low in places or key in frequency or key in domain.bridges
                or key in domain.unbridged or (word[0].isupper() and found.start() > 0)
                or misspelt_known(key, frequency) or low in unknown):
            continue
        unknown.append(low)
    return unknown


def nearest(words: list[str], vocabulary: Vocabulary, embed: Callable[[list[str]], np.ndarray]) -> dict[str, frozenset[str]]:
    """Each word's stem with the stems of the documents' closest term, for the words close enough to one."""
    if not words or not vocabulary.terms:
        return {}
    vectors = np.asarray(embed(words), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
    similarity = vectors @ vocabulary.vectors.T
    out: dict[str, frozenset[str]] = {}
    for word, row in zip(words, similarity, strict=True):
        best = int(np.argmax(row))
        if row[best] >= MIN_SIMILARITY:
            out[stem(word.lower())] = vocabulary.stems[best]
    return out
