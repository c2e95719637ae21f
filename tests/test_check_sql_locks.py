"""The checker's raw-SQL lock rules: how it reads the SQL, and what PostgreSQL does with it.

The first part reads SQL the way the checker does: one ALTER TABLE can carry
several actions, and a comma inside parentheses or a quoted name is no
separator; a CHECK (col IS NOT NULL) from an ancestor revision proves a later
SET NOT NULL. The second part makes each lock claim of references/checks.md for
these rules happen on a real server, reading pg_locks from a second session
while the statement's transaction is held open: ADD PRIMARY KEY and ADD
EXCLUDE take ACCESS EXCLUSIVE, PRIMARY KEY USING INDEX builds nothing, a plain
REINDEX blocks writes, CLUSTER and VACUUM FULL rewrite under ACCESS EXCLUSIVE,
LOCK TABLE's default mode is ACCESS EXCLUSIVE, and SET NOT NULL skips its scan
only after a validated CHECK on that very column.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path

import pytest
from checker import findings_of
from postgres import execute_autocommit
from project import PROJECT_DIR, execute, fetch, transaction_held, with_connection
from sqlalchemy import Connection
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

sys.path.insert(0, str(PROJECT_DIR / "scripts"))
from migration_checks.sqltext import classify, split_statements


def actions(sql: str) -> list[tuple[str, str | None, str | None]]:
    """(kind, column, constraint) of each action of the one statement in ``sql``."""
    (statement,) = split_statements(sql)
    return [(a.kind, a.column, a.constraint) for a in classify(statement).actions]


# --- reading SQL ---------------------------------------------------------------------


def test_every_action_of_an_alter_table_is_read() -> None:
    sql = "ALTER TABLE t ADD COLUMN a int, ALTER COLUMN b SET NOT NULL, ALTER c TYPE bigint"
    assert actions(sql) == [
        ("ADD COLUMN", "a", None),
        ("SET NOT NULL", "b", None),
        ("SET TYPE", "c", None),
    ]


def test_commas_inside_parentheses_quotes_and_literals_separate_nothing() -> None:
    sql = (
        'ALTER TABLE "a, b" ADD CONSTRAINT "c, (d" CHECK (x IN (1, 2) AND y <> \'e, f\'), '
        'ALTER COLUMN "g, h" SET DATA TYPE numeric(10, 2) USING "g, h"::numeric(10, 2)'
    )
    (statement,) = split_statements(sql)
    found = classify(statement)
    assert found.table == "a, b"
    assert [(a.kind, a.name, a.column) for a in found.actions] == [
        ("ADD CONSTRAINT", "c, (d", None),
        ("SET TYPE", None, "g, h"),
    ]


def test_semicolons_in_comments_literals_and_quoted_names_split_nothing() -> None:
    sql = (
        "UPDATE t SET note = 'a; b' WHERE id = 1; -- one; two\n"
        'ALTER TABLE "x;y" /* c; /* nested; */ d */ VALIDATE CONSTRAINT ck;'
        "SELECT E'it\\'s; fine', $body$ e; f $body$"
    )
    verbs = [classify(part).verb for part in split_statements(sql)]
    assert verbs == ["UPDATE", "VALIDATE", "OTHER"]


def test_the_constraint_kinds_and_their_safe_forms() -> None:
    def first(sql: str) -> tuple[str | None, bool, bool]:
        (statement,) = split_statements(sql)
        action = classify(statement).actions[0]
        return action.constraint, action.using_index, action.not_valid

    assert first("ALTER TABLE t ADD PRIMARY KEY (id)") == ("PRIMARY KEY", False, False)
    assert first("ALTER TABLE t ADD CONSTRAINT p PRIMARY KEY USING INDEX i") == (
        "PRIMARY KEY",
        True,
        False,
    )
    # USING INDEX TABLESPACE names where a new index goes: it is still built.
    assert first("ALTER TABLE t ADD UNIQUE (a) USING INDEX TABLESPACE s")[1] is False
    assert first("ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES p NOT VALID")[2] is True
    assert first("ALTER TABLE t ADD EXCLUDE USING gist (r WITH &&)")[0] == "EXCLUDE"


def test_a_check_proves_not_null_only_when_that_is_all_it_says() -> None:
    def proves(condition: str) -> str | None:
        (statement,) = split_statements(f"ALTER TABLE t ADD CONSTRAINT c CHECK {condition}")
        return classify(statement).actions[0].column

    assert proves('((("Email" IS NOT NULL)))') == "email"
    assert proves("(t.email IS NOT NULL)") == "email"
    assert proves("(email IS NOT NULL AND name IS NOT NULL)") is None
    assert proves("(email IS NOT NULL OR legacy)") is None


def test_table_wide_statements() -> None:
    def read(sql: str) -> tuple[str, str | None, tuple[str, ...], bool]:
        (statement,) = split_statements(sql)
        found = classify(statement)
        return found.verb, found.mode, found.tables, found.concurrently

    assert read("LOCK t") == ("LOCK TABLE", "ACCESS EXCLUSIVE", ("t",), False)
    assert read("LOCK TABLE ONLY a, b IN row exclusive MODE NOWAIT") == (
        "LOCK TABLE",
        "ROW EXCLUSIVE",
        ("a", "b"),
        False,
    )
    assert read("VACUUM (ANALYZE, FULL) t (a, b)") == ("VACUUM", "FULL", ("t",), False)
    assert read("VACUUM (FULL false) t") == ("VACUUM", None, ("t",), False)
    assert read("VACUUM ANALYZE full_name_log") == ("VACUUM", None, ("full_name_log",), False)
    assert read("CLUSTER ix ON t") == ("CLUSTER", None, ("t",), False)
    assert read("CLUSTER") == ("CLUSTER", None, (), False)
    assert read("REINDEX (CONCURRENTLY) TABLE t") == ("REINDEX", "TABLE", ("t",), True)


# --- set-not-null across revisions --------------------------------------------------

REVISION = """from alembic import op

