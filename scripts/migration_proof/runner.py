"""What both scripts share: exit codes, signals, quiet env.py logging, scratch databases,
running one step of the project's code."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from types import FrameType
from typing import Any

from .errors import EXIT_ERROR, ProofError, first_line


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the scratch PostgreSQL lives, how env.py finds its URL, and the output."""
    parser.add_argument(
        "--postgres-url",
        help="a PostgreSQL server to create the scratch database on (default: an embedded "
        "throwaway server, else $TEST_POSTGRES_URL); the role needs CREATEDB",
    )
    parser.add_argument(
        "--url-env",
        default="DATABASE_URL",
        metavar="NAME",
        help="the environment variable env.py reads its URL from (default DATABASE_URL)",
    )
    parser.add_argument("-c", "--config", metavar="FILE", help="alembic.ini to use")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show env.py's logging and tracebacks"
    )


def interrupt(number: int, frame: FrameType | None) -> None:
    """SIGINT/SIGTERM: KeyboardInterrupt, which unwinds to the code that drops the scratch
    databases and stops the server.

    Inside a running event loop it is raised between two callbacks, as asyncio.run
    does for Ctrl-C: raised inside the database driver's protocol code, it can
    leave the process unable to clean up.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        raise KeyboardInterrupt from None
    loop.call_soon_threadsafe(_raise_interrupt)


def _raise_interrupt() -> None:
    raise KeyboardInterrupt


def run_command(prog: str, output_format: str, verbose: bool, body: Callable[[], int]) -> int:
    """Run ``body``; usage and environment errors exit 2 with one line on stderr.

    SIGTERM becomes KeyboardInterrupt, so the context managers that own
    scratch databases and servers unwind before the process ends. Anything
    unforeseen is one line too (with its traceback under --verbose): exit 2,
    because nothing was proven.
    """
    for number in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(number) is not signal.SIG_IGN:  # a background job's SIGINT
            signal.signal(number, interrupt)
    try:
        return body()
    except ProofError as exc:
        return report_error(prog, output_format, str(exc))
    except KeyboardInterrupt:
        return report_error(prog, output_format, "interrupted; the scratch databases were removed")
    except Exception as exc:
        if verbose:
            traceback.print_exc()
        text = (str(exc).strip().splitlines() or [""])[0]
        hint = "" if verbose else " (-v shows the traceback)"
        return report_error(prog, output_format, f"{type(exc).__name__}: {text}{hint}")


def report_error(prog: str, output_format: str, message: str) -> int:
    """Exit 2: one line on stderr, and on stdout nothing that could pass for a result."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    if output_format == "json":
        print(json.dumps({"ok": False, "error": message}))
    return EXIT_ERROR


def load_project(config: str | None, url_env: str) -> Any:
    """The project in the working directory; alembic must be importable here."""
    try:
        from .project import AlembicProject
    except ImportError as exc:
        raise ProofError(
            f"{exc.name or exc} is not importable: run this with the project's Python, "
            "the one that has alembic and SQLAlchemy installed"
        ) from None
    return AlembicProject(ini=config, url_env=url_env)


@contextmanager
def quiet_env_py_logging(verbose: bool) -> Iterator[None]:
    """Keep env.py's fileConfig() from logging every step; warnings still reach stderr.

    env.py files import fileConfig when they run, so replacing it for the
    duration is enough; --verbose leaves it alone.
    """
    import logging.config

    original = logging.config.fileConfig
    if not verbose:
        logging.config.fileConfig = lambda *args, **kwargs: None
    try:
        yield
    finally:
        logging.config.fileConfig = original


@contextmanager
def scratch_database(dialect: str, driver: str, postgres_url: str | None) -> Iterator[Any]:
    """An empty database of ``dialect``, addressed with ``driver``; gone afterwards."""
    from sqlalchemy.engine import make_url

    from .scratch import postgres_database, postgres_server, sqlite_file

    with ExitStack() as stack:
        if dialect == "sqlite":
            path = stack.enter_context(sqlite_file())
            yield make_url(f"sqlite+{driver}:///{path}")
        else:
            server = stack.enter_context(postgres_server(postgres_url))
            yield stack.enter_context(postgres_database(server, driver))


def run_caught(fn: Any, verbose: bool) -> tuple[bool, str]:
    """Run one step of the project's own code; (ok, the first line of what went wrong)."""
    from .project import ElsewhereError

    try:
        fn()
    except (KeyboardInterrupt, ProofError):
        raise
    except ElsewhereError as exc:
        raise ProofError(f"{exc}: nothing more was run") from None
    except BaseException as exc:  # env.py and revisions are the project's code
        if verbose:
            traceback.print_exc()
        return False, first_line(exc)
    return True, ""
