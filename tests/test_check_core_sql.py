"""What checks.md says about PostgreSQL for the checker's SQL rules, shown on a real server.

empty-downgrade lets an empty downgrade() follow ``ALTER TYPE ... ADD VALUE IF NOT
EXISTS``: PostgreSQL cannot remove an enum value (``DROP VALUE`` is refused), and
IF NOT EXISTS makes the upgrade succeed when it runs again after that downgrade.
A plain ADD VALUE fails on the rerun, and the checker reports it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from checker import findings_of
from postgres import execute_autocommit
from sqlalchemy import pool, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

ADD_IF_NOT_EXISTS = "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'curious'"
ADD_PLAIN = "ALTER TYPE mood ADD VALUE 'curious'"
REVISION = '''"""Adds a value to the mood enum."""

from alembic import op

revision = "enum_value"
down_revision = None


def upgrade() -> None:
    op.execute("{statement}")


def downgrade() -> None:
    pass
'''


async def run_in_transaction(url: URL, statement: str) -> None:
    """Run one statement inside a transaction, as op.execute() does in Alembic's."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def enum_values(url: URL) -> list[str]:
    (values,) = asyncio.run(execute_autocommit(url, "SELECT enum_range(NULL::mood)::text"))
    return str(values).strip("{}").split(",")


def checker_reports_empty_downgrade(path: Path) -> bool:
    return bool(findings_of("empty-downgrade", path))


def test_an_enum_value_has_no_statement_that_removes_it(postgresql_url: URL) -> None:
    asyncio.run(execute_autocommit(postgresql_url, "CREATE TYPE mood AS ENUM ('happy')", ADD_PLAIN))
    with pytest.raises(DBAPIError, match="dropping an enum value is not implemented"):
        asyncio.run(execute_autocommit(postgresql_url, "ALTER TYPE mood DROP VALUE 'curious'"))
    assert enum_values(postgresql_url) == ["happy", "curious"]


@pytest.mark.parametrize("statement", [ADD_IF_NOT_EXISTS, ADD_PLAIN])
def test_the_checker_reports_exactly_the_upgrade_that_cannot_run_again(
    statement: str, tmp_path: Path, postgresql_url: URL
) -> None:
    """Upgrade, downgrade (which does nothing), upgrade again: the rerun decides."""
    asyncio.run(execute_autocommit(postgresql_url, "CREATE TYPE mood AS ENUM ('happy')"))
    asyncio.run(run_in_transaction(postgresql_url, statement))
    try:
        asyncio.run(run_in_transaction(postgresql_url, statement))
    except DBAPIError as exc:
        assert 'enum label "curious" already exists' in str(exc), exc
        rerun_fails = True
    else:
        rerun_fails = False
    assert enum_values(postgresql_url) == ["happy", "curious"]
    assert rerun_fails == (statement == ADD_PLAIN)

    revision = tmp_path / "enum_value.py"
    revision.write_text(REVISION.format(statement=statement), encoding="utf-8")
    assert checker_reports_empty_downgrade(revision) == rerun_fails
