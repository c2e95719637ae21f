"""A live application writer: one UPDATE of a random existing user every 10 ms.

It runs in its own thread with its own event loop and connection, so a
migration that blocks it shows up as a long write, exactly as an application
would see it.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import pool, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

INTERVAL_S = 0.010
WRITE = text("UPDATE users SET name = :name WHERE id = :id")


@dataclass
class Write:
    started_s: float  # since the writer started
    latency_ms: float


@dataclass
class Writer:
    """Start with ``with Writer(url, ids) as writer:``; read ``writer.writes`` after."""

    url: URL
    ids: list[str]
    writes: list[Write] = field(default_factory=list)
    error: BaseException | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _ready: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _t0: float = 0.0

    def __enter__(self) -> Writer:
        self._thread = threading.Thread(target=self._run, name="writer", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(120)
        if self.error is not None:
            raise RuntimeError(f"the writer failed: {self.error}") from self.error

    def since_start(self) -> float:
        return time.perf_counter() - self._t0

    def _run(self) -> None:
        try:
            asyncio.run(self._write_until_stopped())
        except BaseException as exc:  # surfaced by __exit__
            self.error = exc
            self._ready.set()

    async def _write_until_stopped(self) -> None:
        connect_args = {"timeout": 600} if self.url.get_backend_name() == "sqlite" else {}
        engine = create_async_engine(
            self.url,
            poolclass=pool.NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args=connect_args,
        )
        rng = random.Random(42)
        try:
            async with engine.connect() as connection:
                self._t0 = time.perf_counter()
                self._ready.set()
                next_at = self._t0
                while not self._stop.is_set():
                    started = time.perf_counter()
                    params = {"id": rng.choice(self.ids), "name": f"w{len(self.writes)}"}
                    await connection.execute(WRITE, params)
                    done = time.perf_counter()
                    self.writes.append(Write(started - self._t0, (done - started) * 1000))
                    # Keep the 10 ms cadence, without a burst after a stall.
                    next_at = max(next_at + INTERVAL_S, done)
                    await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        finally:
            await engine.dispose()
