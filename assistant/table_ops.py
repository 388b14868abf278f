"""Operations over a table's typed rows, chosen from the question's own operation words.

Lookups and two-row comparisons are `table_answers`; this answers what needs the whole column: the
largest or smallest (sign-aware: the biggest deficit is the most negative balance), the top or bottom n,
the rows above or below a number or another row, how many rows do, the sum of some rows, the ratio or
percentage change of two values, and what changed between two panels of one figure (a row's rank, who
entered or left the top n). "Why is X the largest?" of a row that is not gets 'No: ' and the figures.
Every value is cited and the arithmetic is shown. The words read here are ordinary English for these
operations, true of any report; which table and column is meant comes from the documents' own headers.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from assistant.arithmetic import RATIO
from assistant.figures import (
    MAX_WORDS,
    MIN_WORDS,
    NEGATIVE_NOUNS,
    PER_YEAR,
    british_is_uk,
    format_value,
    generic,
    holds_measure,
    mentioned,
    moved,
    ordinal,
    place_of,
    plain_number,
    premise,
)
from assistant.query import CLAUSE_OPENS, Query
from assistant.text import LOCATOR_REFERENCE, YEAR, expand, stems
from ingest.records import Cell, Chunk, FigureRow, TableRow

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10, "twenty": 20}
_TOP_N = re.compile(r"\b(top|bottom|first|last|largest|biggest|highest|smallest|lowest|leading)[\s-]+(\d{1,2}|" +
                    "|".join(NUMBER_WORDS) + r")\b", re.I)
_N_TOP = re.compile(r"\b(the)\s+(\d{1,2}|" + "|".join(NUMBER_WORDS) + r")\s+(?:largest|biggest|highest|smallest|lowest|"
                    r"leading|top|bottom)\b", re.I)  # "the three biggest"
_SCALE = r"(?:\s?(?:%|per ?cent|billion|million|thousand|bn\b|m\b|k\b))?"  # kept for the answer's wording
_ABOVE = re.compile(r"\b(above|over|more than|greater than|higher than|bigger than|larger than|exceed(?:s|ed|ing)?|"
                    r"at least)\s+(?:the\s+)?(?:[$£€]|us\$|usd\s*)?(-?\d[\d,]*(?:\.\d+)?)" + _SCALE, re.I)
_BELOW = re.compile(r"\b(below|under|less than|fewer than|lower than|smaller than|at most)\s+(?:the\s+)?"
                    r"(?:[$£€]|us\$|usd\s*)?(-?\d[\d,]*(?:\.\d+)?)" + _SCALE, re.I)
# "higher X than Elbonia", or "beat/outperform Elbonia (on X)": the rows past another row's value.
_THAN_ROW = re.compile(r"\b(?:(?P<more>bigger|larger|greater|higher|more|smaller|lower|less|worse|better|deeper|wider)\s+"
                       r"(?:[\w&'’-]+\s+){0,4}?than\s+(?:that of\s+)?(?:the\s+)?(?P<row>[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*)*)|"
                       r"(?P<beat>beat|beats|beaten|outperform(?:s|ed)?|outstrip(?:s|ped)?|outdid|outdo|outdoes)\s+"
                       r"(?:the\s+)?(?P<beaten>[A-Za-z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*)*))")
_SUM = re.compile(r"\b(combined|in total|sum|altogether|together|add(?:ed)? up|total (?:of|for))\b", re.I)
_ASKS_ENTITY = re.compile(r"^\W*(?:which|what|who)\b", re.I)  # asks for a row, not about the one it names
_COUNT = re.compile(r"\bhow many\b|\bnumber of\b", re.I)
_PERCENT_CHANGE = re.compile(r"\b(by what (?:percentage|per ?cent|%)|what percentage (?:change|increase|decrease|rise|fall)|"
                             r"percentage (?:change|increase|decrease|rise|fall|terms)|per ?cent(?:age)? (?:change|terms)|"
                             r"in (?:% |percent(?:age)? )terms|% change|in \$ and %|and %|growth rate)(?!\w)", re.I)
_LEFT = re.compile(r"\b(dropp\w* out|fell out|left|leave|exit\w*|no longer|lost (?:its|their) place)\b", re.I)
# "in the top five in 2011 but not in 2022": who left (or, with the later year first, who entered).
_BUT_NOT = re.compile(r"\b((?:19|20)\d{2})\b.{0,20}?\bbut not\b(?:\s+in)?\s+((?:19|20)\d{2})\b", re.I)
_ENTERED = re.compile(r"\b(enter\w*|join\w*|new (?:to|in|entr\w*)|came in|broke into|newcomers?)\b", re.I)
_STATED = re.compile(r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)(?![\d,]*(?:st|nd|rd|th)\b)(?!\d)")  # a number the question gives
_BOTH = re.compile(r"\b(both|each of|every one of|in all)\b", re.I)
_RANK = re.compile(r"\b(rank\w*|position\w*|place[ds]?|standing)\b", re.I)


@dataclass
class Column:
    """One numeric column of one table panel, with the rows that have a value in it."""

    chunk: Chunk
    index: int
    rows: list[TableRow]

    @property
    def where(self) -> str:
        return place_of(self.chunk.table)

    @property
    def year(self) -> int | None:
        return self.chunk.table.year

    @property
    def header(self) -> str:
        """The column's header as printed ('Value added (2021)'): it says what the numbers are, and when."""
        header = self.rows[0].cells[self.index].header if self.rows else ""
        return f"{header} in {self.year}" if self.year and str(self.year) not in header else header

    @property
    def rows_are(self) -> str:
        """What the rows are, from the header over their labels ('Member Country' -> 'countries', its last word
        being its noun); 'rows' when the labels have no header."""
        row = self.rows[0] if self.rows else None
        label = next((c.header for c in row.cells if c.text == row.entity and c.header.strip()), "") if row else ""
        noun = label.split()[-1].lower() if label.split() else ""
        return plural(noun) if noun.isalpha() else "rows"

    def value(self, row: TableRow) -> float:
        return float(row.cells[self.index].value)

    def cell(self, row: TableRow) -> Cell:
        return row.cells[self.index]

    def rank(self, row: TableRow) -> int | None:
        index = rank_index(self.chunk)
        return int(row.cells[index].value) if index is not None and row.cells[index].value is not None else None


