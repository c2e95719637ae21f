#!/usr/bin/env python3
"""Trace the locks each statement of an Alembic migration takes on PostgreSQL, and its rewrites.

Usage (from the project's root, with the project's Python):
    python path/to/scripts/lock_trace.py [--from REV] [--to REV] [--rows N]

--help says more; references/verifying.md shows the output and what to do with it.
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info < (3, 10):  # noqa: UP036
    print(f"lock_trace.py needs Python 3.10+, not {sys.version.split()[0]}", file=sys.stderr)
    sys.exit(2)

sys.path.insert(0, str(Path(__file__).resolve().parent))

from migration_proof.trace import main

if __name__ == "__main__":
    sys.exit(main())
