"""The web UI (Gradio): 问答 with sources, export, 文档管理, 检索测试 and 评测.

    rag ui [--host 127.0.0.1] [--port 7860] [--auth 用户名:密码]

`launch(settings, host=, port=, auth=)` is what the `rag ui` command calls; `build_app(settings)`
builds the same Blocks for tests and for embedding in another server (pass `launch_options()`
to its launch() for the theme and styles). The models and the index load once per process
and are shared by every session (see ui/engine.py).

Uploaded files are copied into data/uploads/ (or $RAG_UPLOADS_DIR) before they are indexed.
"""
from __future__ import annotations

import io
import logging
import os
import tempfile
import time
import uuid
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
from .style import CSS
from .engine import AskOptions, Engine

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
    return Path(os.environ.get("RAG_UPLOADS_DIR") or "data/uploads")


def launch_options() -> dict:
    """Theme and styles, which Gradio 6 takes at launch()."""
    fonts = ["Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", "Source Han Sans SC", "sans-serif"]
    theme = gr.themes.Soft(
        primary_hue=gr.themes.colors.blue, secondary_hue=gr.themes.colors.sky, neutral_hue=gr.themes.colors.slate,
        font=fonts, font_mono=["Noto Sans Mono CJK SC", "DejaVu Sans Mono", "monospace"],
    )
    return {"theme": theme, "css": CSS}


# --- helpers ---------------------------------------------------------------------------------
def _index_status(engine: Engine) -> str:
    index = engine.peek()
    if index is None:
        return (f'<div class="index-status empty">⚠ {render.esc(engine.error or "还没有索引")}'
                '：请到「文档管理」上传文档</div>')
    m = index.manifest
    c = m.get("counts", {})
    return (f'<div class="index-status">索引 {render.esc(index.version_dir.name)} · 文档 {c.get("documents", 0)} 份 · '
            f'段落 {c.get("paragraphs", 0)} · 嵌入模型 {render.esc(m.get("embedding", {}).get("model", ""))}'
            f' · 更新于 {render.esc(m.get("created_at", ""))}</div>')


def _header(engine: Engine) -> str:
    return ('<div class="app-header"><div class="brand"><div class="logo">问</div><div>'
            f'<div class="app-title">{TITLE}</div>'
            '<div class="app-sub">从政策案例报道中查找做法与数据，每句回答都注明出处</div></div></div>'
            f'{_index_status(engine)}</div>')


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
        return '<div class="docs-summary">索引中还没有文档：请在左侧上传。</div>'
    articles = sum(len(d["articles"]) for d in docs)
    paragraphs = sum(a["paragraphs"] for d in docs for a in d["articles"])
    return (f'<div class="docs-summary">共 <b>{len(docs)}</b> 份文档，<b>{articles}</b> 篇文章，'
            f'<b>{paragraphs}</b> 个正文段落（最近导入的在最上面）。</div>')


def _place_choices(places: list[str]) -> list:
    return [(ALL_PLACES, "")] + [(p, p) for p in places]


def _options(backend, k, place, url, key, model) -> AskOptions:
    return AskOptions(backend=backend or "extractive", k=int(k or 8), place=place or "",
                      llm_url=(url or "").strip(), llm_key=(key or "").strip(), llm_model=(model or "").strip())


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


