"""Application classes used as mapped classes, from modules not named models."""

import sqlalchemy as sa
from alembic import op
from app.accounts import Account  # expect: model-import
from app.audit import AuditEntry  # expect: model-import
from app.billing.invoices import Invoice  # expect: model-import
from app.blocks.core import Block  # expect: model-import
from app.teams import Team  # expect: model-import
from app.users import User  # expect: model-import
from sqlalchemy import orm

revision = "model_import_bad_mapped_class_from_app_module"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    session = orm.Session(bind=op.get_bind())
    op.bulk_insert(Block.__table__, [{"name": "default"}])
    for account in session.query(Account).filter_by(plan=None):
        account.plan = "free"
    unpaid = session.execute(sa.select(Invoice).filter_by(paid=False)).scalars().all()
    session.add(AuditEntry(action="backfill", count=len(unpaid)))
    for team in Team.query.filter_by(owner_id=None):
        team.owner_id = 0
    admins = session.execute(sa.select(Account.id).where(User.is_admin)).all()
    op.bulk_insert(Block.__table__, [{"name": f"admin-{row.id}"} for row in admins])


def downgrade() -> None:
    op.execute("DELETE FROM blocks WHERE name LIKE 'admin-%' OR name = 'default'")
