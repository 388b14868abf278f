"""The web UI: ask with cited passages, browse the report, pin a briefing, add documents.

    >>> from ui.app import serve
    >>> serve(Settings())        # http://127.0.0.1:7860
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from ingest.settings import Settings, offline_environment

# Gradio starts its version check when imported or launched; the switch must be set before that.
offline_environment()
# Gradio keeps the last 10,000 events (one per API call) for its monitoring page and rebuilds a pandas table of
# them after every event: memory and time that grow with traffic. 1,000 give the page the same percentiles.
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")

import anyio  # noqa: E402
import gradio as gr  # noqa: E402

from assistant.service import Assistant, answer_record  # noqa: E402
from index.library import uploaded_file  # noqa: E402
from index.staging import discard  # noqa: E402
from ingest.errors import AmpiError, NoIndex  # noqa: E402
from ui import auth  # noqa: E402
from ui import briefing as brief  # noqa: E402
from ui.auth import user_of  # noqa: E402
from ui.feedback import record_feedback  # noqa: E402
from ui.render import (  # noqa: E402
    CSS,
    capitalize_columns,
    chat_message,
    documents_frame,
    export_link,
    figures_frame,
    glossary_html,
    intro_markdown,
    outline_choices,
    outline_items,
    passage_view,
    report_passages,
    sources_html,
)
from ui.uploads import (  # noqa: E402
    UPLOAD_TYPES,
    accept_upload,
    forget_upload,
    ingest_summary,
    own_uploads,
    remember_name,
    remember_sharing,
    user_folder,
)

log = logging.getLogger(__name__)

NO_INDEX = "No documents are indexed yet: add one in the Documents tab, or run `ampi ingest`."
SEARCHING = "_Searching the documents…_"
# Two starter questions for each main section of the bundled report (keys match section numbers).
SUGGESTED = {
    "2": ("Advanced machinery and drivers of change",
          ["What was Japan's M&E value added in 2021?", "How large is the global advanced machinery market?"]),
    "3": ("Advanced machinery in Great Britain",
          ["How many advanced machinery enterprises were there in Great Britain in 2023?",
           "Which region has the highest concentration of advanced machinery manufacturing?"]),
    "4": ("Learning from elsewhere",
          ["What explains the success of the Aachen cluster?", "What are the key challenges facing the Basque machine tool cluster?"]),
}

# System fonts: the theme's bundled web fonts drew some bold capitals in a fallback face (seen in screenshots).
THEME = gr.themes.Default(primary_hue="blue", font=("ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"),
                          font_mono=("ui-monospace", "Consolas", "monospace"))


# Gradio 6's status tracker announces a finished event to screen readers as i18n("common.complete"), a key its
# own dictionaries lack, so "common.complete" was read out. Supplied here; the fallback locale is English.
TRANSLATIONS = gr.I18n(en={"common": {"complete": "Complete"}})


def launch_options(settings: Settings) -> dict:
    """Keyword arguments for Blocks.launch shared by `serve` and the tests (Gradio 6 takes css/theme here)."""
    from starlette.middleware import Middleware

    users = auth.load_users(settings)
    guard = auth.LoginGuard(users, settings.ui_login_free_attempts, settings.ui_login_max_wait_s) if users else None
    # app_kwargs go to the FastAPI app Gradio builds: the login guard's address middleware, the briefing
    # download route, and a lifespan task that forgets idle sessions.
    # VisitorCookie: without login, each browser's own briefing (see auth.briefing_owner).
    server = {"middleware": [Middleware(auth.ClientAddress), Middleware(auth.VisitorCookie)],
              "routes": [auth.export_route(settings)], "lifespan": auth.session_expiry(settings.ui_session_ttl_s)}
    return {"auth": guard.check if guard else None,
            "auth_message": "Sign in to the AMPI document assistant." if users else None,
            "share": False, "show_error": True, "css": CSS, "theme": THEME, "app_kwargs": server,
            "max_file_size": int(settings.max_upload_mb * 1024 * 1024), "footer_links": ["api", "settings"],
            "i18n": TRANSLATIONS}


# -- the page ----------------------------------------------------------------------------------
HEADER = ("## AMPI document assistant\n"
          "Ask questions about AMPI's *Future State of Machinery Sector* report (SQW, 2025) and the documents added "
          "to it. Every answer quotes the paragraph, table or page it rests on, so you can check it. "
          "**New here? Open *Start here*.**")


# A chat follow-up is read against this many of the chat's earlier questions.
CONVERSATION_TURNS = 6


def read_as(answer) -> str:
    """The line above an answer to a rewritten follow-up, so a wrong reading shows and can be retyped."""
    return f"_Read as: {brief.markdown_text(answer.resolved)}_\n\n" if getattr(answer, "resolved", None) else ""


def _problem(exc: Exception, subject: str) -> str:
    """One sentence for people: library errors are written for them; anything else is a bug, logged in full."""
    if isinstance(exc, AmpiError):
        return str(exc)
    log.error("failed on %r", subject, exc_info=exc)
    return "something went wrong; the details are in the server log"


def _panel(assistant: Assistant, answers: list[dict], index: int) -> tuple:
    """Sources panel, figures table, chart and the pin / rate buttons (shown only with an answer to act on)
    for the answer at `index` of this session."""
    answer = answers[index]["answer"] if 0 <= index < len(answers) else None
    frame = figures_frame(answer)
    units = set(frame["unit"])
    report = report_passages(assistant, answer.citations + answer.related) if answer else set()
    return (sources_html(answer, index + 1, len(answers), report),
            gr.Dataframe(value=capitalize_columns(frame), visible=len(frame) > 0,
                         label="Values in this answer" if len(frame) < 2 else "The same values as a table"),
            # Bars must start at zero: an axis fitted to the data hides small bars and exaggerates gaps.
            gr.BarPlot(value=frame, visible=len(frame) >= 2, y_title=units.pop() if len(units) == 1 else "value",
                       y_lim=[min(0.0, float(frame["value"].min())), float(frame["value"].max()) * 1.08] if len(frame) else None),
            gr.Column(visible=answer is not None))


def _pinned_report(assistant: Assistant, items: list) -> set:
    """Citation keys of the bundled report's passages among pinned items (their links stay live)."""
    return report_passages(assistant, [c for item in items for c in item.answer.citations])


