"""NOT NULL with a constant DEFAULT in SQL; an explicit NULL is no NOT NULL."""

from alembic import op

revision = "add_not_null_without_default_good_raw_sql"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'member'")
    op.execute('ALTER TABLE users ADD COLUMN alias varchar(20) COLLATE "C" NULL')


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN alias")
    op.execute("ALTER TABLE users DROP COLUMN role")
