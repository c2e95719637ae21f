"""The safe way: build the unique index concurrently, then attach it as the primary key."""

from alembic import op

revision = "add_primary_key_good_using_index"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            "accounts_pkey", "accounts", ["id"], unique=True, postgresql_concurrently=True
        )
    op.execute(
        "ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_pkey"
    )


def downgrade() -> None:
    op.drop_constraint("accounts_pkey", "accounts", type_="primary")
