"""SIGTERM or SIGINT mid-run: each process that starts an embedded PostgreSQL stops it.

bench/run.py, bench/proof_tools.py (whose scripts start the servers),
verify_migrations.py and lock_trace.py (in a fresh `alembic init -t async`
project, with that project's own env.py, as a user runs them) and pytest
itself (with an xdist worker) run as real processes with a private TMPDIR and
no TEST_POSTGRES_URL, so each server starts there. Once it is up and work is
under way, the test signals the process, then finds no process naming that
folder (a server's command line does), none that the process had started, and
nothing left in the folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from project import PROJECT_DIR, sigint_as_in_a_terminal
from stock import SLEEPING_REVISION, init_project

TESTS_DIR = PROJECT_DIR / "tests"
BENCH = PROJECT_DIR / "bench" / "run.py"
PROOF_TOOLS = PROJECT_DIR / "bench" / "proof_tools.py"
TRACE = PROJECT_DIR / "scripts" / "lock_trace.py"
# Each test starts processes that start servers of their own, then kills them: seconds
# apiece, for code that changes rarely. `pytest -m slow` runs them, and so does CI.
pytestmark = pytest.mark.slow

VERIFY = PROJECT_DIR / "scripts" / "verify_migrations.py"
# Settings of this process that would point the child at servers or folders not its own.
INHERITED = ("TEST_POSTGRES_URL", "DATABASE_URL", "XDG_RUNTIME_DIR", "ALEMBIC_FORKSERVER_BIN")
INTERRUPTED = 130  # bench/*.py after KeyboardInterrupt
PYTEST_INTERRUPTED = int(pytest.ExitCode.INTERRUPTED)


# Run by one xdist worker, which starts its own server.
PG_TESTS = """
import asyncio
import os
from pathlib import Path

import pytest
from postgres import execute_autocommit


def test_under_way(postgresql_url):
    Path(os.environ["UNDER_WAY"], "1").touch()
    asyncio.run(execute_autocommit(postgresql_url, "SELECT pg_sleep(60)"))
"""


@dataclass
class Started:
    """A process started with a private TMPDIR, and what it started before the signal."""

    process: subprocess.Popen[bytes]
    tmp: Path
    log: Path
    descendants: list[psutil.Process] = field(default_factory=list)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, condition: Callable[[], object], what: str, timeout: float = 90) -> None:
        """Poll until ``condition`` holds; fail early if the process ends first."""
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.process.poll() is None, f"it ended before {what}:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {what} after {timeout} s:\n{self.output()}"
            time.sleep(0.01)

    def stop(self, number: signal.Signals, group: bool = False) -> str:
        """Send the signal (to its process group: a terminal's Ctrl-C); its output once it ends."""
        self.descendants = psutil.Process(self.process.pid).children(recursive=True)
        if group:
            os.killpg(self.process.pid, number)
        else:
            self.process.send_signal(number)
        self.process.wait(timeout=60)
        return self.output()

    def assert_nothing_left(self) -> None:
        """No process names the TMPDIR, none it had started still runs, the folder is empty.

        pg_ctl stop returns once postmaster.pid is gone, a moment before the
        postmaster has exited: a few seconds' grace, where a leak lasts.
        """
        deadline = time.monotonic() + 5
        while (naming(self.tmp) or self.alive()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert naming(self.tmp) == "", f"a server outlived the run:\n{self.output()}"
        assert self.alive() == [], f"processes it started outlived the run:\n{self.output()}"
        assert sorted(p.name for p in self.tmp.iterdir()) == []

    def alive(self) -> list[psutil.Process]:
        return [p for p in self.descendants if running(p)]

    def kill_leftovers(self) -> None:
        """Whatever a failed test left running: servers first, then the rest."""
        for line in naming(self.tmp).splitlines():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line.split()[0]), signal.SIGQUIT)  # immediate shutdown
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # its session, whatever is left of it
        for leftover in self.descendants:
            with contextlib.suppress(psutil.Error):
                leftover.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while naming(self.tmp) and time.monotonic() < deadline:
            time.sleep(0.1)
        for line in naming(self.tmp).splitlines():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line.split()[0]), signal.SIGKILL)
        shutil.rmtree(self.tmp, ignore_errors=True)


def naming(folder: Path) -> str:
    """`pgrep -af folder`: the processes whose command line names it (a server does)."""
    found = subprocess.run(["pgrep", "-af", str(folder)], capture_output=True, text=True)
    return found.stdout


