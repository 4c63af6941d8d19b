"""The web UI (Gradio): 问答 with sources, export, 文档管理, 检索测试 and 评测.

    rag ui [--host 127.0.0.1] [--port 7860] [--auth 用户名:密码]      (or inside `rag serve`, at /ui/)

`launch(settings, host=, port=)` is what `rag ui` calls; `build_app(settings, host=)` builds the
same Blocks for tests and for `rag serve`, which mounts it (pass `launch_options()` and
`mount_options()` to launch or mount for the theme, styles and limits). The models and the index
load once per process and are shared by every session (rag.ui.engine).

Each tab is built by its own function below (`_chat_tab`, `_documents_tab`, `_search_tab`,
`_eval_tab`), which creates its components and wires its events; `build_app` lays them out.
Everything a user reads is Chinese and for users (render.for_users): no exception names, no
command lines. Each event says what happened once, in the status area next to it.

Uploaded files are copied into Settings.uploads_dir (data/uploads/) before they are indexed.
"""
from __future__ import annotations

import io
import logging
import os
import re
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from rag.answer.chain import Turn
from rag.config import Settings
from rag.errors import InputError, RagError
from rag.export import export
from rag.loaders import MAX_BYTES
from rag.schema import AnswerResult
from rag.validate import clean_question

from . import render
from .engine import AskOptions, Engine
from .style import CSS

log = logging.getLogger("rag.ui")

TITLE = "政策案例问答"
EXAMPLES = [
    "哪些地方用信托制物业?",
    "莱阳市的物业费收缴率提升到了多少？",
    "罗定市的“3+2+5”城市社区党建模式是什么？",
    "岑溪市怎样用牛娘戏参与基层治理？",
]
BACKEND_CHOICES = [(label, key) for key, label in render.BACKENDS.items()]
MODE_CHOICES = [("混合检索（向量 + BM25）", "hybrid"), ("仅向量检索", "dense"), ("仅 BM25 关键词", "bm25")]
ALL_PLACES = "（全部地方）"
EXPORT_SCOPES = ["当前回答", "整个对话"]
DOC_HEADERS = ["文件", "篇序", "文章标题", "地点", "正文段落", "编码", "导入时间"]
HIT_HEADERS = ["排名", "综合得分", "向量排名", "BM25 排名", "地点", "文章标题", "位置", "段落原文"]
CONCURRENCY = 2  # a 2-core machine: two answers computed at once, the rest wait in the queue
LINE_DELAY = 0.04  # seconds between the lines of an answer that arrives whole (the extractive one)
UPLOAD_SET = "（上传的评测集）"

# Delegated from the conversation: a click on [n] brings source n into view and highlights it.
CITE_JS = """
element.addEventListener('click', (ev) => {
  const a = ev.target.closest('a.cite');
  if (!a) return;
  ev.preventDefault();
  const id = a.dataset.target;
  const el = document.getElementById(id);
  if (!el) return;
  const folded = el.closest('details');
  if (folded && !folded.open) folded.open = true;
  document.querySelectorAll('.src.active').forEach((x) => x.classList.remove('active', 'flash'));
  el.classList.add('active');
  void el.offsetWidth;
  el.classList.add('flash');
  const box = el.closest('.src-scroll');
  if (box) {
    const top = el.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop - 8;
    box.scrollTo({top: top, behavior: 'smooth'});
  }
  const r = el.getBoundingClientRect();
  if (r.top < 0 || r.bottom > window.innerHeight) el.scrollIntoView({block: 'nearest', behavior: 'smooth'});
  history.replaceState(null, '', '#' + id);
});
let turns = 0;
new MutationObserver(() => {
  const all = element.querySelectorAll('.turn');
  const box = element.querySelector('.conv');
  if (!box || !all.length) { turns = all.length; return; }
  const last = all[all.length - 1];
  if (all.length !== turns || last.classList.contains('pending')) {
    box.scrollTop = last.offsetTop - box.offsetTop - 4;
  }
  turns = all.length;
}).observe(element, {childList: true, subtree: true});
"""


def uploads_dir_default() -> Path:
    from rag.config import get_settings

    return get_settings().uploads_dir


