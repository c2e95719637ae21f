"""Projects as a new user makes them: `alembic init -t TEMPLATE`, a models.py, two revisions.

The scripts and the drop-in env.py are proven on these, not only on this project.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from project import alembic

MODELS = """
from datetime import datetime

from sqlalchemy import DateTime, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={"ix": "ix_%(column_0_label)s"})


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), index=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
"""
REVISIONS = {
    "a1_create_items.py": '''
        """create items"""
        import sqlalchemy as sa
        from alembic import op

        revision = "a1"
        down_revision = None


        def upgrade():
            op.create_table(
                "items",
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("name", sa.String(50), nullable=False),
            )


        def downgrade():
            op.drop_table("items")
    ''',
    "a2_index_and_column.py": '''
        """index items.name, add created_at"""
        import sqlalchemy as sa
        from alembic import op

        revision = "a2"
        down_revision = "a1"


        def upgrade():
            op.create_index("ix_items_name", "items", ["name"])
            op.add_column("items", sa.Column("created_at", sa.DateTime(timezone=True)))


        def downgrade():
            op.drop_column("items", "created_at")
            op.drop_index("ix_items_name", table_name="items")
    ''',
}


def init_project(tmp_path: Path, template: str) -> Path:
    """`alembic init -t TEMPLATE migrations`, then models and revisions as a user would add."""
    root = tmp_path / f"app-{template}"
    root.mkdir()
    created = alembic(root, f"alembic init -t {template} migrations")
    assert created.returncode == 0, created.stderr
    (root / "models.py").write_text(MODELS)
    env_py = root / "migrations" / "env.py"
    env_py.write_text(
        env_py.read_text().replace(
            "target_metadata = None", "from models import Base\ntarget_metadata = Base.metadata"
        )
    )
    for name, source in REVISIONS.items():
        (root / "migrations" / "versions" / name).write_text(textwrap.dedent(source))
    return root


# A third revision for init_project's projects: it waits, so a test can stop a run in it.
SLEEPING_REVISION = '''
"""a revision that waits, so the test can stop the run in the middle"""
import os
from alembic import op

revision = "a3"
down_revision = "a2"


def upgrade():
    open(os.environ["MIGRATION_STARTED"], "w").close()
    op.execute("SELECT pg_sleep(60)")


def downgrade():
    pass
'''
