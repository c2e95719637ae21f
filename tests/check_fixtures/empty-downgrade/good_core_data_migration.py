"""A data-only revision written with SQLAlchemy Core inserts, selects and key lookups."""

import sqlalchemy as sa
from alembic import op

revision = "empty_downgrade_good_core_data_migration"
down_revision = None
branch_labels = None
depends_on = None

settings = sa.table("settings", sa.column("id", sa.Integer), sa.column("key"), sa.column("value"))
DEFAULTS = [{"key": "theme", "value": "light"}, {"key": "locale", "value": "en"}]


def upgrade() -> None:
    bind = op.get_bind()
    keys = bind.execute(sa.select(settings.c.key)).scalars().all()
    if "theme" not in keys:
        bind.execute(settings.insert(), DEFAULTS)
    css = bind.execute(settings.select().where(settings.c.key == "css").limit(1)).first()
    if css is not None:
        bind.execute(sa.insert(settings).values(key="theme_header", value=css.value))
        bind.execute(settings.update().where(settings.c.id == css.id).values(value=""))
    bind.execute(settings.insert().values(key="setup", value="done"))


def downgrade() -> None:
    """Data only: nothing in the schema to undo."""