def launch_options() -> dict:
    """Theme and styles, which Gradio 6 takes at launch() (and mount_gradio_app())."""
    fonts = ["Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", "Source Han Sans SC", "sans-serif"]
    theme = gr.themes.Soft(
        primary_hue=gr.themes.colors.blue, secondary_hue=gr.themes.colors.sky, neutral_hue=gr.themes.colors.slate,
        font=fonts, font_mono=["Noto Sans Mono CJK SC", "DejaVu Sans Mono", "monospace"],
    )
    return {"theme": theme, "css": CSS}


def mount_options() -> dict:
    """What launch() and mount_gradio_app() share: no API footer, no error traces, upload limits."""
    # Gradio refuses (in English) only what is far too big; the 20 MB limit is checked, in Chinese, on import
    return dict(footer_links=[], show_error=False, ssr_mode=False, mcp_server=False, pwa=False,
                enable_monitoring=False, allowed_paths=[], max_file_size=10 * MAX_BYTES)


# --- helpers ---------------------------------------------------------------------------------
def _index_status(engine: Engine) -> str:
    """For the header: what a user needs (how much is there), not the index's internals."""
    index = engine.peek()
    if index is None:
        return (f'<div class="index-status empty">⚠ {render.esc(render.for_users(engine.error or "还没有索引"))}'
                '：请到「文档管理」上传文档</div>')
    c = index.manifest.get("counts", {})
    return f'<div class="index-status">已收录 {c.get("documents", 0)} 份文档 · {c.get("paragraphs", 0)} 个段落</div>'


def _header(engine: Engine) -> str:
    return ('<div class="app-header"><div class="brand"><div class="logo">问</div><div>'
            f'<div class="app-title">{TITLE}</div>'
            '<div class="app-sub">从政策案例报道中查找做法与数据，每句回答都注明出处</div></div></div>'
            f'{_index_status(engine)}</div>')


def _index_details(engine: Engine) -> str:
    """For the documents tab: which index version answers, built with which model, when."""
    index = engine.peek()
    if index is None:
        return ""
    m = index.manifest
    return (f'<details class="index-details"><summary>索引详情</summary><div>版本 {render.esc(index.version_dir.name)}'
            f' · 嵌入模型 {render.esc(m.get("embedding", {}).get("model", ""))}'
            f' · 向量 {m.get("counts", {}).get("chunks", 0)} 条 · 更新于 {render.esc(m.get("created_at", ""))}</div></details>')


def _doc_rows(docs: list[dict]) -> list[list]:
    """One row per article; the most recently imported documents first."""
    rows = []
    by_name = sorted(docs, key=lambda d: d["doc"])
    for d in sorted(by_name, key=lambda d: d.get("added_at") or "", reverse=True):
        for a in d["articles"]:
            place = f"{a['province'] or ''}{a['city'] or ''}{a['county'] or ''}" or "（地点未知）"
            rows.append([d["doc"], a["number"], a["title"], place, a["paragraphs"], d["encoding"],
                         (d["added_at"] or "")[:16]])
    return rows


def _doc_summary(docs: list[dict]) -> str:
    if not docs:
        return '<div class="docs-summary">索引中还没有文档：请上传。</div>'
    articles = sum(len(d["articles"]) for d in docs)
    paragraphs = sum(a["paragraphs"] for d in docs for a in d["articles"])
    return (f'<div class="docs-summary">共 <b>{len(docs)}</b> 份文档，<b>{articles}</b> 篇文章，'
            f'<b>{paragraphs}</b> 个正文段落（最近导入的在最上面）。</div>')


def _place_choices(places: list[str]) -> list:
    return [(ALL_PLACES, "")] + [(p, p) for p in places]


def _export_files(results: list[AnswerResult], scope: str) -> list[str | None]:
    if not results:
        return [None, None, None]
    chosen = results if scope == EXPORT_SCOPES[1] else [results[-1]]
    folder = Path(tempfile.gettempdir()) / "rag-ui-exports" / uuid.uuid4().hex[:12]
    stem = ("政策问答-对话" if len(chosen) > 1 or scope == EXPORT_SCOPES[1] else "政策问答-回答") + time.strftime("-%Y%m%d-%H%M%S")
    return [str(export(chosen if len(chosen) > 1 else chosen[0], folder / f"{stem}.{ext}")) for ext in ("md", "docx", "json")]


