"""Last step: the CHECK from the revision before, validated first, proves NOT NULL."""

import sqlalchemy as sa
from alembic import op

revision = "set_not_null_good_after_validated_check"
down_revision = "set_not_null_good_1_check_not_valid"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE members VALIDATE CONSTRAINT ck_members_email_not_null")
    op.alter_column("members", "email", nullable=False, existing_type=sa.Text())
    op.drop_constraint(op.f("ck_members_email_not_null"), "members", type_="check")


def downgrade() -> None:
    op.alter_column("members", "email", nullable=True, existing_type=sa.Text())
    op.create_check_constraint(
        op.f("ck_members_email_not_null"), "members", "email IS NOT NULL", postgresql_not_valid=True
    )
