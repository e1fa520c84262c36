"""Alembic migrations; run them with `salesbot db upgrade`."""