def _downloads(results: list[AnswerResult], scope: str):
    files = _export_files(results, scope)
    return [gr.update(value=f, interactive=f is not None) for f in files]


@dataclass
class _App:
    """What the tabs share."""

    settings: Settings
    engine: Engine
    endpoint_editable: bool  # may visitors choose the OpenAI-compatible endpoint? (Settings.endpoint_editable)
    header: gr.HTML | None = None
    place: gr.Dropdown | None = None  # the chat's place filter, kept in step by the documents tab
    search_place: gr.Dropdown | None = None

    def options(self, backend, k, place, url="", key="", model="") -> AskOptions:
        s = self.settings
        if not self.endpoint_editable:  # whatever a client sends, the server's own endpoint is used
            url, key, model = s.llm_url, s.llm_key, s.llm_model
        return AskOptions(backend=backend if backend in render.BACKENDS else "extractive", k=int(k or s.k),
                          place=place or "", llm_url=(url or "").strip(), llm_key=(key or "").strip(),
                          llm_model=(model or "").strip())


# --- 问答 -------------------------------------------------------------------------------------
def _chat_tab(app: _App) -> None:
    settings, engine = app.settings, app.engine
    max_chars = settings.max_question_chars
    results_state = gr.State([])
    with gr.Row(equal_height=False, elem_id="chat-row"):
        with gr.Column(scale=7, min_width=300, elem_id="chat-col"):
            conversation = gr.HTML(render.conversation_html([]), elem_id="conversation",
                                   js_on_load=CITE_JS, apply_default_css=False)
            with gr.Row(elem_id="ask-row", equal_height=True):
                question = gr.Textbox(show_label=False, lines=2, max_lines=6, scale=8,
                                      placeholder="输入问题，例如：哪些地方用信托制物业？（Enter 发送，Shift+Enter 换行）",
                                      elem_id="question", autofocus=True)
                with gr.Column(scale=1, min_width=110, elem_id="ask-buttons"):
                    ask_btn = gr.Button("提问", variant="primary", elem_id="ask-btn")
                    clear_btn = gr.Button("清空对话", size="sm", elem_id="clear-btn")
            chat_status = gr.HTML("", elem_id="chat-status", apply_default_css=False)
            gr.Examples(EXAMPLES, inputs=question, label="示例问题", elem_id="examples")
        with gr.Column(scale=5, min_width=300, elem_id="side-col"):
            sources = gr.HTML(render.sources_html([]), elem_id="sources", apply_default_css=False)
            with gr.Accordion("导出", open=True, elem_id="export-box"):
                scope = gr.Radio(EXPORT_SCOPES, value=EXPORT_SCOPES[0], show_label=False, elem_id="export-scope")
                with gr.Row(elem_id="export-buttons"):
                    dl_md = gr.DownloadButton("Markdown", interactive=False, size="sm", min_width=80, elem_id="dl-md")
                    dl_docx = gr.DownloadButton("Word", interactive=False, size="sm", min_width=80, elem_id="dl-docx")
                    dl_json = gr.DownloadButton("JSON", interactive=False, size="sm", min_width=80, elem_id="dl-json")
            with gr.Accordion("回答设置", open=False, elem_id="settings-box"):
                backend = gr.Radio(BACKEND_CHOICES, value=settings.backend if settings.backend in render.BACKENDS
                                   else "extractive", label="回答方式", elem_id="backend")
                top_k = gr.Slider(1, 30, value=settings.k, step=1, label="检索段落数（top-k）",
                                  info="“哪些地方…”类问题会自动扩大检索范围", elem_id="top-k")
                app.place = gr.Dropdown(_place_choices(engine.places()), value="", label="只看某地", elem_id="place")
                editable = app.endpoint_editable
                with gr.Group(visible=editable and settings.backend == "openai", elem_id="endpoint") as endpoint:
                    llm_url = gr.Textbox(settings.llm_url, label="接口地址", visible=editable,
                                         placeholder="http://127.0.0.1:8080/v1", elem_id="llm-url")
                    llm_key = gr.Textbox(settings.llm_key if editable else "", label="API Key", type="password",
                                         visible=editable, placeholder="本地服务可留空", elem_id="llm-key")
                    llm_model = gr.Textbox(settings.llm_model, label="模型名", visible=editable,
                                           placeholder="如 qwen2.5-7b-instruct", elem_id="llm-model")
                gr.Markdown("本地模型和 OpenAI 兼容接口由管理员配置；不可用时会自动改用摘录式回答，并在回答下方说明。",
                            elem_classes=["hint"])

    def on_ask(question, results, backend, k, place, url, key, model, scope):
        results = list(results or [])
        skip = gr.skip()
        try:
            question = clean_question(question, max_chars)
        except InputError as exc:
            yield skip, skip, skip, skip, render.status_html(str(exc), "warn"), skip, skip, skip
            return
        options = app.options(backend, k, place, url, key, model)
        history = [Turn(question=r.question, answer=r.answer) for r in results if not r.refused]
        turn = len(results) + 1
        status = "检索中…"
        yield (render.conversation_html(results, render.pending_html(turn, question, status)), skip, "", skip,
               "", skip, skip, skip)
        partial, result, last = "", None, 0.0
        try:
            for event in engine.stream(question, history, options):
                if event["type"] == "status":
                    status = event["text"]
                elif event["type"] == "token":
                    partial += event["text"]
                    status = "生成中…"
                    if event.get("final"):  # an answer that came whole: shown line by line
                        time.sleep(LINE_DELAY)
                    elif time.monotonic() - last < 0.08:
                        continue
                elif event["type"] == "result":
                    result = event["result"]
                    continue  # the last event: the stream ends (and gives its index snapshot back)
                last = time.monotonic()
                yield (render.conversation_html(results, render.pending_html(turn, question, status, partial)),
                       skip, skip, skip, skip, skip, skip, skip)
        except RagError as exc:
            yield (render.conversation_html(results), skip, question, skip, render.status_html(str(exc), "error"),
                   skip, skip, skip)
            return
        except Exception:  # never a stack trace (nor an exception's name) in the page
            log.exception("answering failed")
            yield (render.conversation_html(results), skip, question, skip,
                   render.status_html("回答时出错，请稍后重试；如果一再出错，请联系管理员。", "error"), skip, skip, skip)
            return
        if result is None:  # the chain always ends with a result; never leave the page hanging if not
            yield (render.conversation_html(results), skip, question, skip,
                   render.status_html("没有得到回答，请重试。", "error"), skip, skip, skip)
            return
        results.append(result)
        fell_back = "→" in result.backend or any("改用摘录式回答" in n for n in result.notes)
        if fell_back:
            status_line = render.status_html(f"已回答：{render.backend_label(options.backend)}不可用，已改用摘录式回答"
                                             "（原因见回答下方）。", "warn")
        else:
            status_line = render.status_html(f"已回答（{render.backend_label(result.backend)}，"
                                             f"用时 {render.duration(result.timings_ms.get('total', 0))}）", "ok")
        yield (render.conversation_html(results), render.sources_html(results), skip, results, status_line,
               *_downloads(results, scope))

    def clear():
        return (render.conversation_html([]), render.sources_html([]), [], "",
                *[gr.update(value=None, interactive=False)] * 3)

    def ask_api(question: str, backend: str = "extractive", k: int = 8, place: str = "") -> dict:
        """回答一个问题（不带上下文），返回 rag ask --json 的结构。"""
        try:
            question = clean_question(question, max_chars)
            result = None
            for event in engine.stream(question, [], app.options(backend, k, place)):
                if event["type"] == "result":
                    result = event["result"]
        except RagError as exc:
            raise gr.Error(str(exc)) from exc
        return result.contract()

    inputs = [question, results_state, backend, top_k, app.place, llm_url, llm_key, llm_model, scope]
    outputs = [conversation, sources, question, results_state, chat_status, dl_md, dl_docx, dl_json]
    for trigger in (ask_btn.click, question.submit):
        trigger(on_ask, inputs, outputs, show_progress="hidden", api_name="chat",
                api_visibility="undocumented", concurrency_id="answer")
    clear_btn.click(clear, None, [conversation, sources, results_state, chat_status, dl_md, dl_docx, dl_json],
                    api_visibility="private")
    scope.change(lambda r, s: _downloads(list(r or []), s), [results_state, scope], [dl_md, dl_docx, dl_json],
                 api_visibility="private")
    backend.change(lambda b: gr.update(visible=editable and b == "openai"), backend, endpoint,
                   api_visibility="private")
    gr.api(ask_api, api_name="ask", concurrency_id="answer")


