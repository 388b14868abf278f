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
    glossary_frame,
    intro_markdown,
    outline_choices,
    outline_items,
    passage_view,
    report_passages,
    sources_html,
)
from ui.uploads import UPLOAD_TYPES, accept_upload, ingest_summary, remember_name, remember_sharing, user_folder  # noqa: E402

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


def launch_options(settings: Settings) -> dict:
    """Keyword arguments for Blocks.launch shared by `serve` and the tests (Gradio 6 takes css/theme here)."""
    from starlette.middleware import Middleware

    users = auth.load_users(settings)
    guard = auth.LoginGuard(users, settings.ui_login_free_attempts, settings.ui_login_max_wait_s) if users else None
    # app_kwargs go to the FastAPI app Gradio builds: the login guard's address middleware, the briefing
    # download route, and a lifespan task that forgets idle sessions.
    server = {"middleware": [Middleware(auth.ClientAddress)], "routes": [auth.export_route(settings)],
              "lifespan": auth.session_expiry(settings.ui_session_ttl_s)}
    return {"auth": guard.check if guard else None,
            "auth_message": "Sign in to the AMPI document assistant." if users else None,
            "share": False, "show_error": True, "css": CSS, "theme": THEME, "app_kwargs": server,
            "max_file_size": int(settings.max_upload_mb * 1024 * 1024), "footer_links": ["api", "settings"]}


# -- the page ----------------------------------------------------------------------------------
HEADER = ("## AMPI document assistant\n"
          "Ask questions about AMPI's *Future State of Machinery Sector* report (SQW, 2025) and the documents added "
          "to it. Every answer quotes the paragraph, table or page it rests on, so you can check it. "
          "**New here? Open *Start here*.**")


def _problem(exc: Exception, subject: str) -> str:
    """One sentence for people: library errors are written for them; anything else is a bug, logged in full."""
    if isinstance(exc, AmpiError):
        return str(exc)
    log.error("failed on %r", subject, exc_info=exc)
    return "something went wrong; the details are in the server log"


def _panel(assistant: Assistant, answers: list[dict], index: int) -> tuple:
    """Sources panel, figures table and chart for the answer at `index` of this session."""
    answer = answers[index]["answer"] if 0 <= index < len(answers) else None
    frame = figures_frame(answer)
    units = set(frame["unit"])
    report = report_passages(assistant, answer.citations + answer.related) if answer else set()
    return (sources_html(answer, index + 1, len(answers), report),
            gr.Dataframe(value=capitalize_columns(frame), visible=len(frame) > 0,
                         label="Values in this answer" if len(frame) < 2 else "The same values as a table"),
            # Bars must start at zero: an axis fitted to the data hides small bars and exaggerates gaps.
            gr.BarPlot(value=frame, visible=len(frame) >= 2, y_title=units.pop() if len(units) == 1 else "value",
                       y_lim=[min(0.0, float(frame["value"].min())), float(frame["value"].max()) * 1.08] if len(frame) else None))


def _pinned_report(assistant: Assistant, items: list) -> set:
    """Citation keys of the bundled report's passages among pinned items (their links stay live)."""
    return report_passages(assistant, [c for item in items for c in item.answer.citations])


