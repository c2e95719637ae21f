"""A primary key on a table created in the same revision locks nobody out."""

import sqlalchemy as sa
from alembic import op

revision = "add_primary_key_good_new_table"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("audit_events", sa.Column("id", sa.BigInteger(), nullable=False))
    op.create_primary_key("pk_audit_events", "audit_events", ["id"])
    op.execute("CREATE TABLE audit_links (event_id bigint NOT NULL, url text NOT NULL)")
    op.execute("ALTER TABLE audit_links ADD PRIMARY KEY (event_id, url)")


def downgrade() -> None:
    op.execute("DROP TABLE audit_links")
    op.drop_table("audit_events")