# --- 文档管理 ----------------------------------------------------------------------------------
def _documents_tab(app: _App) -> tuple:
    engine, settings = app.engine, app.settings
    initial = engine.documents()
    with gr.Row(equal_height=False, elem_id="docs-row"):
        with gr.Column(scale=3, min_width=280, elem_id="docs-side"):
            gr.HTML('<div class="panel-title">上传文档</div>', apply_default_css=False, elem_classes=["plain-html"])
            files = gr.File(file_count="multiple", label="上传文件", show_label=False, height=150, elem_id="upload")
            gr.Markdown(f"把文件拖到上面的框里，或点击框选择文件。支持 .txt .md .docx .pdf .html，单个文件不超过 "
                        f"{MAX_BYTES // 1024 // 1024} MB，一次最多 {settings.max_upload_files} 个；文本文件可以是 UTF-8 或 "
                        "GBK 编码。同名文件会更新原有文档。", elem_classes=["hint"])
            upload_btn = gr.Button("导入到索引", variant="primary", elem_id="upload-btn")
            gr.HTML('<div class="panel-title">删除文档</div>', apply_default_css=False, elem_classes=["plain-html"])
            doc_choice = gr.Dropdown([d["doc"] for d in initial], value=None, label="选择要删除的文档",
                                     elem_id="doc-choice")
            remove_btn = gr.Button("从索引中删除所选文档", variant="stop", elem_id="remove-btn")
            gr.HTML('<div class="panel-title">重建索引</div>', apply_default_css=False, elem_classes=["plain-html"])
            gr.Markdown("重新解析全部文档并重新计算向量（更换解析规则或嵌入模型后使用）。"
                        "重建期间旧索引照常可用，完成后一次性切换。", elem_classes=["hint"])
            rebuild_btn = gr.Button("重建索引", elem_id="rebuild-btn")
        with gr.Column(scale=7, min_width=280, elem_id="docs-main"):
            docs_status = gr.HTML(_doc_summary(initial) + _index_details(engine), elem_id="docs-status",
                                  apply_default_css=False)
            docs_table = gr.Dataframe(_doc_rows(initial), headers=DOC_HEADERS, interactive=False,
                                      wrap=True, max_height=640, elem_id="docs-table",
                                      # in pixels, so that on a phone the table scrolls sideways instead of squeezing its columns
                                      column_widths=["190px", "56px", "300px", "190px", "80px", "84px", "130px"],
                                      datatype=["str", "number", "str", "str", "number", "str", "str"])

    def view(message: str = ""):
        """The status area (the message over the summary line), table, choices and header."""
        docs = engine.documents()
        return (message + _doc_summary(docs) + _index_details(engine), _doc_rows(docs),
                gr.update(choices=[d["doc"] for d in docs], value=None),
                gr.update(choices=_place_choices(engine.places())), _header(engine))

    def progress_reporter(progress):
        def on_progress(stage: str, done: int, total: int) -> None:
            progress((done, max(total, 1)), desc=stage, unit="项")
        return on_progress

    def upload(files, progress=gr.Progress()):
        if not files:
            return gr.skip(), *view(render.status_html("请先选择要上传的文件（.txt .md .docx .pdf .html）。", "warn"))
        if len(files) > settings.max_upload_files:
            return gr.skip(), *view(render.status_html(f"一次最多上传 {settings.max_upload_files} 个文件。", "warn"))
        paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files]
        progress(0, desc="检查文件")
        try:
            report, refused = engine.add_files(paths, progress=progress_reporter(progress))
        except RagError as exc:
            return gr.skip(), *view(render.status_html(str(exc), "error"))
        problems = refused + [(Path(p).name, m) for p, m in report.failed]
        parts = []
        if report.added:
            parts.append("新增 " + "、".join(report.added))
        if report.updated:
            parts.append("更新 " + "、".join(report.updated))
        if report.unchanged:
            parts.append("未变（已在索引中） " + "、".join(report.unchanged))
        lines = []
        if parts:
            lines.append(render.status_html("；".join(parts) + f"。计算向量 {report.embedded} 条，用时 {report.seconds:.1f} 秒。"
                                            "之后的回答会使用新文档。", "ok"))
        for name, message in problems:
            lines.append(render.status_html(f"{name}：{message}", "error"))
        return None, *view("".join(lines))

    def remove(doc):
        if not doc:
            return view(render.status_html("请先在下拉框中选择要删除的文档。", "warn"))
        try:
            engine.remove(doc)
        except RagError as exc:
            return view(render.status_html(str(exc), "error"))
        return view(render.status_html(f"已从索引中删除 {doc}。", "ok"))

    def rebuild(progress=gr.Progress()):
        progress(0, desc="准备重建索引")
        try:
            report = engine.rebuild(progress=progress_reporter(progress))
        except RagError as exc:
            return view(render.status_html(str(exc), "error"))
        return view(render.status_html(f"索引已重建：{len(report.added) + len(report.updated)} 份文档，"
                                       f"计算向量 {report.embedded} 条，用时 {report.seconds:.1f} 秒。", "ok"))

    outputs = [docs_status, docs_table, doc_choice, app.place, app.header]
    writing = dict(api_visibility="private", concurrency_id="write", concurrency_limit=1,
                   show_progress_on=[docs_status])  # one progress bar, over the status area
    upload_btn.click(upload, files, [files, *outputs], **writing)
    remove_btn.click(remove, doc_choice, outputs, **writing)
    rebuild_btn.click(rebuild, None, outputs, **writing)
    return view, outputs


