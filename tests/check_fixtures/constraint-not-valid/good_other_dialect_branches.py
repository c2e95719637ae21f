"""Branches guarded for MySQL or SQLite never run on PostgreSQL."""

import sqlalchemy as sa
from alembic import op

revision = "constraint_not_valid_good_other_dialect_branches"
down_revision = None
branch_labels = None
depends_on = None


def is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    bind = op.get_bind()
    url = str(bind.engine.url)
    dialect = bind.dialect.name
    if url.startswith("mysql"):
        op.create_foreign_key("fk_a", "files", "solutions", ["solution_id"], ["id"])
    elif url.startswith("postgres"):
        op.create_foreign_key(
            "fk_a", "files", "solutions", ["solution_id"], ["id"], postgresql_not_valid=True
        )
    if dialect in ("mysql", "mariadb"):
        op.create_check_constraint("ck_b", "files", "size > 0")
    if is_sqlite():
        op.create_check_constraint("ck_c", "files", "size > 0")
    if url.startswith("sqlite") is False:
        op.add_column("files", sa.Column("kind", sa.String(20), nullable=True))
    else:
        op.create_check_constraint("ck_d", "files", "size > 0")


def downgrade() -> None:
    op.drop_column("files", "kind")
    op.drop_constraint("fk_a", "files", type_="foreignkey")
