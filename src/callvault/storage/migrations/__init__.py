"""Alembic migrations for callvault's schema."""
