"""A primary key added to an existing table builds its index under ACCESS EXCLUSIVE."""

from alembic import op

revision = "add_primary_key_bad_create_primary_key"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_primary_key("pk_accounts", "accounts", ["id"])  # expect: add-primary-key
    with op.batch_alter_table("ledgers") as batch_op:
        batch_op.create_primary_key("pk_ledgers", ["id"])  # expect: add-primary-key


def downgrade() -> None:
    with op.batch_alter_table("ledgers") as batch_op:
        batch_op.drop_constraint("pk_ledgers", type_="primary")
    op.drop_constraint("pk_accounts", "accounts", type_="primary")
