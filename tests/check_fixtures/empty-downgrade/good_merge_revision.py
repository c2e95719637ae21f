"""A merge revision changes nothing in either direction."""

revision = "empty_downgrade_good_merge_revision"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
