"""Fault-injection hooks for the writer, used by tests/faults (inert unless the variables are set).

RAG_FAULT_STOP_AT=step   the writer writes RAG_FAULT_READY (a file path) and stops itself
                         (SIGSTOP) at that step, so a test can SIGKILL it there.
RAG_FAULT_ERROR_AT=step:ERRNO   the writer raises OSError(ERRNO) at that step, e.g. ENOSPC or EROFS.

Steps, in order: parsed, locked, staging-created, docs-written, embedded, vectors-saved,
manifest-written, fsynced, renamed, current-written, current-replaced, pruned.
"""
from __future__ import annotations

import errno
import os
import signal
from pathlib import Path

STEPS = ("parsed", "locked", "staging-created", "docs-written", "embedded", "vectors-saved",
         "manifest-written", "fsynced", "renamed", "current-written", "current-replaced", "pruned")


def at(step: str) -> None:
    if os.environ.get("RAG_FAULT_STOP_AT") == step:
        ready = os.environ.get("RAG_FAULT_READY")
        if ready:
            Path(ready).write_text(step, encoding="utf-8")
        os.kill(os.getpid(), signal.SIGSTOP)
    fail = os.environ.get("RAG_FAULT_ERROR_AT", "")
    if fail:
        where, _, name = fail.partition(":")
        if where == step:
            code = getattr(errno, name or "EIO")
            raise OSError(code, os.strerror(code))
