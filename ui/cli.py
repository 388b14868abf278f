"""`ampi`: one command with subcommands; each parses arguments and calls the library."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from pydantic import ValidationError

from ingest.errors import AmpiError, shown
from ingest.settings import REPO_ROOT, Settings, offline_environment
from ui.terminal import plain, plural, quoted_rows, table_summary

EXIT_SKIPPED = 3

log = logging.getLogger(__name__)


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if getattr(args, "password", None):
        settings.pdf_password = args.password
    return settings


def cmd_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from index.builder import build_index

    settings = _settings(args)
    bars: dict[str, tqdm] = {}

    def progress(name: str, done: int, total: int) -> None:
        key = "chunks" if name == "embedding chunks" else "files"
        bar = bars.get(key) or bars.setdefault(key, tqdm(total=total, unit=key[:-1], desc=key, leave=False, file=sys.stderr))
        bar.total = total
        bar.n = done
        bar.set_postfix_str(name if key == "files" else "", refresh=False)
        bar.refresh()

    report = build_index(settings, paths=[Path(p) for p in args.paths], password=args.password,
                         progress=None if args.quiet else progress)
    for bar in bars.values():
        bar.close()
    print(f"Indexed {report.chunks_total} chunks ({report.chunks_embedded} embedded now) in {report.seconds:.1f} s"
          + (" — settings changed, index rebuilt" if report.rebuilt else "")
          + ("" if report.changed else " — already up to date"))
    return _print_changes(report)


def _one_line(text: str) -> str:
    """A reason on one line whatever an embedded library message holds."""
    return " ".join(str(text).splitlines())


def _print_changes(report) -> int:
    """The files an ingest added, updated, removed, stored once or skipped; the exit code it calls for."""
    for label, paths in (("added", report.added), ("updated", report.updated), ("removed", report.removed)):
        for path in paths:
            print(f"  {label}: {shown(path)}")
    for path, original in report.duplicates:
        print(f"  duplicate (stored once): {shown(path)} = {shown(original)}")
    for _path, reason in report.skipped:  # this run's only: each ingest reports what it could not read now
        print(f"  skipped: {_one_line(reason)}", file=sys.stderr)
    return EXIT_SKIPPED if report.skipped else 0


def cmd_remove(args: argparse.Namespace) -> int:
    from index.builder import remove_document

    forgotten, report = remove_document(_settings(args), Path(args.path))
    print(f"Removed {shown(forgotten)} from the documents added with `ampi ingest`"
          + ("" if report.removed else "; no indexed document came from it"))
    return _print_changes(report)


def cmd_status(args: argparse.Namespace) -> int:
    from index.store import ChromaStore

    settings = _settings(args)
    store = ChromaStore(settings)
    manifest = store.manifest()
    where = f"server {settings.chroma_host}:{settings.chroma_port}" if settings.server_mode else str(settings.index_dir)
    print(f"Index: {where} — model {manifest['model']}, built {manifest['created_at']}")
    names = {"paragraph": ("paragraph", "paragraphs"), "summary": ("summary box", "summary boxes"),
             "text": ("unnumbered passage", "unnumbered passages"), "page": ("page passage", "page passages"),
             "footnote": ("footnote", "footnotes"), "table": ("table or figure", "tables and figures")}
    chunks = store.all_chunks()[0] if any(d["role"] == "report" for d in manifest["documents"]) else []
    for doc in manifest["documents"]:
        mine = [c for c in chunks if c.doc_id == doc["doc_id"]]
        tables = table_summary(mine)
        counts = dict(doc["kinds"])
        if mine and "table" in counts:  # a figure of several panels is one figure: count what is listed below
            counts["table"] = len(tables)
        kinds = ", ".join(plural(n, *names.get(k, (k, k + "s"))) for k, n in sorted(counts.items()))
        pages = f", {plural(doc['pages'], 'page')}" if doc.get("pages") else ""
        print(f"- {doc['title']} [{doc['role']}] {shown(Path(doc['path']).name)}{pages}: {kinds}; ingested {doc['ingested_at']}")
        if doc["role"] == "report":
            paragraphs = [c.locator for c in mine if c.kind == "paragraph"]
            if paragraphs:
                print(f"    paragraphs {paragraphs[0]}–{paragraphs[-1]} ({len(paragraphs)}); footnotes {len(doc['footnotes'])}")
            if tables:
                print(f"    {names['table'][1] if len(tables) != 1 else names['table'][0]}:")
            for table in tables:
                print(f"      {table}")
    for _path, reason in manifest.get("skipped", []):
        print(f"  skipped last time: {_one_line(reason)}")
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from index.store import ChromaStore
    from ingest.sources import registry_from_manifest

    settings = _settings(args)
    registry = registry_from_manifest(ChromaStore(settings).manifest())
    works = [s for s in registry if s.kind != "note"]
    notes = [s for s in registry if s.kind == "note"]
    # The report's footnotes either cite a work or explain a point; only works can have a copy in corpus/sources.
    for heading, group in (("Cited works", works), ("Explanatory notes", notes)):
        if group:
            print(f"{heading}, by footnote number:")
        for source in group:
            print(f"{source.number:>5}. {source.label().removeprefix(f'footnote {source.number}: ')}")
        if group:
            print()
    present = sum(1 for s in registry if s.local_doc)
    print(f"{plural(len(works), 'cited work')} and {plural(len(notes), 'explanatory note')} in "
          f"{plural(len(registry), 'footnote')}; {present} of the works present in {settings.sources_dir}")
    return 0


def _print_answer(result, record: dict) -> None:
    print(plain(result.text))  # plain text: the answer's **emphasis** is for the web page
    if result.citations:
        print("\nCitations:")
    for n, c in enumerate(result.citations, 1):
        where = f"{c.locator}" + (f", page {c.page}" if c.page else "") + (f" — {c.section}" if c.section else "")
        print(f"  [{n}] {c.doc}, {where}")
        rows = quoted_rows(c, indent="      ")  # a table's quoted rows under its column headers
        if rows:
            print("\n".join(rows))
        elif c.quote:
            print(f"      “{c.quote.strip()[:300]}”")
        for source in c.sources:  # a table's own Source line already starts with "Source:"
            print(f"      {source if source.lower().startswith('source') else 'source: ' + source}")
    if result.refused and result.related:
        print("\nRelated passages (not an answer):")
        for c in result.related:
            print(f"  - {c.locator}: {c.text[:160]}…")


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.service import Assistant, answer_record

    assistant = Assistant(_settings(args))
    if args.jsonl:
        # Bytes, not text: a line that is not UTF-8 is one bad line, not a decoding error that ends the batch.
        for number, raw in enumerate(sys.stdin.buffer, 1):
            if not raw.strip():
                continue
            item_id, question, error, history = _jsonl_item(raw, number)
            if error is None:
                try:
                    # With a "history" (earlier questions of one chat, oldest first) a follow-up is answered in
                    # context, and the record adds "resolved": the standalone question answered.
                    result = assistant.answer(question, doc=args.doc, section=args.section, history=history)
                    record = answer_record(result, item_id, in_chat=history is not None)
                except AmpiError:
                    raise  # the index or --doc: every line would fail the same way, so say it once
                except Exception as exc:  # one odd question must not cost the rest of the batch
                    log.debug("line %d could not be answered", number, exc_info=True)
                    error = f"line {number} could not be answered ({type(exc).__name__}: {exc})"
            _emit({"id": item_id, "error": error} if error else record)
        return 0
    question = " ".join(args.question)
    result = assistant.answer(question, doc=args.doc, section=args.section)
    if args.json:
        print(json.dumps(answer_record(result, None), ensure_ascii=False))
    else:
        _print_answer(result, answer_record(result))
    return 0


CHAT_HELP = ("Ask about the documents. Follow-ups such as \"and in 2011?\" or \"why?\" are read against this "
             "conversation; a rewritten question is shown as \"Read as: …\". /new starts a new conversation; "
             "/quit or Ctrl-D leaves.")


def cmd_chat(args: argparse.Namespace) -> int:
    """A chat in the terminal: the model and index stay loaded, and each question is read in its conversation."""
    from assistant.service import Assistant

    assistant = Assistant(_settings(args))
    interactive = sys.stdin.isatty()
    if hasattr(sys.stdin, "reconfigure"):
        sys.stdin.reconfigure(errors="replace")  # a stray byte is one odd character, not the end of the chat
    if interactive:
        print(CHAT_HELP)
    history: list[str] = []
    while True:
        try:
            line = input("> ") if interactive else sys.stdin.readline()
        except EOFError:
            break
        if not interactive and not line:
            break  # end of input
        question = " ".join(line.split())
        if not question:
            continue
        if question.lower() in ("/quit", "/exit", "/q"):
            break
        if question.lower() in ("/new", "/reset", "/clear"):
            history.clear()
            print("New conversation.\n", flush=True)
            continue
        try:
            result = assistant.answer(question, doc=args.doc, section=args.section, history=history)
        except AmpiError:
            raise  # no index, an unknown --doc: every question would fail the same way
        except Exception as exc:  # one odd question must not end the chat
            log.debug("could not answer %r", question, exc_info=True)
            print(f"Could not answer that ({type(exc).__name__}: {exc}).\n", file=sys.stderr, flush=True)
            continue
        if result.resolved:
            print(f"Read as: {result.resolved}")
        _print_answer(result, None)
        print(flush=True)
        history.append(question)
    return 0


def _json_kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true or false", type(None): "null"}
    return names.get(type(value), "a number")


def _is_text(value: str) -> bool:
    """False for a string with a lone surrogate (JSON allows "\\ud800"; it is not text and cannot be printed)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _jsonl_item(raw: bytes, number: int) -> tuple[object, str | None, str | None, list[str] | None]:
    """(id, question, None, history) for a good `ampi ask --jsonl` line, or (id, None, why it cannot be asked, None).

    `history` is the line's optional "history": the earlier questions of the same chat, oldest first.
    """
    try:
        item = json.loads(raw.decode("utf-8-sig"))  # a BOM is allowed at the start of a line
    except UnicodeDecodeError as exc:
        return None, None, f"line {number} is not UTF-8 text (byte {exc.start + 1})", None
    except ValueError as exc:
        return None, None, f"line {number} is not valid JSON ({getattr(exc, 'msg', exc)}, column {getattr(exc, 'colno', '?')})", None
    if not isinstance(item, dict):
        return None, None, f'line {number} is {_json_kind(item)}, not an object like {{"id": "q1", "question": "..."}}', None
    item_id, question, history = item.get("id"), item.get("question"), item.get("history")
    if "question" not in item:
        return item_id, None, f'line {number} has no "question"', None
    if not isinstance(question, str):
        return item_id, None, f'line {number}: "question" is {_json_kind(question)}, not a string', None
    if not _is_text(question):
        return item_id, None, f'line {number}: "question" holds a lone surrogate (such as \\ud800), which is not text', None
    if history is not None and not (isinstance(history, list) and all(isinstance(q, str) and _is_text(q) for q in history)):
        kind = "a list holding something other than text" if isinstance(history, list) else _json_kind(history)
        return item_id, None, (f'line {number}: "history" is {kind}, not a list of earlier questions '
                               '(strings, oldest first)'), None
    return item_id, question, None, history


