"""downgrade() drops the index but leaves the table."""

import sqlalchemy as sa
from alembic import op

revision = "downgrade_missing_drop_bad_table_left_behind"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(  # expect: downgrade-missing-drop
        "audit_events",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_audit_events_user_id", "audit_events", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_user_id", table_name="audit_events")
