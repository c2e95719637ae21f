"""merge heads 6e8f935755e0 and 821c574c7d44

When to use: ``alembic heads`` lists more than one revision. Generate this file
with ``alembic merge heads -m "merge heads"`` rather than editing either branch:
databases that already ran a branch revision never run it again, so it must
not change. The merge revision has both heads as its down_revision and usually
no operations. If the two branches change the same object, put the fix in this
revision's upgrade().

Cost: nothing; it only moves alembic_version to one row.

Dialects: any.

Downgrade: back to the two heads. ``alembic downgrade -1`` from here fails
("Ambiguous walk"): name a target. ``alembic downgrade 6e8f935755e0`` removes
only the merge and leaves both branches applied; a revision below both
branches undoes them too.

Revision ID: 59df258ec345
Revises: 6e8f935755e0, 821c574c7d44
Create Date: 2026-11-26 17:18:00.000000

"""

from collections.abc import Sequence

# revision identifiers, used by Alembic.
revision: str = "59df258ec345"
down_revision: str | Sequence[str] | None = ("6e8f935755e0", "821c574c7d44")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to do: the merge only joins the two histories."""


def downgrade() -> None:
    """Nothing to undo."""
