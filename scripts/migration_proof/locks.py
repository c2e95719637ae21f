"""Watch every SQL statement a migration sends to PostgreSQL: its locks, rewrites and scans.

Listeners on SQLAlchemy's Engine class see the statements of whatever engine
the project's env.py creates. Around each statement, on the same connection
(through its raw cursor, so the listeners do not see their own queries):

* locks: ``pg_locks`` of this backend after the statement, minus those its
  transaction held before. A statement outside a transaction (in
  ``autocommit_block()``) releases its locks when it ends, so it is first
  rehearsed in a transaction that is rolled back, and its locks read there;
  one that cannot run in a transaction (CREATE INDEX CONCURRENTLY) is
  watched by a second session that samples ``pg_locks`` while it runs;
* rewrites: relations whose ``pg_class.relfilenode`` changed;
* scans: tables whose ``pg_stat_xact_user_tables.seq_scan`` grew (inside a
  transaction only).

Lock hold times run from the statement that took a lock to the end of its
transaction, which the commit and rollback listeners see.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, pool, text
from sqlalchemy.engine import URL, Engine

# pg_locks mode: (as written in PostgreSQL's docs, what it blocks, in plain words)
MODES = {
    "AccessShareLock": ("ACCESS SHARE", "blocks only ACCESS EXCLUSIVE"),
    "RowShareLock": ("ROW SHARE", "blocks EXCLUSIVE and ACCESS EXCLUSIVE"),
    "RowExclusiveLock": ("ROW EXCLUSIVE", "blocks index builds and most DDL"),
    "ShareUpdateExclusiveLock": (
        "SHARE UPDATE EXCLUSIVE",
        "blocks other DDL and VACUUM; reads and writes go on",
    ),
    "ShareLock": ("SHARE", "blocks writes"),
    "ShareRowExclusiveLock": ("SHARE ROW EXCLUSIVE", "blocks writes"),
    "ExclusiveLock": ("EXCLUSIVE", "blocks writes; plain reads go on"),
    "AccessExclusiveLock": ("ACCESS EXCLUSIVE", "blocks reads and writes"),
}
BLOCKS_WRITES = {"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}
IGNORE = "lock_trace_ignore"  # execution option of the tracer's own connections
PID, TRANSACTION = "lock_trace_pid", "lock_trace_transaction"  # keys in connection.info
# Statements whose rehearsal would leave something behind: a session advisory lock, a
# used sequence value, a notification, work on another server.
NO_REHEARSAL = re.compile(r"pg_advisory|nextval|setval|pg_notify|dblink|\bCOPY\b", re.IGNORECASE)

USER_RELATIONS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
)
# Table locks only: a row lock wait ('tuple') or a file extension ('extend') also names
# a relation in pg_locks, with a mode (ExclusiveLock) that is not a lock on the table.
LOCKS = (
    "SELECT c.relname, l.mode FROM pg_locks l "
    "JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace "
    f"WHERE l.pid = {{pid}} AND l.granted AND l.locktype = 'relation' "
    f"AND c.relkind IN ('r', 'p', 'm') AND {USER_RELATIONS}"
)
RELFILENODES = (
    "SELECT c.oid, c.relname, c.relkind::text, c.relfilenode FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    f"WHERE c.relkind IN ('r', 'p', 'm', 'i') AND {USER_RELATIONS}"
)
SCANS = "SELECT relname, seq_scan FROM pg_stat_xact_user_tables"
GATE_TABLES = (
    "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    f"WHERE c.relkind IN ('r', 'p') AND {USER_RELATIONS}"
)


@dataclass
class Traced:
    """One statement: the keys of the JSON output, plus what the summary needs."""

    revision: str
    sql: str
    ms: float
    locks: list[dict[str, str]]
    rewrites: list[str]
    in_transaction: bool
    held_access_exclusive: dict[str, float]  # table: ms held before this statement
    scans: list[str] | None  # None: not measurable outside a transaction
    sampled: bool  # locks seen by a second session while it ran
    table_rewrites: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # tables the statement created

    def to_json(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "sql": self.sql,
            "ms": round(self.ms, 2),
            "locks": self.locks,
            "rewrites": self.rewrites,
            "in_transaction": self.in_transaction,
            "held_access_exclusive_ms": {
                k: round(v, 2) for k, v in self.held_access_exclusive.items()
            },
            "scans": self.scans,
            "locks_sampled": self.sampled,
            "created": self.created,
        }


@dataclass
class _Pending:
    started: float
    in_transaction: bool
    pid: int
    locks: set[tuple[str, str]]
    relfilenodes: dict[int, tuple[str, str, int]]
    scans: dict[str, int]
    # outside a transaction: (locks, scans) of a rolled-back rehearsal, if it could run
    rehearsed: tuple[set[tuple[str, str]], list[str]] | None = None


def _query(conn: Any, sql: str) -> list[tuple[Any, ...]]:
    """Run ``sql`` on the connection's raw cursor: the listeners do not see it."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


