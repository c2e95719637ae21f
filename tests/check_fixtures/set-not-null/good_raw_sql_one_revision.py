"""All in SQL, in one revision: the check commits NOT VALID, VALIDATE commits, then SET."""

from alembic import op

revision = "set_not_null_good_raw_sql_one_revision"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute(
            'ALTER TABLE "Profiles" ADD CONSTRAINT ck_profiles_handle '
            'CHECK ((("Handle" IS NOT NULL))) NOT VALID'
        )
        op.execute('ALTER TABLE "Profiles" VALIDATE CONSTRAINT ck_profiles_handle')
    op.execute(
        'ALTER TABLE "Profiles" ALTER COLUMN "Handle" SET NOT NULL, '
        "DROP CONSTRAINT ck_profiles_handle"
    )


def downgrade() -> None:
    op.execute('ALTER TABLE "Profiles" ALTER COLUMN "Handle" DROP NOT NULL')
