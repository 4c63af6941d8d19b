"""`rag serve`: the HTTP API (OpenAI-compatible chat, REST) and the web UI in one process.

    rag serve [--host 127.0.0.1] [--port 8000] [--api-key KEY] [--no-ui]

- ``POST /v1/chat/completions``: OpenAI's chat API (``stream: true`` as server-sent events).
  ``model`` names the backend (``extractive``, ``local``, ``openai``; anything else: the
  default). The reply is the cited answer with [n] markers and a list of its sources; the
  citations and sentence verdicts ride along in an extra ``rag`` field that OpenAI clients ignore.
- ``GET /v1/models``; REST: ``POST /v1/search``, ``POST /v1/ask`` (the ``rag ask --json``
  object), ``GET/POST /v1/documents``, ``DELETE /v1/documents/{doc}``, ``POST /v1/export``,
  ``GET /health``. The OpenAPI description is at ``/openapi.json``, its page at ``/docs``.
- Loopback by default. Beyond loopback an API key (``Authorization: Bearer …``) is required
  for every /v1 route, and the web UI needs a login (``--auth``) or is left out (``--no-ui``).
- Requests are served concurrently (a thread pool); the index is read through snapshots that a
  concurrent upload never disturbs (rag.ui.engine), and the local model answers one at a time.
"""
from __future__ import annotations

import hmac
import json
import shutil
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from fastapi import Depends, FastAPI, File, Header, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from . import __version__
from .config import Settings, is_loopback
from .errors import IndexUnusableError, InputError, RagError
from .llm import BACKENDS
from .loaders import MAX_BYTES, SUPPORTED
from .runnable import as_turns
from .schema import AnswerResult

OWNER = "policy-case-rag"
SOURCES_HEADING = "出处："


# --- request bodies --------------------------------------------------------------------------
class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """OpenAI's chat request; temperature and the like are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str = "extractive"
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    # extensions (OpenAI clients can send them as extra_body)
    place: str | None = None
    k: int | None = Field(None, ge=1, le=50)
    sources: bool = True  # append the list of sources to the reply text


class AskRequest(BaseModel):
    question: str
    backend: str | None = None
    k: int | None = Field(None, ge=1, le=50)
    place: str | None = None
    history: list[dict[str, str]] = Field(default_factory=list, description='[{"question": …, "answer": …}, …]')


class SearchRequest(BaseModel):
    query: str
    k: int = Field(5, ge=1, le=50)
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    place: str | None = None
    doc: str | None = None


class ExportRequest(BaseModel):
    format: Literal["md", "docx", "json"] = "docx"
    results: list[dict] | None = Field(None, description="answers as /v1/ask returned them")
    question: str | None = Field(None, description="or a question to answer and export")
    backend: str | None = None


# --- helpers ---------------------------------------------------------------------------------
def _text(content: str | list | None) -> str:
    if isinstance(content, list):  # [{"type": "text", "text": …}, …]
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def _without_sources(answer: str) -> str:
    head, sep, _ = answer.partition("\n\n" + SOURCES_HEADING)
    return head if sep else answer


def conversation(messages: list[ChatMessage]) -> tuple[str, list]:
    """The last user message, and the earlier user/assistant exchanges as history."""
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if not users:
        raise InputError("消息中没有用户的问题（role 为 user 的消息）。")
    last = users[-1]
    pairs, pending = [], None
    for m in messages[:last]:
        if m.role == "user":
            pending = _text(m.content)
        elif m.role == "assistant" and pending is not None:
            pairs.append((pending, _without_sources(_text(m.content))))
            pending = None
    if pending is not None:
        pairs.append((pending, ""))
    return _text(messages[last].content), as_turns(pairs)


def sources_text(result: AnswerResult) -> str:
    if not result.citations:
        return ""
    lines = [f"[{c.n}] {c.place_full or c.place} ·《{c.title}》第{c.paragraph}段" for c in result.citations]
    return "\n\n" + SOURCES_HEADING + "\n" + "\n".join(lines)


def reply_text(result: AnswerResult, with_sources: bool = True) -> str:
    return result.answer + (sources_text(result) if with_sources else "")


def hit_json(rank: int, hit) -> dict:
    m = hit.metadata
    return {
        "rank": rank, "id": m["id"], "doc": m["doc"], "article": m["article"], "paragraph": m["paragraph"],
        "place": m["place"], "place_full": m["place_full"], "title": m["title"], "section": m.get("section", ""),
        "score": m["score"], "dense_rank": m.get("dense_rank"), "bm25_rank": m.get("bm25_rank"),
        "text": hit.page_content,
    }


def _error(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": code}}, status_code=status)


def safe_name(name: str) -> str:
    """An uploaded file's own name, or a refusal: no folders, no control characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if (not base or base in (".", "..") or base.startswith(".") or len(base) > 200
            or any(unicodedata.category(ch)[0] == "C" for ch in base)):
        raise InputError(f"文件名不可用：{name!r}")
    return base