revision = "{revision}"
down_revision = {down!r}


def upgrade() -> None:
{body}


def downgrade() -> None:
    pass
"""


def set_not_null_findings(*paths: Path) -> list[dict[str, object]]:
    return findings_of("set-not-null", *paths)


def test_a_check_from_an_ancestor_revision_proves_not_null(tmp_path: Path) -> None:
    """Added and validated in ancestors, the check lets SET NOT NULL pass; checked alone,
    or with the VALIDATE in a later revision, it does not."""
    steps = {
        "a1": (
            None,
            '    op.execute("ALTER TABLE t ADD CONSTRAINT ck_t_c CHECK (c IS NOT NULL) NOT VALID")',
        ),
        "a2": (
            "a1",
            "    with op.get_context().autocommit_block():\n"
            '        op.execute("ALTER TABLE t VALIDATE CONSTRAINT ck_t_c")',
        ),
        "a3": ("a2", '    op.execute("ALTER TABLE t ALTER COLUMN c SET NOT NULL")'),
    }
    for revision, (down, body) in steps.items():
        text = REVISION.format(revision=revision, down=down, body=body)
        (tmp_path / f"{revision}.py").write_text(text)

    assert set_not_null_findings(tmp_path) == []
    (alone,) = set_not_null_findings(tmp_path / "a3.py")
    assert "no validated CHECK (c IS NOT NULL) comes first" in str(alone["message"])
    # Reversed, the VALIDATE runs after the SET NOT NULL: no proof.
    (tmp_path / "a2.py").write_text(REVISION.format(revision="a2", down="a3", body=steps["a2"][1]))
    (tmp_path / "a3.py").write_text(REVISION.format(revision="a3", down="a1", body=steps["a3"][1]))
    assert len(set_not_null_findings(tmp_path)) == 1


def test_the_message_names_a_validate_it_could_not_match(tmp_path: Path) -> None:
    body = (
        "    with op.get_context().autocommit_block():\n"
        '        op.execute("ALTER TABLE t VALIDATE CONSTRAINT ck_t_c")\n'
        '    op.execute("ALTER TABLE t ALTER COLUMN c SET NOT NULL")'
    )
    (tmp_path / "b1.py").write_text(REVISION.format(revision="b1", down=None, body=body))
    (finding,) = set_not_null_findings(tmp_path)
    assert "it validates ck_t_c, but no CHECK (c IS NOT NULL) of that name" in str(
        finding["message"]
    )


# --- PostgreSQL ----------------------------------------------------------------------


def in_one_session(url: URL, *statements: str) -> list[list[tuple[object, ...]]]:
    """Run statements in one transaction that commits; the rows each one returned."""

    def run(connection: Connection) -> list[list[tuple[object, ...]]]:
        results = []
        for sql in statements:
            result = connection.exec_driver_sql(sql)
            results.append([tuple(row) for row in result] if result.returns_rows else [])
        return results

    return with_connection(url, run)


def autocommit(url: URL, *statements: str) -> None:
    asyncio.run(execute_autocommit(url, *statements))


def table_with_rows(url: URL, columns: str = "id int NOT NULL, r int4range") -> None:
    autocommit(
        url,
        f"CREATE TABLE t ({columns})",
        "INSERT INTO t (id) SELECT g FROM generate_series(1, 1000) AS g",
    )


def modes_held(url: URL, relation: str) -> set[str]:
    """Lock modes other sessions hold on ``relation``."""
    rows = fetch(
        url,
        f"SELECT mode FROM pg_locks WHERE relation = '{relation}'::regclass AND granted "
        "AND pid <> pg_backend_pid()",
    )
    return {mode for (mode,) in rows}


def blocked(url: URL, statement: str = "INSERT INTO t (id) VALUES (0)") -> bool:
    """Whether an INSERT into t (or ``statement``) waits for a lock (given up after 200 ms)."""
    try:
        in_one_session(url, "SET LOCAL lock_timeout = '200ms'", statement)
    except DBAPIError as exc:
        if "lock timeout" in str(exc):
            return True
        raise
    return False


def relfilenode(url: URL, relation: str) -> int:
    ((node,),) = fetch(url, f"SELECT relfilenode FROM pg_class WHERE oid = '{relation}'::regclass")
    return int(node)


def seq_scans_of(url: URL, *statements: str) -> int:
    """How many sequential scans of t the statements start, counted in their transaction."""
    count = "SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 't'"
    before, *_, after = in_one_session(url, count, *statements, count)
    return int(after[0][0]) - int(before[0][0])


class Background:
    """A statement run outside a transaction in another thread."""

    def __init__(self, url: URL, statement: str) -> None:
        self.failure: list[BaseException] = []
        self.thread = threading.Thread(target=self.run, args=(url, statement))
        self.thread.start()

    def run(self, url: URL, statement: str) -> None:
        try:
            autocommit(url, "SET lock_timeout = '10s'", statement)
        except BaseException as exc:  # reported by join()
            self.failure.append(exc)

    def join(self) -> None:
        self.thread.join(15)
        assert not self.thread.is_alive() and not self.failure, self.failure


def waits_for(url: URL, relation: str, mode: str, timeout: float = 5) -> bool:
    """Whether some session waits for ``mode`` on ``relation`` within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = fetch(
            url,
            f"SELECT 1 FROM pg_locks WHERE relation = '{relation}'::regclass AND NOT granted "
            f"AND mode = '{mode}'",
        )
        if rows:
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize(
    "constraint",
    ["PRIMARY KEY (id)", "EXCLUDE USING gist (r WITH &&)"],
    ids=["add-primary-key", "exclude-constraint"],
)
def test_adding_a_primary_key_or_exclusion_takes_access_exclusive(
    postgresql_url: URL, constraint: str
) -> None:
    table_with_rows(postgresql_url)
    with transaction_held(postgresql_url, f"ALTER TABLE t ADD CONSTRAINT c {constraint}"):
        assert "AccessExclusiveLock" in modes_held(postgresql_url, "t")


