"""A LOCK TABLE stronger than what follows it, or outliving its ALTERs' transaction."""

import sqlalchemy as sa
from alembic import op

revision = "table_lock_statement_bad_lock_beyond_its_alters"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # VALIDATE lets writes through; the LOCK blocks them until commit.
    # expect-below: table-lock-statement
    op.execute("LOCK TABLE users, projects IN ACCESS EXCLUSIVE MODE")
    op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))
    op.execute("ALTER TABLE projects VALIDATE CONSTRAINT fk_projects_owner_id_users")
    # A NOT VALID foreign key takes SHARE ROW EXCLUSIVE: reads would go on.
    op.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")  # expect: table-lock-statement
    op.execute(
        "ALTER TABLE orders ADD CONSTRAINT fk_orders_user_id_users "
        "FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID"
    )
    # The block commits the LOCK's transaction: the ALTER after it runs in another one.
    op.execute("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE")  # expect: table-lock-statement
    with op.get_context().autocommit_block():
        op.execute("VACUUM (ANALYZE) accounts")
    op.add_column("accounts", sa.Column("closed_at", sa.DateTime(), nullable=True))
    # SHARE mode is not what the ALTER takes: it blocks writes from the LOCK on.
    op.execute("LOCK TABLE payments IN SHARE MODE")  # expect: table-lock-statement
    op.add_column("payments", sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("payments", "note")
    op.drop_column("accounts", "closed_at")
    op.drop_constraint("fk_orders_user_id_users", "orders", type_="foreignkey")
    op.drop_column("users", "nickname")
