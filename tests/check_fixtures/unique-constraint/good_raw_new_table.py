"""UNIQUE in SQL on a table this revision creates: nobody waits for it."""

from alembic import op

revision = "unique_constraint_good_raw_new_table"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE api_keys (id bigint, digest text)")
    op.execute("ALTER TABLE api_keys ADD CONSTRAINT uq_api_keys_digest UNIQUE (digest)")


def downgrade() -> None:
    op.execute("DROP TABLE api_keys")
