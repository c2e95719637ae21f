"""Enum values added outside the transaction, so they are usable before the revision ends."""

import sqlalchemy as sa
from alembic import op

revision = "empty_downgrade_good_enum_values_in_autocommit_block"
down_revision = None
branch_labels = None
depends_on = None

ADD_MOODS = """
    ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'curious' AFTER 'happy';
    ALTER TYPE "Mood" ADD VALUE IF NOT EXISTS 'calm'
"""


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute(sa.text("alter type mood add value if not exists 'tired' before 'sad'"))
        op.get_bind().execute(sa.text(ADD_MOODS))


def downgrade() -> None:
    """PostgreSQL has no ALTER TYPE ... DROP VALUE; the upgrade is safe to run again."""