def plural(noun: str) -> str:
    """English plural of a one-word noun ('country' -> 'countries', 'region' -> 'regions')."""
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")


def rank_index(chunk: Chunk) -> int | None:
    return next((i for i, h in enumerate(chunk.table.headers) if h.strip().lower() == "rank"), None)


def asks_filter(text: str) -> bool:
    """Whether the question asks for the rows above or below a number or another row ('less than $20 billion')."""
    return bool(_ABOVE.search(text) or _BELOW.search(text) or _THAN_ROW.search(text))


def asks_rows(text: str) -> bool:
    """Whether the question asks which rows, or how many, meet a condition ('how many have higher X than the UK',
    'which has the same X as the UK'): the named row's own values are then no answer."""
    threshold = _ABOVE.search(text) or _BELOW.search(text)
    if threshold and YEAR.fullmatch(threshold.group(2)) and not _THAN_ROW.search(text):
        return False  # "over 2011-2022" is a period, not a value to be above
    return asks_membership(text) or (asks_filter(text) or bool(_SAME.search(text))) and bool(
        _ASKS_ENTITY_IN.search(text) or (_COUNT.search(text) and not RATIO.search(text)))


def asks_membership(text: str) -> bool:
    """Whether the question asks which rows left, entered or stayed in a top n between two years."""
    moved = _LEFT.search(text) or _ENTERED.search(text) or _BUT_NOT.search(text) or _BOTH.search(text)
    return bool(moved and top_n(text) and len(set(YEAR.findall(text))) >= 2)


_ASKS_ENTITY_IN = re.compile(CLAUSE_OPENS + r"(?:which|what|who)\b", re.I)  # also after a lead-in


def asks_position(text: str) -> bool:
    """Whether the question asks where a row stands ('what rank is X', 'where does X come in the table')."""
    return bool(_ASKS_POSITION.search(text))


