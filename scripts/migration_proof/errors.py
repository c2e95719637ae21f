"""The one error type for usage and environment problems (exit code 2), and the one
line an exception is reported as."""

from __future__ import annotations


class ProofError(Exception):
    """A problem with the command line, the project or the machine, not the migrations.

    Its message is one line that says what to do about it.
    """


EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def first_line(exc: BaseException) -> str:
    """An exception's message, first line, without SQLAlchemy's SQL echo."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
