"""Step 1 of the safe way: CHECK (email IS NOT NULL) NOT VALID, no scan."""

from alembic import op

revision = "set_not_null_good_1_check_not_valid"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_check_constraint(
        op.f("ck_members_email_not_null"), "members", "email IS NOT NULL", postgresql_not_valid=True
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_members_email_not_null"), "members", type_="check")
