"""Test fixtures: a real database (SQLite by default, PostgreSQL when CALLVAULT_TEST_DATABASE_URL
points at one), the real app served over HTTP on a loopback port, and a clean slate per test."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from callvault.api.app import create_app
from callvault.services import secrets
from callvault.services.container import Services
from callvault.settings import RateLimitProfile, Settings
from callvault.storage.engine import normalise_url
from callvault.storage.migrate import upgrade
from callvault.storage.schema import ALL_TABLES
from tests.builders import TestAccount, make_account


def _fresh_postgres(url: str) -> tuple[str, str]:
    """Create a throw-away database next to the one named in ``url``; return (url, name)."""
    admin_url = make_url(normalise_url(url))
    name = f"callvault_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.set(database=name).render_as_string(hide_password=False), name


def _drop_postgres(url: str, name: str) -> None:
    engine = create_engine(make_url(normalise_url(url)), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("CALLVAULT_TEST_DATABASE_URL", "")
    if configured.startswith("postgres"):
        url, name = _fresh_postgres(configured)
        yield url
        _drop_postgres(configured, name)
        return
    path: Path = tmp_path_factory.mktemp("db") / "callvault-test.db"
    yield f"sqlite:///{path}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the backend under test, of the test's own (for migrations)."""
    configured = os.environ.get("CALLVAULT_TEST_DATABASE_URL", "")
    if not configured.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    url, name = _fresh_postgres(configured)
    yield url
    _drop_postgres(configured, name)


@pytest.fixture(scope="session")
def server_url() -> str:
    return f"http://127.0.0.1:{_free_port()}"


@pytest.fixture(scope="session")
def settings(
    database_url: str, server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return Settings(
        database_url=database_url,
        base_url=server_url,
        rate_limits=RateLimitProfile.RELAXED,
        recordings_dir=tmp_path_factory.mktemp("recordings"),
    )


@pytest.fixture(scope="session")
def services(settings: Settings) -> Iterator[Services]:
    svc = Services.build(settings)
    upgrade(svc.db.engine)
    yield svc
    svc.close()


@pytest.fixture(scope="session", autouse=True)
def recordings_outside_the_work_tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """CLI commands run by tests build their settings from the environment; keep the recording
    audio they write (``callvault demo`` attaches some) in a temporary directory."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CALLVAULT_RECORDINGS_DIR", str(tmp_path_factory.mktemp("cli-recordings")))
        yield


@pytest.fixture(scope="session", autouse=True)
def cheap_secret_hashing() -> Iterator[None]:
    """Hash test passwords and client secrets at a low scrypt cost. Each hash records its own
    cost, so verification runs the production code unchanged; at full cost every test account
    (four hashes, three logins) would take most of a second."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(secrets, "_N", 2**10)
        yield


@pytest.fixture(autouse=True)
def clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts from empty tables (schema kept)."""
    yield
    if "services" not in request.fixturenames:
        return
    svc: Services = request.getfixturevalue("services")
    with svc.db.write() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(t.name for t in ALL_TABLES)
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            for table in ALL_TABLES:
                conn.execute(table.delete())


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # run inside a thread
        pass


@contextmanager
def _serve(app: FastAPI, url: str) -> Iterator[str]:
    """Serve ``app`` with uvicorn on ``url``'s loopback port in a thread."""
    port = int(url.rsplit(":", 1)[1])
    srv = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    yield url
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def app(settings: Settings, services: Services) -> FastAPI:
    """The app that ``server`` serves (for tests that look at its state)."""
    return create_app(settings, services)


@pytest.fixture(scope="session")
def server(app: FastAPI, server_url: str) -> Iterator[str]:
    """The real app on a loopback port, shared by the session; yields its base URL."""
    with _serve(app, server_url) as url:
        yield url


@pytest.fixture(scope="session")
def limited_server(settings: Settings, services: Services) -> Iterator[str]:
    """A second server on the same database and services with RingCentral's own rate limits
    (heavy 10, auth 5 per 60 s); yields its base URL."""
    url = f"http://127.0.0.1:{_free_port()}"
    limited = settings.model_copy(
        update={"base_url": url, "rate_limits": RateLimitProfile.RINGCENTRAL}
    )
    with _serve(create_app(limited, services), url):
        yield url


@pytest.fixture
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


@pytest.fixture
def account(services: Services, http: httpx.Client) -> TestAccount:
    """An account with an admin (ext 101), two users (102, 103), an app, and tokens."""
    return make_account(services, http)
