"""Serial to identity, step 3 of 3: rename tickets, and the names that carry its old name

When to use: renaming a table that has an integer key. ``op.rename_table``
renames the table only. On PostgreSQL its sequence stays ``tickets_id_seq``
(serial or identity alike), its primary key stays ``pk_tickets`` (with its
index) and its indexes keep their names. Inserts still work: the default
names the sequence by OID. What breaks: ``alembic check`` and autogenerate
want ``ix_support_tickets_status`` (models.py's naming convention) and offer
to drop and create the index; a later ``op.drop_constraint("pk_support_tickets",
...)`` fails with "does not exist"; a script that derives the sequence name
(``support_tickets_id_seq``) finds no relation. So this revision renames, in
the same transaction:

* the table: ``op.rename_table("tickets", "support_tickets")``;
* the sequence: ``ALTER SEQUENCE tickets_id_seq RENAME TO
  support_tickets_id_seq`` (an identity column's internal sequence too; after
  it, ``pg_get_serial_sequence('support_tickets', 'id')`` returns the new
  name, and the counter is untouched);
* every constraint and index named after the table. Here the primary key,
  per the convention ``pk_%(table_name)s``: ``ALTER TABLE support_tickets
  RENAME CONSTRAINT pk_tickets TO pk_support_tickets`` (its index is renamed
  with it), and ``ALTER INDEX ix_tickets_status RENAME TO
  ix_support_tickets_status``. In your project list them: ``SELECT conrelid::regclass,
  conname FROM pg_constraint WHERE conrelid = 'tickets'::regclass OR
  confrelid = 'tickets'::regclass`` (uq_/ck_/fk_ names carry the table's
  name, and other tables' foreign keys to it carry it as
  ``%(referred_table_name)s``) and ``SELECT indexname FROM pg_indexes WHERE
  tablename = 'tickets'``. PostgreSQL 18's ``tickets_<column>_not_null``
  constraints can keep their names: nothing alembic writes looks them up.

Deploy it with the release that maps ``support_tickets``: code that still
queries ``tickets`` fails from its commit on.

Cost: catalog only on PostgreSQL: a moment of ACCESS EXCLUSIVE on the table,
no rewrite, no scan. SQLite: the rename is in place; an index cannot be
renamed there, so it is dropped and built again under the database's write
lock (one pass over the table).

Dialects: PostgreSQL and SQLite. On SQLite, AUTOINCREMENT's counter (the
table's row in ``sqlite_sequence``) follows the rename by itself, and the
primary key has no name to rename.

Downgrade: the same renames back; the counter and every row are kept.

Revision ID: ddb58939567d
Revises: 4319593ef04d
Create Date: 2026-12-02 10:02:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "ddb58939567d"
down_revision: str | Sequence[str] | None = "4319593ef04d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """tickets becomes support_tickets, and the names made from "tickets" with it."""
    # check: ignore[rename-table] single deploy: the release mapping support_tickets ships with it
    op.rename_table("tickets", "support_tickets")
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER SEQUENCE tickets_id_seq RENAME TO support_tickets_id_seq")
        op.execute("ALTER TABLE support_tickets RENAME CONSTRAINT pk_tickets TO pk_support_tickets")
        op.execute("ALTER INDEX ix_tickets_status RENAME TO ix_support_tickets_status")
    else:  # SQLite cannot rename an index: build it again under the new name
        op.drop_index(op.f("ix_tickets_status"), table_name="support_tickets")
        op.create_index(op.f("ix_support_tickets_status"), "support_tickets", ["status"])


def downgrade() -> None:
    """support_tickets becomes tickets again, and the same names with it."""
    op.rename_table("support_tickets", "tickets")
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER SEQUENCE support_tickets_id_seq RENAME TO tickets_id_seq")
        op.execute("ALTER TABLE tickets RENAME CONSTRAINT pk_support_tickets TO pk_tickets")
        op.execute("ALTER INDEX ix_support_tickets_status RENAME TO ix_tickets_status")
    else:
        op.drop_index(op.f("ix_support_tickets_status"), table_name="tickets")
        op.create_index(op.f("ix_tickets_status"), "tickets", ["status"])
