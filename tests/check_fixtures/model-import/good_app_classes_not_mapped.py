"""Application and library classes that are not mapped classes."""

import enum
import uuid

import sqlalchemy as sa
from alembic import op
from app.config import Settings
from app.enums import Plan
from app.schemas.blocks import BlockSchema
from pydantic import BaseModel
from sqlalchemy import orm
from sqlalchemy_utils import UUIDType

from .models import Account

revision = "model_import_good_app_classes_not_mapped"
down_revision = None
branch_labels = None
depends_on = None


class Base(orm.DeclarativeBase):
    pass


class Kind(enum.Enum):
    A = "a"


class Payload(BaseModel):
    name: str


class Account(Base):  # noqa: F811  (its own copy, frozen at this revision, shadows the import)
    __tablename__ = "accounts"
    id = sa.Column(UUIDType, primary_key=True, default=uuid.uuid4)
    plan = sa.Column(sa.String(20))


def upgrade() -> None:
    op.add_column("accounts", sa.Column("plan_kind", sa.Enum(Plan, name="plan"), nullable=True))
    checksum = BlockSchema.checksum(Payload(name=Settings.default_region).model_dump())
    op.bulk_insert(Account.__table__, [{"plan": checksum}])


def downgrade() -> None:
    op.execute(sa.delete(Account).where(Account.plan != "free"))
    op.drop_column("accounts", "plan_kind")
