"""A type change on a table this revision creates, and ALTER COLUMN forms that are no type."""

from alembic import op

revision = "type_change_rewrite_good_raw_sql_new_table"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE drafts (id bigint, body varchar(100))")
    op.execute("ALTER TABLE drafts ALTER COLUMN body TYPE text")
    op.execute("ALTER TABLE users ALTER COLUMN bio SET DEFAULT '', ALTER COLUMN bio DROP NOT NULL")


def downgrade() -> None:
    op.execute("ALTER TABLE users ALTER COLUMN bio DROP DEFAULT")
    op.execute("DROP TABLE drafts")
