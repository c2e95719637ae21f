"""An import inside upgrade() is still a model import."""

from alembic import op

revision = "model_import_bad_import_in_function"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    from myapp import models  # expect: model-import

    op.bulk_insert(models.Role.__table__, [{"name": "admin"}])


def downgrade() -> None:
    op.execute("DELETE FROM roles WHERE name = 'admin'")
