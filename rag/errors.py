"""Errors users see. Messages are in Chinese, the users' language; the cause stays attached."""


class RagError(Exception):
    """An error with a message meant for the user (not a stack trace)."""

    exit_code = 1


class InputError(RagError):
    """Bad input: an unreadable file, an empty or over-long question."""

    exit_code = 2


class IndexUnusableError(RagError):
    """The index is missing, corrupt, or was built with another model."""

    exit_code = 3