# --- the app ---------------------------------------------------------------------------------
def build_app(settings: Settings, *, uploads_dir: str | Path | None = None, engine: Engine | None = None) -> gr.Blocks:
    engine = engine or Engine(settings, uploads_dir or uploads_dir_default())
    max_chars = settings.max_question_chars

    # -- chat ----------------------------------------------------------------------------------
    def on_ask(question, results, backend, k, place, url, key, model, scope):
        results = list(results or [])
        skip = gr.skip()
        try:
            question = clean_question(question, max_chars)
        except InputError as exc:
            gr.Warning(str(exc), title="提示")
            yield skip, skip, skip, skip, render.status_html(str(exc), "warn"), skip, skip, skip
            return
        options = _options(backend, k, place, url, key, model)
        if options.backend == "openai" and not (options.llm_url and options.llm_model):
            gr.Warning("OpenAI 兼容接口需要填写接口地址和模型名（回答设置）。本次将使用摘录式回答。", title="提示")
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
                    if time.monotonic() - last < 0.08:
                        continue
                elif event["type"] == "result":
                    result = event["result"]
                    continue  # the last event: the stream ends (and gives its index snapshot back)
                last = time.monotonic()
                yield (render.conversation_html(results, render.pending_html(turn, question, status, partial)),
                       skip, skip, skip, skip, skip, skip, skip)
        except RagError as exc:
            gr.Warning(str(exc), title="无法回答")
            yield (render.conversation_html(results), skip, question, skip, render.status_html(str(exc), "error"),
                   skip, skip, skip)
            return
        except Exception as exc:  # never a stack trace in the page
            log.exception("answering failed")
            message = f"回答时出错：{type(exc).__name__}: {exc}"
            gr.Warning(message, title="出错")
            yield (render.conversation_html(results), skip, question, skip, render.status_html(message, "error"),
                   skip, skip, skip)
            return
        if result is None:  # the chain always ends with a result; never leave the page hanging if not
            yield (render.conversation_html(results), skip, question, skip,
                   render.status_html("没有得到回答，请重试。", "error"), skip, skip, skip)
            return
        results.append(result)
        fallback = [n for n in result.notes if "不可用" in n or "出错" in n]
        if fallback:
            gr.Warning(fallback[0], title="已改用摘录式回答")
        done = (f"已回答（{render.backend_label(result.backend)}，"
                f"用时 {render.duration(result.timings_ms.get('total', 0))}）")
        status_line = render.status_html(fallback[0], "warn") if fallback else render.status_html(done, "ok")
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
            for event in engine.stream(question, [], _options(backend, k, place, settings.llm_url, settings.llm_key,
                                                              settings.llm_model)):
                if event["type"] == "result":
                    result = event["result"]
        except RagError as exc:
            raise gr.Error(str(exc)) from exc
        return result.contract()

    # -- documents -------------------------------------------------------------------------------
    def documents_view(message: str = ""):
        """The status area (the message over the summary line), table, choices and header."""
        docs = engine.documents()
        names = [d["doc"] for d in docs]
        return (message + _doc_summary(docs), _doc_rows(docs), gr.update(choices=names, value=None),
                gr.update(choices=_place_choices(engine.places())), _header(engine))

    def upload(files, progress=gr.Progress()):
        if not files:
            gr.Warning("请先选择要上传的文件。", title="提示")
            return gr.skip(), *documents_view(render.status_html("请先选择要上传的文件（.txt .md .docx .pdf .html）。", "warn"))
        paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files]

        def on_progress(stage: str, done: int, total: int) -> None:
            progress((done, max(total, 1)), desc=stage, unit="项")

        progress(0, desc="检查文件")
        try:
            report, refused = engine.add_files(paths, progress=on_progress)
        except RagError as exc:
            gr.Warning(str(exc), title="导入失败")
            return gr.skip(), *documents_view(render.status_html(str(exc), "error"))
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
            gr.Info("；".join(parts), title="导入完成")
        for name, message in problems:
            lines.append(render.status_html(f"{name}：{message}", "error"))
        if problems:
            gr.Warning("；".join(f"{n}：{m}" for n, m in problems), title="有文件未能导入")
        return None, *documents_view("".join(lines))

    def remove(doc):
        if not doc:
            gr.Warning("请先在下拉框中选择要删除的文档。", title="提示")
            return documents_view(render.status_html("请先选择要删除的文档。", "warn"))
        try:
            engine.remove(doc)
        except RagError as exc:
            gr.Warning(str(exc), title="删除失败")
            return documents_view(render.status_html(str(exc), "error"))
        gr.Info(f"已从索引中删除 {doc}", title="已删除")
        return documents_view(render.status_html(f"已从索引中删除 {doc}。", "ok"))

    def rebuild(progress=gr.Progress()):
        def on_progress(stage: str, done: int, total: int) -> None:
            progress((done, max(total, 1)), desc=stage, unit="项")

        progress(0, desc="准备重建索引")
        try:
            report = engine.rebuild(progress=on_progress)
        except RagError as exc:
            gr.Warning(str(exc), title="重建失败")
            return documents_view(render.status_html(str(exc), "error"))
        message = (f"索引已重建：{len(report.added) + len(report.updated)} 份文档，计算向量 {report.embedded} 条，"
                   f"用时 {report.seconds:.1f} 秒。")
        gr.Info(message, title="重建完成")
        return documents_view(render.status_html(message, "ok"))

    # -- retrieval test -------------------------------------------------------------------------
    def search(query, mode, k, place):
        try:
            query = clean_question(query, max_chars)
            started = time.perf_counter()
            hits = engine.search(query, k=int(k), mode=mode, place=place or "")
        except RagError as exc:
            gr.Warning(str(exc), title="提示")
            return render.status_html(str(exc), "warn"), []
        ms = (time.perf_counter() - started) * 1000
        rows = []
        for rank, h in enumerate(hits, start=1):
            m = h.metadata
            rows.append([rank, f"{float(m.get('score', 0.0)):.4f}", m.get("dense_rank") or "—", m.get("bm25_rank") or "—",
                         m.get("place_full") or m.get("place") or "", m.get("title", ""),
                         f"{m['doc']}\n第{m['article']}篇 第{m['paragraph']}段", h.page_content])
        if not rows:
            return render.status_html("没有找到相关段落。", "warn"), []
        label = dict((v, l) for l, v in MODE_CHOICES)[mode]
        return render.status_html(f"{label}：返回 {len(rows)} 段，用时 {ms:.0f} 毫秒。排名“—”表示该路检索的前 "
                                  f"{settings.fetch_k} 名中没有这段。", "info"), rows

    # -- layout ------------------------------------------------------------------------------------
    initial_docs = engine.documents()
    with gr.Blocks(title=TITLE, analytics_enabled=False, fill_width=True) as demo:
        header = gr.HTML(_header(engine), elem_id="app-header")
        results_state = gr.State([])
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("问答", id="chat", elem_id="tab-chat"):
                with gr.Row(equal_height=False, elem_id="chat-row"):
                    with gr.Column(scale=7, min_width=420, elem_id="chat-col"):
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
                    with gr.Column(scale=5, min_width=360, elem_id="side-col"):
                        sources = gr.HTML(render.sources_html([]), elem_id="sources", apply_default_css=False)
                        with gr.Accordion("导出", open=True, elem_id="export-box"):
                            scope = gr.Radio(EXPORT_SCOPES, value=EXPORT_SCOPES[0], show_label=False,
                                             elem_id="export-scope")
                            with gr.Row():
                                dl_md = gr.DownloadButton("Markdown", interactive=False, size="sm", min_width=80, elem_id="dl-md")
                                dl_docx = gr.DownloadButton("Word", interactive=False, size="sm", min_width=80, elem_id="dl-docx")
                                dl_json = gr.DownloadButton("JSON", interactive=False, size="sm", min_width=80, elem_id="dl-json")
                        with gr.Accordion("回答设置", open=False, elem_id="settings-box"):
                            backend = gr.Radio(BACKEND_CHOICES, value=settings.backend if settings.backend in render.BACKENDS
                                               else "extractive", label="回答方式", elem_id="backend")
                            top_k = gr.Slider(1, 30, value=8, step=1, label="检索段落数（top-k）",
                                              info="“哪些地方…”类问题会自动扩大检索范围", elem_id="top-k")
                            place = gr.Dropdown(_place_choices(engine.places()), value="", label="只看某地",
                                                elem_id="place")
                            with gr.Group(visible=settings.backend == "openai", elem_id="endpoint") as endpoint:
                                llm_url = gr.Textbox(settings.llm_url, label="接口地址",
                                                     placeholder="http://127.0.0.1:8080/v1", elem_id="llm-url")
                                llm_key = gr.Textbox(settings.llm_key, label="API Key", type="password",
                                                     placeholder="本地服务可留空", elem_id="llm-key")
                                llm_model = gr.Textbox(settings.llm_model, label="模型名",
                                                       placeholder="如 qwen2.5-7b-instruct", elem_id="llm-model")
                            gr.Markdown("本地模型需先运行 `rag model`；接口不可用时会自动改用摘录式回答，并在回答下方说明。",
                                        elem_classes=["hint"])

            with gr.Tab("文档管理", id="docs", elem_id="tab-docs"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320, elem_id="docs-side"):
                        gr.HTML('<div class="panel-title">上传文档</div>', apply_default_css=False, elem_classes=["plain-html"])
                        files = gr.File(file_count="multiple", label="上传文件", show_label=False, height=150,
                                        elem_id="upload")
                        gr.Markdown(f"支持 .txt .md .docx .pdf .html，单个文件不超过 {MAX_BYTES // 1024 // 1024} MB；"
                                    "文本文件可以是 UTF-8 或 GBK 编码。同名文件会更新原有文档。", elem_classes=["hint"])
                        upload_btn = gr.Button("导入到索引", variant="primary", elem_id="upload-btn")
                        gr.HTML('<div class="panel-title">删除文档</div>', apply_default_css=False, elem_classes=["plain-html"])
                        doc_choice = gr.Dropdown([d["doc"] for d in initial_docs], value=None, label="选择要删除的文档",
                                                 elem_id="doc-choice")
                        remove_btn = gr.Button("从索引中删除所选文档", variant="stop", elem_id="remove-btn")
                        gr.HTML('<div class="panel-title">重建索引</div>', apply_default_css=False, elem_classes=["plain-html"])
                        gr.Markdown("重新解析全部文档并重新计算向量（更换解析规则或嵌入模型后使用）。"
                                    "重建期间旧索引照常可用，完成后一次性切换。", elem_classes=["hint"])
                        rebuild_btn = gr.Button("重建索引", elem_id="rebuild-btn")
                    with gr.Column(scale=7, elem_id="docs-main"):
                        docs_status = gr.HTML(_doc_summary(initial_docs), elem_id="docs-status", apply_default_css=False)
                        docs_table = gr.Dataframe(_doc_rows(initial_docs), headers=DOC_HEADERS, interactive=False,
                                                  wrap=True, max_height=640, elem_id="docs-table",
                                                  column_widths=["21%", "5%", "30%", "16%", "8%", "9%", "11%"],
                                                  datatype=["str", "number", "str", "str", "number", "str", "str"])

            with gr.Tab("检索测试", id="search", elem_id="tab-search"):
                gr.Markdown("查看一个问题会检索到哪些段落，以及它们在向量检索和 BM25 关键词检索中各排第几。",
                            elem_classes=["hint"])
                with gr.Row(equal_height=True, elem_id="search-row"):
                    query = gr.Textbox(show_label=False, placeholder="输入检索词或问题，例如：信托制物业",
                                       scale=8, elem_id="query")
                    search_btn = gr.Button("检索", variant="primary", scale=1, min_width=100, elem_id="search-btn")
                with gr.Row(equal_height=True, elem_id="search-options"):
                    mode = gr.Dropdown(MODE_CHOICES, value="hybrid", label="检索方式", scale=2, elem_id="mode")
                    search_k = gr.Slider(1, 30, value=settings.top_k if settings.top_k <= 30 else 10, step=1,
                                         label="返回段落数", scale=2, elem_id="search-k")
                    search_place = gr.Dropdown(_place_choices(engine.places()), value="", label="只看某地", scale=2,
                                               elem_id="search-place")
                search_status = gr.HTML("", elem_id="search-status", apply_default_css=False)
                hits = gr.Dataframe([], headers=HIT_HEADERS, interactive=False, wrap=True, max_height=720,
                                    elem_id="hits-table",
                                    column_widths=["4%", "6%", "5%", "5%", "10%", "15%", "12%", "43%"],
                                    datatype=["number", "str", "str", "str", "str", "str", "str", "str"])

            with gr.Tab("评测", id="eval", elem_id="tab-eval"):
                _eval_section(engine, settings)

        # -- events ------------------------------------------------------------------------------
        chat_inputs = [question, results_state, backend, top_k, place, llm_url, llm_key, llm_model, scope]
        chat_outputs = [conversation, sources, question, results_state, chat_status, dl_md, dl_docx, dl_json]
        for trigger in (ask_btn.click, question.submit):
            trigger(on_ask, chat_inputs, chat_outputs, show_progress="hidden", api_name="chat",
                    api_visibility="undocumented", concurrency_id="answer")
        clear_btn.click(clear, None, [conversation, sources, results_state, chat_status, dl_md, dl_docx, dl_json],
                        api_visibility="private")
        scope.change(lambda r, s: _downloads(list(r or []), s), [results_state, scope], [dl_md, dl_docx, dl_json],
                     api_visibility="private")
        backend.change(lambda b: gr.update(visible=b == "openai"), backend, endpoint, api_visibility="private")
        gr.api(ask_api, api_name="ask", concurrency_id="answer")

        docs_outputs = [docs_status, docs_table, doc_choice, place, header]
        writing = dict(api_visibility="private", concurrency_id="write", concurrency_limit=1,
                       show_progress_on=[docs_status])  # one progress bar, over the status area
        upload_btn.click(upload, files, [files, *docs_outputs], **writing)
        remove_btn.click(remove, doc_choice, docs_outputs, **writing)
        rebuild_btn.click(rebuild, None, docs_outputs, **writing)
        place.change(lambda p: gr.update(value=p), place, search_place, api_visibility="private")

        search_inputs = [query, mode, search_k, search_place]
        search_btn.click(search, search_inputs, [search_status, hits], api_name="search")
        query.submit(search, search_inputs, [search_status, hits], api_visibility="private")

        demo.load(documents_view, None, docs_outputs, api_visibility="private", show_progress="hidden")
        demo.load(lambda: gr.update(choices=_place_choices(engine.places())), None, search_place,
                  api_visibility="private", show_progress="hidden")
    demo.rag_engine = engine  # for tests and embedding
    return demo


