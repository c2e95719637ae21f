"""alembic.op reached by another name is still alembic.op."""

import alembic
import alembic.op as aop
from alembic.op import drop_column
from alembic.op import drop_table as remove_table

revision = "drop_column_bad_aliased_op_imports"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    drop_column("users", "nickname")  # expect: drop-column
    aop.drop_column("users", "fax")  # expect: drop-column
    alembic.op.drop_column("users", "pager")  # expect: drop-column
    remove_table("legacy_sessions")  # expect: drop-table


def downgrade() -> None:
    raise NotImplementedError("the dropped values are gone")  # expect: irreversible-downgrade
