"""Persistence: the only package that speaks SQL (sqlmodel / SQLAlchemy)."""

from crisis.store.database import Store

__all__ = ["Store"]
