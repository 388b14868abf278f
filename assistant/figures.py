"""Exact figures from the structured table records: lookup by entity, measure and year; rankings."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.domain import UNIT_STEMS, active
from assistant.glosses import GENERAL_ABBREVIATIONS
from assistant.query import ORDINALS, Query, names_the_us
from assistant.text import STOPWORDS, expand, stem, stems
from ingest.records import Cell, Chunk, Table, TableRow

# Words that compare or rank rather than name a measure.
COMPARING = {"larger", "smaller", "bigger", "higher", "lower", "compar", "differ", "more", "less", "faster",
             "slower", "versus", "vs", "chang", "fall", "fell", "drop", "rise", "rose", "increas", "decreas", "much",
             "ahead", "behind", "gap", "exceed", "trail", "up", "down"}
# Words that ask for a table's value without naming its measure (the documents' own subject words, which
# no measure is told apart by, come from assistant/domain.py).
ASKING = {"tabl", "figur", "countri", "global", "sector", "uk", "gb", "us", "top", "valu", "give", "exact", "decim",
          "place", "usd", "billion", "million", "thousand", "us$", "worth", "much", "large", "big"}
ASKING |= {"list", "out"}  # "the value out of each worker in that list": a document's list, a particle


def generic() -> set[str]:
    """Stems that name no measure: the asking words and the documents' subject words."""
    return ASKING | active().generic


# Countries are general knowledge, the same for any report (plus names they often go by).
COUNTRY_SET = {name.strip() for name in """
afghanistan, albania, algeria, andorra, angola, argentina, armenia, australia, austria, azerbaijan, bahamas,
bahrain, bangladesh, barbados, belarus, belgium, belize, benin, bhutan, bolivia, bosnia, botswana, brazil,
brunei, bulgaria, burkina faso, burundi, cambodia, cameroon, canada, chad, chile, china, colombia, congo,
costa rica, croatia, cuba, cyprus, czechia, czech republic, denmark, djibouti, dominica, ecuador, egypt,
el salvador, eritrea, estonia, eswatini, ethiopia, fiji, finland, france, gabon, gambia, georgia, germany,
ghana, greece, grenada, guatemala, guinea, guyana, haiti, honduras, hong kong, hungary, iceland, india,
indonesia, iran, iraq, ireland, israel, italy, jamaica, japan, jordan, kazakhstan, kenya, kiribati, korea,
south korea, north korea, kosovo, kuwait, kyrgyzstan, laos, latvia, lebanon, lesotho, liberia, libya,
liechtenstein, lithuania, luxembourg, madagascar, malawi, malaysia, maldives, mali, malta, mauritania,
mauritius, mexico, moldova, monaco, mongolia, montenegro, morocco, mozambique, myanmar, namibia, nepal,
netherlands, holland, new zealand, nicaragua, niger, nigeria, north macedonia, norway, oman, pakistan, panama,
paraguay, peru, philippines, poland, portugal, qatar, romania, russia, russian federation, rwanda, samoa,
san marino, saudi arabia, senegal, serbia, seychelles, sierra leone, singapore, slovakia, slovenia, somalia,
south africa, spain, sri lanka, sudan, suriname, sweden, switzerland, syria, taiwan, tajikistan, tanzania,
thailand, togo, tonga, trinidad, tunisia, turkey, türkiye, turkmenistan, tuvalu, uganda, ukraine,
united arab emirates, uae, united kingdom, united states, uruguay, uzbekistan, vanuatu, venezuela, vietnam, viet nam, yemen, zambia, zimbabwe
""".split(",")}

# Other names and adjectives people use for a table's row labels ("French value added" is France's).
# "British" is left out on purpose: it can mean the UK or GB, which the report keeps apart.
ALIASES = {"uk": ["united kingdom", "britain's"], "us": ["united states", "usa", "america", "american"],
           "russian federation": ["russia", "russian"], "france": ["french"], "netherlands": ["dutch", "holland"],
           "germany": ["german"], "italy": ["italian"], "japan": ["japanese"], "china": ["chinese"],
           "switzerland": ["swiss"], "canada": ["canadian"], "mexico": ["mexican"], "spain": ["spanish"],
           "korea": ["korean", "south korea"], "austria": ["austrian"], "sweden": ["swedish"], "india": ["indian"],
           "denmark": ["danish"], "belgium": ["belgian"], "poland": ["polish"], "ireland": ["irish"],
           "czechia": ["czech", "czech republic"], "turkey": ["turkish", "türkiye"], "brazil": ["brazilian"]}
