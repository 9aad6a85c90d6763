"""The stored-calls data set for the listing benchmark: generated once, reused while it matches.

Generation takes the fast path (records encoded with ``encode_call`` and bulk-inserted in
chunks of 10k with explicit primary keys), not the ingest service: the data set is the fixture,
not the thing measured.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from sqlalchemy import Engine, event, select, text

from _common import (
    ACCOUNT_ID,
    backend_label,
    bench_extensions,
    console,
    default_sqlite_url,
    fresh_database,
    is_sqlite_url,
    pg_schema_url,
    realistic_calls,
    seed_account,
    vacuum_analyze,
)
from callvault.services.container import Services
from callvault.settings import Settings
from callvault.storage.calls import encode_call
from callvault.storage.codec import to_ms
from callvault.storage.engine import make_engine
from callvault.storage.migrate import upgrade
from callvault.storage.schema import call_details, calls, server_settings

EXTENSIONS = 50
DAYS = 120.0
SEED = 1
CHUNK = 10_000
_META_KEY = "bench.dataset"


def dataset_url(database_url: str | None, count: int) -> str:
    """Where the data set of ``count`` calls lives for this backend."""
    if database_url in (None, "sqlite"):
        return default_sqlite_url(f"calls-{count}.sqlite")
    if is_sqlite_url(database_url or ""):
        return database_url or ""
    return pg_schema_url(database_url, f"listing_{count}")


def _meta(count: int) -> str:
    return f"calls={count};extensions={EXTENSIONS};days={DAYS};seed={SEED};v=1"


def _stored_meta(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                select(server_settings.c.value).where(server_settings.c.key == _META_KEY)
            ).scalar_one_or_none()
    except Exception:
        return None
    finally:
        engine.dispose()


def ensure_dataset(database_url: str | None, count: int) -> str:
    """Return the URL of a database holding the ``count``-call data set, generating it if needed."""
    url = dataset_url(database_url, count)
    if _stored_meta(url) == _meta(count):
        console.print(f"[dim]reusing data set ({count:,} calls) at {_safe(url)}[/dim]")
        # The schema may have moved on since the data set was built.
        engine = make_engine(url)
        try:
            upgrade(engine)
        except Exception as exc:
            raise SystemExit(
                f"cannot migrate the stored data set ({exc.__class__.__name__}); delete it "
                "(SQLite file or PostgreSQL schema) and run again to regenerate"
            ) from exc
        finally:
            engine.dispose()
        return url
    console.print(f"generating {count:,} calls into {_safe(url)} …")
    if is_sqlite_url(url):
        target = fresh_database(url)
    else:
        base = database_url or ""
        target = fresh_database(base, schema=f"listing_{count}")
    services = Services.build(Settings(database_url=target))
    try:
        seed_account(services, bench_extensions(EXTENSIONS), admin=True)
    finally:
        services.close()
    engine = make_engine(target)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _fast_sqlite_load)
    try:
        _bulk_load(engine, count)
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(
                    text("SELECT setval(pg_get_serial_sequence('calls', 'pk'), max(pk)) FROM calls")
                )
            conn.execute(server_settings.insert().values(key=_META_KEY, value=_meta(count)))
        vacuum_analyze(engine)
    finally:
        engine.dispose()
    return url


def _fast_sqlite_load(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA synchronous=OFF")
    cur.execute("PRAGMA cache_size=-262144")
    cur.close()


def _bulk_load(engine: Engine, count: int) -> None:
    records = realistic_calls(count, extensions=bench_extensions(EXTENSIONS), days=DAYS, seed=SEED)
    pk = 0
    columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*Progress.get_default_columns()[:1], *columns, console=console) as progress:
        task = progress.add_task(f"{backend_label(str(engine.url))} calls", total=count)
        while chunk := list(islice(records, CHUNK)):
            rows, details = [], []
            for record in chunk:
                pk += 1
                enc = encode_call(ACCOUNT_ID, record)
                row = dict(enc.row, pk=pk, modified_ms=to_ms(record.start_time) + 3_600_000)
                rows.append(row)
                details.append({"call_pk": pk, "legs": enc.legs})
            with engine.begin() as conn:
                conn.execute(calls.insert(), rows)
                conn.execute(call_details.insert(), details)
            progress.advance(task, len(chunk))


def _safe(url: str) -> str:
    return url.split("?")[0]
