"""Models reached through their module are still the application's models."""

import app.models as m  # expect: model-import
import sqlalchemy as sa
from alembic import op
from app import models  # expect: model-import

revision = "model_import_bad_models_reached_through_module"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    admins = bind.execute(sa.select(models.User.id).where(models.User.is_admin)).all()
    op.bulk_insert(m.Role.__table__, [{"user_id": row.id, "name": "admin"} for row in admins])


def downgrade() -> None:
    op.execute("DELETE FROM roles WHERE name = 'admin'")