RANK_WORDS = re.compile(r"\b(rank|ranked|ranking|position|placed)\b", re.I)
# A percentage per year (compounded) is a growth rate: a table's rate column, not a share or a whole-period change.
# (with the general abbreviations for a yearly rate, from assistant/glosses.py)
_YEARLY_ABBREVIATIONS = [re.escape(a) for a, words in GENERAL_ABBREVIATIONS.items() if "annual" in words.split()]
PER_YEAR = re.compile(r"\b(?:per year|a year|each year|every year|annual(?:ly)?|yearly|compound(?:ed)?"
                      + "".join(f"|{a}" for a in _YEARLY_ABBREVIATIONS) + r")\b", re.I)
SHARE_WORDS = re.compile(r"\b(share|proportion|percentage|per\s*cent|percent|%)", re.I)
MAX_WORDS = re.compile(r"\b(highest|largest|biggest|most|greatest|top|tops|topped|topping|leading|best|led(?!\s+(?:to|by)\b)|"
                       r"leads?(?!\s+(?:to|by)\b)(?=\s+(?:the|in|on|for)\b))\b", re.I)  # ("led to": a cause)
MIN_WORDS = re.compile(r"\b(lowest|smallest|least|weakest|bottom|worst)\b", re.I)
# Nouns for an amount below zero: their "biggest" is the most negative value.
NEGATIVE_NOUNS = re.compile(r"\b(deficits?|loss(?:es)?|shortfalls?|debts?|declines?|falls?|drops?|contractions?)\b", re.I)


@dataclass
class FigureMatch:
    """One table cell that answers (part of) a question."""

    chunk: Chunk
    table: Table
    row: TableRow
    cell: Cell
    score: float

    @property
    def where(self) -> str:
        return place_of(self.table)


def place_of(table: Table) -> str:
    """'Table 4, Panel A': where a table's values are, as a citation names it."""
    return table.locator + (f", {table.panel}" if table.panel else "")


def plain_number(value: float) -> str:
    """A computed amount printed plainly: 1,234.5 (no trailing zeros)."""
    return f"{value:,.1f}".rstrip("0").rstrip(".")


# General English for the direction a question takes a change to have ("why did exports go up").
_RISE = re.compile(r"\b(ris(?:e|es|en|ing)|rose|increas\w*|gr[eo]w\w*|go(?:ne|es)? up|went up|boost\w*|expand\w*|"
                   r"climb\w*|gain\w*|improv\w*|soar\w*|surg(?:e|ed|es|ing)|jump\w*)\b", re.I)
_FALL = re.compile(r"\b(fall\w*|fell|declin\w*|decreas\w*|drop\w*|shr[iau]nk\w*|go(?:ne|es)? down|went down|"
                   r"contract\w*|slump\w*|los[et]\w*|reduc\w*|collaps\w*|plummet\w*|plung\w*)\b", re.I)


_NEGATED = re.compile(r"(?:\b(?:no|not|never)\b|n['’]t\b).*?(?:" + _RISE.pattern + "|" + _FALL.pattern + ")", re.I)


def denied_change(question: str, sentence: str) -> bool:
    """Whether a sentence denies the change a question takes for granted ('why did jobs fall in 2020?' and
    'there was no significant drop in employment during 2020')."""
    taken = _change_taken(question)  # (none when "why did jobs not fall?": the question and the sentence agree)
    if taken is None:
        return False
    change = (_RISE if taken == "rise" else _FALL).pattern
    return bool(re.search(r"\b(?:no|not|never|nor|without)\b(?:\s+[\w-]+){0,3}?\s+" + change, sentence, re.I))


