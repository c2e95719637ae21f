"""A VALIDATE of some other constraint proves nothing about this column."""

import sqlalchemy as sa
from alembic import op

revision = "set_not_null_bad_unrelated_validate"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_foreign_key(
        "fk_tickets_owner_id", "tickets", "users", ["owner_id"], ["id"], postgresql_not_valid=True
    )
    op.create_check_constraint(
        "ck_tickets_title_not_null", "tickets", "title IS NOT NULL", postgresql_not_valid=True
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE tickets VALIDATE CONSTRAINT fk_tickets_owner_id")
        op.execute("ALTER TABLE tickets VALIDATE CONSTRAINT ck_tickets_title_not_null")
    # expect-below: set-not-null
    op.alter_column("tickets", "owner_id", nullable=False, existing_type=sa.Integer())
    # The CHECK is on title, validated; body has none.
    op.execute("ALTER TABLE tickets ALTER COLUMN body SET NOT NULL")  # expect: set-not-null


def downgrade() -> None:
    op.execute("ALTER TABLE tickets ALTER COLUMN body DROP NOT NULL")
    op.alter_column("tickets", "owner_id", nullable=True, existing_type=sa.Integer())
    op.drop_constraint("ck_tickets_title_not_null", "tickets", type_="check")
    op.drop_constraint("fk_tickets_owner_id", "tickets", type_="foreignkey")