def _emit(record: dict) -> None:
    """One JSON object a line; an id holding a lone surrogate is written escaped rather than failing the print."""
    text = json.dumps(record, ensure_ascii=False)
    print(text if _is_text(text) else json.dumps(record), flush=True)


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evaluate import run

    settings = _settings(args)
    summary = run(Path(args.file), settings, Path(args.out), with_baseline=not args.no_baseline)
    print(json.dumps(summary, indent=2))
    print(f"Per-question results: {Path(args.out) / 'results.jsonl'}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ui.app import serve

    settings = _settings(args)
    if args.host:
        settings.ui_host = args.host
    if args.port:
        settings.ui_port = args.port
    serve(settings)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="ampi", description="AMPI report assistant: cited answers from the report and its sources.")
    top.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = top.add_subparsers(dest="command", required=True)
    ingest = sub.add_parser("ingest", help="index corpus/ (and any PATHs): only new or changed files are embedded")
    ingest.add_argument("paths", nargs="*", help="extra PDF, Markdown or text files or folders")
    ingest.add_argument("--password", help="password for encrypted PDFs")
    ingest.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    ingest.set_defaults(func=cmd_ingest)
    remove = sub.add_parser("remove", help="remove a file or folder added with `ampi ingest PATH` from the index")
    remove.add_argument("path", help="the file or folder as given to `ampi ingest`")
    remove.set_defaults(func=cmd_remove)
    sub.add_parser("status", help="what is indexed: documents, paragraphs, tables, footnotes, pages").set_defaults(func=cmd_status)
    sub.add_parser("sources", help="the report's cited sources (footnotes) and which are present locally").set_defaults(func=cmd_sources)
    ask = sub.add_parser("ask", help="answer a question with citations")
    ask.add_argument("question", nargs="*")
    ask.add_argument("--doc", help="only search documents whose title or file name contains this")
    ask.add_argument("--section", help="only search sections whose path contains this, e.g. 'Learning from elsewhere'")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--jsonl", action="store_true",
                     help='read {"id","question"} lines on stdin (optionally "history": [earlier questions, oldest '
                          'first]), write one JSON object per line')
    ask.set_defaults(func=cmd_ask)
    chat = sub.add_parser("chat", help="chat in the terminal: follow-ups (\"and in 2011?\", \"why?\") use the conversation")
    chat.add_argument("--doc", help="only search documents whose title or file name contains this")
    chat.add_argument("--section", help="only search sections whose path contains this")
    chat.set_defaults(func=cmd_chat)
    evaluate = sub.add_parser("eval", help="accuracy by type, evidence recall@5, refusals and latency over a question file; "
                                           "the conversation score over a file of chats (items with a \"history\")")
    evaluate.add_argument("file", nargs="?", default=str(REPO_ROOT / "tests" / "eval" / "dev.jsonl"))
    evaluate.add_argument("--out", default=str(REPO_ROOT / "eval-results"))
    evaluate.add_argument("--no-baseline", action="store_true", help="skip the plain llama-index baseline")
    evaluate.set_defaults(func=cmd_eval)
    serve = sub.add_parser("serve", help="start the web app (default http://127.0.0.1:7860)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)
    return top


def main(argv: list[str] | None = None) -> int:
    offline_environment()
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "ask" and not args.jsonl and not " ".join(args.question).strip():
        print("ampi ask: give a question, e.g. ampi ask \"What was Japan's M&E value added in 2021?\"", file=sys.stderr)
        return 2
    try:
        code = args.func(args)
        sys.stdout.flush()  # here, so a reader that went away (`| head`) is noticed below
        return code
    except BrokenPipeError:
        # The reader closed the pipe (`ampi sources | head`): stop quietly; later writes go nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except AmpiError as exc:
        print(f"ampi {args.command}: {exc}", file=sys.stderr)
        return 1
    except ValidationError as exc:  # an AMPI_* environment variable that Settings cannot read
        for error in exc.errors():
            name = f"AMPI_{str(error['loc'][0]).upper()}" if error.get("loc") else "an AMPI_ setting"
            print(f"ampi {args.command}: {name}={error.get('input')!r} is not valid: {error['msg']}. "
                  "Correct it or unset it (the README lists the settings).", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ampi {args.command}: interrupted; the previous index is unchanged", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