def _change_taken(question: str, multiples: bool = False) -> str | None:
    """'rise' or 'fall': the way a question takes a change to have gone; None when it takes none, both, or denies
    it ("why didn't exports rise?"). `multiples` reads 'doubled' as a rise and 'halved' as a fall."""
    question = _RATE_OF_CHANGE.sub(" ", question)  # "the growth rate" asks for a rate, whichever way it went
    rise = bool(_RISE.search(question) or (multiples and _MULTIPLIED.search(question)))
    fall = bool(_FALL.search(question) or (multiples and _HALVED.search(question)))
    if rise == fall or _NEGATED.search(question):
        return None
    return "rise" if rise else "fall"


# A level held rather than moved ("spending has remained flat", "a share broadly consistent since 2011").
_HELD = re.compile(r"\b(?:flat|unchanged|stable|stagnat\w*|static|broadly (?:the same|consistent|constant)|"
                   r"remained (?:broadly )?(?:the same|level|constant))\b", re.I)


_MULTIPLIED = re.compile(r"\b(?:doubl|tripl|quadrupl)(?:e|ed|es|ing)\b", re.I)
_HALVED = re.compile(r"\bhalv(?:e|ed|es|ing)\b", re.I)


def change_stems(question: str) -> set[str]:
    """The stems of the words saying how something changed ('increase', 'doubled'): how, not what, it asks about."""
    return {stem(m.group(0).lower()) for pattern in (_RISE, _FALL, _MULTIPLIED, _HALVED) for m in pattern.finditer(question)}


def reverses_change(question: str, sentence: str) -> bool:
    """Whether a sentence states the opposite of the change a question takes for granted, or no change at all:
    'why did the share increase?' beside 'new competitors have resulted in a decrease in the share'. (The caller
    checks that the sentence is about what the question names.)"""
    taken = _change_taken(question, multiples=True)
    if taken is None or _NEGATED.search(sentence):
        return False
    same, opposite = (_RISE, _FALL) if taken == "rise" else (_FALL, _RISE)
    return not same.search(sentence) and bool(opposite.search(sentence) or _HELD.search(sentence))


_RATE_OF_CHANGE = re.compile(r"\b(?:growth|change) rates?\b|\brates? of (?:growth|change)\b", re.I)


def premise(question: str, change: float) -> str:
    """'No: ' when the question takes a change to go one way and the figures go the other, else ''."""
    taken = _change_taken(question)
    if taken is None or not change:
        return ""
    return "No: " if (taken == "rise" and change < 0) or (taken == "fall" and change > 0) else ""


# Nouns that say which side of zero an amount is on ("the surplus" is a positive balance, "the deficit" a negative one).
_SIGNED = re.compile(r"\b(surplus(?:es)?|profits?|deficits?|loss(?:es)?)\b", re.I)


def sign_premise(question: str, value: float) -> str:
    """'No: ' when the question calls an amount a surplus (or profit) and it is below zero, or a deficit (or
    loss) and it is above: "how big is Ruritania's surplus" of a negative balance."""
    said = _SIGNED.search(question)
    if not said or not value:
        return ""
    negative = said.group(1).lower().startswith(("deficit", "loss"))
    return "No: " if negative != (value < 0) else ""


_OPPOSITE_SIGN = {"surplus": "deficit", "profit": "loss", "deficit": "surplus", "loss": "profit"}
_TOP = re.compile(r"\b(?<!second )(?<!third )(?:largest|biggest|top|leading|highest|greatest)\b", re.I)
_PLACED_LOWER = re.compile(r"\b(?:second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:st|nd|rd|th))[- ]"
                           r"(?:largest|biggest|highest|greatest|leading|most)\b", re.I)


def contradicted(question: str, sentence: str) -> bool:
    """Whether a sentence about the question's subject contradicts what the question takes for granted: it
    calls a deficit what the question calls a surplus (or a loss a profit), or it places second or lower what
    the question calls the largest ("What makes Ruritania the largest producer?")."""
    said = _SIGNED.search(question)
    if said:
        noun = next(n for n in _OPPOSITE_SIGN if said.group(1).lower().startswith(n))
        other = _OPPOSITE_SIGN[noun]
        if other and re.search(rf"\b{other}", sentence, re.I) and not re.search(rf"\b{noun}", sentence, re.I):
            return True
    if _other_rank(question, sentence):
        return True
    top, lower = _TOP.search(question), _PLACED_LOWER.search(sentence)
    if not top or not lower or _TOP.search(_PLACED_LOWER.sub("", sentence)):
        return False
    # Of the same thing: 'the biggest problem' is not denied by 'the third largest producer'.
    asked, placed = _qualified(question, top.end()), _qualified(sentence, lower.end())
    return not asked or not placed or bool(expand(asked) & expand(placed))


