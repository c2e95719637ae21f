"""Findings, the rule registry and the input error type.

Rule ids are stable: suppression comments, CI logs and references/checks.md
anchors all name them, so an id is never renamed once published.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]
Layer = Literal["ast", "sql", "meta"]

CHECKS_DOC = Path(__file__).resolve().parents[2] / "references" / "checks.md"


def display_path(path: Path, cwd: Path) -> str:
    """A path as the user would type it: relative below the working directory, else as is."""
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        return str(path)


def doc_path() -> str:
    """The rule reference as a path that opens from where the checker runs.

    Relative when the skill sits below the working directory (its own root, or a
    project that vendors it); otherwise absolute, since from a user's project
    root ``references/checks.md`` names nothing.
    """
    return display_path(CHECKS_DOC, Path.cwd())


class InputError(Exception):
    """A path that cannot be read or parsed; reported in one line, exit code 2."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Rule:
    """One check: its id, default severity, a one-line summary and the safe alternative."""

    id: str
    severity: Severity
    summary: str
    fix: str
    layer: Layer = "ast"


@dataclass(frozen=True)
class Finding:
    """One problem at one place; ``end_line`` only widens where a suppression may sit."""

    file: str
    line: int
    rule: str
    severity: Severity
    message: str
    fix: str
    end_line: int = 0

    def to_json(self) -> dict[str, object]:
        """The public shape of a finding, as documented in references/checks.md."""
        return {
            "file": self.file,
            "line": self.line,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
        }


