"""Prove Alembic migrations on scratch databases: run them, and trace their locks.

verify_migrations.py and lock_trace.py run from the root of any Alembic
project, with that project's Python, so its own env.py and models import.
"""
