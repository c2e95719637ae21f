"""The CHECK from the first revision, validated in a revision of its own."""

from alembic import op

revision = "set_not_null_good_2_validate"
down_revision = "set_not_null_good_1_check_not_valid"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute('ALTER TABLE "members" VALIDATE CONSTRAINT "ck_members_email_not_null"')


def downgrade() -> None:
    pass