def _indexed_documents(assistant: Assistant, request: gr.Request | None) -> list[dict]:
    """The documents this user may see, for the briefing's references (none when nothing is indexed)."""
    try:
        return assistant.documents(user_folder(user_of(request)))
    except AmpiError:
        return []


def _briefing_view(settings: Settings, assistant: Assistant, request: gr.Request | None, keep: str | None = None) -> tuple:
    """Pinned-item picker and Markdown preview of the briefing of this user (or, without login, this browser)."""
    owner = auth.briefing_owner(request)
    items = brief.load_briefing(settings, owner).items
    choices = [(f"{n}. {brief.asked(item.answer)}", item.id) for n, item in enumerate(items, 1)]
    value = keep if keep in {item.id for item in items} else (items[0].id if items else None)
    return gr.Radio(choices=choices, value=value), brief.to_markdown(
        items, user=owner, report=_pinned_report(assistant, items), documents=_indexed_documents(assistant, request))


def _forget_call(app: gr.Blocks, request: gr.Request | None) -> None:
    """The /ask API keeps nothing per call: drop its session now, on the event loop that owns the sessions."""
    holder, session_hash = getattr(app, "state_holder", None), getattr(request, "session_hash", None)
    try:
        anyio.from_thread.run_sync(auth.forget_api_session, holder, session_hash)
    except RuntimeError:  # called outside Gradio's worker threads: no event loop to hand it to
        auth.forget_api_session(holder, session_hash)


