"""Start `alembic` processes without paying for their imports each time.

The suite runs well over a hundred `alembic ...` command lines: eight replicas
per race, every command SKILL.md lists, the deploy retry loop. Each fresh
interpreter spends most of its CPU importing alembic and SQLAlchemy. This
server imports them once, then forks a child per command line. The child is
a separate process with the caller's argv, working directory, environment and
stdin/stdout/stderr, and runs alembic's own console entry point; only the
imports are shared. env.py and models.py are imported fresh in each child.

Tests reach it through small shims: ``alembic`` for command lines, and
``python-script`` for ``python SCRIPT ARGS`` (this skill's scripts). A shim runs the
real program when the server is not there, so the tests never depend on it.
"""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REAL_ALEMBIC = Path(sys.executable).with_name("alembic")
# What every alembic command line imports anyway; env.py and models.py stay out.
PRELOAD = [
    "alembic.config",
    "alembic.command",
    "alembic.autogenerate",
    "alembic.runtime.environment",
    "alembic.runtime.migration",
    "alembic.script",
    "logging.config",
    "sqlalchemy",
    "sqlalchemy.orm",
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.dialects.postgresql.asyncpg",
    "sqlalchemy.dialects.sqlite.aiosqlite",
    "asyncpg",
    "aiosqlite",
    "greenlet",
]

SHIM = """#!{python} -IS
# `{name}`, run by the suite's fork server (tests/forkserver.py) when it is up.
import json, os, signal, socket, sys

def main():
    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect({socket_path!r})
    except OSError:
        os.execv({python!r}, [{python!r}, *{fallback!r}, *sys.argv[1:]])
    request = json.dumps(
        {{"argv": [{name!r}, *sys.argv[1:]], "cwd": os.getcwd(), "env": dict(os.environ)}}
    ).encode()
    socket.send_fds(conn, [len(request).to_bytes(4, "big") + request], [0, 1, 2])
    replies = conn.makefile("r")
    pid = json.loads(replies.readline())["pid"]
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda number, frame: os.kill(pid, number))
    line = replies.readline()
    sys.exit(json.loads(line)["rc"] if line else 1)

main()
"""


def exit_status(code: object) -> int:
    """The status a real process would exit with for ``sys.exit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def receive_request(conn: socket.socket) -> tuple[dict[str, object], list[int]]:
    data, fds, _, _ = socket.recv_fds(conn, 65536, 3)
    size = int.from_bytes(data[:4], "big")
    body = data[4:]
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise ConnectionError("the shim went away mid-request")
        body += chunk
    return json.loads(body), fds


def run_child(conn: socket.socket, request: dict[str, object], fds: list[int]) -> None:
    """In the forked child: become the caller's `alembic` process, then exit."""
    status = 1
    try:
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # ruff hooks are waited for
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(str(request["cwd"]))
        os.environ.clear()
        os.environ.update(request["env"])  # type: ignore[arg-type]
        argv = list(request["argv"])  # type: ignore[call-overload]
        conn.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")

        def die_with_the_shim() -> None:
            conn.recv(1)  # returns only when the shim is gone
            os._exit(1)

        threading.Thread(target=die_with_the_shim, daemon=True).start()
        try:
            run_program(argv)
            status = 0
        except SystemExit as exc:
            status = exit_status(exc.code)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps({"rc": status}).encode() + b"\n")
        os._exit(status)


def run_program(argv: list[str]) -> None:
    """`alembic ARGS` through alembic's console entry point, or `python SCRIPT ARGS`."""
    if argv[0] == "alembic":
        from alembic.config import main

        sys.argv = argv
        main(argv=argv[1:], prog="alembic")
        return
    script = os.path.abspath(argv[1])
    sys.argv = argv[1:]
    sys.path[0] = os.path.dirname(script)  # as the interpreter sets it for a script
    runpy.run_path(script, run_name="__main__")


def serve(socket_path: str, parent: int) -> None:
    """Fork a child per request until the process that started us is gone."""
    for module in PRELOAD:
        __import__(module)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(0))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(64)
    listener.settimeout(1.0)
    try:
        while os.getppid() == parent:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(None)
            try:
                request, fds = receive_request(conn)
            except (OSError, ValueError):
                conn.close()
                continue
            if os.fork() == 0:
                listener.close()
                run_child(conn, request, fds)
            conn.close()
            for fd in fds:
                os.close(fd)
    finally:
        remove_folder(Path(socket_path).parent)  # also when pytest died without cleaning up


def remove_folder(folder: Path) -> None:
    """The server's folder (socket and shim), if it is still there."""
    for path in folder.glob("*"):
        path.unlink(missing_ok=True)
    with contextlib.suppress(FileNotFoundError):
        folder.rmdir()


@contextmanager
def alembic_forkserver() -> Iterator[Path]:
    """A running server and the folder holding its ``alembic`` shim; both go on exit."""
    folder = Path(tempfile.mkdtemp(prefix="alembic-forkserver-"))
    socket_path = folder / "server.sock"
    for name, fallback in (("alembic", [str(REAL_ALEMBIC)]), ("python-script", [])):
        shim = folder / name
        shim.write_text(
            SHIM.format(
                name=name, python=sys.executable, socket_path=str(socket_path), fallback=fallback
            )
        )
        shim.chmod(0o755)
    server = subprocess.Popen(
        [sys.executable, __file__, str(socket_path), str(os.getpid())],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not socket_path.exists() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        yield folder
    finally:
        server.terminate()
        server.wait(10)
        remove_folder(folder)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