_ASKS_POSITION = re.compile(r"\bwhat (?:rank|position|place)\b|\b(?:ranks?|ranked|placed)\b|\bwhere (?:does|did|do|is|was) .{0,60}?"
                            r"\b(?:come|came|stand|stood|sit|sat|place|finish|fall|feature)\b", re.I)
_SAME = re.compile(r"\b(?:same|equal(?:s|led)?|identical|match(?:es|ed|ing)?|tied|level with|as much as)\b", re.I)


def asks_total(text: str) -> bool:
    """Whether the question asks for rows' values added together ('the combined value of the top three')."""
    return bool(_SUM.search(text))


def _top_words(text: str) -> re.Match | None:
    """Where the question asks for a top n ('top ten', 'top-ten', 'the three biggest')."""
    return _TOP_N.search(text) or _N_TOP.search(text)


def found_top(text: str) -> str:
    """The words that ask for a top n, or ''."""
    found = _top_words(text)
    return found.group(0) if found else ""


def top_n(text: str) -> int | None:
    found = _top_words(text)
    if not found:
        return None
    word = found.group(2).lower()
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def columns(query: Query, chunks: list[Chunk]) -> list[Column]:
    """The numeric columns whose table holds the measure asked for, best fitting first (one per panel)."""
    measure = expand({s for s in query.stems if s not in generic() and not s.isdigit()})
    found: list[tuple[float, Column]] = []
    for chunk in chunks:
        table = chunk.table
        if table is None or len(table.rows) < 3 or not holds_measure(query, table, set()):
            continue
        ranks = rank_index(chunk)
        best: tuple[float, int] | None = None
        for i, header in enumerate(table.headers):
            if i == ranks or not any(r.cells[i].value is not None for r in table.rows if i < len(r.cells)):
                continue
            fit = 2 * len(measure & expand(set(stems(header)))) + len(measure & expand(set(stems(f"{table.title} {table.panel}"))))
            if best is None or fit > best[0]:
                best = (fit, i)
        if best is not None:
            rows = [r for r in table.rows if best[1] < len(r.cells) and r.cells[best[1]].value is not None]
            year_fit = 1.0 if query.years and table.year in query.years else 0.0
            found.append((best[0] + year_fit, Column(chunk, best[1], rows)))
    found.sort(key=lambda pair: -pair[0])
    return [column for _, column in found]


def _tied_on(value: float, chunks: list[Chunk]) -> list[Column]:
    """The numeric columns in which two rows or more have `value`, when the question names no measure but the
    value the rows share: only one such column may answer, or the question is ambiguous and none does."""
    found = []
    for chunk in chunks:
        table = chunk.table
        if table is None or len(table.rows) < 3:
            continue
        for i in range(len(table.headers)):
            if i == rank_index(chunk):
                continue
            rows = [r for r in table.rows if i < len(r.cells) and r.cells[i].value is not None]
            if sum(1 for r in rows if r.cells[i].value == value) >= 2:
                found.append(Column(chunk, i, rows))
    return found if len(found) == 1 else []


def panels(query: Query, found: list[Column]) -> list[Column]:
    """Columns of the best table's panels for the years asked (all its year panels when none are asked)."""
    if not found:
        return []
    first = found[0]
    same = [c for c in found if c.chunk.table.locator == first.chunk.table.locator
            and c.chunk.table.headers == first.chunk.table.headers and c.year is not None]
    if query.years:
        same = [c for c in same if c.year in query.years] or same
    return sorted({c.year: c for c in same}.values(), key=lambda c: c.year)


def largest_first(query: Query, column: Column) -> bool:
    """Whether the question wants the largest values ('biggest deficit' wants the most negative)."""
    want_min = bool(MIN_WORDS.search(query.text)) and not MAX_WORDS.search(query.text)
    negative = bool(NEGATIVE_NOUNS.search(query.text)) and any(column.value(r) < 0 for r in column.rows)
    return want_min == negative


def describe(column: Column, row: TableRow) -> str:
    rank = column.rank(row)
    return f"{row.entity}: {format_value(column.cell(row))}" + (f" (ranked {ordinal(rank)})" if rank else "")


