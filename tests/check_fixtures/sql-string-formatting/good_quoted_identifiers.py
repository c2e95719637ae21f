"""A role or index name cannot be a bound parameter: quoted by the dialect, it is no finding."""

from alembic import context, op

revision = "sql_string_formatting_good_quoted_identifiers"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    quote = op.get_bind().dialect.identifier_preparer.quote
    role = quote(context.get_x_argument(as_dictionary=True).get("app_role", "app_user"))
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    preparer = op.get_bind().dialect.identifier_preparer
    for partition in ("events_2026", "events_2027"):
        op.execute(
            f"ALTER INDEX ix_events_kind ATTACH PARTITION {preparer.quote(partition + '_kind')}"
        )


def downgrade() -> None:
    role = op.get_bind().dialect.identifier_preparer.quote("app_user")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