def own(answers: list[dict], request: gr.Request | None) -> list[dict]:
    """The session's answers that belong to the user making this request.

    Gradio keys gr.State by the client-chosen session hash alone, so another logged-in user who learns
    that hash reaches the same State; each answer therefore records its user, and others see none.
    """
    user = user_of(request)
    return [entry for entry in answers or [] if entry.get("user") == user]


def build_app(settings: Settings, assistant: Assistant | None = None) -> gr.Blocks:
    """The whole UI as a Blocks app; launch it with `launch_options(settings)`."""
    assistant = assistant or Assistant(settings)
    brief.prune_visitor_briefings(settings)

    def ask_in_chat(question: str, history: list, answers: list[dict], request: gr.Request):
        answers = own(answers, request)
        question = (question or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            yield (history, question, answers, len(answers) - 1, *_panel(assistant, answers, len(answers) - 1))
            return
        waiting = history + [{"role": "user", "content": brief.markdown_text(question)},
                             {"role": "assistant", "content": SEARCHING}]
        yield (waiting, "", answers, len(answers) - 1, *_panel(assistant, answers, len(answers) - 1))
        try:
            # The conversation: the earlier questions still in this chat (none once it is cleared), so that
            # "and in 2011?" follows on from them.
            shown = sum(1 for m in history or [] if (m.get("role") if isinstance(m, dict) else getattr(m, "role", "")) == "user")
            earlier = [entry["answer"].question for entry in answers][-min(shown, CONVERSATION_TURNS):] if shown else []
            answer = assistant.answer(question, user=user_folder(user_of(request)), history=earlier)
        except Exception as exc:  # the chat goes back to how it was; the message says why
            gr.Warning(NO_INDEX if isinstance(exc, NoIndex) else f"Could not answer: {_problem(exc, question)}")
            yield (history, question, answers, len(answers) - 1, *_panel(assistant, answers, len(answers) - 1))
            return
        answers = answers + [{"id": uuid.uuid4().hex[:12], "answer": answer, "user": user_of(request)}]
        waiting[-1] = {"role": "assistant", "content": read_as(answer) + chat_message(answer)}
        yield (waiting, "", answers, len(answers) - 1, *_panel(assistant, answers, len(answers) - 1))

    def select_answer(answers: list[dict], evt: gr.SelectData, request: gr.Request):
        answers = own(answers, request)
        index = evt.index if isinstance(evt.index, int) else evt.index[0]
        index = min(index // 2, len(answers) - 1)  # messages alternate question, answer
        return (index, *_panel(assistant, answers, index))

    def rate(answers: list[dict], index: int, comment: str, rating: str, request: gr.Request):
        answers = own(answers, request)
        if not 0 <= index < len(answers):
            gr.Warning("Ask a question first; then rate its answer.")
            return comment
        record_feedback(settings, user_of(request), answers[index]["answer"], rating, comment)
        gr.Info(duration=4, message="Thanks: your feedback was saved." + (" The comment was included." if comment.strip() else ""))
        return ""

    # Gradio passes gr.Request only to parameters annotated with it, so each button gets a named function.
    def rate_up(answers: list[dict], index: int, comment: str, request: gr.Request):
        return rate(answers, index, comment, "up", request)

    def rate_down(answers: list[dict], index: int, comment: str, request: gr.Request):
        return rate(answers, index, comment, "down", request)

    # Each briefing change also says what Undo can bring back: the item just removed, until the next change.
    def no_undo() -> tuple:
        return None, gr.Button(visible=False)

    def pin_selected(answers: list[dict], index: int, request: gr.Request):
        answers = own(answers, request)
        if not 0 <= index < len(answers):
            gr.Warning("Ask a question first; then pin its answer.")
            return (*_briefing_view(settings, assistant, request), *no_undo())
        entry = answers[index]
        try:
            briefing, added = brief.pin_answer(settings, auth.briefing_owner(request), entry["answer"], entry["id"])
        except brief.NotPinnable as exc:
            gr.Warning(str(exc))
            return (*_briefing_view(settings, assistant, request), gr.update(), gr.update())
        count = len(briefing.items)
        items = f"{count} item{'s' if count != 1 else ''}"
        gr.Info(duration=4, message=f"Pinned to your briefing ({items}). Open the Briefing tab to export it." if added
                else f"This answer is already in your briefing ({items}); it is kept once.")
        keep = entry["id"] if added else None
        return (*_briefing_view(settings, assistant, request, keep=keep), *(no_undo() if added else (gr.update(), gr.update())))

    def change_briefing(item_id: str | None, action: str, request: gr.Request):
        owner, undo = auth.briefing_owner(request), None
        if item_id and action == "remove":
            _, removed = brief.take_out(settings, owner, item_id)
            if removed:
                position, item = removed
                undo = {"owner": owner, "position": position, "item": item.model_dump(mode="json")}
        elif item_id:
            brief.move(settings, owner, item_id, -1 if action == "up" else 1)
        return (*_briefing_view(settings, assistant, request, keep=item_id),
                undo, gr.Button(visible=undo is not None))

    def item_up(item_id: str | None, request: gr.Request):
        return change_briefing(item_id, "up", request)

    def item_down(item_id: str | None, request: gr.Request):
        return change_briefing(item_id, "down", request)

    def item_remove(item_id: str | None, request: gr.Request):
        return change_briefing(item_id, "remove", request)

    def undo_remove(undo: dict | None, request: gr.Request):
        """Put the last removed item back where it was (in the same briefing only)."""
        owner = auth.briefing_owner(request)
        if not undo or undo.get("owner") != owner:
            return (*_briefing_view(settings, assistant, request), *no_undo())
        item = brief.BriefingItem.model_validate(undo["item"])
        brief.put_back(settings, owner, int(undo["position"]), item)
        gr.Info(duration=3, message="The answer is back in your briefing.")
        return (*_briefing_view(settings, assistant, request, keep=item.id), *no_undo())

    def show_briefing(request: gr.Request):
        return _briefing_view(settings, assistant, request)

    def export_briefing(request: gr.Request):
        owner = auth.briefing_owner(request)
        items = brief.load_briefing(settings, owner).items
        if not items:
            gr.Warning("Nothing is pinned yet: pin answers from the Ask tab first.")
            return gr.HTML(visible=False)
        # Saved in the owner's own folder and downloaded through auth.export_route, which serves it to them alone.
        paths = brief.save_export(settings, owner, items, report=_pinned_report(assistant, items),
                                  documents=_indexed_documents(assistant, request))
        return gr.HTML(export_link([(auth.export_url(path), path.name) for path in paths]), visible=True)

    def load_page(request: gr.Request):
        viewer = user_folder(user_of(request))
        try:
            docs = assistant.documents(viewer)
            # Outline and glossary are built from every document: keep to those this user may see.
            titles = {d["title"] for d in docs}
            sections = [s for s in assistant.outline() if s.doc in titles]
            glossary = glossary_html([g for g in assistant.glossary() if g.doc in titles])
        except AmpiError as exc:
            if not isinstance(exc, NoIndex):  # an empty index is explained on the page itself
                gr.Warning(str(exc))
            docs, sections, glossary = [], [], glossary_html([])
        choices, outline = outline_choices(sections), outline_items(sections)
        # Open the outline at the first numbered section, so the browser is never an empty box.
        first = next((value for label, value in choices if label[:1].isdigit()), choices[0][1] if choices else None)
        items, text = pick_section(first, outline, request)
        return (intro_markdown(docs), gr.Dropdown(choices=choices, value=first), outline, items, text,
                glossary, documents_frame(assistant, viewer), *_briefing_view(settings, assistant, request))

    def show_passage(chunk_id: str | None, request: gr.Request):
        """A passage of a document this user may see (ids come from the browser, so check them here)."""
        chunk = assistant.chunk(chunk_id) if chunk_id else None
        hidden = assistant.hidden_documents(user_folder(user_of(request))) if chunk else set()
        return passage_view(assistant, None if chunk and chunk.doc_id in hidden else chunk_id)

    def pick_section(index: str | None, outline: list, request: gr.Request):
        items = outline[int(index)] if index is not None and int(index) < len(outline) else []
        first = items[0][1] if items else None
        return gr.Radio(choices=items, value=first), show_passage(first, request)

    # `share` comes after `request`: Gradio fills it from the checkbox, and older callers pass four arguments.
    def add_document(file_path: str | None, password: str, ingests: int, request: gr.Request, share: bool = False,
                     progress=gr.Progress()):  # noqa: B008 (Gradio injects the tracker through this default)
        from index.worker import build_index_in_child

        if not file_path:
            gr.Warning("Choose a file first.")
            return gr.update(), gr.update(), ingests
        upload = None
        try:
            upload = accept_upload(settings, user_of(request), Path(file_path))

            def report_progress(name: str, done: int, total: int) -> None:
                step = ("Embedding passages" if name == "embedding chunks"
                        else name.capitalize() if name.startswith("waiting") else f"Reading {name}")
                progress((done, total), desc=step)

            progress(0, desc="Starting the ingest")
            # In a child process: a failed or stuck ingest must never reach the process that answers questions.
            # The stored file is replaced only if the new one is indexed (see index.staging).
            report = build_index_in_child(settings, staged=[(upload.staged, upload.target)],
                                          password=password or None, progress=report_progress)
        except Exception as exc:
            if upload is not None:
                discard(upload.staged)
            gr.Warning(f"Could not add the file: {_problem(exc, file_path)}")
            return gr.update(), gr.update(), ingests
        target = upload.target
        if any(p == str(target) for p, _ in report.skipped + report.duplicates):
            gr.Warning(f"{target.name} was not added; see the report below.")
        else:
            remember_name(upload)
            remember_sharing(upload, bool(share))
        viewer = user_folder(user_of(request))
        return ingest_summary(report, target, bool(share)), documents_frame(assistant, viewer), ingests + 1

    def list_own_uploads(request: gr.Request):
        files = own_uploads(settings, user_of(request))
        return gr.Dropdown(choices=files, value=None), gr.Column(visible=bool(files))

    def remove_document(name: str | None, ingests: int, request: gr.Request,
                        progress=gr.Progress()):  # noqa: B008 (Gradio injects the tracker through this default)
        """Take one of the user's uploads out of the index and delete it (the bundled report can't be removed)."""
        from index.worker import build_index_in_child

        if not name:
            gr.Warning("Choose one of your uploaded documents first.")
            return gr.update(), gr.update(), ingests
        original = {stored: shown for shown, stored in own_uploads(settings, user_of(request))}.get(name, name)
        try:
            path = uploaded_file(settings, user_folder(user_of(request)), name)
            progress(0, desc="Removing the document")
            build_index_in_child(settings, remove=[path],
                                 progress=lambda step, done, total: progress((done, total), desc="Rebuilding the index"))
        except Exception as exc:
            gr.Warning(f"Could not remove the file: {_problem(exc, name)}")
            return gr.update(), gr.update(), ingests
        forget_upload(path.parent, path.name)
        return (f"**Removed:** {brief.markdown_text(original)} — its passages are no longer searched.",
                documents_frame(assistant, user_folder(user_of(request))), ingests + 1)

    def ask_api(question: str, request: gr.Request) -> dict:
        """Answer one question; returns the JSON record of `ampi ask --json`."""
        return _answer_api(question, None, request)

    def ask_in_context_api(question: str, history: list[str], request: gr.Request) -> dict:
        """Answer a chat question after `history` (the earlier questions of the same chat, oldest first): a
        follow-up is answered in context and the record adds "resolved", the standalone question answered.

        A separate endpoint because Gradio's API takes every input of an endpoint: an optional second input
        on /ask would break every caller that sends only the question."""
        return _answer_api(question, history, request)

    def _answer_api(question: str, history: list[str] | None, request: gr.Request) -> dict:
        if history is not None and not (isinstance(history, list) and all(isinstance(q, str) for q in history)):
            _forget_call(app, request)
            raise gr.Error('"history" must be a list of earlier questions (strings, oldest first)')
        try:
            result = assistant.answer(question, user=user_folder(user_of(request)), history=history or None)
            return answer_record(result, uuid.uuid4().hex[:12], in_chat=history is not None)
        except AmpiError as exc:
            raise gr.Error(str(exc)) from exc
        finally:
            _forget_call(app, request)

    private = {"api_visibility": "private"}
    # delete_cache: Gradio's copies of uploads (and other cached files) go after a day, checked hourly.
    with gr.Blocks(title="AMPI document assistant", analytics_enabled=False, delete_cache=(3600, 86400)) as app:
        answers = gr.State([])  # this browser session's answers: [{"id", "answer", "user"}]; read through own()
        selected = gr.State(-1)
        undo = gr.State(None)  # the briefing item just removed, until the next change: {"owner", "position", "item"}
        outline = gr.State([])
        ingests = gr.State(0)  # bumped by each successful ingest; a failed one must change nothing
        login = bool(auth.load_users(settings))
        with gr.Row(equal_height=False):
            gr.Markdown(HEADER)
            if login:  # Gradio's /logout ends this browser's sign-in and returns to the login form
                gr.Button("Log out", link="logout?all_session=false", size="sm", scale=0, min_width=90,
                          elem_id="ampi-logout")
        with gr.Tabs(selected="ask") as tabs:
            with gr.Tab("Ask", id="ask"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(label="Questions and answers", height=560, latex_delimiters=[],
                                             buttons=["copy"], elem_id="ampi-chat",
                                             placeholder="**Ask anything about the report.** Answers cite passages as "
                                                         "[1], [2]…; click an answer to see its sources on the right.")
                        with gr.Row():
                            question = gr.Textbox(show_label=False, scale=5, elem_id="ampi-question", autofocus=True,
                                                  placeholder="e.g. What was Japan's M&E value added in 2021?")
                            ask_button = gr.Button("Ask", variant="primary", scale=1, elem_id="ampi-ask")
                    with gr.Column(scale=2):
                        # Shown once there is an answer to pin or rate (see show_actions).
                        with gr.Column(visible=False, elem_id="ampi-actions") as actions:
                            # Words, not emoji: browsers without an emoji font would show empty boxes.
                            with gr.Row():
                                pin_button = gr.Button("Pin to briefing", size="sm", min_width=90, elem_id="ampi-pin")
                                up_button = gr.Button("Helpful", size="sm", min_width=90, elem_id="ampi-up")
                                down_button = gr.Button("Not helpful", size="sm", min_width=90, elem_id="ampi-down")
                            comment = gr.Textbox(label="Comment on the answer below (optional, saved with Helpful / Not helpful)",
                                                 lines=1, elem_id="ampi-comment")
                        # Figures first: for a numbers question the chart is the quickest read.
                        chart = gr.BarPlot(x="label", y="value", label="Values in this answer", visible=False,
                                           x_title="", sort="-y", height=260, x_label_angle=-35, elem_id="ampi-chart")
                        figures = gr.Dataframe(label="Values in this answer", visible=False, interactive=False, wrap=True,
                                               max_height=220, elem_id="ampi-figures")
                        panel = gr.HTML(sources_html(None), max_height=620, elem_id="ampi-sources")
            with gr.Tab("Start here", id="start"):
                intro = gr.Markdown()
                gr.Markdown("### Suggested questions\nClick one to ask it.")
                suggestions = []
                with gr.Row():
                    for number, (title, questions) in SUGGESTED.items():
                        with gr.Column():
                            gr.Markdown(f"**Section {number}: {title}**")
                            suggestions += [(gr.Button(q, size="sm"), q) for q in questions]
                gr.Markdown("### Browse the report\nPick a section, then a paragraph or table to read it with its footnotes.")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2):
                        section_pick = gr.Dropdown(label="Section", choices=[], elem_id="ampi-section")
                        item_pick = gr.Radio(label="Paragraphs and tables", choices=[], elem_id="ampi-items")
                    with gr.Column(scale=3):
                        passage = gr.HTML(passage_view(assistant, None), elem_id="ampi-passage")
                gr.Markdown("### Glossary\nEvery abbreviation the documents use, as they spell it out, with the passage that does "
                            "so (or, where they never spell it out, where it is first used).")
                glossary = gr.HTML(glossary_html([]), elem_id="ampi-glossary")
            with gr.Tab("Briefing", id="briefing") as briefing_tab:
                gr.Markdown("Answers you pin in **Ask** collect here, in order, with their citations. "
                            "Reorder them, then export a briefing anyone can read without the chat, as Markdown "
                            "or as a Word document." + ("" if login else " Without login, the briefing belongs to "
                                                        "this browser until it is closed."))
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2):
                        pinned = gr.Radio(label="Pinned answers (select one to move or remove it)", choices=[],
                                          elem_id="ampi-pinned")
                        with gr.Row():
                            move_up = gr.Button("↑ Move up", size="sm", min_width=80, elem_id="ampi-move-up")
                            move_down = gr.Button("↓ Move down", size="sm", min_width=80, elem_id="ampi-move-down")
                            drop = gr.Button("Remove", size="sm", min_width=80, variant="stop", elem_id="ampi-remove")
                        undo_button = gr.Button("Undo remove", size="sm", visible=False, elem_id="ampi-undo")
                        export_button = gr.Button("Export (Markdown and Word)", variant="primary", elem_id="ampi-export")
                        export_file = gr.HTML(visible=False, elem_id="ampi-export-file")
                    with gr.Column(scale=3):
                        preview = gr.Markdown(elem_id="ampi-briefing-preview", container=True, padding=True)
            with gr.Tab("Documents", id="documents"):
                gr.Markdown(f"Add a PDF, Markdown or text file (at most {settings.max_upload_mb:g} MB). It is read, "
                            "split into passages and searched alongside the report; answers cite it by page or heading.")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2):
                        upload = gr.File(label="File to add", file_types=list(UPLOAD_TYPES), elem_id="ampi-upload")
                        password = gr.Textbox(label="PDF password (only for protected PDFs)", type="password")
                        # Off by default: an upload is searched for its uploader alone unless they choose otherwise.
                        share = gr.Checkbox(label="Share with everyone (others can search this file)", value=False,
                                            elem_id="ampi-share")
                        add_button = gr.Button("Add to the index", variant="primary", elem_id="ampi-add")
                        ingest_result = gr.Markdown(elem_id="ampi-ingest-result")
                        # Only the user's own uploads are listed (shown once there is one): the bundled report
                        # and others' files stay.
                        with gr.Column(visible=False, elem_id="ampi-own-box") as own_box:
                            own_files = gr.Dropdown(label="Your uploaded documents (pick one to remove it from the index)",
                                                    choices=[], value=None, elem_id="ampi-own-files")
                            remove_button = gr.Button("Remove from the index", variant="stop", size="sm",
                                                      elem_id="ampi-remove-file")
                    with gr.Column(scale=3):
                        documents = gr.Dataframe(label="Indexed documents", interactive=False, wrap=True,
                                                 column_widths=["28%", "26%", "13%", "14%", "19%"], elem_id="ampi-documents")

        panel_outputs = [panel, figures, chart, actions]
        ask_outputs = [chatbot, question, answers, selected, *panel_outputs]
        ask_args = {"fn": ask_in_chat, "inputs": [question, chatbot, answers], "outputs": ask_outputs,
                    "concurrency_id": "answer", "concurrency_limit": settings.ui_answer_concurrency, **private}
        ask_button.click(**ask_args)
        question.submit(**ask_args)
        for button, text in suggestions:
            button.click(lambda text=text: (text, gr.Tabs(selected="ask")), None, [question, tabs], **private).then(**ask_args)
        chatbot.select(select_answer, [answers], [selected, *panel_outputs], **private)
        up_button.click(rate_up, [answers, selected, comment], [comment], **private)
        down_button.click(rate_down, [answers, selected, comment], [comment], **private)
        briefing_outputs = [pinned, preview, undo, undo_button]
        pin_button.click(pin_selected, [answers, selected], briefing_outputs, **private)
        briefing_tab.select(show_briefing, None, [pinned, preview], **private)
        move_up.click(item_up, [pinned], briefing_outputs, **private)
        move_down.click(item_down, [pinned], briefing_outputs, **private)
        drop.click(item_remove, [pinned], briefing_outputs, **private)
        undo_button.click(undo_remove, [undo], briefing_outputs, **private)
        pinned.change(lambda: gr.HTML(visible=False), None, [export_file], **private)
        export_button.click(export_briefing, None, [export_file], **private)
        section_pick.change(pick_section, [section_pick, outline], [item_pick, passage], **private)
        item_pick.change(show_passage, [item_pick], [passage], **private)
        page_outputs = [intro, section_pick, outline, item_pick, passage, glossary, documents, pinned, preview]
        # After an ingest the outline, glossary and intro may change too: reload them like a page load.
        add_button.click(add_document, [upload, password, ingests, share], [ingest_result, documents, ingests], concurrency_limit=1,
                         concurrency_id="ingest", **private)
        upload.change(lambda: "", None, [ingest_result], **private)  # a new file: the last one's report is stale
        remove_button.click(remove_document, [own_files, ingests], [ingest_result, documents, ingests], concurrency_limit=1,
                            concurrency_id="ingest", **private)
        ingests.change(load_page, None, page_outputs, **private)
        ingests.change(list_own_uploads, None, [own_files, own_box], **private)
        app.load(load_page, None, page_outputs, **private)
        app.load(list_own_uploads, None, [own_files, own_box], **private)
        # Answering is read-only and thread-safe (the index loads under a lock), so several people are served
        # at once; Gradio's default of one event at a time made everyone queue behind each other.
        gr.api(ask_api, api_name="ask", concurrency_id="answer", concurrency_limit=settings.ui_answer_concurrency)
        gr.api(ask_in_context_api, api_name="ask_in_context", concurrency_id="answer",
               concurrency_limit=settings.ui_answer_concurrency)
    return app