def operate(query: Query, chunks: list[Chunk], cite) -> tuple[str, list[FigureRow]] | None:
    """The answer of the operation the question asks for, or None when it asks for none of these."""
    text = query.text
    found = columns(query, chunks)
    by_year = panels(query, found)
    if _PERCENT_CHANGE.search(text) and len(query.years) >= 2 and not PER_YEAR.search(text):  # (a yearly rate is a column)
        ends = _two_years(query, chunks, by_year, text)
        if ends:
            return _percent_change(query, *ends, cite)
    stated = [float(x.replace(",", "")) for x in _STATED.findall(LOCATOR_REFERENCE.sub(" ", text)) if not YEAR.fullmatch(x)]
    if not found and _SAME.search(text) and len(stated) == 1:
        found = _tied_on(stated[0], chunks)  # "which two are tied on $5 billion": the value says which column
    if not found:
        return None
    named = lambda column: [r for r in column.rows if mentioned(r.entity, text)]  # noqa: E731
    column = next((c for c in by_year if not query.years or c.year in query.years), found[0])
    figures = lambda column, rows: [FigureRow(label=r.entity, value=column.value(r), unit=column.cell(r).unit or "",  # noqa: E731
                                              citation=column.where) for r in rows]

    but_not = _BUT_NOT.search(text)
    if len(by_year) >= 2 and (_LEFT.search(text) or _ENTERED.search(text) or but_not or (_BOTH.search(text) and top_n(text))):
        n = top_n(text) or 5
        first, last = by_year[0], by_year[-1]
        tops = [[r.entity for r in sorted(c.rows, key=c.value, reverse=largest_first(query, c))[:n]] for c in (first, last)]
        left = [e for e in tops[0] if e not in tops[1]]
        entered = [e for e in tops[1] if e not in tops[0]]
        both = [e for e in tops[0] if e in tops[1]]
        marks = cite(first.chunk) + cite(last.chunk)
        lines = [f"Top {n} in {first.year}: {', '.join(tops[0])}.", f"Top {n} in {last.year}: {', '.join(tops[1])}."]
        if but_not:
            gone = left if int(but_not.group(1)) < int(but_not.group(2)) else entered
            lead = (f"In the top {n} in {but_not.group(1)} but not in {but_not.group(2)}: {', '.join(gone) or 'none'}.")
        elif _BOTH.search(text):
            lead = f"{len(both)} are in the top {n} in both years: {', '.join(both)}."
        else:
            lead = (f"Left the top {n} between {first.year} and {last.year}: {', '.join(left) or 'none'}; "
                    f"entered: {', '.join(entered) or 'none'}.")
        return f"{lead} {marks}\n" + "\n".join(f"- {line}" for line in lines), []

    if len(by_year) >= 2 and _RANK.search(text) and rank_index(by_year[0].chunk) is not None:
        rows = [(c, r) for c in by_year for r in named(c)]
        entities = list(dict.fromkeys(r.entity for _, r in rows))
        if len(entities) == 1:
            (a, ra), (b, rb) = rows[0], rows[-1]
            if a is not b and a.rank(ra) and b.rank(rb):
                moved = b.rank(rb) - a.rank(ra)
                how = (f"fell {moved} place{'s' if moved != 1 else ''}" if moved > 0 else
                       f"rose {-moved} place{'s' if moved != -1 else ''}" if moved < 0 else "kept its place")
                return (f"{entities[0]} {how}: ranked {ordinal(a.rank(ra))} in {a.year} ({format_value(a.cell(ra))}) and "
                        f"{ordinal(b.rank(rb))} in {b.year} ({format_value(b.cell(rb))}). {cite(a.chunk)}{cite(b.chunk)}",
                        figures(a, [ra]) + figures(b, [rb]))

    pair = named(column)
    if RATIO.search(text) and len(pair) >= 2:
        high, low = sorted(pair[:2], key=lambda r: -abs(column.value(r)))
        if column.value(low):
            ratio = abs(column.value(high)) / abs(column.value(low))
            return (f"About {ratio:.1f} times: {describe(column, high)} against {describe(column, low)} "
                    f"({plain_number(abs(column.value(high)))} / {plain_number(abs(column.value(low)))} = {ratio:.2f}). "
                    f"{cite(column.chunk)}", figures(column, [high, low]))

    n = top_n(text)
    rest = text.replace(found_top(text), " ")
    if n and n >= len(column.rows) and (MAX_WORDS.search(rest) or MIN_WORDS.search(rest)):
        # "which one in the top-ten list is the smallest": the top ten is the whole table, not the answer
        n, query = None, dataclasses.replace(query, text=rest)
    if asks_total(text) and (n and n > 1 or len(pair) >= 2):
        rows = sorted(column.rows, key=column.value, reverse=largest_first(query, column))[:n] if n and n > 1 else pair
        total = sum(column.value(r) for r in rows)
        shown = format_value(column.cell(rows[0]).model_copy(update={"value": total, "text": plain_number(total)}))
        return (f"{shown} together ({column.header}, {column.where}): "
                f"{' + '.join(format_value(column.cell(r)) for r in rows)} ({', '.join(r.entity for r in rows)}). "
                f"{cite(column.chunk)}", figures(column, rows))

    if _SAME.search(text) and len(pair) == 1:  # "which country has the same value added as the UK?"
        reference = pair[0]
        same = [r for r in column.rows if r is not reference and column.value(r) == column.value(reference)]
        listed = "; ".join(describe(column, r) for r in [reference, *same])
        lead = (f"{', '.join(r.entity for r in same)} {'has' if len(same) == 1 else 'have'} the same {column.header} as "
                f"{reference.entity}" if same else f"None of the other {column.rows_are} listed has the same "
                f"{column.header} as {reference.entity}")
        return f"{lead} in {column.where}: {listed}. {cite(column.chunk)}", figures(column, [reference, *same])

    if _SAME.search(text) and not pair and len(stated) == 1:  # "which two are tied on $13 billion?"
        equal = [r for r in column.rows if column.value(r) == stated[0]]
        if equal:
            listed = "; ".join(describe(column, r) for r in equal)
            return (f"{len(equal)} of the {len(column.rows)} {column.rows_are} listed in {column.where} "
                    f"{'has' if len(equal) == 1 else 'have'} {column.header} of {format_value(column.cell(equal[0]))}: "
                    f"{listed}. {cite(column.chunk)}", figures(column, equal))

    threshold = _ABOVE.search(text) or _BELOW.search(text)
    than = _THAN_ROW.search(text)
    reference = next((r for r in column.rows if than and mentioned(r.entity, than["row"] or than["beaten"])), None)
    if threshold or reference is not None:
        above = bool(_ABOVE.search(text)) if threshold else bool(than["beat"]) or than["more"].lower() in {
            "bigger", "larger", "greater", "higher", "more", "deeper", "wider", "worse"}
        if reference is not None:
            limit, label = column.value(reference), f"{reference.entity} ({format_value(column.cell(reference))})"
            if NEGATIVE_NOUNS.search(text) and limit < 0:
                above = not above  # a bigger deficit is a lower balance
        else:
            limit = float(threshold.group(2).replace(",", ""))
            label = threshold.group(0)[len(threshold.group(1)):].strip()  # "$20 billion", as the question put it
        rows = [r for r in column.rows if r is not reference and (column.value(r) > limit if above else column.value(r) < limit)]
        rows.sort(key=column.value, reverse=above)
        side = "above" if above else "below"
        if reference is not None and NEGATIVE_NOUNS.search(text) and limit < 0:
            side = f"a {'bigger' if not above else 'smaller'} {NEGATIVE_NOUNS.search(text).group(1).lower()} than"
        listed = "; ".join(describe(column, r) for r in rows) or f"none of the {column.rows_are} listed"
        head = (f"{len(rows)} of the {len(column.rows)} {column.rows_are} listed in {column.where} have {column.header} "
                f"{side} {label}")
        return f"{head}: {listed}. {cite(column.chunk)}", figures(column, rows)

    if len(pair) == 1 and _ASKS_POSITION.search(text) and rank_index(column.chunk) is None and (
            not n or n >= len(column.rows)):  # ("in the top-10 table": the whole table)
        # "Where does X come in the table?" of a table with no rank column: its place by the measure asked.
        ordered = sorted(column.rows, key=column.value, reverse=largest_first(query, column))
        place = ordered.index(pair[0]) + 1
        return (f"{pair[0].entity} is {ordinal(place)} of the {len(ordered)} {column.rows_are} listed in {column.where} "
                f"by {column.header}: {describe(column, pair[0])}; first is {describe(column, ordered[0])}. "
                f"{cite(column.chunk)}", figures(column, [pair[0], ordered[0]] if place > 1 else [pair[0]]))

    if n or MAX_WORDS.search(text) or MIN_WORDS.search(text) or re.search(r"\blast\b", text, re.I):
        largest = largest_first(query, column) and not re.search(r"\blast\b", text, re.I)
        if len(pair) == 1 and not _ASKS_ENTITY.match(text):
            # "Why is X the largest?" / "Is X in the top three?" of a row that is not: the premise is false.
            ordered = sorted(column.rows, key=column.value, reverse=largest)
            place = ordered.index(pair[0]) + 1
            if place > (n or 1):
                which = "largest" if largest else "smallest"
                return (f"No: {pair[0].entity} is {ordinal(place)} in {column.where} ({column.header}), not "
                        f"{f'in the top {n}' if n and n > 1 else f'the {which}'}: {describe(column, pair[0])}; the "
                        f"{which} is {describe(column, ordered[0])}. {cite(column.chunk)}", figures(column, [pair[0], ordered[0]]))
        if len(query.years) >= 2 and len(by_year) >= 2 and not (n and n > 1):  # the same question for each year
            picks = [(c, sorted(c.rows, key=c.value, reverse=largest)[0]) for c in by_year]
            return ("; ".join(f"{c.year}: {describe(c, r)}" for c, r in picks) + f" ({by_year[0].chunk.table.locator}). "
                    + "".join(cite(c.chunk) for c, _ in picks), [f for c, r in picks for f in figures(c, [r])])
        ordered = sorted(column.rows, key=column.value, reverse=largest)[: n or 1]
        which = ("largest" if largest else "smallest") if not NEGATIVE_NOUNS.search(text) else (
            "biggest " + NEGATIVE_NOUNS.search(text).group(1).lower() if not largest else "largest")
        if n and n > 1:
            lines = "\n".join(f"{i}. {describe(column, r)}" for i, r in enumerate(ordered, 1))
            return f"{column.where} — the {n} {which}: {cite(column.chunk)}\n{lines}", figures(column, ordered)
        return (f"{ordered[0].entity} — {which} in {column.where} ({column.header}): {describe(column, ordered[0])}. "
                f"{cite(column.chunk)}"), \
            figures(column, ordered)

    if _COUNT.search(text) and not named(column):
        return (f"{len(column.rows)} rows are listed in {column.where}: {', '.join(r.entity for r in column.rows)}. "
                f"{cite(column.chunk)}", [])
    return None


