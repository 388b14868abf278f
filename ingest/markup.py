"""Turn the report's converted-PDF Markdown markup into clean text people can read."""

from __future__ import annotations

import re

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_FROM_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
SUP_TAG = re.compile(r"<sup>\s*(\d+)\s*</sup>")
SUPERSCRIPT_RUN = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
_AUTOLINK = re.compile(r"<(https?://[^>]+)>")
_HTML_TAG = re.compile(r"</?(?:b|i|u|em|strong|br)\s*/?>", re.IGNORECASE)
_ESCAPE = re.compile(r"\\([\\$()\[\]*_#&.!-])")
URL = re.compile(r"https?://[^\s)>\]]+")


def footnote_refs(raw: str) -> list[int]:
    """Footnote numbers referenced by `<sup>N</sup>` markers, in order, without repeats."""
    seen: list[int] = []
    for match in SUP_TAG.finditer(raw):
        number = int(match.group(1))
        if number not in seen:
            seen.append(number)
    return seen


def superscript_refs(text: str) -> list[int]:
    """Footnote numbers printed as superscript digits in clean text."""
    return [int(run.translate(_FROM_SUPERSCRIPT)) for run in SUPERSCRIPT_RUN.findall(text)]


def strip_superscripts(text: str) -> str:
    """Text without footnote markers, for search."""
    return SUPERSCRIPT_RUN.sub("", text)


def first_url(raw: str) -> str | None:
    """The first URL in raw Markdown (autolinks and link targets included)."""
    for match in _AUTOLINK.finditer(raw):
        return match.group(1)
    for match in _LINK.finditer(raw):
        if match.group(2).startswith("http"):
            return match.group(2)
    match = URL.search(raw)
    return match.group(0) if match else None


def clean(raw: str) -> str:
    """Readable text: links to their words, markup and escapes removed, footnote refs as superscripts."""
    text = SUP_TAG.sub(lambda m: m.group(1).translate(_SUPERSCRIPT), raw)
    text = _AUTOLINK.sub(r"\1", text)
    text = _LINK.sub(lambda m: m.group(1) or m.group(2), text)
    text = _HTML_TAG.sub("", text)
    text = text.replace("**", "").replace("__", "")
    text = _ESCAPE.sub(r"\1", text)
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    return text.strip()


def clean_cell(raw: str) -> str:
    """A table cell without markup."""
    return clean(raw).strip()