# A place in a ranking, as ordinary English writes it: 'ranked 2nd', 'ranked second in the world', '(ranked 10th
# globally)'. ('Ranked top' is no place: 'ranked top ten'.)
RANKED_AT = re.compile(r"\b(?:rank(?:ed|s|ing)?|placed|sits?|comes?|came)\s+(?:at\s+)?(?:number\s+)?"
                        r"(\d{1,3}(?:st|nd|rd|th)?|" + "|".join(w for w in ORDINALS if w.isalpha() and w != "top") + r")\b", re.I)
RANKED_BY_WORDS = 6  # the words after a rank read as what the ranking is by ('in the world for widget exports')
# Words that say where a ranking holds, not what it ranks.
_RANK_SCOPE = set(stems("world worldwide global globally internationally international country countries place "
                        "ranked rank ranking position among amongst"))


def _other_rank(question: str, sentence: str) -> bool:
    """Whether the sentence ranks the question's subject elsewhere than the question says, in a ranking of the
    same thing: 'why is X ranked 2nd for widget exports' beside 'X is a widget exporter … (ranked 10th globally)'."""
    asked = RANKED_AT.search(question)
    stated = [_position(m.group(1)) for m in RANKED_AT.finditer(sentence)]
    if not asked or not stated or _position(asked.group(1)) in stated:
        return False
    # What the question ranks it by ('for widget exports'): the sentence must be about all of it.
    ranked_by = set(stems(" ".join(question[asked.end():].split()[:RANKED_BY_WORDS]))) - _RANK_SCOPE
    said = set(stems(sentence))
    return bool(ranked_by) and all(expand({term}) & said for term in ranked_by)


def _position(word: str) -> int:
    low = word.lower()
    return ORDINALS.get(low) or int(re.sub(r"\D", "", low))


# A verb denied ('does not charge', "hasn't published", 'never used'): ordinary English negation.
_DENIES = re.compile(r"\b(?:(?:does|do|did|is|are|was|were|has|have|had|will|would|can|could)\s+not|never|no longer)\b|"
                     r"\b\w+n['’]t\b", re.I)
_ASKS_NEGATIVE = re.compile(r"\b(?:no|not|never|without|none|neither|nor)\b|n['’]t\b", re.I)
DENIED_WORDS = 4  # the words after a negation read as what it denies


def denies_asked(question: str, sentence: str) -> bool:
    """Whether a sentence denies what the question takes as done: 'What fee does X charge its members?' beside
    'X does not charge a fee'. Two of the question's words must follow the negation ('charge a fee'): one alone
    ('is not funded by the state' for 'how is X funded') denies a detail, not the premise."""
    if _ASKS_NEGATIVE.search(question):
        return False  # "why does X not charge a fee?": the question and the sentence agree
    asked = expand({s for s in stems(question) if s not in STOPWORDS})
    for denial in _DENIES.finditer(sentence):
        following = re.findall(r"[A-Za-z][\w-]*", sentence[denial.end():])[:DENIED_WORDS]
        if len({stem(w.lower()) for w in following if w.lower() not in STOPWORDS} & asked) >= 2:
            return True
    return False


_THE_MOST = re.compile(r"\bthe (?:most|largest|biggest|highest|greatest|top|leading)\b", re.I)


def states_a_top_asked(question: str, sentence: str, common: set[str]) -> bool:
    """Whether a sentence states the top a question speaks of ("why does X have the most widget jobs" beside
    'Y has the highest widget employment'): a top of the same thing, a word beyond the documents' `common` ones
    shared, not a second or third place."""
    top, stated = _THE_MOST.search(question), _TOP.search(sentence)
    if not top or not stated or _PLACED_LOWER.search(sentence):
        return False
    wanted = expand(_qualified(question, top.end()) - common)
    # What the top is of: up to the clause's end ('the largest relative declines, with …'), past a list of
    # superlatives ('the largest, most concentrated and fastest growing employment').
    after = sentence[stated.end():]
    clause = after if after.lstrip().startswith(",") else after.split(",")[0]
    return bool(wanted & expand(_qualified(clause, 0, words=8)))


