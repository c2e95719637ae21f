"""events, partitioned by year: the partitioned table of recipe 17

Stands for the tables your project already has: a table partitioned by RANGE
on a timestamp, with a partition per year. Recipe 17's other files index it
and add a partition to it without blocking its writers.

When to use: do not copy this file; it is the setup that the other files of
this folder work on (events_2019 and events_2020, a row in each in the tests).

Cost: creates new, empty tables: nothing to wait for.

Dialects: PostgreSQL only (SQLite has no partitioned tables).

Downgrade: drops events and its partitions; every event is lost.

To use it: copy this folder's files into alembic/versions and set this file's
down_revision to your own head (``alembic heads``); here it is this project's head.

Revision ID: 908f819b3ccc
Revises: 3525a8febceb
Create Date: 2026-11-27 10:00:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "908f819b3ccc"
down_revision: str | Sequence[str] | None = "3525a8febceb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The partitioned parent, then one partition per year."""
    # A primary key on a partitioned table must include the partition key.
    op.execute(
        "CREATE TABLE events ("
        "id bigint NOT NULL, "
        "created_at timestamptz NOT NULL, "
        "kind varchar(20) NOT NULL, "
        "payload text, "
        "CONSTRAINT pk_events PRIMARY KEY (id, created_at)"
        ") PARTITION BY RANGE (created_at)"
    )
    op.execute(
        "CREATE TABLE events_2019 PARTITION OF events "
        "FOR VALUES FROM ('2019-01-01 00:00+00') TO ('2020-01-01 00:00+00')"
    )
    op.execute(
        "CREATE TABLE events_2020 PARTITION OF events "
        "FOR VALUES FROM ('2020-01-01 00:00+00') TO ('2021-01-01 00:00+00')"
    )


def downgrade() -> None:
    """Drop the parent; its partitions go with it."""
    op.execute("DROP TABLE events")
