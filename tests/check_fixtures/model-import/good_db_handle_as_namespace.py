"""`db` from a models module used only for SQLAlchemy names (CTFd's shape)."""

from alembic import op
from app.models import db
from sqlalchemy.sql import column, table

revision = "model_import_good_db_handle_as_namespace"
down_revision = None
branch_labels = None
depends_on = None

config_table = table(
    "config", column("id", db.Integer), column("key", db.Text), column("value", db.String(20))
)


def upgrade() -> None:
    op.bulk_insert(config_table, [{"key": "theme", "value": "core"}])


def downgrade() -> None:
    op.add_column("config", db.Column("legacy", db.Boolean(), nullable=True))
