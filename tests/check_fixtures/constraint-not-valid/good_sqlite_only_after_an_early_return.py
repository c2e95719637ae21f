"""`if dialect != "sqlite": return` first: the rest of upgrade() runs on SQLite only."""

from alembic import op

revision = "constraint_not_valid_good_sqlite_only_after_an_early_return"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("files") as batch_op:
        batch_op.create_foreign_key("fk_a", "solutions", ["solution_id"], ["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("files") as batch_op:
        batch_op.drop_constraint("fk_a", type_="foreignkey")