# --- the app ---------------------------------------------------------------------------------
def create_app(settings: Settings, *, host: str = "127.0.0.1", ui: bool = True, engine=None) -> FastAPI:
    """The API (and, with ui=True, the web UI at /). Refuses to serve beyond loopback unprotected."""
    from .ui.engine import AskOptions, Engine

    local = is_loopback(host)
    key = settings.api_key
    if not local and not key:
        raise InputError(f"监听 {host}（本机以外可以访问）时必须设置 API Key：--api-key 或环境变量 RAG_API_KEY。")
    if ui and not local and not settings.auth_pair():
        raise InputError(f"监听 {host} 时网页界面需要登录：--auth 用户名:密码（或 RAG_UI_AUTH），或用 --no-ui 只提供 API。")
    engine = engine or Engine(settings, settings.uploads_dir)
    default_backend = settings.backend if settings.backend in BACKENDS else "extractive"

    app = FastAPI(title="政策案例问答 API", version=__version__,
                  description="带出处的政策案例问答：OpenAI 兼容的对话接口、检索、问答、文档管理和导出。"
                              "除 /health 外，设置了 API Key 时每个请求都要带 `Authorization: Bearer <key>`。")
    app.state.engine = engine

    def authorized(authorization: str | None = Header(None, include_in_schema=False)) -> None:
        if not key:
            return
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), key.encode()):
            raise HTTPException(401, "缺少或错误的 API Key（请求头 Authorization: Bearer <key>）。")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        kind = "invalid_api_key" if exc.status_code == 401 else "invalid_request_error"
        response = _error(exc.status_code, str(exc.detail), kind)
        if exc.status_code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(RagError)
    async def rag_error(request: Request, exc: RagError):
        status = 400 if isinstance(exc, InputError) else 503 if isinstance(exc, IndexUnusableError) else 500
        return _error(status, str(exc), "invalid_request_error" if status == 400 else "server_error")

    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        where = "; ".join(".".join(str(p) for p in e.get("loc", ())[1:]) + "：" + e.get("msg", "") for e in exc.errors())
        return _error(422, f"请求格式不对：{where}")

    def options(backend: str | None, k: int | None = None, place: str | None = None) -> AskOptions:
        chosen = backend if backend in BACKENDS else default_backend
        return AskOptions(backend=chosen, k=k or settings.k, place=place or "", llm_url=settings.llm_url,
                          llm_key=settings.llm_key, llm_model=settings.llm_model)

    v1 = dict(dependencies=[Depends(authorized)])

    @app.get("/health", tags=["状态"], summary="服务与索引状态")
    def health() -> dict:
        index = engine.peek()
        return {"status": "ok" if index is not None else "no_index", "version": __version__}

    @app.get("/v1/models", tags=["OpenAI 兼容"], summary="可用的回答方式（model 字段）", **v1)
    def models() -> dict:
        return {"object": "list", "data": [{"id": b, "object": "model", "created": 0, "owned_by": OWNER}
                                           for b in BACKENDS]}

    @app.post("/v1/chat/completions", tags=["OpenAI 兼容"], summary="对话（OpenAI 兼容，支持 stream）", **v1)
    def chat(body: ChatRequest):
        question, history = conversation(body.messages)
        opts = options(body.model, body.k, body.place)
        model = body.model or opts.backend
        ident, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        if not body.stream:
            result = _answer(question, history, opts)
            text = reply_text(result, body.sources)
            return {
                "id": ident, "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": len(question), "completion_tokens": len(text),
                          "total_tokens": len(question) + len(text)},
                "rag": result.contract(),
            }
        events = engine.stream(question, history, opts)  # opens the snapshot lazily, in the worker thread
        return StreamingResponse(_sse(events, ident, created, model, body.sources), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    def _answer(question: str, history: list, opts: AskOptions) -> AnswerResult:
        result = None
        for event in engine.stream(question, history, opts):
            if event["type"] == "result":
                result = event["result"]
        if result is None:
            raise RagError("没有得到回答，请重试。")
        return result

    def _sse(events: Iterator[dict], ident: str, created: int, model: str, with_sources: bool) -> Iterator[str]:
        def chunk(delta: dict, finish: str | None = None, **extra) -> str:
            body = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
            return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        try:
            for event in events:
                if event["type"] == "status":
                    yield f": {event['text']}\n\n"  # an SSE comment: keeps the connection alive, clients ignore it
                elif event["type"] == "result":
                    # a model's raw tokens are not sent, only the answer that passed the citation check
                    result: AnswerResult = event["result"]
                    for line in result.answer.splitlines(keepends=True):
                        yield chunk({"content": line})
                    if with_sources and result.citations:
                        yield chunk({"content": sources_text(result)})
                    yield chunk({}, "stop", rag=result.contract())
        except RagError as exc:
            yield f"data: {json.dumps({'error': {'message': str(exc), 'type': 'server_error'}}, ensure_ascii=False)}\n\n"
        yield "data: [DONE]\n\n"

    @app.post("/v1/ask", tags=["问答"], summary="回答一个问题（rag ask --json 的结构）", **v1)
    def ask(body: AskRequest) -> dict:
        return _answer(body.question, as_turns(body.history), options(body.backend, body.k, body.place)).contract()

    @app.post("/v1/search", tags=["检索"], summary="检索相关段落", **v1)
    def search(body: SearchRequest) -> dict:
        from .validate import clean_question

        query = clean_question(body.query, settings.max_question_chars)
        with engine.reading() as snap:
            hits = snap.index.retriever(k=body.k, fetch_k=settings.fetch_k, rrf_k=settings.rrf_k, mode=body.mode,
                                        place=body.place or None, doc=body.doc or None).search(query)
        return {"query": query, "hits": [hit_json(rank, h) for rank, h in enumerate(hits, start=1)]}

    @app.get("/v1/documents", tags=["文档"], summary="已导入的文档、文章和地点", **v1)
    def documents() -> dict:
        return {"documents": engine.documents()}

    @app.post("/v1/documents", tags=["文档"], summary="上传并导入文档（同名文件会更新原有文档）", **v1)
    async def upload(files: list[UploadFile] = File(...)) -> dict:
        if len(files) > settings.max_upload_files:
            raise InputError(f"一次最多上传 {settings.max_upload_files} 个文件。")
        folder = Path(tempfile.mkdtemp(prefix="rag-upload-"))
        refused: list[dict] = []
        paths: list[Path] = []
        try:
            for f in files:
                try:
                    name = safe_name(f.filename or "")
                    if Path(name).suffix.lower() not in SUPPORTED:
                        raise InputError(f"不支持的文件类型 {Path(name).suffix or '（无扩展名）'}")
                    path = folder / name
                    size = 0
                    with open(path, "wb") as out:
                        while chunk := await f.read(1 << 20):
                            size += len(chunk)
                            if size > MAX_BYTES:
                                raise InputError(f"文件过大，上限 {MAX_BYTES // 1024 // 1024} MB")
                            out.write(chunk)
                    paths.append(path)
                except InputError as exc:
                    refused.append({"file": f.filename, "message": str(exc)})
            from starlette.concurrency import run_in_threadpool

            report, before = (await run_in_threadpool(engine.add_files, paths)) if paths else (None, [])
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        refused += [{"file": n, "message": m} for n, m in before]
        if report is not None:
            refused += [{"file": Path(p).name, "message": m} for p, m in report.failed]
        return {"added": report.added if report else [], "updated": report.updated if report else [],
                "unchanged": report.unchanged if report else [], "failed": refused,
                "embedded": report.embedded if report else 0}

    @app.delete("/v1/documents/{doc}", tags=["文档"], summary="从索引中删除一个文档", **v1)
    def remove(doc: str) -> dict:
        engine.remove(doc)
        return {"removed": doc}

    @app.post("/v1/export", tags=["导出"], summary="把回答导出为 Markdown、Word 或 JSON", **v1)
    def export_answer(body: ExportRequest):
        from .export import export

        if body.results:
            try:
                results = [AnswerResult.model_validate(r) for r in body.results]
            except ValueError as exc:
                raise InputError("results 不是 /v1/ask 返回的回答。") from exc
        elif body.question:
            results = [_answer(body.question, [], options(body.backend))]
        else:
            raise InputError("请给出 results（/v1/ask 返回的回答）或 question。")
        folder = Path(tempfile.mkdtemp(prefix="rag-export-"))
        name = f"政策问答-{time.strftime('%Y%m%d-%H%M%S')}.{body.format}"
        path = export(results if len(results) > 1 else results[0], folder / name)
        media = {"md": "text/markdown; charset=utf-8", "json": "application/json",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}[body.format]
        return FileResponse(path, media_type=media, filename=name,
                            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))

    if ui:
        import gradio as gr

        from .ui.app import CONCURRENCY, build_app, launch_options, mount_options

        blocks = build_app(settings, engine=engine, host=host)
        blocks.queue(default_concurrency_limit=CONCURRENCY, max_size=64)
        gr.mount_gradio_app(app, blocks, path="/ui", auth=settings.auth_pair(), **mount_options(), **launch_options())

        @app.get("/", include_in_schema=False)
        def home():
            return RedirectResponse("/ui/")
    else:
        @app.get("/", include_in_schema=False)
        def home():
            return RedirectResponse("/docs")
    return app


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, ui: bool = True) -> None:
    import uvicorn

    app = create_app(settings, host=host, ui=ui)
    where = f"http://{host}:{port}"
    print(f"政策案例问答 API：{where}/v1（OpenAI 兼容），接口说明 {where}/docs"
          + (f"，网页界面 {where}/ui/" if ui else ""), flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
