"""Guards whose value on PostgreSQL is unknown: both branches are checked.

A flag set in one branch, a driver-specific URL test, and a substring test that
is true on PostgreSQL.
"""

from alembic import op

revision = "constraint_not_valid_bad_guards_the_checker_cannot_decide"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    is_sqlite = False
    if bind.dialect.name == "sqlite":
        is_sqlite = True
    if is_sqlite:
        return
    op.create_check_constraint("ck_a", "files", "size > 0")  # expect: constraint-not-valid
    if bind.engine.url.drivername == "postgresql":
        op.create_check_constraint("ck_b", "files", "size > 1")  # expect: constraint-not-valid
    if str(bind.engine.url).startswith("postgresql+psycopg"):
        op.create_check_constraint("ck_c", "files", "size > 2")  # expect: constraint-not-valid
    if bind.dialect.name in "postgresql+psycopg2":
        op.create_check_constraint("ck_d", "files", "size > 3")  # expect: constraint-not-valid


def downgrade() -> None:
    op.drop_constraint("ck_d", "files", type_="check")
    op.drop_constraint("ck_c", "files", type_="check")
    op.drop_constraint("ck_b", "files", type_="check")
    op.drop_constraint("ck_a", "files", type_="check")
