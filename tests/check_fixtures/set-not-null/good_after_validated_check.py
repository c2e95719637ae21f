"""Last step: a validated CHECK proves NOT NULL, so SET NOT NULL skips the scan."""

import sqlalchemy as sa
from alembic import op

revision = "set_not_null_good_after_validated_check"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE users VALIDATE CONSTRAINT ck_users_email_not_null")
    op.alter_column("users", "email", nullable=False, existing_type=sa.Text())
    op.drop_constraint("ck_users_email_not_null", "users", type_="check")


def downgrade() -> None:
    op.alter_column("users", "email", nullable=True, existing_type=sa.Text())
    op.create_check_constraint(
        "ck_users_email_not_null", "users", "email IS NOT NULL", postgresql_not_valid=True
    )
