"""A name from outside the code, formatted in without the dialect's quote(), is a finding."""

from alembic import context, op

revision = "sql_string_formatting_bad_unquoted_identifiers"
down_revision = None
branch_labels = None
depends_on = None


def quoted(name: str) -> str:
    return name  # a helper's name proves nothing


def upgrade() -> None:
    role = context.get_x_argument(as_dictionary=True).get("app_role", "app_user")
    op.execute(f"GRANT SELECT ON users TO {role}")  # expect: sql-string-formatting
    op.execute(f"GRANT SELECT ON users TO {quoted(role)}")  # expect: sql-string-formatting
    quote = op.get_bind().dialect.identifier_preparer.quote
    name = quote(role)
    if role == "admin":
        name = role
    op.execute(f"GRANT SELECT ON projects TO {name}")  # expect: sql-string-formatting


def downgrade() -> None:
    op.execute("REVOKE SELECT ON users, projects FROM app_user")