# --- 检索测试 ----------------------------------------------------------------------------------
def _search_tab(app: _App) -> None:
    settings, engine = app.settings, app.engine
    gr.Markdown("查看一个问题会检索到哪些段落，以及它们在向量检索和 BM25 关键词检索中各排第几。", elem_classes=["hint"])
    with gr.Row(equal_height=True, elem_id="search-row"):
        query = gr.Textbox(show_label=False, placeholder="输入检索词或问题，例如：信托制物业", scale=8, elem_id="query")
        search_btn = gr.Button("检索", variant="primary", scale=1, min_width=100, elem_id="search-btn")
    with gr.Row(equal_height=True, elem_id="search-options"):
        mode = gr.Dropdown(MODE_CHOICES, value="hybrid", label="检索方式", scale=2, min_width=160, elem_id="mode")
        search_k = gr.Slider(1, 30, value=settings.top_k if settings.top_k <= 30 else 10, step=1,
                             label="返回段落数", scale=2, min_width=160, elem_id="search-k")
        app.search_place = gr.Dropdown(_place_choices(engine.places()), value="", label="只看某地", scale=2,
                                       min_width=160, elem_id="search-place")
    search_status = gr.HTML("", elem_id="search-status", apply_default_css=False)
    hits = gr.Dataframe([], headers=HIT_HEADERS, interactive=False, wrap=True, max_height=720, elem_id="hits-table",
                        column_widths=["56px", "84px", "76px", "76px", "150px", "210px", "170px", "520px"],
                        datatype=["number", "str", "str", "str", "str", "str", "str", "str"])

    def search(query, mode, k, place):
        try:
            query = clean_question(query, settings.max_question_chars)
            started = time.perf_counter()
            found = engine.search(query, k=int(k), mode=mode if mode in dict(MODE_CHOICES).values() else "hybrid",
                                  place=place or "")
        except RagError as exc:
            return render.status_html(str(exc), "warn"), []
        ms = (time.perf_counter() - started) * 1000
        rows = []
        for rank, h in enumerate(found, start=1):
            m = h.metadata
            rows.append([rank, f"{float(m.get('score', 0.0)):.4f}", m.get("dense_rank") or "—", m.get("bm25_rank") or "—",
                         m.get("place_full") or m.get("place") or "", m.get("title", ""),
                         f"{m['doc']}\n第{m['article']}篇 第{m['paragraph']}段", h.page_content])
        if not rows:
            return render.status_html("没有找到相关段落。", "warn"), []
        label = dict((v, l) for l, v in MODE_CHOICES)[mode]
        return render.status_html(f"{label}：返回 {len(rows)} 段，用时 {ms:.0f} 毫秒。排名“—”表示该路检索的前 "
                                  f"{settings.fetch_k} 名中没有这段。", "info"), rows

    inputs = [query, mode, search_k, app.search_place]
    search_btn.click(search, inputs, [search_status, hits], api_name="search")
    query.submit(search, inputs, [search_status, hits], api_visibility="private")