def _qualified(text: str, at: int, words: int = 3) -> set[str]:
    """Stems of the words a superlative qualifies ('machine tool producer', 'producer of machine tools')."""
    following = re.findall(r"[A-Za-z][\w-]*", text[at:])[:words]
    return {stem(w.lower()) for w in following if w.lower() not in STOPWORDS}


def moved(change: float) -> str:
    """'rose by' / 'fell by' / 'unchanged': how a change is read."""
    return "rose by" if change > 0 else "fell by" if change < 0 else "unchanged"


def ordinal(number: int) -> str:
    """'1st', '2nd', '3rd', '11th', '176th': how a place in a ranking is read."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def is_rank(cell: Cell) -> bool:
    return cell.header.strip().lower() == "rank" and cell.value is not None and float(cell.value).is_integer()


def format_value(cell: Cell) -> str:
    """'US$132 billion', '-USD 7.2 billion', '0.6%', '176th' (a place in a ranking) — the number as printed."""
    text, unit = cell.text, (cell.unit or "").strip()
    if is_rank(cell):
        return ordinal(int(cell.value))
    if not unit or unit == "%" or text.endswith("%"):
        return text
    match = re.match(r"^(US\$|USD|£|€|GBP|EUR)\s*(.*)$", unit)
    if match:
        currency, scale = match.groups()
        sign, digits = ("-", text[1:]) if text.startswith(("-", "−")) else ("", text)
        spacer = " " if currency.isalpha() else ""
        return f"{sign}{currency}{spacer}{digits}" + (f" {scale}" if scale else "")
    return f"{text} {unit}"


def mentioned(entity: str, question: str) -> bool:
    """True when the question names the row's entity (UK and GB are different places)."""
    low = question.lower()
    names = [entity.lower()] + ALIASES.get(entity.lower(), [])
    for name in names:
        pattern = rf"(?<![\w]){re.escape(name)}(?:'s|’s)?(?![\w])"
        if name in {"us"}:
            if names_the_us(question):
                return True
            continue
        if re.search(pattern, low):
            return True
    return False


def _row_subject(row: TableRow, table: Table) -> str:
    """Entity to look for: the row label, or for label-less rows the panel's first word ('France exports' → 'France')."""
    if row.entity == table.panel and table.panel:
        return table.panel.split()[0]
    return row.entity


def _measure_stems(query: Query, subject_stems: set[str]) -> set[str]:
    """Stems that name the measure asked for, with their synonyms ('grow' → CAGR)."""
    return expand({s for s in query.stems if s not in generic() and s not in subject_stems and not s.isdigit()})


def _cell_fit(query: Query, table: Table, cell: Cell, measure: set[str], wants_rank: bool) -> float | None:
    """How well a cell's header, panel and title match the measure asked for; None when the year rules it out."""
    if cell.value is None:
        return None
    if query.years:
        years = {cell.year} if cell.year else set(int(y) for y in re.findall(r"\b(?:19|20)\d{2}\b", cell.header))
        if not years or not years & set(query.years):
            return None
    if SHARE_WORDS.search(query.text) and not PER_YEAR.search(query.text) \
            and not SHARE_WORDS.search(f"{table.title} {table.panel} {cell.header}"):
        return None  # a share is asked for: a value or growth rate is a different measure
    is_rank = cell.header.strip().lower() == "rank"
    if is_rank and not wants_rank:
        return None
    described = expand(set(stems(f"{table.title} {table.panel} {cell.header}")))
    header_only = expand(set(stems(cell.header + " " + table.panel)))
    score = 1.0 * len(measure & described) + 0.5 * len(measure & header_only)
    if is_rank:
        score += 2.0
    if not measure & described and not (is_rank and wants_rank):
        return None  # never answer a different measure than the one asked for
    return score


# Words of an operation over a table's rows ("the three biggest combined"), not of what it measures.
OPERATION_STEMS = frozenset(stems(" ".join(MAX_WORDS.pattern.strip("\\b()").split("|") + MIN_WORDS.pattern.strip("\\b()").split("|"))
                                  + " one two three four five six seven eight nine ten combined total sum altogether together"
                                  + " same equal identical match matches other table"))