def test_exclusion_constraints_have_no_using_index_and_no_not_valid(postgresql_url: URL) -> None:
    table_with_rows(postgresql_url)
    autocommit(postgresql_url, "CREATE INDEX CONCURRENTLY ix_t_r ON t USING gist (r)")
    with pytest.raises(DBAPIError, match="syntax error"):
        execute(postgresql_url, "ALTER TABLE t ADD CONSTRAINT c EXCLUDE USING INDEX ix_t_r")
    with pytest.raises(DBAPIError, match="cannot be marked NOT VALID"):
        execute(
            postgresql_url,
            "ALTER TABLE t ADD CONSTRAINT c EXCLUDE USING gist (r WITH &&) NOT VALID",
        )


def test_unique_using_index_tablespace_still_builds_an_index(postgresql_url: URL) -> None:
    table_with_rows(postgresql_url)
    add = "ALTER TABLE t ADD CONSTRAINT uq_t_id UNIQUE (id) USING INDEX TABLESPACE pg_default"
    with transaction_held(postgresql_url, add):
        assert "AccessExclusiveLock" in modes_held(postgresql_url, "t")
    execute(postgresql_url, add)
    assert fetch(
        postgresql_url, "SELECT count(*) FROM pg_index WHERE indrelid = 't'::regclass"
    ) == [(1,)]


