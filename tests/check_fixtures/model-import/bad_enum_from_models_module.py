"""A CapWords import from a models module counts, even an Enum."""

import sqlalchemy as sa
from alembic import op
from app.models.enums import Status  # expect: model-import

revision = "model_import_bad_enum_from_models_module"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("status", sa.Enum(Status, name="status"), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "status")