def _rehearse(
    conn: Any, statement: str, parameters: Any, pid: int
) -> tuple[set[tuple[str, str]], list[str]] | None:
    """Run ``statement`` in a transaction that is rolled back: its locks and scans, read there.

    None when it cannot run in a transaction (CREATE INDEX CONCURRENTLY, ...) or fails.
    """
    cursor = conn.connection.cursor()
    try:
        cursor.execute("BEGIN")
        try:
            before = dict(_fetch(cursor, SCANS))
            if parameters:
                cursor.execute(statement, parameters)
            else:
                cursor.execute(statement)
            locks = {(str(name), str(mode)) for name, mode in _fetch(cursor, LOCKS.format(pid=pid))}
            scans = sorted(
                name for name, count in _fetch(cursor, SCANS) if count > before.get(name, 0)
            )
            return locks, scans
        except Exception:
            return None
        finally:
            cursor.execute("ROLLBACK")
    finally:
        cursor.close()


def _fetch(cursor: Any, sql: str) -> list[tuple[Any, ...]]:
    cursor.execute(sql)
    return [tuple(row) for row in cursor.fetchall()]


def _traced(conn: Any) -> bool:
    return conn.dialect.name == "postgresql" and not conn.get_execution_options().get(IGNORE)


def _autocommit(conn: Any) -> bool:
    return conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


WAITING = (
    "SELECT c.relname, l.mode FROM pg_locks l "
    "JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace "
    f"WHERE l.pid = {{pid}} AND NOT l.granted AND l.locktype = 'relation' AND {USER_RELATIONS}"
)
GATE_SECONDS = 0.5  # how long a statement that takes no conflicting lock is held up


