"""An exclusion constraint on an existing table builds its index under ACCESS EXCLUSIVE."""

from alembic import op

revision = "exclude_constraint_bad_exclude_constraint"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_exclude_constraint(  # expect: exclude-constraint
        "excl_bookings_room_during", "bookings", ("room_id", "="), ("during", "&&"), using="gist"
    )
    # expect-below: exclude-constraint
    op.execute(
        "ALTER TABLE shifts ADD CONSTRAINT excl_shifts_overlap "
        "EXCLUDE USING gist (worker_id WITH =, tstzrange(starts, ends) WITH &&)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE shifts DROP CONSTRAINT excl_shifts_overlap")
    op.drop_constraint("excl_bookings_room_during", "bookings")