RULES: tuple[Rule, ...] = (
    Rule(
        "drop-column",
        "error",
        "op.drop_column on an existing table: running code that still reads it breaks.",
        "Stop reading the column in the application and deploy that first (a NOT NULL "
        "column without a default is made nullable in that release, or new inserts fail); "
        "then drop it in a later revision and suppress this finding with the reason.",
    ),
    Rule(
        "drop-table",
        "error",
        "op.drop_table on an existing table: running code that still reads it breaks.",
        "Remove every use of the table from the application and deploy that first; then "
        "drop it in a later revision and suppress this finding with the reason.",
    ),
    Rule(
        "rename-column",
        "error",
        "alter_column(new_column_name=...): the old name disappears under running code.",
        "Add the new column, write to both, backfill in batches, switch reads, then drop "
        "the old column in a later revision.",
    ),
    Rule(
        "rename-table",
        "error",
        "op.rename_table: the old name disappears under running code.",
        "Create the new table (or a view under the old name), write to both, backfill, "
        "switch reads, then drop the old name in a later revision.",
    ),
    Rule(
        "index-not-concurrent",
        "error",
        "create_index (or Column(index=True)) without postgresql_concurrently=True blocks "
        "writes while the index builds.",
        "Build it with postgresql_concurrently=True inside "
        "`with op.get_context().autocommit_block():`.",
    ),
    Rule(
        "drop-index-not-concurrent",
        "warning",
        "drop_index without postgresql_concurrently=True takes ACCESS EXCLUSIVE on the table.",
        "Drop it with postgresql_concurrently=True inside "
        "`with op.get_context().autocommit_block():`.",
    ),
    Rule(
        "concurrently-outside-autocommit",
        "error",
        "postgresql_concurrently=True (or CONCURRENTLY in SQL) inside the migration "
        "transaction: PostgreSQL refuses it.",
        "Move the statement into `with op.get_context().autocommit_block():`.",
    ),
    Rule(
        "table-lock-statement",
        "error",
        "VACUUM FULL or CLUSTER (a rewrite under ACCESS EXCLUSIVE), or LOCK TABLE in SHARE "
        "mode or stronger (held until the migration commits), in raw SQL.",
        "Keep VACUUM FULL and CLUSTER out of migrations: rebuild the table outside the deploy "
        "with a tool made for it (pg_repack). Drop LOCK TABLE: each statement takes the lock "
        "it needs, only for as long as it needs it.",
    ),
    Rule(
        "add-not-null-without-default",
        "error",
        "add_column with nullable=False and no server_default fails on a non-empty table "
        "(a Python default= does not count).",
        "Give the column a constant server_default, or add it nullable, backfill, then "
        "set NOT NULL the safe way (see set-not-null).",
    ),
    Rule(
        "set-not-null",
        "error",
        "alter_column(nullable=False) scans the whole table under ACCESS EXCLUSIVE.",
        "Add CHECK (col IS NOT NULL) with postgresql_not_valid=True, VALIDATE it in the "
        "next revision, then set NOT NULL (no scan) and drop the check.",
    ),
    Rule(
        "constraint-not-valid",
        "error",
        "A foreign key or CHECK added without postgresql_not_valid=True (or validated in "
        "the same transaction) scans the table while holding its lock.",
        "Add it with postgresql_not_valid=True, then run `ALTER TABLE ... VALIDATE "
        "CONSTRAINT ...` in a later revision.",
    ),
    Rule(
        "unique-constraint",
        "error",
        "A unique constraint (or Column(unique=True)) builds its index under ACCESS "
        "EXCLUSIVE: reads and writes wait for the build.",
        "Build a unique index with postgresql_concurrently=True in an autocommit block, then "
        "`ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX ...`.",
    ),
    Rule(
        "add-primary-key",
        "error",
        "create_primary_key (or ADD PRIMARY KEY in SQL) on an existing table builds its index "
        "while ACCESS EXCLUSIVE blocks reads and writes.",
        "Make the columns NOT NULL the safe way (see set-not-null), build a unique index with "
        "postgresql_concurrently=True in an autocommit block, then `ALTER TABLE t ADD "
        "CONSTRAINT t_pkey PRIMARY KEY USING INDEX ix` (a moment of ACCESS EXCLUSIVE, no build).",
    ),
    Rule(
        "exclude-constraint",
        "error",
        "create_exclude_constraint (or ADD EXCLUDE in SQL) on an existing table builds its "
        "index while ACCESS EXCLUSIVE blocks reads and writes.",
        "There is no concurrent way to add one. Add it in a maintenance window with a short "
        "lock_timeout, or build the constrained data in a new table (constraint included) and "
        "switch to it.",
    ),
    Rule(
        "type-change-rewrite",
        "error",
        "alter_column(type_=...) that is not a known safe widening rewrites the table under "
        "ACCESS EXCLUSIVE.",
        "Pass existing_type= so safe widenings are recognised; otherwise add a new column, "
        "dual-write, backfill in batches, switch reads, drop the old column.",
    ),
    Rule(
        "volatile-default",
        "error",
        "A new column on an existing table with a volatile default (gen_random_uuid(), "
        "random(), nextval, identity, stored generated) rewrites the table.",
        "Add the column without a default (or with a constant one), set the default with "
        "alter_column, then backfill existing rows in batches.",
    ),
    Rule(
        "json-not-jsonb",
        "warning",
        "sa.JSON renders as json on PostgreSQL: no equality operator, no GIN index.",
        "Use sqlalchemy.dialects.postgresql.JSONB, or "
        'sa.JSON().with_variant(postgresql.JSONB(), "postgresql").',
    ),
    Rule(
        "sql-string-formatting",
        "error",
        "SQL built with an f-string, % or .format() and passed to execute.",
        'Write a constant statement and pass values as bound parameters: sa.text("... '
        'WHERE id > :last").bindparams(last=last).',
    ),
    Rule(
        "model-import",
        "error",
        "The revision imports application models, which will change after it is written.",
        'Describe the columns the revision needs inline with sa.table("name", '
        'sa.column("id"), ...).',
    ),
    Rule(
        "backfill-with-ddl",
        "error",
        "UPDATE/DELETE in the same transaction as DDL on the same table keeps the DDL lock "
        "for the whole backfill.",
        "Run the batched backfill inside `with op.get_context().autocommit_block():` so the "
        "DDL commits first and each batch commits on its own.",
    ),
    Rule(
        "unbatched-dml",
        "error",
        "UPDATE/DELETE with no key range or LIMIT touches every matching row in one "
        "statement; batches in one transaction hold every batch's row locks until commit.",
        "Loop over key ranges (WHERE id > :lo AND id <= :hi), one bounded statement per "
        "batch, inside `with op.get_context().autocommit_block():` so each batch commits.",
    ),
    Rule(
        "empty-downgrade",
        "error",
        "downgrade() is empty or `pass` while upgrade() changes the schema.",
        "Write the reverse operations, or raise NotImplementedError('why') to declare the "
        "revision irreversible.",
    ),
    Rule(
        "irreversible-downgrade",
        "warning",
        "downgrade() raises: the revision is declared irreversible.",
        "Keep it only when the upgrade destroys data; say why in the exception message.",
    ),
    Rule(
        "downgrade-missing-drop",
        "warning",
        "upgrade() creates a table, column, index or constraint that downgrade() never drops.",
        "Drop the object in downgrade() (a dropped table takes its columns, indexes and "
        "constraints with it).",
    ),
    Rule(
        "transaction-control",
        "error",
        'op.execute("COMMIT"/"BEGIN"/...) or .commit()/.rollback() inside a migration.',
        "Leave transactions to Alembic; use `with op.get_context().autocommit_block():` "
        "for statements that must run outside one.",
    ),
    Rule(
        "sql-needs-online-check",
        "warning",
        "With --sql: the revision cannot be rendered offline (it reads from the database), "
        "so part of its SQL was not linted.",
        "Review the rendered part by hand, or test the revision against a real database.",
        layer="sql",
    ),
    Rule(
        "suppression-without-reason",
        "error",
        "A `# check: ignore[...]` comment with no reason after it.",
        "Write why the finding is safe here after the bracket: `# check: ignore[RULE-ID] reason`.",
        layer="meta",
    ),
    Rule(
        "unused-suppression",
        "warning",
        "A `# check: ignore[...]` comment that suppresses nothing (or names an unknown rule).",
        "Delete the comment, or fix the rule id and its placement (same line or the line above).",
        layer="meta",
    ),
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
SQUAWK_PREFIX = "squawk:"


def make_finding(rule_id: str, file: str, line: int, detail: str, end_line: int = 0) -> Finding:
    """Build a finding whose message points at the rule's section in the reference doc."""
    rule = RULES_BY_ID[rule_id]
    return Finding(
        file=file,
        line=line,
        rule=rule_id,
        severity=rule.severity,
        message=f"{detail} (see {doc_path()}#{rule_id})",
        fix=rule.fix,
        end_line=max(end_line, line),
    )