def _percent_change(query: Query, first: tuple[Column, TableRow], last: tuple[Column, TableRow], cite):
    """'From -2.0 in 2011 to -7.2 in 2022: the deficit widened by 5.2 (260%)', with the sum written out."""
    (a, ra), (b, rb) = first, last
    start, end = a.value(ra), b.value(rb)
    if not start:
        return None
    if start < 0 and end < 0 and NEGATIVE_NOUNS.search(query.text):
        noun = NEGATIVE_NOUNS.search(query.text).group(1).lower().rstrip("s")
        change = (abs(end) - abs(start)) / abs(start) * 100
        how = f"the {noun} {'grew' if change > 0 else 'shrank'} by {plain_number(abs(abs(end) - abs(start)))} ({abs(change):.0f}%: " \
              f"({plain_number(abs(end))} − {plain_number(abs(start))}) / {plain_number(abs(start))})"
    else:
        change = (end - start) / abs(start) * 100
        how = f"{moved(end - start)} {plain_number(abs(end - start))} ({abs(change):.1f}%: " \
              f"({plain_number(end)} − {plain_number(start)}) / {plain_number(abs(start))})"
    years = (a.cell(ra).year or a.year or query.years[0], b.cell(rb).year or b.year or query.years[-1])
    marks = cite(a.chunk) + (cite(b.chunk) if b.chunk is not a.chunk else "")
    meant = abs(end) - abs(start) if start < 0 and end < 0 and NEGATIVE_NOUNS.search(query.text) else end - start
    return (f"{premise(query.text, meant)}{ra.entity}: {format_value(a.cell(ra))} in {years[0]} and "
            f"{format_value(b.cell(rb))} in {years[1]} — "
            f"{how}. {marks}", [])