class LockSampler:
    """A second session that watches one backend's table locks while a statement runs.

    It samples the locks granted to the backend. For a statement it must not
    miss, it first holds a gate: SHARE UPDATE EXCLUSIVE on the given tables,
    which every lock stronger than ROW EXCLUSIVE conflicts with. The statement
    then waits at its first such lock, the wait shows in ``pg_locks`` with the
    mode it asked for, and the gate opens; one that takes no such lock is let
    through after GATE_SECONDS.
    """

    def __init__(self, url: URL) -> None:
        self.url = url
        self.guard = threading.Lock()
        self.pid: int | None = None
        self.seen: set[tuple[str, str]] = set()
        self.gate_tables: list[str] = []
        self.gate_held = threading.Event()
        self.gate_open = threading.Event()
        self.gate_opened_at = 0.0
        self.stopping = threading.Event()
        self.ready = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(30)

    def watch(self, pid: int, gate: list[str] | None = None) -> None:
        """Start watching ``pid``; with ``gate``, hold those tables until it asks for one."""
        with self.guard:
            self.pid, self.seen = pid, set()
            self.gate_tables = list(gate or [])
            self.gate_open.clear()
            self.gate_held.clear()
        if gate:
            self.gate_held.wait(10)
        else:
            self.gate_open.set()

    def collect(self) -> tuple[set[tuple[str, str]], float]:
        """Stop watching: the locks seen, and when the gate opened (0: no gate)."""
        with self.guard:
            self.pid = None
        self.gate_open.wait(10)
        with self.guard:
            return set(self.seen), self.gate_opened_at

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(10)

    def _run(self) -> None:
        try:
            if self.url.get_dialect().is_async:
                self._watch_async()
            else:
                self._watch_sync()
        except BaseException as exc:  # reported by the tracer's caller
            self.failure = exc
            self.ready.set()

    def _watch_sync(self) -> None:
        from sqlalchemy import create_engine

        engine = create_engine(self.url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection = connection.execution_options(**{IGNORE: True})
                self._loop(lambda sql: [tuple(r) for r in connection.execute(text(sql))])
        finally:
            engine.dispose()

    def _watch_async(self) -> None:
        from sqlalchemy.ext.asyncio import create_async_engine

        loop = asyncio.new_event_loop()
        engine = create_async_engine(
            self.url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
        )
        try:
            connection = loop.run_until_complete(engine.connect())
            loop.run_until_complete(connection.execution_options(**{IGNORE: True}))

            def run(sql: str) -> list[tuple[Any, ...]]:
                result = loop.run_until_complete(connection.execute(text(sql)))
                return [tuple(r) for r in result] if result.returns_rows else []

            try:
                self._loop(run)
            finally:
                loop.run_until_complete(connection.close())
        finally:
            loop.run_until_complete(engine.dispose())
            loop.close()

    def _loop(self, run: Any) -> None:
        self.ready.set()
        gate_since = 0.0
        while not self.stopping.is_set():
            with self.guard:
                pid, tables = self.pid, self.gate_tables
            if tables and not self.gate_held.is_set():
                run("BEGIN")
                try:
                    run("SET LOCAL lock_timeout = '2s'")
                    # Names arrive quoted and schema-qualified, by quote_ident().
                    run(f"LOCK TABLE {', '.join(tables)} IN SHARE UPDATE EXCLUSIVE MODE")
                except Exception:  # no gate, then: the statement is only sampled
                    run("ROLLBACK")
                    run("BEGIN")
                gate_since = time.monotonic()
                self.gate_held.set()
            if pid is not None:
                granted = run(LOCKS.format(pid=pid))
                waiting = run(WAITING.format(pid=pid)) if tables else []
                with self.guard:
                    self.seen.update((str(n), str(m)) for n, m in granted + waiting)
            gate_due = waiting if pid is not None and tables else []
            if tables and (gate_due or pid is None or time.monotonic() - gate_since > GATE_SECONDS):
                run("COMMIT")
                with self.guard:
                    self.gate_tables = []
                    self.gate_opened_at = time.monotonic()
                self.gate_open.set()
            time.sleep(0.002)


class LockTracer:
    """Engine-wide listeners that record every PostgreSQL statement while installed."""

    def __init__(self, sampler: LockSampler) -> None:
        self.sampler = sampler
        self.revision = ""
        self.statements: list[Traced] = []
        # (revision, table, mode): the longest the lock was held, in ms
        self.holds: dict[tuple[str, str, str], float] = {}
        self._pending: dict[int, _Pending] = {}

    def __enter__(self) -> LockTracer:
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)
        event.listen(Engine, "commit", self._ended)
        event.listen(Engine, "rollback", self._ended)
        return self

    def __exit__(self, *exc_info: object) -> None:
        event.remove(Engine, "before_cursor_execute", self._before)
        event.remove(Engine, "after_cursor_execute", self._after)
        event.remove(Engine, "commit", self._ended)
        event.remove(Engine, "rollback", self._ended)

    def _pid(self, conn: Any) -> int:
        """The backend pid, kept with the DB-API connection it belongs to."""
        info = conn.connection.info
        if PID not in info:
            info[PID] = int(_query(conn, "SELECT pg_backend_pid()")[0][0])
        return int(info[PID])

    @staticmethod
    def _transaction(conn: Any) -> dict[tuple[str, str], float]:
        """Locks the connection's open transaction has taken, and since when."""
        return conn.connection.info.setdefault(TRANSACTION, {})  # type: ignore[no-any-return]

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not _traced(conn):
            return
        in_transaction = not _autocommit(conn)
        pid = self._pid(conn)
        pending = _Pending(
            started=0.0,
            in_transaction=in_transaction,
            pid=pid,
            locks=set(_query(conn, LOCKS.format(pid=pid))) if in_transaction else set(),
            relfilenodes={row[0]: (row[1], row[2], row[3]) for row in _query(conn, RELFILENODES)},
            scans=dict(_query(conn, SCANS)) if in_transaction else {},
        )
        if not in_transaction:
            executemany = bool(args[2]) if len(args) > 2 else False
            rehearse = not executemany and not NO_REHEARSAL.search(statement)
            pending.rehearsed = _rehearse(conn, statement, args[0], pid) if rehearse else None
            if pending.rehearsed is None:  # CREATE INDEX CONCURRENTLY and the like
                self.sampler.watch(pid, gate=[row[0] for row in _query(conn, GATE_TABLES)])
        pending.started = time.monotonic()
        self._pending[id(conn)] = pending

    def _after(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        pending = self._pending.pop(id(conn), None)
        if pending is None or not _traced(conn):
            return
        ended = time.monotonic()
        ms = (ended - pending.started) * 1000
        after = {row[0]: (row[1], row[2], row[3]) for row in _query(conn, RELFILENODES)}
        existed = {name for name, kind, _ in pending.relfilenodes.values() if kind != "i"}
        if pending.in_transaction:
            taken = set(_query(conn, LOCKS.format(pid=pending.pid))) - pending.locks
            scans = dict(_query(conn, SCANS))
            scanned: list[str] | None = sorted(
                name
                for name, count in scans.items()
                if name in existed and count > pending.scans.get(name, 0)
            )
        elif pending.rehearsed is not None:
            taken, scanned = pending.rehearsed
            scanned = [name for name in scanned if name in existed]
        else:
            taken, gate_opened = self.sampler.collect()
            scanned = None
            if pending.started < gate_opened < ended:  # time spent behind the gate
                ms -= (gate_opened - pending.started) * 1000
        rewritten = [
            (name, kind)
            for oid, (name, kind, node) in pending.relfilenodes.items()
            if oid in after and after[oid][2] != node
        ]
        locks = sorted((name, MODES.get(mode, (mode, ""))[0]) for name, mode in taken)
        held: dict[str, float] = {}
        if pending.in_transaction:
            transaction = self._transaction(conn)
            held = {
                table: (pending.started - since) * 1000
                for (table, mode), since in transaction.items()
                if mode == "ACCESS EXCLUSIVE"
            }
            for lock in locks:
                transaction.setdefault(lock, pending.started)
        else:
            for table, mode in locks:
                self._note_hold(table, mode, ms)
        self.statements.append(
            Traced(
                revision=self.revision,
                sql=" ".join(statement.split())[:200],
                ms=ms,
                locks=[{"relation": table, "mode": mode} for table, mode in locks],
                rewrites=sorted(name for name, _ in rewritten),
                in_transaction=pending.in_transaction,
                held_access_exclusive=held,
                scans=scanned,
                sampled=not pending.in_transaction and pending.rehearsed is None,
                table_rewrites=sorted(name for name, kind in rewritten if kind in ("r", "p", "m")),
                created=sorted({table for table, _ in locks} - existed),
            )
        )

    def _ended(self, conn: Any) -> None:
        """A commit or rollback: every lock its transaction took is released now."""
        now = time.monotonic()
        if conn.connection is None or conn.connection.dbapi_connection is None:
            return
        for (table, mode), since in conn.connection.info.pop(TRANSACTION, {}).items():
            self._note_hold(table, mode, (now - since) * 1000)

    def _note_hold(self, table: str, mode: str, ms: float) -> None:
        key = (self.revision, table, mode)
        self.holds[key] = max(ms, self.holds.get(key, 0.0))