# --- 评测 --------------------------------------------------------------------------------------
def eval_sets(settings: Settings) -> dict[str, Path]:
    """The evaluation sets the UI offers: the JSON Lines files of the project's eval/ folder."""
    folder = Path(settings.eval_dir)
    if not folder.is_dir():
        return {}
    return {p.name: p for p in sorted(folder.glob("*.jsonl")) if p.is_file() and not p.is_symlink()}


def _eval_tab(app: _App) -> None:
    from rag import evaluate

    settings, engine = app.settings, app.engine
    sets = eval_sets(settings)
    choices = list(sets) + [UPLOAD_SET]
    default = "golden.jsonl" if "golden.jsonl" in sets else choices[0]
    gr.Markdown("### 评测\n用评测集跑完整问答链，报告检索、答案正确率、引用可靠性和延迟。评测集可以选项目自带的，"
                "也可以上传自己的（JSON Lines，每行一题）。评测使用开始时的索引版本。", elem_id="eval-intro")
    with gr.Row(equal_height=True, elem_id="eval-row"):
        dataset = gr.Dropdown(choices, value=default, label="评测集", scale=3, min_width=180, elem_id="eval-set")
        eval_backend = gr.Dropdown(BACKEND_CHOICES, value="extractive", label="回答方式", scale=2, min_width=160)
        limit = gr.Number(20, label="只跑前 N 题（0 = 全部）", precision=0, scale=2, min_width=140, elem_id="eval-limit")
        run_btn = gr.Button("开始评测", variant="primary", scale=1, min_width=100, elem_id="eval-run")
    upload = gr.File(label="上传评测集（.jsonl）", file_types=[".jsonl"], file_count="single",
                     visible=default == UPLOAD_SET, height=110, elem_id="eval-upload")
    output = gr.Markdown(elem_id="eval-output")
    charts = gr.Gallery(label="图表", visible=False, columns=3, height="auto", object_fit="contain",
                        elem_id="eval-charts", show_label=True, allow_preview=True)
    report_file = gr.File(label="评测报告", visible=False, elem_id="eval-report")

    def run(name, uploaded, backend, n, progress=gr.Progress()):
        from rich.console import Console

        hidden = gr.update(visible=False)
        if name == UPLOAD_SET:
            path = Path(uploaded) if uploaded else None  # Gradio hands over only files uploaded to it
            if path is None or path.suffix.lower() != ".jsonl":
                return "请先上传评测集（.jsonl 文件）。", hidden, hidden
        elif name in eval_sets(settings):
            path = eval_sets(settings)[name]
        else:  # a name from no list: a crafted request
            return "请从列表中选择评测集，或上传评测集。", hidden, hidden
        progress(0, desc="评测中（可能需要几分钟）")
        buffer = io.StringIO()
        console = Console(file=buffer, width=110, force_terminal=False, color_system=None)
        out_dir = Path(tempfile.gettempdir()) / "rag-ui-eval" / uuid.uuid4().hex[:12]
        try:
            limit_n = max(0, int(n or 0))
            with engine.reading() as snapshot:
                answerer = engine.answerer(snapshot, app.options(backend, None, ""))
                code = evaluate.run_eval(answerer, dataset=path, baseline=None, save_baseline=None, out_dir=out_dir,
                                         tolerance=0.02, limit=limit_n or None, console=console)
        except RagError as exc:
            return f"评测失败：{render.for_users(str(exc))}", hidden, hidden
        except Exception:  # never a file's content or a trace in the page
            log.exception("evaluation failed")
            return "评测失败：评测集无法使用，请检查它的格式（见 eval/README.md）。", hidden, hidden
        report = out_dir / "report.md"
        text = report.read_text(encoding="utf-8") if report.exists() else ""
        text = _report_for_page(text) or f"```\n{buffer.getvalue()}\n```"
        pngs = sorted(out_dir.glob("chart_*.png"))
        files = [str(p) for p in (out_dir / "report.html", report, out_dir / "results.jsonl") if p.exists()]
        head = "评测完成。" if code == 0 else "评测完成（有指标低于基线或有题目出错，详见报告）。"
        gallery = gr.update(value=[(str(p), _chart_caption(p.stem)) for p in pngs] or None, visible=bool(pngs))
        return head + "\n\n" + text, gallery, gr.update(value=files or None, visible=bool(files))

    dataset.change(lambda name: gr.update(visible=name == UPLOAD_SET), dataset, upload, api_visibility="private")
    run_btn.click(run, [dataset, upload, eval_backend, limit], [output, charts, report_file], api_visibility="private",
                  concurrency_id="eval", concurrency_limit=1)