def _asked_rows(query: Query, chunks: list[Chunk]) -> set[str]:
    """The question's stems a row label is matched against ('Britain's' stands for the UK row when no table has GB)."""
    uk = british_is_uk(query.text, [c.table for c in chunks if c.table is not None])
    return expand(query.stems) | ({"uk"} if uk else set())


def _row_asked(row: TableRow, text: str, asked: set[str], measured: bool) -> bool:
    """Whether the question asks about this row. A row labelled with the measure itself ('Total exports')
    is named by its words; a country row needs the table to hold the measure asked about too."""
    label = set(stems(row.entity))
    return (measured and mentioned(row.entity, text)) or (len(label) >= 2 and label <= asked)


def _two_years(query: Query, chunks: list[Chunk], by_year: list[Column], text: str):
    """The (column, row) of the two years asked, from two year panels or two year columns of one row."""
    if len(by_year) >= 2:
        ends = [(c, r) for c in (by_year[0], by_year[-1]) for r in c.rows if mentioned(r.entity, text)]
        if len(ends) == 2:
            return ends
    asked = _asked_rows(query, chunks)
    for chunk in chunks:
        table = chunk.table
        if table is None:
            continue
        measured = holds_measure(query, table, set())
        for row in table.rows:
            if not _row_asked(row, text, asked, measured):
                continue
            cells = {c.year: i for i, c in enumerate(row.cells) if c.year in query.years and c.value is not None
                     and "%" not in (c.unit or "")}
            if len(cells) >= 2:
                first, last = min(cells), max(cells)
                return (Column(chunk, cells[first], [row]), row), (Column(chunk, cells[last], [row]), row)
    return None


