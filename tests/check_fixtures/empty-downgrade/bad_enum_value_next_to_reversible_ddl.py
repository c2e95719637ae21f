"""IF NOT EXISTS excuses only the enum value: the rename next to it can and must be reversed."""

from alembic import op

revision = "empty_downgrade_bad_enum_value_next_to_reversible_ddl"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'curious'")
        op.execute("ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'")


def downgrade() -> None:  # expect: empty-downgrade
    pass