def test_primary_key_using_index_attaches_the_index_without_building_one(
    postgresql_url: URL,
) -> None:
    table_with_rows(postgresql_url)
    autocommit(postgresql_url, "CREATE UNIQUE INDEX CONCURRENTLY t_id_key ON t (id)")
    ((index,),) = fetch(postgresql_url, "SELECT 't_id_key'::regclass::oid")
    node = relfilenode(postgresql_url, "t_id_key")
    attach = "ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_id_key"
    with transaction_held(postgresql_url, attach):
        assert "AccessExclusiveLock" in modes_held(postgresql_url, "t")

    # With id already NOT NULL: no scan of the table, and the same index, never rebuilt,
    # now under the constraint's name.
    assert seq_scans_of(postgresql_url, attach) == 0
    assert fetch(postgresql_url, "SELECT conindid FROM pg_constraint WHERE conname = 't_pkey'") == [
        (index,)
    ]
    assert fetch(postgresql_url, f"SELECT relname FROM pg_class WHERE oid = {index}") == [
        ("t_pkey",)
    ]
    assert relfilenode(postgresql_url, "t_pkey") == node
    assert fetch(
        postgresql_url, "SELECT count(*) FROM pg_index WHERE indrelid = 't'::regclass"
    ) == [(1,)]


def test_primary_key_using_index_on_a_nullable_column_scans_the_table(
    postgresql_url: URL,
) -> None:
    table_with_rows(postgresql_url, columns="id int, r int4range")
    autocommit(postgresql_url, "CREATE UNIQUE INDEX CONCURRENTLY t_pkey ON t (id)")
    attach = "ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey"
    assert seq_scans_of(postgresql_url, attach) == 1


def test_a_plain_reindex_blocks_writes_and_locks_the_index(postgresql_url: URL) -> None:
    table_with_rows(postgresql_url)
    autocommit(postgresql_url, "CREATE INDEX ix_t_id ON t (id)")
    with transaction_held(postgresql_url, "REINDEX TABLE t"):
        assert blocked(postgresql_url)
        assert "AccessExclusiveLock" in modes_held(postgresql_url, "ix_t_id")
    assert not blocked(postgresql_url)


def modes_of(url: URL, relation: str, query_like: str) -> set[str]:
    """Lock modes that the session running ``query_like`` holds on ``relation``."""
    rows = fetch(
        url,
        "SELECT l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        f"WHERE l.relation = '{relation}'::regclass AND l.granted AND a.query LIKE '{query_like}'",
    )
    return {mode for (mode,) in rows}


def test_reindex_concurrently_lets_writes_through(postgresql_url: URL) -> None:
    """An open writing transaction makes REINDEX CONCURRENTLY wait in the middle; meanwhile
    it holds SHARE UPDATE EXCLUSIVE only, and other sessions keep inserting."""
    table_with_rows(postgresql_url)
    autocommit(postgresql_url, "CREATE INDEX ix_t_id ON t (id)")
    with transaction_held(postgresql_url, "INSERT INTO t (id) VALUES (-1)"):
        reindex = Background(postgresql_url, "REINDEX TABLE CONCURRENTLY t")
        deadline = time.monotonic() + 5
        while not modes_of(postgresql_url, "t", "REINDEX%") and time.monotonic() < deadline:
            time.sleep(0.02)
        modes = modes_of(postgresql_url, "t", "REINDEX%")
        writes = not blocked(postgresql_url)
    reindex.join()
    assert modes == {"ShareUpdateExclusiveLock"}
    assert writes


def test_plain_vacuum_takes_share_update_exclusive(postgresql_url: URL) -> None:
    table_with_rows(postgresql_url)
    with transaction_held(postgresql_url, "LOCK TABLE t IN SHARE UPDATE EXCLUSIVE MODE"):
        vacuum = Background(postgresql_url, "VACUUM (ANALYZE) t")
        waiting = waits_for(postgresql_url, "t", "ShareUpdateExclusiveLock")
    vacuum.join()
    assert waiting


def test_cluster_rewrites_the_table_under_access_exclusive(postgresql_url: URL) -> None:
    table_with_rows(postgresql_url)
    autocommit(postgresql_url, "CREATE INDEX ix_t_id ON t (id)")
    with transaction_held(postgresql_url, "CLUSTER t USING ix_t_id"):
        assert "AccessExclusiveLock" in modes_held(postgresql_url, "t")
    before = relfilenode(postgresql_url, "t"), relfilenode(postgresql_url, "ix_t_id")
    execute(postgresql_url, "CLUSTER t USING ix_t_id")
    after = relfilenode(postgresql_url, "t"), relfilenode(postgresql_url, "ix_t_id")
    assert after[0] != before[0] and after[1] != before[1]


