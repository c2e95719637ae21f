"""A branch that runs on PostgreSQL is checked; an undecidable one is checked too."""

from alembic import op

revision = "constraint_not_valid_bad_postgresql_branch"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "mysql":
        # expect-below: constraint-not-valid
        op.create_foreign_key("fk_a", "files", "solutions", ["solution_id"], ["id"])
    if op.get_context().dialect.name == "postgresql":
        op.create_check_constraint("ck_b", "files", "size > 0")  # expect: constraint-not-valid
    if bind.info.get("legacy"):
        op.create_check_constraint("ck_c", "files", "size > 0")  # expect: constraint-not-valid


def downgrade() -> None:
    op.drop_constraint("ck_c", "files", type_="check")
    op.drop_constraint("ck_b", "files", type_="check")
    op.drop_constraint("fk_a", "files", type_="foreignkey")
