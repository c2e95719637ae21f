"""A connection of its own that commits after every batch."""

import sqlalchemy as sa
from alembic import op

revision = "unbatched_dml_good_commit_per_batch"
down_revision = None
branch_labels = None
depends_on = None

BATCH_SIZE = 1000
NEXT_BATCH_END = sa.text(
    "SELECT max(id) FROM (SELECT id FROM users WHERE id > :after ORDER BY id LIMIT :size) AS b"
)
FILL_BATCH = sa.text("UPDATE users SET role = 'member' WHERE id > :after AND id <= :through")


def upgrade() -> None:
    with op.get_bind().engine.connect() as connection:
        after = 0
        while True:
            through = connection.execute(
                NEXT_BATCH_END, {"after": after, "size": BATCH_SIZE}
            ).scalar()
            if through is None:
                break
            connection.execute(FILL_BATCH, {"after": after, "through": through})
            connection.commit()
            after = through


def downgrade() -> None:
    pass
