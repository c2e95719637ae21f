"""The one error type for usage and environment problems: exit code 2."""

from __future__ import annotations


class ProofError(Exception):
    """A problem with the command line, the project or the machine, not the migrations.

    Its message is one line that says what to do about it.
    """


EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
