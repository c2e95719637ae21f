#!/usr/bin/env python3
"""Check Alembic revisions for operations that lock or break production PostgreSQL.

Usage: python scripts/check_migrations.py [PATH ...] [--format json] [--sql]

Standard library only (Python 3.10+), so it runs in any project without an
install; the optional --sql layer imports alembic and runs squawk when present.
The rules live in scripts/migration_checks/; --help lists them and
references/checks.md explains each one.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Whatever python3 a machine has runs this file, so say so instead of a TypeError.
if sys.version_info < (3, 10):  # noqa: UP036
    print(f"check_migrations.py needs Python 3.10+, not {sys.version.split()[0]}", file=sys.stderr)
    sys.exit(2)

sys.path.insert(0, str(Path(__file__).resolve().parent))

from migration_checks.cli import main

if __name__ == "__main__":
    sys.exit(main())
