"""UNIQUE in SQL builds its index under ACCESS EXCLUSIVE unless it attaches one."""

from alembic import op

revision = "unique_constraint_bad_raw_sql"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # expect-below: unique-constraint
    op.execute("ALTER TABLE users ADD CONSTRAINT uq_users_email UNIQUE (email)")
    # USING INDEX TABLESPACE only says where the new index goes: it is still built.
    # expect-below: unique-constraint
    op.execute("ALTER TABLE users ADD UNIQUE (handle) USING INDEX TABLESPACE fast")
    op.execute("ALTER TABLE users ADD COLUMN code text UNIQUE")  # expect: unique-constraint


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN code")
    op.execute("ALTER TABLE users DROP CONSTRAINT users_handle_key")
    op.execute("ALTER TABLE users DROP CONSTRAINT uq_users_email")
