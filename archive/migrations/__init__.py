"""Alembic migrations of the system's one SQL database (archive tables and the dashboard's ``dash_`` tables).

Run on start-up by :func:`archive.migrate.upgrade`; ``python -m archive.migrate_cli --help`` for the CLI.
"""