def _eval_section(engine: Engine, settings: Settings) -> None:
    try:
        from rag import evaluate
    except Exception:  # noqa: BLE001 - a broken module must not take the UI down
        evaluate = None
    run_eval = getattr(evaluate, "run_eval", None)
    if run_eval is None:
        gr.Markdown("### 评测\n评测功能见 `rag eval` 命令（例如 `rag eval --limit 20`），报告写在 eval/runs/latest/。",
                    elem_id="eval-placeholder")
        return

    gr.Markdown("### 评测\n用评测集跑完整问答链，报告检索、答案正确率、引用可靠性和延迟（与 `rag eval` 相同，"
                "报告写在 eval/runs/ui/）。评测使用开始时的索引版本。",
                elem_id="eval-intro")
    with gr.Row(equal_height=True):
        dataset = gr.Textbox(str(_default_dataset()), label="评测集（JSON Lines）", scale=4)
        eval_backend = gr.Dropdown(BACKEND_CHOICES, value="extractive", label="回答方式", scale=2)
        limit = gr.Number(20, label="只跑前 N 题（0 = 全部）", precision=0, scale=2, elem_id="eval-limit")
        run_btn = gr.Button("开始评测", variant="primary", scale=1, elem_id="eval-run")
    output = gr.Markdown(elem_id="eval-output")
    report_file = gr.File(label="评测报告", visible=False)

    def run(path, backend, n, progress=gr.Progress()):
        from rich.console import Console

        progress(0, desc="评测中（可能需要几分钟）")
        buffer = io.StringIO()
        console = Console(file=buffer, width=110, force_terminal=False, color_system=None)
        out_dir = Path("eval/runs/ui")  # beside `rag eval`'s eval/runs/latest: one history for both
        options = AskOptions(backend=backend, llm_url=settings.llm_url, llm_key=settings.llm_key,
                             llm_model=settings.llm_model)
        try:
            with engine.reading() as snapshot:
                answerer = engine.answerer(snapshot, options)
                code = run_eval(answerer, dataset=Path(path), baseline=None, save_baseline=None, out_dir=out_dir,
                                tolerance=0.02, limit=int(n) or None, console=console)
        except RagError as exc:
            gr.Warning(str(exc), title="评测失败")
            return f"评测失败：{exc}", gr.update(visible=False)
        report = out_dir / "report.md"
        text = report.read_text(encoding="utf-8") if report.exists() else f"```\n{buffer.getvalue()}\n```"
        files = [str(p) for p in (out_dir / "report.html", report, out_dir / "results.jsonl") if p.exists()]
        head = "评测完成。" if code == 0 else f"评测完成（退出码 {code}：指标低于基线或有失败）。"
        return head + "\n\n" + text, gr.update(value=files or None, visible=bool(files))

    run_btn.click(run, [dataset, eval_backend, limit], [output, report_file], api_visibility="private",
                  concurrency_id="eval", concurrency_limit=1)


def _default_dataset() -> Path:
    here = Path("eval/golden.jsonl")
    if here.exists():
        return here
    import rag

    shipped = Path(rag.__file__).resolve().parent.parent / "eval" / "golden.jsonl"
    return shipped if shipped.exists() else here


def launch(settings: Settings, host: str = "127.0.0.1", port: int = 7860,
           auth: tuple[str, str] | None = None) -> None:
    """Serve the UI (blocks until stopped). Loopback only unless a host is given."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    demo = build_app(settings)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=64)
    uploads = demo.rag_engine.uploads_dir
    print(f"政策案例问答：http://{host}:{port}  （上传的文件保存在 {uploads.resolve()}）", flush=True)
    demo.launch(
        server_name=host, server_port=port, auth=auth, auth_message="请输入用户名和密码" if auth else None,
        # Gradio refuses (in English) only what is far too big; the 20 MB limit is checked, in Chinese, on import
        max_file_size=10 * MAX_BYTES, show_error=False, share=False, inbrowser=False, ssr_mode=False,
        mcp_server=False, pwa=False, enable_monitoring=False, footer_links=["api"], quiet=True,
        allowed_paths=[], **launch_options(),
    )
