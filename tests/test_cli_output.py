"""Issue 11, the command line: `ampi ask` prints plain text with table rows under their headers, a closed pipe ends
a command quietly, `ampi status` lists what it counts, `ampi sources` separates cited works from notes.

The real `ampi` entry point runs in a subprocess over the session's index of the bundled report."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.settings import Settings
from ingest.sources import note_kind
from ui.terminal import columns, plural, quoted_rows

AMPI = Path(sys.executable).parent / "ampi"


def _env(settings: Settings) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPI_")}
    env.update(AMPI_CORPUS_DIR=str(settings.corpus_dir), AMPI_DATA_DIR=str(settings.data_dir),
               AMPI_INDEX_DIR=str(settings.index_dir), PYTHONUNBUFFERED="0")
    return env


def _run(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(AMPI), *args], env=_env(settings), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def index(built_index) -> Settings:
    if not AMPI.exists():
        pytest.skip(f"the ampi entry point is not installed beside {sys.executable}")
    return built_index


def test_ask_prints_plain_text_and_aligned_table_rows(index):
    done = _run(index, "ask", "Which are the top 10 OECD countries for M&E value added in 2021?")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "**" not in out and "Table 2-2" in out
    lines = out.splitlines()
    header = next(n for n, line in enumerate(lines) if "OECD Country" in line and "Value added" in line)
    rows = []
    for line in lines[header + 1:]:  # the quoted rows, up to the table's Source line
        if not line.startswith(" " * 6) or line.strip().lower().startswith("source"):
            break
        rows.append(line)
    assert rows and all(re.search(r"\d$", row) for row in rows), out
    head = lines[header]
    for row in rows:  # the label starts under its header; numbers end under theirs (right-aligned)
        assert len(row) - len(row.lstrip()) == len(head) - len(head.lstrip())
        assert len(row.rstrip()) == len(head.rstrip()), (head, row)
    assert "\t" not in out


@pytest.mark.parametrize("command", [["status"], ["sources"]])
def test_a_closed_pipe_ends_quietly(index, command):
    """`ampi … | head` : the reader is gone before the output is written; no traceback, exit status 0."""
    child = subprocess.Popen([str(AMPI), *command], env=_env(index), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # the reader goes away at once, as `head` does after its lines
    _, errors = child.communicate(timeout=300)
    assert child.returncode == 0
    assert b"Traceback" not in errors and b"BrokenPipe" not in errors and b"Exception ignored" not in errors, errors


def test_a_pipe_into_head_prints_the_first_lines(index):
    shell = subprocess.run(f"'{AMPI}' sources | head -n 2", shell=True, env=_env(index), capture_output=True,
                           text=True, timeout=300)
    assert shell.returncode == 0 and shell.stderr == "" and len(shell.stdout.splitlines()) == 2


def test_status_lists_the_tables_it_counts(index):
    done = _run(index, "status")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    counted = int(re.search(r"(\d+) tables and figures", out).group(1))
    listed = out.split("tables and figures:\n", 1)[1].splitlines()
    listed = [line for line in listed if line.startswith("      ")]
    assert len(listed) == counted == len({line.split(":")[0] for line in listed})
    assert any(line.strip().startswith("Figure 2-2:") and "4 panels" in line for line in listed)
    assert "(1 row)" in out and not re.search(r"\b1 rows\b", out)


def test_sources_separates_cited_works_from_explanatory_notes(index):
    done = _run(index, "sources")
    assert done.returncode == 0, done.stderr
    works, notes = done.stdout.split("Explanatory notes", 1)
    assert works.startswith("Cited works")
    numbers = {kind: {int(m.group(1)) for m in re.finditer(r"^\s+(\d+)\. ", text, re.M)} for kind, text in
               (("works", works), ("notes", notes))}
    assert {2, 4, 6, 40} <= numbers["works"] and {3, 10, 11, 12, 62} <= numbers["notes"]
    assert not numbers["works"] & numbers["notes"]
    summary = done.stdout.strip().splitlines()[-1]
    assert f"{len(numbers['works'])} cited works and {len(numbers['notes'])} explanatory notes" in summary


@pytest.mark.parametrize("text, url, kind", [
    ("UKRI (2022) UKRI Strategy 2022-2027", None, "work"),
    ("LinkedIn Fecken Kirfel", None, "work"),
    ("https://example.org/report", "https://example.org/report", "work"),
    ("Consistent data is not available for Northern Ireland.", None, "note"),
    ("See Annex 2 in the 2023/24 Annual Report for a full breakdown", None, "note"),
    ("According to one source it is over 90% (SPRI Group (2024) Main Industrial Sectors)", None, "note"),
])
def test_note_kinds(text, url, kind):
    assert note_kind(text, url) == kind


def test_terminal_helpers():
    assert plural(1, "row") == "1 row" and plural(8, "row") == "8 rows" and plural(2, "summary box", "summary boxes") == "2 summary boxes"
    assert columns([["Country", "Value"], ["US", "174"], ["Japan", "9"]]) == ["Country  Value", "US         174", "Japan        9"]
    from ingest.records import Citation

    table = Citation(doc="d", locator="Table 1", text="Table 1: x\nCountry\tValue\nUS\t174", quote="US\t174")
    assert quoted_rows(table) == ["Country  Value", "US         174"]
    assert quoted_rows(Citation(doc="d", locator="1.1", text="Prose.", quote="Prose.")) == []