def serve(settings: Settings) -> None:
    """Start the UI on settings.ui_host:ui_port (login required when UI users are configured)."""
    offline_environment()
    options = launch_options(settings)
    assistant = Assistant(settings)
    try:  # load the model and index now, so the first question is not the slow one
        assistant.index()
        assistant.embedder.embed_query("warm up")
    except AmpiError as exc:
        log.warning("starting without an index: %s", exc)
    app = build_app(settings, assistant)
    # What a person starting the app needs, and nothing else: Gradio's own banner (with its `share=True` hint)
    # is off, and the HTTP client's request lines are not logged even with `ampi -v`.
    for noisy in ("httpx", "httpcore", "urllib3", "multipart", "python_multipart", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    users = len(auth.load_users(settings))
    print(f"AMPI document assistant: login required ({users} user{'s' if users != 1 else ''})" if users
          else "AMPI document assistant: no login (set AMPI_UI_USERS or AMPI_UI_USERS_FILE to require one)", flush=True)
    app.launch(server_name=settings.ui_host, server_port=settings.ui_port, quiet=True, prevent_thread_lock=True, **options)
    host = "127.0.0.1" if settings.ui_host in ("0.0.0.0", "::", "") else settings.ui_host
    print(f"Open http://{host}:{app.server_port or settings.ui_port}  (Ctrl+C to stop)", flush=True)
    try:
        app.block_thread()
    finally:
        app.close()
