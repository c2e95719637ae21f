"""pytest-alembic's four default tests, run on SQLite and on PostgreSQL.

The plugin's own ``--test-alembic`` collection cannot run against a
parametrized engine (and breaks on pytest 9.2), so the tests are imported here
and the ``alembic_engine`` fixture they use is given once per dialect.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.config import Config
from project import project_config
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import pool
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = [
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]


@pytest.fixture
def alembic_config() -> Config:
    """The project's own alembic.ini, found from any working directory."""
    return project_config()


@pytest.fixture
def alembic_engine(database_url: URL) -> Iterator[AsyncEngine]:
    """An async engine per dialect. NullPool: each pytest-alembic step runs its
    own event loop, and an asyncpg connection cannot move between loops."""
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    yield engine
    engine.sync_engine.dispose()
