"""The source registry: the report's footnotes, readable titles for them, and which are present locally."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from pydantic import BaseModel, Field

from ingest.records import Footnote

_STOP = {"the", "of", "and", "a", "an", "in", "for", "to", "on", "with", "uk", "html", "pdf", "www", "https", "http"}


class Source(BaseModel):
    """One cited source: a footnote of the report, named readably."""

    number: int
    title: str = Field(description="Readable name: the footnote text, or for a bare URL the matching table source line or URL words.")
    url: str | None = None
    local_doc: str | None = Field(None, description="Title of a document in corpus/sources that matches it.")
    kind: str = Field("work", description="'work' for a cited publication, data set or web page; 'note' for an explanatory footnote.")

    def label(self) -> str:
        """'footnote 2: UK Innovation Report 2024 (…) <url>' for citations."""
        text = f"footnote {self.number}: {self.title}"
        text = f"{text} <{self.url}>" if self.url and self.url not in self.title else text
        return f"{text} [copy in corpus/sources: {self.local_doc}]" if self.local_doc else text


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP and len(w) > 1}


def _url_words(url: str) -> str:
    parsed = urlparse(url)
    slug = [p for p in parsed.path.split("/") if p][-1:] or [parsed.netloc]
    return re.sub(r"[-_]+", " ", slug[0]).strip()


def _is_bare_url(text: str) -> bool:
    return bool(re.fullmatch(r"\s*https?://\S+\s*", text))


def name_footnote(note: Footnote, source_lines: list[str]) -> str:
    """A readable title: bare-URL footnotes take the table source line that names the same work."""
    if not _is_bare_url(note.text):
        return note.text
    slug = _url_words(note.url or note.text)
    wanted = words(slug)
    for line in source_lines:
        if wanted and wanted <= words(line):
            return re.sub(r"^(adapted from|based on)\s+", "", line, flags=re.IGNORECASE).strip()
    return slug.title() or note.text


# An explanatory footnote comments rather than cites: it starts like a remark, or is a sentence (it has a verb)
# naming no year and no address, which every cited work here carries ('UKRI (2022) UKRI Strategy 2022-2027').
_REMARK = re.compile(r"^\s*(note|see|according|in contrast|for example|e\.g\.|i\.e\.|cf\.|this|these|however|whilst|while)\b", re.I)
_VERB = re.compile(r"\b(is|are|was|were|has|have|had|shows?|indicates?|includes?|excludes?|covers?|means?|refers?|"
                   r"did|does|do|can|could|would|will|may|might|should)\b", re.I)
_CITED_YEAR = re.compile(r"\b(1[89]|20)\d{2}\b|\bundated\b|\bn\.d\.", re.I)


def note_kind(text: str, url: str | None = None) -> str:
    """'note' for a footnote that explains or qualifies ('Consistent data is not available for Northern Ireland.'),
    'work' for one that names a cited publication, data set or web page."""
    if _REMARK.match(text):
        return "note"
    if url or _CITED_YEAR.search(text) or re.fullmatch(r"\s*ibid\.?\s*", text, re.I):
        return "work"
    return "note" if _VERB.search(text) else "work"


def build_registry(footnotes: list[Footnote], source_lines: list[str], local_titles: list[str]) -> list[Source]:
    """Sources for every footnote, matched to documents in corpus/sources by title words."""
    registry: list[Source] = []
    for note in footnotes:
        title, kind = name_footnote(note, source_lines), note_kind(note.text, note.url)
        if re.match(r"^\s*ibid\b", title, re.IGNORECASE) and registry:
            # "Ibid" cites the same work as the footnote before it: name that work.
            previous = registry[-1]
            title, note = f"{previous.title.removesuffix(' (ibid.)')} (ibid.)", note.model_copy(update={"url": note.url or previous.url})
            kind = previous.kind
        registry.append(Source(number=note.number, title=title, url=note.url, kind=kind))
    for local_title in local_titles:
        # Each local document matches the one footnote that names most of its title's words.
        have = words(local_title)
        scored = [(len(have & words(s.title)) / len(have), s) for s in registry if have]
        score, best = max(scored, key=lambda pair: pair[0], default=(0.0, None))
        if best is not None and score >= 0.75 and best.local_doc is None:
            best.local_doc = local_title
    return registry


def registry_from_manifest(manifest: dict) -> list[Source]:
    """The registry rebuilt from what an index records (report footnotes, table source lines, local sources).

    Rebuilt on read rather than stored, so improvements to naming apply without re-ingesting.
    """
    entries = manifest.get("documents", [])
    report = next((e for e in entries if e.get("role") == "report"), None)
    if report is None:
        return []
    notes = [Footnote.model_validate(n) for n in report.get("footnotes", [])]
    local = [e["title"] for e in entries if e.get("role") == "source"]
    return build_registry(notes, report.get("source_lines", []), local)
