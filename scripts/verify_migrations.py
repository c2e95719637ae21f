#!/usr/bin/env python3
"""Prove an Alembic project's migrations: up, check, down and up again, on SQLite and PostgreSQL.

Usage (from the project's root, with the project's Python):
    python path/to/scripts/verify_migrations.py [--dialect sqlite|postgresql|both] [--from REV]

--help says more; references/verifying.md shows the output and what to do with it.
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info < (3, 10):  # noqa: UP036
    print(f"verify_migrations.py needs Python 3.10+, not {sys.version.split()[0]}", file=sys.stderr)
    sys.exit(2)

sys.path.insert(0, str(Path(__file__).resolve().parent))

from migration_proof.verify import main

if __name__ == "__main__":
    sys.exit(main())
