"""backfill user roles

Adds ``users.role`` (NOT NULL, server default 'member') and makes every user
whose email is at ADMIN_EMAIL_DOMAIN an 'admin'.

Safe to rerun after a failure part way: the column is added only when it is
missing, and the backfill only changes rows still at 'member', so a second run
changes nothing. The ADD COLUMN commits before the backfill starts, so its
lock on ``users`` is not held while rows are updated; each batch of
BATCH_SIZE primary keys then commits on its own.

Offline (``--sql``) there is no data to page through, so the backfill is one
UPDATE statement.

Downgrade drops ``users.role``: every user's role, the backfilled 'admin'
values included, is lost.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 16:42:08.650397

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADMIN_EMAIL_DOMAIN = "mycompany.com"
BATCH_SIZE = 1000

# Plain SQL, not the application's models: this revision must keep working
# after models.py has moved on.
NEXT_BATCH_END = sa.text(
    "SELECT max(id) FROM "
    "(SELECT id FROM users WHERE id > :after ORDER BY id LIMIT :batch_size) AS batch"
)
PROMOTE_BATCH = sa.text(
    "UPDATE users SET role = 'admin' "
    "WHERE id > :after AND id <= :through "
    "AND role = 'member' AND lower(email) LIKE :email_pattern ESCAPE '!'"
)
PROMOTE_ALL = sa.text(
    "UPDATE users SET role = 'admin' "
    "WHERE role = 'member' AND lower(email) LIKE :email_pattern ESCAPE '!'"
)


def admin_email_pattern(domain: str) -> str:
    """A LIKE pattern for emails at exactly ``domain``, in any letter case.

    LIKE wildcards in the domain are escaped, so 'my_company.com' cannot match
    'myXcompany.com'; the '@' keeps 'notmycompany.com' out.
    """
    escaped = domain.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%@{escaped}"


def add_role_column() -> None:
    """Add users.role, unless an interrupted earlier run already did."""
    if not context.is_offline_mode():
        columns = sa.inspect(op.get_bind()).get_columns("users")
        if any(column["name"] == "role" for column in columns):
            return
    op.add_column(
        "users",
        sa.Column("role", sa.String(length=20), server_default="member", nullable=False),
    )


def backfill_admin_roles(bind: sa.Connection, batch_size: int = BATCH_SIZE) -> int:
    """Promote admin users one primary-key range at a time; return rows changed.

    Each batch first finds its last id, then updates that id range: a range
    scan on the primary key, where a single UPDATE ... FROM (SELECT ... LIMIT)
    can turn into a full table scan per batch.
    """
    email_pattern = admin_email_pattern(ADMIN_EMAIL_DOMAIN)
    after = ""  # sorts before every id
    changed = 0
    while True:
        through = bind.execute(NEXT_BATCH_END, {"after": after, "batch_size": batch_size}).scalar()
        if through is None:
            return changed
        result = bind.execute(
            PROMOTE_BATCH,
            {"after": after, "through": through, "email_pattern": email_pattern},
        )
        changed += result.rowcount
        after = through


def upgrade() -> None:
    """Add users.role, then promote the admin domain's users in batches."""
    add_role_column()
    # Commit the ADD COLUMN now; in the block, every statement commits alone.
    with op.get_context().autocommit_block():
        if context.is_offline_mode():
            # check: ignore[unbatched-dml] offline SQL has no rows to page through
            op.execute(
                PROMOTE_ALL.bindparams(email_pattern=admin_email_pattern(ADMIN_EMAIL_DOMAIN))
            )
        else:
            backfill_admin_roles(op.get_bind())


def downgrade() -> None:
    """Drop users.role; the roles are lost. Batch mode rebuilds the table on SQLite."""
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("role")
