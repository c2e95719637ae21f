"""The AST rules: each function reads a Revision and yields findings for one rule id.

Lock and compatibility rules look at upgrade() only: that is what runs during
a deploy, and a downgrade is expected to drop what upgrade created. Rules about
SQL construction and transactions look at both functions. Operations on a table
created in the same revision are exempt from the lock rules, because nobody
else can be using an empty table that did not exist a moment ago.
"""

from __future__ import annotations

from ..model import Finding
from ..source import RevisionSource
from .code import check_model_import, check_sql_string_formatting, check_transaction_control
from .compat import check_drop_column, check_drop_table, check_rename_column, check_rename_table
from .data import check_backfill_with_ddl, check_unbatched_dml
from .downgrade import (
    check_downgrade_missing_drop,
    check_empty_downgrade,
    check_irreversible_downgrade,
)
from .locks import (
    check_add_not_null_without_default,
    check_concurrently_outside_autocommit,
    check_constraint_not_valid,
    check_drop_index_not_concurrent,
    check_index_not_concurrent,
    check_json_not_jsonb,
    check_set_not_null,
    check_type_change_rewrite,
    check_unique_constraint,
    check_volatile_default,
)
from .revision import Check, Revision

CHECKS: dict[str, Check] = {
    "drop-column": check_drop_column,
    "drop-table": check_drop_table,
    "rename-column": check_rename_column,
    "rename-table": check_rename_table,
    "index-not-concurrent": check_index_not_concurrent,
    "drop-index-not-concurrent": check_drop_index_not_concurrent,
    "concurrently-outside-autocommit": check_concurrently_outside_autocommit,
    "add-not-null-without-default": check_add_not_null_without_default,
    "set-not-null": check_set_not_null,
    "constraint-not-valid": check_constraint_not_valid,
    "unique-constraint": check_unique_constraint,
    "type-change-rewrite": check_type_change_rewrite,
    "volatile-default": check_volatile_default,
    "json-not-jsonb": check_json_not_jsonb,
    "sql-string-formatting": check_sql_string_formatting,
    "model-import": check_model_import,
    "backfill-with-ddl": check_backfill_with_ddl,
    "unbatched-dml": check_unbatched_dml,
    "empty-downgrade": check_empty_downgrade,
    "irreversible-downgrade": check_irreversible_downgrade,
    "downgrade-missing-drop": check_downgrade_missing_drop,
    "transaction-control": check_transaction_control,
}


def check_revision(source: RevisionSource) -> list[Finding]:
    """Run every AST rule on one revision."""
    revision = Revision.build(source)
    findings = (finding for check in CHECKS.values() for finding in check(revision))
    # One report per problem: a statement chosen per dialect is read once per variant.
    return list(dict.fromkeys(findings))