def running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Started]]:
    """Start commands as a user would, each in a session of its own; clean up after them."""
    started: list[Started] = []

    def run(command: list[str], cwd: Path = PROJECT_DIR, **settings: str) -> Started:
        # Short: the embedded server's Unix socket lives under it (108 characters at most).
        tmp = Path(tempfile.mkdtemp(prefix="sig-", dir="/tmp"))
        log = tmp_path / f"output{len(started)}.txt"
        environment = {k: v for k, v in os.environ.items() if k not in INHERITED}
        with log.open("wb") as sink:
            process = subprocess.Popen(
                command,
                cwd=cwd,
                env=environment | {"TMPDIR": str(tmp)} | settings,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # our signals only; a group to send Ctrl-C to
                preexec_fn=sigint_as_in_a_terminal,
            )
        started.append(Started(process, tmp, log))
        return started[-1]

    yield run
    for each in started:
        each.kill_leftovers()


def server_started(tmp: Path) -> bool:
    """pg_ctl has started a postmaster under ``tmp`` (it may not accept connections yet)."""
    return any(tmp.glob("*/*/postmaster.pid"))


def server_ready(tmp: Path) -> bool:
    """A postmaster under ``tmp`` accepts connections."""
    for pid_file in tmp.glob("*/*/postmaster.pid"):
        with contextlib.suppress(FileNotFoundError):
            if pid_file.read_text().rstrip().endswith("ready"):
                return True
    return False


def test_the_bench_stops_its_server_on_sigterm_mid_run(
    start: Callable[..., Started], tmp_path: Path
) -> None:
    """`timeout` and a cancelled CI job send SIGTERM; Python's default would just exit."""
    results = tmp_path / "results"
    bench = start(
        [sys.executable, str(BENCH), "--dialect", "postgresql", "--rows", "50000",
         "--output", str(results)]
    )  # fmt: skip
    bench.wait_for(lambda: "backfill as one UPDATE" in bench.output(), "backfill")

    output = bench.stop(signal.SIGTERM)

    bench.assert_nothing_left()
    assert bench.process.returncode == INTERRUPTED, output
    assert "interrupted; no results written" in output
    assert not results.exists()


def test_the_bench_stops_its_server_on_sigint_while_it_starts(
    start: Callable[..., Started], tmp_path: Path
) -> None:
    """Ctrl-C while pg_ctl starts the server: it is held until the server can be stopped."""
    bench = start(
        [sys.executable, str(BENCH), "--dialect", "postgresql", "--rows", "1000",
         "--output", str(tmp_path / "results")]
    )  # fmt: skip
    bench.wait_for(lambda: server_started(bench.tmp), "postmaster.pid", timeout=60)

    output = bench.stop(signal.SIGINT, group=True)

    bench.assert_nothing_left()
    assert bench.process.returncode == INTERRUPTED, output


@pytest.mark.parametrize(
    "command",
    [[str(VERIFY), "--dialect", "postgresql"], [str(TRACE), "--rows", "100"]],
    ids=["verify", "trace"],
)
def test_the_scripts_leave_nothing_behind_in_a_stock_project(
    command: list[str], start: Callable[..., Started], tmp_path: Path
) -> None:
    """A whole run in a fresh `alembic init -t async` project, with its own env.py and
    the embedded PostgreSQL the script starts: the server and its data go at the end."""
    project = init_project(tmp_path, "async")
    run = start([sys.executable, *command], cwd=project)

    run.process.wait(timeout=120)

    assert run.process.returncode == 0, run.output()
    run.assert_nothing_left()


@pytest.mark.parametrize(
    "command",
    [[str(VERIFY), "--dialect", "postgresql"], [str(TRACE), "--rows", "100"]],
    ids=["verify", "trace"],
)
def test_the_scripts_stop_their_server_on_sigterm(
    command: list[str], start: Callable[..., Started], tmp_path: Path
) -> None:
    """SIGTERM while a revision runs, in a fresh `alembic init -t async` project."""
    project = init_project(tmp_path, "async")
    (project / "migrations" / "versions" / "a3_sleep.py").write_text(SLEEPING_REVISION)
    marker = tmp_path / "migration-started"
    run = start([sys.executable, *command], cwd=project, MIGRATION_STARTED=str(marker))
    run.wait_for(marker.exists, "migration")

    output = run.stop(signal.SIGTERM)

    run.assert_nothing_left()
    assert run.process.returncode == 2, output
    assert "interrupted; the scratch databases were removed" in output