def _report_for_page(markdown: str) -> str:
    """report.md as the page shows it: Chinese metric and type names only (the report also gives
    their codes), and no image links (the charts are shown by the gallery below)."""
    lines = []
    for line in markdown.splitlines():
        if line.lstrip().startswith("![") or line.strip() == "## 图表":
            continue
        if line.startswith("|"):
            line = re.sub(r" `[A-Za-z0-9_@]+`", "", line)  # 答案正确率 `answer_correct` ↑
            line = re.sub(r"(?<=[\u4e00-\u9fff）)]) [a-z][a-z0-9_]*(?= *\|)", "", line)  # 单点事实 single
        lines.append(line)
    return "\n".join(lines).strip()


def _chart_caption(stem: str) -> str:
    return {"chart_by_type": "按题型的正确率", "chart_latency": "延迟", "chart_trend": "历次评测趋势"}.get(stem, "图表")


# --- the app ---------------------------------------------------------------------------------
def build_app(settings: Settings, *, uploads_dir: str | Path | None = None, engine: Engine | None = None,
              host: str = "127.0.0.1") -> gr.Blocks:
    """The whole UI. `host` is where it will listen: beyond loopback, visitors cannot choose the
    LLM endpoint unless Settings.ui_endpoint_editable allows it."""
    engine = engine or Engine(settings, uploads_dir or settings.uploads_dir)
    app = _App(settings=settings, engine=engine, endpoint_editable=settings.endpoint_editable(host))
    with gr.Blocks(title=TITLE, analytics_enabled=False, fill_width=True) as demo:
        app.header = gr.HTML(_header(engine), elem_id="app-header")
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("问答", id="chat", elem_id="tab-chat"):
                _chat_tab(app)
            with gr.Tab("文档管理", id="docs", elem_id="tab-docs"):
                documents_view, docs_outputs = _documents_tab(app)
            with gr.Tab("检索测试", id="search", elem_id="tab-search"):
                _search_tab(app)
            with gr.Tab("评测", id="eval", elem_id="tab-eval"):
                _eval_tab(app)
        app.place.change(lambda p: gr.update(value=p), app.place, app.search_place, api_visibility="private")
        demo.load(documents_view, None, docs_outputs, api_visibility="private", show_progress="hidden")
        demo.load(lambda: gr.update(choices=_place_choices(engine.places())), None, app.search_place,
                  api_visibility="private", show_progress="hidden")
    demo.rag_engine = engine  # for tests and embedding
    return demo


def launch(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Serve the UI (blocks until stopped). Loopback only unless a host is given."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # Gradio's own setting, read by Gradio
    demo = build_app(settings, host=host)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=64)
    auth = settings.auth_pair()
    print(f"政策案例问答：http://{host}:{port}  （上传的文件保存在 {demo.rag_engine.uploads_dir.resolve()}）", flush=True)
    demo.launch(server_name=host, server_port=port, auth=auth, auth_message="请输入用户名和密码" if auth else None,
                share=False, inbrowser=False, quiet=True, **mount_options(), **launch_options())
