"""Shared fixtures: a fresh database per test, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from crisis.bootstrap import App, build
from crisis.clock import FakeClock
from crisis.settings import DatabaseSettings, Settings
from crisis.store import Store

POSTGRES_URL = os.environ.get("CRISIS_TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
T0 = datetime(2026, 11, 23, 1, 10, tzinfo=UTC)  # 02:10 in Paris


def _postgres_schema_url() -> str:
    """A fresh schema in the throwaway server, so tests never see each other's rows."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(POSTGRES_URL.replace("postgresql+psycopg", "postgresql+psycopg"))
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crisis.db'}"
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail(
                "CRISIS_TEST_POSTGRES_URL is not set in CI: ./scripts/dev test starts PostgreSQL"
            )
        pytest.skip(
            "PostgreSQL not started: run ./scripts/dev test (sets CRISIS_TEST_POSTGRES_URL)"
        )
    return _postgres_schema_url()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A migrated store."""
    s = Store.open(database_url)
    yield s
    s.close()


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at T0 (23/11/2026 02:10, Paris)."""
    return FakeClock(T0)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Default settings on the test database, simulated channels without latency."""
    base = Settings()
    channels = {
        name: cfg.model_copy(
            update={"simulation": cfg.simulation.model_copy(update={"latency_ms": 0})}
        )
        for name, cfg in base.channels.items()
    }
    return base.model_copy(
        update={
            "database": DatabaseSettings(url=database_url),
            "data_dir": tmp_path / "data",
            "channels": channels,
        }
    )


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Iterator[App]:
    """The orchestrator built through the real composition root, on a fake clock."""
    application = build(settings, clock=clock)
    yield application
    application.close()
