"""COMMIT ends Alembic's transaction behind its back."""

from alembic import op

revision = "transaction_control_bad_commit_statement"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("COMMIT")  # expect: transaction-control
    op.create_index(  # expect: concurrently-outside-autocommit
        "ix_users_email", "users", ["email"], postgresql_concurrently=True
    )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("ix_users_email", table_name="users", postgresql_concurrently=True)