def _briefing_view(settings: Settings, assistant: Assistant, user: str, keep: str | None = None) -> tuple:
    """Pinned-item picker and Markdown preview of a user's briefing."""
    items = brief.load_briefing(settings, user).items
    choices = [(f"{n}. {item.answer.question}", item.id) for n, item in enumerate(items, 1)]
    value = keep if keep in {item.id for item in items} else (items[0].id if items else None)
    return gr.Radio(choices=choices, value=value), brief.to_markdown(items, user=user, report=_pinned_report(assistant, items))


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
            answer = assistant.answer(question, user=user_folder(user_of(request)))
        except Exception as exc:  # the chat goes back to how it was; the message says why
            gr.Warning(NO_INDEX if isinstance(exc, NoIndex) else f"Could not answer: {_problem(exc, question)}")
            yield (history, question, answers, len(answers) - 1, *_panel(assistant, answers, len(answers) - 1))
            return
        answers = answers + [{"id": uuid.uuid4().hex[:12], "answer": answer, "user": user_of(request)}]
        waiting[-1] = {"role": "assistant", "content": chat_message(answer)}
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

    def pin_selected(answers: list[dict], index: int, request: gr.Request):
        answers = own(answers, request)
        if not 0 <= index < len(answers):
            gr.Warning("Ask a question first; then pin its answer.")
            return _briefing_view(settings, assistant, user_of(request))
        entry = answers[index]
        count = len(brief.pin(settings, user_of(request), entry["answer"], entry["id"]).items)
        gr.Info(duration=4, message=f"Pinned to your briefing ({count} item{'s' if count != 1 else ''}). Open the Briefing tab to export it.")
        return _briefing_view(settings, assistant, user_of(request), keep=entry["id"])

    def change_briefing(item_id: str | None, action: str, request: gr.Request):
        user = user_of(request)
        if item_id and action == "remove":
            brief.remove(settings, user, item_id)
        elif item_id:
            brief.move(settings, user, item_id, -1 if action == "up" else 1)
        return _briefing_view(settings, assistant, user, keep=item_id)

    def item_up(item_id: str | None, request: gr.Request):
        return change_briefing(item_id, "up", request)

    def item_down(item_id: str | None, request: gr.Request):
        return change_briefing(item_id, "down", request)

    def item_remove(item_id: str | None, request: gr.Request):
        return change_briefing(item_id, "remove", request)

    def show_briefing(request: gr.Request):
        return _briefing_view(settings, assistant, user_of(request))

    def export_briefing(request: gr.Request):
        user = user_of(request)
        items = brief.load_briefing(settings, user).items
        if not items:
            gr.Warning("Nothing is pinned yet: pin answers from the Ask tab first.")
            return gr.HTML(visible=False)
        # Saved in the user's own folder and downloaded through auth.export_route, which serves it to them alone.
        path = brief.save_export(settings, user, items, report=_pinned_report(assistant, items))
        return gr.HTML(export_link(auth.export_url(path), path.name), visible=True)

    def load_page(request: gr.Request):
        viewer = user_folder(user_of(request))
        try:
            docs = assistant.documents(viewer)
            # Outline and glossary are built from every document: keep to those this user may see.
            titles = {d["title"] for d in docs}
            sections = [s for s in assistant.outline() if s.doc in titles]
            glossary = glossary_frame([g for g in assistant.glossary() if g.doc in titles])
        except AmpiError as exc:
            if not isinstance(exc, NoIndex):  # an empty index is explained on the page itself
                gr.Warning(str(exc))
            docs, sections, glossary = [], [], glossary_frame([])
        choices, outline = outline_choices(sections), outline_items(sections)
        # Open the outline at the first numbered section, so the browser is never an empty box.
        first = next((value for label, value in choices if label[:1].isdigit()), choices[0][1] if choices else None)
        items, text = pick_section(first, outline, request)
        return (intro_markdown(docs), gr.Dropdown(choices=choices, value=first), outline, items, text,
                glossary, documents_frame(assistant, viewer), *_briefing_view(settings, assistant, user_of(request)))

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

    def ask_api(question: str, request: gr.Request) -> dict:
        """Answer one question; returns the JSON record of `ampi ask --json`."""
        try:
            return answer_record(assistant.answer(question, user=user_folder(user_of(request))), uuid.uuid4().hex[:12])
        except AmpiError as exc:
            raise gr.Error(str(exc)) from exc
        finally:
            _forget_call(app, request)

    private = {"api_visibility": "private"}
    # delete_cache: Gradio's copies of uploads (and other cached files) go after a day, checked hourly.
    with gr.Blocks(title="AMPI document assistant", analytics_enabled=False, delete_cache=(3600, 86400)) as app:
        answers = gr.State([])  # this browser session's answers: [{"id", "answer", "user"}]; read through own()
        selected = gr.State(-1)
        outline = gr.State([])
        ingests = gr.State(0)  # bumped by each successful ingest; a failed one must change nothing
        gr.Markdown(HEADER)
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
                gr.Markdown("### Glossary\nAbbreviations as the documents spell them out, with the paragraph that does so.")
                glossary = gr.Dataframe(interactive=False, wrap=True, column_widths=["12%", "63%", "25%"],
                                        elem_id="ampi-glossary")
            with gr.Tab("Briefing", id="briefing") as briefing_tab:
                gr.Markdown("Answers you pin in **Ask** collect here, in order, with their citations. "
                            "Reorder them, then export a Markdown briefing anyone can read without the chat.")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2):
                        pinned = gr.Radio(label="Pinned answers (select one to move or remove it)", choices=[],
                                          elem_id="ampi-pinned")
                        with gr.Row():
                            move_up = gr.Button("↑ Move up", size="sm", min_width=80)
                            move_down = gr.Button("↓ Move down", size="sm", min_width=80)
                            drop = gr.Button("Remove", size="sm", min_width=80, variant="stop")
                        export_button = gr.Button("Export Markdown", variant="primary", elem_id="ampi-export")
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
                    with gr.Column(scale=3):
                        documents = gr.Dataframe(label="Indexed documents", interactive=False, wrap=True,
                                                 column_widths=["28%", "26%", "13%", "14%", "19%"], elem_id="ampi-documents")

        panel_outputs = [panel, figures, chart]
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
        pin_button.click(pin_selected, [answers, selected], [pinned, preview], **private)
        briefing_tab.select(show_briefing, None, [pinned, preview], **private)
        move_up.click(item_up, [pinned], [pinned, preview], **private)
        move_down.click(item_down, [pinned], [pinned, preview], **private)
        drop.click(item_remove, [pinned], [pinned, preview], **private)
        pinned.change(lambda: gr.HTML(visible=False), None, [export_file], **private)
        export_button.click(export_briefing, None, [export_file], **private)
        section_pick.change(pick_section, [section_pick, outline], [item_pick, passage], **private)
        item_pick.change(show_passage, [item_pick], [passage], **private)
        page_outputs = [intro, section_pick, outline, item_pick, passage, glossary, documents, pinned, preview]
        # After an ingest the outline, glossary and intro may change too: reload them like a page load.
        add_button.click(add_document, [upload, password, ingests, share], [ingest_result, documents, ingests], concurrency_limit=1,
                         concurrency_id="ingest", **private)
        ingests.change(load_page, None, page_outputs, **private)
        app.load(load_page, None, page_outputs, **private)
        # Answering is read-only and thread-safe (the index loads under a lock), so several people are served
        # at once; Gradio's default of one event at a time made everyone queue behind each other.
        gr.api(ask_api, api_name="ask", concurrency_id="answer", concurrency_limit=settings.ui_answer_concurrency)
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
    log.info("serving on http://%s:%s%s", settings.ui_host, settings.ui_port, " (login required)" if options["auth"] else "")
    app.launch(server_name=settings.ui_host, server_port=settings.ui_port, **options)