def test_lock_trace_stops_its_server_on_sigint_while_it_starts(
    start: Callable[..., Started], tmp_path: Path
) -> None:
    """Ctrl-C while pg_ctl starts the scratch server: held, then delivered where the
    server is already stopped on the way out (not a moment before)."""
    project = init_project(tmp_path, "async")
    trace = start([sys.executable, str(TRACE), "--rows", "100"], cwd=project)
    trace.wait_for(lambda: server_started(trace.tmp), "postmaster.pid", timeout=60)

    output = trace.stop(signal.SIGINT, group=True)

    trace.assert_nothing_left()
    assert trace.process.returncode == 2, output
    assert "interrupted; the scratch databases were removed" in output


def test_proof_tools_stops_the_script_it_is_timing(
    start: Callable[..., Started], tmp_path: Path
) -> None:
    """SIGTERM to bench/proof_tools.py alone: the script it runs stops its server too."""
    results = tmp_path / "results"
    tools = start(
        [sys.executable, str(PROOF_TOOLS), "--runs", "1", "--rows", "1000",
         "--output", str(results)]
    )  # fmt: skip
    tools.wait_for(lambda: server_ready(tools.tmp), "server")

    output = tools.stop(signal.SIGTERM)

    tools.assert_nothing_left()
    assert tools.process.returncode == INTERRUPTED, output
    assert not results.exists()


def test_pytest_stops_its_workers_servers_on_sigterm(
    start: Callable[..., Started], tmp_path: Path
) -> None:
    """SIGTERM to pytest alone, mid-test, while its xdist worker holds a server.

    pytest starts as a script's background job does, with SIGINT ignored. xdist's
    own way to interrupt a worker is a SIGINT, so only the SIGTERM that conftest.py
    passes on to the worker stops it in time. Without workers, the same handler
    runs in pytest's own process, as it does in bench/run.py (tested above).
    """
    tests = tmp_path / "inner" / "test_under_way.py"
    tests.parent.mkdir()
    tests.write_text(PG_TESTS)
    under_way = tmp_path / "under_way"
    under_way.mkdir()
    pytest_command = [
        sys.executable, "-m", "pytest", "-c", str(PROJECT_DIR / "pyproject.toml"),
        "--rootdir", str(PROJECT_DIR), "-p", "conftest", "-p", "no:cacheprovider",
        "--basetemp", str(tmp_path / "basetemp"), "-n", "1", "-q", str(tests),
    ]  # fmt: skip
    ignoring_sigint = [
        sys.executable, "-c",
        "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])",
    ]  # fmt: skip
    run = start(
        [*ignoring_sigint, *pytest_command[1:]],
        PYTHONPATH=str(TESTS_DIR),
        UNDER_WAY=str(under_way),
    )
    run.wait_for(lambda: any(under_way.iterdir()), "test under way")

    output = run.stop(signal.SIGTERM)

    run.assert_nothing_left()
    assert run.process.returncode == PYTEST_INTERRUPTED, output


HELD_ON_ANOTHER_THREAD = """
import signal, threading, time
from postgres import interrupt_on_stop_signals, signals_held

interrupt_on_stop_signals()
go = threading.Event()


def take_it() -> None:
    # Started before the hold, so this thread does not hold the signal: the kernel
    # can hand it one, as in an xdist worker. Python runs the handler in the main thread.
    go.wait()
    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)


other = threading.Thread(target=take_it)
other.start()
seen = []
try:
    with signals_held():
        go.set()
        other.join()
        for _ in range(200):
            time.sleep(0.001)
        seen.append("start finished")
    seen.append("went on")
except KeyboardInterrupt:
    seen.append("interrupted")
print(seen)
"""


def test_a_signal_another_thread_takes_still_waits_for_the_start() -> None:
    """The start window holds a signal whichever thread the kernel gives it to."""
    result = subprocess.run(
        [sys.executable, "-c", HELD_ON_ANOTHER_THREAD],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(TESTS_DIR)},
    )
    assert result.stdout.strip() == "['start finished', 'interrupted']", result.stderr


SCRIPT_HELD_ON_ANOTHER_THREAD = HELD_ON_ANOTHER_THREAD.replace(
    "from postgres import interrupt_on_stop_signals, signals_held\n\ninterrupt_on_stop_signals()",
    "from migration_proof.scratch import signals_held\n\n"
    "signal.signal(signal.SIGTERM, signal.default_int_handler)  # as the scripts' runner does",
)


def test_the_scripts_hold_a_signal_another_thread_takes_until_the_start_ends() -> None:
    """verify_migrations.py and lock_trace.py: the same hold, in scripts/migration_proof."""
    assert SCRIPT_HELD_ON_ANOTHER_THREAD != HELD_ON_ANOTHER_THREAD
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT_HELD_ON_ANOTHER_THREAD],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR / "scripts")},
    )
    assert result.stdout.strip() == "['start finished', 'interrupted']", result.stderr
