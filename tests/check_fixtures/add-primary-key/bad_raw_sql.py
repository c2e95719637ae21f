"""ADD PRIMARY KEY in SQL, named or not, alone or among other actions, builds an index."""

from alembic import op

revision = "add_primary_key_bad_raw_sql"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE accounts ADD PRIMARY KEY (id)")  # expect: add-primary-key
    # expect-below: add-primary-key
    op.execute(
        'ALTER TABLE "Ledger, Entries" ADD COLUMN note text, '
        'ADD CONSTRAINT "Ledger, Entries_pkey" PRIMARY KEY (ledger_id, "line, no")'
    )
    # The index a PRIMARY KEY ... USING INDEX TABLESPACE clause names is still built.
    # expect-below: add-primary-key
    op.execute(
        "ALTER TABLE invoices ADD CONSTRAINT invoices_pkey PRIMARY KEY (id) "
        "USING INDEX TABLESPACE fast"
    )
    # SERIAL rewrites every row, and PRIMARY KEY builds the index while it holds the lock.
    # expect-below: add-primary-key, volatile-default
    op.execute("ALTER TABLE tags ADD COLUMN id SERIAL PRIMARY KEY")


def downgrade() -> None:
    op.execute("ALTER TABLE tags DROP COLUMN id")
    op.execute("ALTER TABLE invoices DROP CONSTRAINT invoices_pkey")
    op.execute('ALTER TABLE "Ledger, Entries" DROP COLUMN note')
    op.execute('ALTER TABLE "Ledger, Entries" DROP CONSTRAINT "Ledger, Entries_pkey"')
    op.execute("ALTER TABLE accounts DROP CONSTRAINT accounts_pkey")
