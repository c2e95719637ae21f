"""Imports the application's models, which change after this revision is written."""

from alembic import op
from app.models import Role  # expect: model-import

revision = "model_import_bad_app_models"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.bulk_insert(Role.__table__, [{"name": "admin"}, {"name": "member"}])


def downgrade() -> None:
    op.execute("DELETE FROM roles WHERE name IN ('admin', 'member')")
