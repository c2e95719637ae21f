"""Static safety checks for Alembic revision files.

The package is split by job: ``model`` holds findings and the rule registry,
``source`` reads revision files, ``walker`` turns upgrade()/downgrade() into a
list of operations with their context, ``sqlsource`` follows execute()
arguments to their SQL, ``sqltext`` reads SQL strings, ``rules`` holds the
checks (one module per family), ``suppress`` applies ``# check: ignore[...]``
comments, ``sql_layer`` lints rendered SQL with squawk and ``cli`` ties it
together. Everything except ``sql_layer`` uses the standard library only.
"""