def years_given(query: Query, chunks: list[Chunk], cite) -> str | None:
    """For a figure asked for a year the tables do not give: which years they give it for, with the values
    ('Total exports: USD 10.5 billion in 2015 and USD 9.1 billion in 2020'); None when they give that year."""
    if not query.years:
        return None
    asked = _asked_rows(query, chunks)
    found: dict[str, list[tuple[int, Cell, Chunk]]] = {}
    for chunk in chunks:
        table = chunk.table
        if table is None or not holds_measure(query, table, set()):
            continue
        for row in table.rows:
            if not _row_asked(row, query.text, asked, measured=True):  # the table holds the measure (checked above)
                continue
            cells = [c for c in row.cells if c.value is not None and (c.year or table.year)
                     and "%" not in (c.unit or "") and c.header.strip().lower() != "rank"]
            named = [c for c in cells if expand(set(stems(c.header))) & asked - generic()]
            for cell in named or cells:  # the column the question names, when it names one
                found.setdefault(row.entity, []).append((cell.year or table.year, cell, chunk))
    given = {y for cells in found.values() for y, _, _ in cells}
    # One year given answers a figure asked for either; a change over a period needs both ends.
    if not found or (all(y in given for y in query.years) if len(query.years) >= 2 else given & set(query.years)):
        return None
    entity, cells = next(iter(found.items()))
    cells = sorted({y: (y, c, ch) for y, c, ch in cells}.values(), key=lambda x: x[0])
    stated = " and ".join(f"{format_value(c)} in {y}" for y, c, _ in cells)
    marks = "".join(dict.fromkeys(cite(ch) for _, _, ch in cells))
    years = " or ".join(str(y) for y in query.years if y not in given)
    listed = " and ".join(str(y) for y, _, _ in cells)
    return (f"they give {entity} for {listed}, not {years}: "
            f"{entity}: {stated}. {marks}")
