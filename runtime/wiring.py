"""Builds the application objects from settings and resolved service URLs."""

from __future__ import annotations

from commands.application import Trail
from runtime.embedded import postgres_env
from runtime.settings import Settings


def build_trail(settings: Settings, database_url: str) -> Trail:
    """The write side; constructing it records the event schema (tables are created if missing)."""
    return Trail(postgres_env(database_url), registration=settings.registration)