def test_vacuum_full_rewrites_the_table_under_access_exclusive(postgresql_url: URL) -> None:
    """VACUUM FULL cannot run in a transaction to be held open: a reader makes it wait,
    and pg_locks shows the mode it waits for."""
    table_with_rows(postgresql_url)
    autocommit(postgresql_url, "CREATE INDEX ix_t_id ON t (id)")
    before = relfilenode(postgresql_url, "t"), relfilenode(postgresql_url, "ix_t_id")
    with transaction_held(postgresql_url, "SELECT count(*) FROM t"):
        vacuum = Background(postgresql_url, "VACUUM FULL t")
        waiting = waits_for(postgresql_url, "t", "AccessExclusiveLock")
    vacuum.join()  # the reader is gone: the VACUUM got its lock and finished
    assert waiting
    after = relfilenode(postgresql_url, "t"), relfilenode(postgresql_url, "ix_t_id")
    assert after[0] != before[0] and after[1] != before[1]


def test_lock_table_defaults_to_access_exclusive_which_blocks_reads(postgresql_url: URL) -> None:
    table_with_rows(postgresql_url)
    with transaction_held(postgresql_url, "LOCK TABLE t"):
        assert modes_held(postgresql_url, "t") == {"AccessExclusiveLock"}
        assert blocked(postgresql_url, "SELECT count(*) FROM t")


@pytest.mark.parametrize(
    ("mode", "blocks"),
    [
        ("ROW EXCLUSIVE", False),
        ("SHARE UPDATE EXCLUSIVE", False),
        ("SHARE", True),
        ("SHARE ROW EXCLUSIVE", True),
        ("EXCLUSIVE", True),
        ("ACCESS EXCLUSIVE", True),
    ],
)
def test_lock_table_blocks_writes_from_share_mode_up(
    postgresql_url: URL, mode: str, blocks: bool
) -> None:
    table_with_rows(postgresql_url)
    with transaction_held(postgresql_url, f"LOCK TABLE t IN {mode} MODE"):
        assert blocked(postgresql_url) is blocks


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("VACUUM ANALYZE t", "VACUUM cannot run inside a transaction block"),
        ("REINDEX SCHEMA public", "REINDEX SCHEMA cannot run inside a transaction block"),
        ("REINDEX DATABASE", "REINDEX DATABASE cannot run inside a transaction block"),
        ("REINDEX SYSTEM", "REINDEX SYSTEM cannot run inside a transaction block"),
    ],
)
def test_refused_inside_a_transaction_block(
    postgresql_url: URL, statement: str, message: str
) -> None:
    table_with_rows(postgresql_url)
    with pytest.raises(DBAPIError, match=message):
        execute(postgresql_url, statement)


def test_lock_table_is_refused_outside_a_transaction_block(postgresql_url: URL) -> None:
    table_with_rows(postgresql_url)
    with pytest.raises(DBAPIError, match="LOCK TABLE can only be used in transaction blocks"):
        autocommit(postgresql_url, "LOCK TABLE t IN ROW EXCLUSIVE MODE")


def test_set_not_null_skips_its_scan_only_with_a_validated_check_on_that_column(
    postgresql_url: URL,
) -> None:
    """A validated foreign key on the column, or a validated CHECK on another, proves nothing."""
    table_with_rows(postgresql_url, columns="id int, other int, r int4range")
    execute(postgresql_url, "UPDATE t SET other = id")
    autocommit(
        postgresql_url,
        "CREATE TABLE parent (id int PRIMARY KEY)",
        "INSERT INTO parent SELECT g FROM generate_series(1, 1000) AS g",
        "ALTER TABLE t ADD CONSTRAINT fk_t_other FOREIGN KEY (other) REFERENCES parent NOT VALID",
        "ALTER TABLE t VALIDATE CONSTRAINT fk_t_other",
        "ALTER TABLE t ADD CONSTRAINT ck_t_id CHECK (id IS NOT NULL) NOT VALID",
        "ALTER TABLE t VALIDATE CONSTRAINT ck_t_id",
    )
    assert seq_scans_of(postgresql_url, "ALTER TABLE t ALTER COLUMN other SET NOT NULL") == 1
    assert seq_scans_of(postgresql_url, "ALTER TABLE t ALTER COLUMN id SET NOT NULL") == 0