def _split_hyphens(found: list[str]) -> set[str]:
    """'value-added' asks for what 'value added' does."""
    return {part for s in found for part in (stems(s.replace("-", " ")) if "-" in s else [s])}


def holds_measure(query: Query, table: Table, subject_stems: set[str]) -> bool:
    """True when the table's title, panel and headers name at least half of what the question asks about."""
    asked = {s for s in _split_hyphens(query.stems)
             if s not in generic() | COMPARING | UNIT_STEMS | OPERATION_STEMS and not s.isdigit()} - subject_stems
    # A table holds its own row labels too: "Peru's and Chile's figures" asks of a table listing both.
    rows = " ".join(r.entity for r in table.rows)
    described = expand(set(stems(f"{table.title} {table.panel} {' '.join(table.headers)} {rows}")))
    unmet = {s for s in asked if not expand({s}) & described}
    # A table meeting fewer of the measures asked for than another table does is the wrong one ('exports'
    # asked of a value-added table); tables meeting as many ('imports and exports' panels) all qualify.
    measures = active().measures_in(asked) - RANKING_STEMS
    if measures:
        met = len(measures - unmet)
        if met < max((len({s for s in measures if expand({s}) & other}) for other in active().table_descriptions),
                     default=0):
            return False
    return not asked or len(asked - unmet) >= 0.5 * len(asked)


def lookup(query: Query, table_chunks: list[Chunk]) -> list[FigureMatch]:
    """Best matching cell per (table panel, row) for rows the question names; best first."""
    wants_rank = bool(RANK_WORDS.search(query.text))
    found: list[FigureMatch] = []
    for chunk in table_chunks:
        table = chunk.table
        if table is None:
            continue
        british = british_is_uk(query.text, [table])
        for row in table.rows:
            subject = _row_subject(row, table)
            # "British" is the UK or GB; in a table with a UK row and no GB row it can only be the UK's
            if not mentioned(subject, query.text) and not (british and subject.lower() == "uk"):
                continue
            named = set(stems(" ".join([subject, *ALIASES.get(subject.lower(), [])])))
            if british and subject.lower() == "uk":
                named |= set(stems(" ".join(m.group(0) for m in _BRITISH.finditer(query.text))))  # the name it was called by
            measure = _measure_stems(query, named)
            if not holds_measure(query, table, named):
                continue  # the question is mostly about something this table does not hold
            best: FigureMatch | None = None
            for cell in row.cells:
                fit = _cell_fit(query, table, cell, measure, wants_rank)
                if fit is not None and (best is None or fit > best.score):
                    best = FigureMatch(chunk, table, row, cell, fit)
            if best:
                found.append(best)
    found.sort(key=lambda m: -m.score)
    return found


_BRITISH = re.compile(r"\b(?:british|britain(?:'s|’s)?)\b", re.I)


def british_is_uk(text: str, tables: list[Table]) -> bool:
    """True when the question says 'British'/'Britain' and no table has a GB row: then it can only mean the UK."""
    return bool(_BRITISH.search(text)) and not any(r.entity.lower() in {"gb", "great britain"}
                                                    for t in tables for r in t.rows)
OVERVIEW_WORDS = re.compile(r"\b(countries|regions|nations|across|all|each|every|list|ranking|ranked|rank|compare|comparison|top \d+|top ten)\b", re.I)


def column_overview(query: Query, table_chunks: list[Chunk]) -> list[FigureMatch]:
    """'Compare value added across countries': every row of the best matching column, largest first."""
    if not OVERVIEW_WORDS.search(query.text):
        return []
    measure = _measure_stems(query, set())
    best: tuple[float, Chunk, int] | None = None
    for chunk in table_chunks:
        table = chunk.table
        if table is None or len(table.rows) < 3 or (query.years and table.year not in query.years):
            continue
        if not holds_measure(query, table, set()):
            continue
        for i, header in enumerate(table.headers):
            if header.strip().lower() == "rank" or not any(r.cells[i].value is not None for r in table.rows):
                continue
            fit = 2 * len(measure & expand(set(stems(header)))) + len(measure & expand(set(stems(f"{table.title} {table.panel}"))))
            if len(measure & expand(set(stems(header)))) and (best is None or fit > best[0]):
                best = (fit, chunk, i)
    if best is None:
        return []
    _, chunk, column = best
    rows = sorted((r for r in chunk.table.rows if r.cells[column].value is not None),
                  key=lambda r: r.cells[column].value, reverse=not MIN_WORDS.search(query.text))
    return [FigureMatch(chunk, chunk.table, r, r.cells[column], 1.0) for r in rows]


