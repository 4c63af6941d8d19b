"""Errors users see. Messages are in Chinese, the users' language; the cause stays attached.

Exit codes of the `rag` command (README, "Exit codes"):
0 success · 1 regression (`rag eval` below its baseline) or an unexpected error ·
2 usage (the command line or the question) · 3 the index (missing, damaged, another model) ·
4 input data (a document or question file that cannot be read) · 5 storage (disk full, read-only
or unwritable index folder).
"""


class RagError(Exception):
    """An error with a message meant for the user (not a stack trace)."""

    exit_code = 1


class InputError(RagError):
    """Bad input on the command line or in a request: an empty or over-long question, a document
    that is not in the index."""

    exit_code = 2


class DataError(InputError):
    """A file given to read is unusable: missing, unreadable, too large, binary, undecodable."""

    exit_code = 4


class IndexUnusableError(RagError):
    """The index is missing, corrupt, or was built with another model."""

    exit_code = 3


class OldFormatError(IndexUnusableError):
    """The index was written by an older release: `rag ingest` upgrades it from its stored text."""


class StorageError(RagError):
    """The index folder cannot be written: disk full, read-only, no permission. Nothing is lost:
    the live version is untouched."""

    exit_code = 5
