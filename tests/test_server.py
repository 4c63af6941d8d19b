"""`rag serve` with real clients: the official `openai` package (plain and streaming) and httpx for
the REST routes, against a server process on a copy of the real index; ten requests at once."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
httpx = pytest.importorskip("httpx")
openai = pytest.importorskip("openai")

SAMPLE = "哪些地方用信托制物业?"
KEY = "test-key-123"


@pytest.fixture(scope="module")
def server(real_index_dir, tmp_path_factory):
    from ui_helpers import clean_env, free_port, stop, wait_for_http

    root = tmp_path_factory.mktemp("serve")
    index_dir = root / "index"
    shutil.copytree(real_index_dir, index_dir, ignore=shutil.ignore_patterns(".lock"))
    port = free_port()
    log = root / "server.log"
    rag = Path(sys.executable).with_name("rag")
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(rag), "serve", "--index", str(index_dir), "--port", str(port)], cwd=root,
                                env=clean_env(RAG_UPLOADS_DIR=str(root / "uploads"), RAG_API_KEY=KEY),
                                stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/health", proc, log)
        yield base
    finally:
        stop(proc)


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server + "/v1", api_key=KEY, max_retries=0, timeout=120)


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {KEY}"}, timeout=120) as c:
        yield c


# --- OpenAI-compatible -----------------------------------------------------------------------
def test_openai_client_chat(client):
    reply = client.chat.completions.create(model="extractive", messages=[{"role": "user", "content": SAMPLE}])
    text = reply.choices[0].message.content
    assert "莱阳" in text and "[1]" in text and "出处：" in text
    assert reply.choices[0].finish_reason == "stop"
    extra = reply.model_extra["rag"]  # citations and verdicts ride along
    assert extra["citations"][0]["place_full"] == "山东省烟台市莱阳市"
    assert extra["sentences"] and all("verdict" in s for s in extra["sentences"])
    assert [m.id for m in client.models.list().data] == ["extractive", "local", "openai"]


def test_openai_client_streams(client):
    stream = client.chat.completions.create(model="extractive", stream=True,
                                            messages=[{"role": "user", "content": SAMPLE}])
    pieces, final = [], None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        if chunk.choices and chunk.choices[0].finish_reason == "stop":
            final = chunk
    text = "".join(pieces)
    assert len(pieces) >= 3  # line by line
    assert "莱阳" in text and "[1]" in text
    assert final is not None and final.model_extra["rag"]["answer"] in text


def test_openai_client_follow_up(client):
    messages = [{"role": "user", "content": "莱阳市怎样用信托制物业？"}]
    first = client.chat.completions.create(model="extractive", messages=messages).choices[0].message.content
    messages += [{"role": "assistant", "content": first}, {"role": "user", "content": "那物业费收缴率提升到多少？"}]
    reply = client.chat.completions.create(model="extractive", messages=messages)
    assert "93%" in reply.choices[0].message.content


def test_ten_requests_at_once(client):
    questions = [SAMPLE, "岑溪市怎样用牛娘戏参与基层治理？", "莱阳市的物业费收缴率提升到了多少？",
                 "罗定市的“3+2+5”城市社区党建模式是什么？", "龙文区把乡贤融入基层治理推行的是什么工作法？"] * 2
    expected = ["莱阳", "岑溪", "93%", "罗定", "三聚三强"] * 2

    def ask(q):
        return client.chat.completions.create(model="extractive", messages=[{"role": "user", "content": q}])

    started = time.monotonic()
    with ThreadPoolExecutor(10) as pool:
        replies = list(pool.map(ask, questions))
    for reply, word in zip(replies, expected):
        assert word in reply.choices[0].message.content
    assert time.monotonic() - started < 120


def test_a_wrong_key_is_refused(server):
    bad = openai.OpenAI(base_url=server + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="extractive", messages=[{"role": "user", "content": SAMPLE}])
    assert httpx.get(server + "/v1/models").status_code == 401
    assert httpx.get(server + "/health").json()["status"] == "ok"  # liveness needs no key


# --- REST ------------------------------------------------------------------------------------
def test_search_ask_and_export(http, tmp_path):
    hits = http.post("/v1/search", json={"query": "信托制物业", "k": 3, "place": "岑溪"}).json()["hits"]
    assert len(hits) == 3 and all("岑溪" in h["place_full"] for h in hits)
    answer = http.post("/v1/ask", json={"question": SAMPLE}).json()
    assert set(answer) >= {"question", "answer", "refused", "citations", "retrieved", "sentences", "backend",
                           "notes", "timings_ms"}
    assert "莱阳" in answer["answer"]
    word = http.post("/v1/export", json={"format": "docx", "results": [answer]})
    assert word.status_code == 200 and word.content[:2] == b"PK"
    assert ".docx" in word.headers["content-disposition"]
    md = http.post("/v1/export", json={"format": "md", "question": SAMPLE})
    assert SAMPLE in md.text
    bad = http.post("/v1/ask", json={"question": "  "})
    assert bad.status_code == 400 and "问题是空的" in bad.json()["error"]["message"]


def test_documents_upload_list_remove(http):
    text = ("浙江省杭州市西湖区：“湖畔议事厅”破解老旧小区加装电梯难题\n\n"
            "浙江省杭州市西湖区在翠苑街道试点“湖畔议事厅”协商机制，已推动老旧小区加装电梯217台。\n")
    done = http.post("/v1/documents", files=[("files", ("xihu.txt", text.encode("gbk"), "text/plain")),
                                              ("files", (".hidden.txt", b"x", "text/plain")),
                                              ("files", ("big.txt", b"a" * (20 * 1024 * 1024 + 1), "text/plain"))])
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["added"] == ["xihu.txt"]
    failed = {f["file"]: f["message"] for f in body["failed"]}
    assert "文件名不可用" in failed[".hidden.txt"] and "文件过大" in failed["big.txt"]
    docs = [d["doc"] for d in http.get("/v1/documents").json()["documents"]]
    assert "xihu.txt" in docs
    assert "217" in http.post("/v1/ask", json={"question": "西湖区加装了多少台电梯？"}).json()["answer"]
    assert http.delete("/v1/documents/xihu.txt").json() == {"removed": "xihu.txt"}
    assert "xihu.txt" not in [d["doc"] for d in http.get("/v1/documents").json()["documents"]]
    assert http.delete("/v1/documents/nope.txt").status_code == 400


def test_openapi_page_and_ui_are_served(server, http):
    spec = http.get("/openapi.json").json()
    assert "/v1/chat/completions" in spec["paths"] and "/v1/search" in spec["paths"]
    assert http.get("/docs").status_code == 200
    page = httpx.get(server + "/ui/", timeout=30)
    assert page.status_code == 200 and "政策案例问答" in page.text


# --- refusing to serve unprotected -----------------------------------------------------------
def test_beyond_loopback_needs_a_key_and_a_login(tmp_path):
    from rag.config import Settings
    from rag.errors import InputError
    from rag.server import create_app

    settings = Settings(index_dir=tmp_path / "index", uploads_dir=tmp_path / "uploads")
    with pytest.raises(InputError, match="API Key"):
        create_app(settings, host="0.0.0.0", ui=False)
    keyed = settings.model_copy(update={"api_key": "k"})
    with pytest.raises(InputError, match="--auth"):
        create_app(keyed, host="0.0.0.0", ui=True)
    assert create_app(keyed, host="0.0.0.0", ui=False) is not None
    assert create_app(settings, host="127.0.0.1", ui=False) is not None


def test_chat_request_shapes():
    from rag.server import ChatMessage, conversation

    question, history = conversation([
        ChatMessage(role="system", content="你是助手"),
        ChatMessage(role="user", content="莱阳市怎样用信托制物业？"),
        ChatMessage(role="assistant", content="以信托制物业为关键突破[1]。\n\n出处：\n[1] 山东省烟台市莱阳市"),
        ChatMessage(role="user", content=[{"type": "text", "text": "那收缴率呢？"}]),
    ])
    assert question == "那收缴率呢？"
    assert [(t.question, t.answer) for t in history] == [("莱阳市怎样用信托制物业？", "以信托制物业为关键突破[1]。")]