RANKING_STEMS = {"rank", "ranked", "top", "posit", "place", "first", "last"}


def measures_met(query: Query, text: str) -> bool:
    """A measure the question names (a word the documents' tables use for one: 'exports', 'productivity')
    must be in a text that answers it: a value-added figure is no answer about exports. One is enough when
    it names several ('imports and exports' are compared from two panels)."""
    if not (query.wants_number or query.kind in {"figure", "compare"}):
        return True  # (a measure word in a question asking no figure may be other English: 'a trade fair')
    measures = active().measures_in(query.stems) - generic() - RANKING_STEMS
    if not measures:
        return True
    have = set(stems(text))
    return any(expand({m}) & have for m in measures)
_ASKED_KIND = re.compile(r"\b(?:which|what)\s+(country|countries|nation|nations|region|regions|district|districts|"
                         r"firm|firms|company|companies|sector|sectors|city|cities)\b", re.I)


def _asked_kind(query: Query) -> str | None:
    """The stem of the kind of thing a 'which X' question wants ('countri'), if it names one."""
    found = _ASKED_KIND.search(query.text)
    if not found:
        return None
    word = found.group(1).lower()
    return stems("country" if word.startswith("nation") else word)[0]


def ranked(query: Query, table_chunks: list[Chunk]) -> FigureMatch | None:
    """'Which country was third by trade balance in 2011?' → the row at that rank (or the max/min)."""
    if not query.wants_entity:
        return None
    want_max, want_min = bool(MAX_WORDS.search(query.text)), bool(MIN_WORDS.search(query.text))
    if query.ordinal is None and not (want_max or want_min):
        return None
    measure = _measure_stems(query, set()) - RANKING_STEMS  # "ranked" says how to order, not what
    kind = _asked_kind(query)
    best: tuple[float, FigureMatch] | None = None
    for chunk in table_chunks:
        table = chunk.table
        if table is None or (query.years and table.year not in query.years):
            continue
        described = expand(set(stems(f"{table.title} {table.panel} {' '.join(table.headers)}")))
        fit = len(measure & described)
        if not fit or (kind and kind not in described):
            continue  # "which district …" is never answered from a table of countries
        rank_col = next((i for i, h in enumerate(table.headers) if h.strip().lower() == "rank"), None)
        for row in table.rows:
            if query.ordinal and rank_col is not None and row.cells[rank_col].value == query.ordinal:
                cell = next((c for c in row.cells if c.unit), row.cells[rank_col])
                candidate = FigureMatch(chunk, table, row, cell, fit + 1)
                if best is None or candidate.score > best[0]:
                    best = (candidate.score, candidate)
        if (rank_col is None and query.ordinal) or (not query.ordinal and (want_max or want_min)):
            numeric = [i for i, h in enumerate(table.headers) if i != rank_col
                       and any(r.cells[i].value is not None for r in table.rows)]
            column = max(numeric, key=lambda i: len(measure & expand(set(stems(table.headers[i])))), default=None)
            if column is None:
                continue
            rows = sorted((r for r in table.rows if r.cells[column].value is not None),
                          key=lambda r: r.cells[column].value, reverse=not want_min)
            if NEGATIVE_NOUNS.search(query.text) and any(r.cells[column].value < 0 for r in rows):
                rows.reverse()  # the biggest deficit is the most negative balance
            position = (query.ordinal or 1) - 1
            if position < len(rows):
                candidate = FigureMatch(chunk, table, rows[position], rows[position].cells[column],
                                        fit + len(measure & expand(set(stems(table.headers[column])))))
                if best is None or candidate.score > best[0]:
                    best = (candidate.score, candidate)
    return best[1] if best else None
