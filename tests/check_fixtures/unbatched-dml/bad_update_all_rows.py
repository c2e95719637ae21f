"""One UPDATE over every matching row."""

from alembic import op

revision = "unbatched_dml_bad_update_all_rows"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE users SET role = 'member' WHERE role IS NULL")  # expect: unbatched-dml


def downgrade() -> None:
    pass
