"""End to end: call events over HTTP → journal → correlator → records, events per second.

Starts ``callvault serve`` (one uvicorn worker) in a subprocess on a loopback port against a
fresh database, logs in with the password grant, and POSTs batches of canonical events
(the 9-event flow of bench/correlator.py, many calls in progress at once) to
``/api/v1/events``. Every event is journaled and every call's records are written before the
response returns. Reports events/s and the ratio to the correlator-alone rate measured in the
same run.

    .venv/bin/python bench/events_http.py --database-url sqlite:///bench/data/events.db
    .venv/bin/python bench/events_http.py --database-url postgresql://postgres@127.0.0.1:5432/callvault_bench_events
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from callvault.importers.native_events import event_to_json
from callvault.services.accounts import Role
from callvault.services.container import Services
from callvault.settings import Settings
from callvault.storage.engine import normalise_url
from callvault.storage.migrate import upgrade
from correlator import interleaved, run

PASSWORD = "bench-password-1"


def fresh_database(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    parsed = make_url(normalise_url(url))
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def prepare(url: str) -> tuple[int, str, str]:
    """Schema, an account with extensions 100-149 and an admin; returns ids and app secret."""
    services = Services.build(Settings(database_url=url))
    upgrade(services.db.engine)
    acc = services.accounts.create_account("Bench", "+16505550100")
    for n in range(50):
        services.accounts.add_extension(acc.id, str(100 + n), f"Agent {n}", extension_id=100 + n)
    services.accounts.add_user(acc.id, "100", email=None, password=PASSWORD, role=Role.ADMIN)
    app = services.accounts.create_app(acc.id, "bench")
    services.close()
    return acc.id, app.client_id, app.client_secret or ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="sqlite:///bench/data/events.db")
    parser.add_argument("--calls", type=int, default=5_000, help="calls (9 events each)")
    parser.add_argument("--batch", type=int, default=1_000, help="events per request")
    parser.add_argument("--quick", action="store_true", help="500 calls")
    args = parser.parse_args()
    calls = 500 if args.quick else args.calls
    fresh_database(args.database_url)
    account_id, client_id, secret = prepare(args.database_url)
    port = free_port()
    env = dict(os.environ, CALLVAULT_DATABASE_URL=args.database_url, CALLVAULT_RATE_LIMITS="off")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "callvault.cli",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=120) as client:
            for _ in range(100):
                try:
                    client.get("/api/v1/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            token = client.post(
                "/restapi/oauth/token",
                auth=(client_id, secret),
                data={
                    "grant_type": "password",
                    "username": "+16505550100*100",
                    "password": PASSWORD,
                },
            ).json()["access_token"]
            events = interleaved(calls)
            bodies = [
                orjson.dumps([event_to_json(e) for e in events[i : i + args.batch]])
                for i in range(0, len(events), args.batch)
            ]
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            started = time.perf_counter()
            finished = 0
            for body in bodies:
                response = client.post("/api/v1/events", content=body, headers=headers)
                response.raise_for_status()
                finished += response.json()["callsFinished"]
            http_seconds = time.perf_counter() - started
        correlator_seconds, _ = run(events)
    finally:
        server.terminate()
        server.wait(timeout=30)
    http_rate = len(events) / http_seconds
    alone = len(events) / correlator_seconds
    backend = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    print(f"backend                 {backend}")
    print(f"events / calls          {len(events):,} / {calls:,} ({finished:,} finished)")
    print(f"HTTP end to end         {http_rate:>10,.0f} events/s ({args.batch} per request)")
    print(f"correlator alone        {alone:>10,.0f} events/s")
    print(f"ratio                   {http_rate / alone:>10.1%}")
    assert finished == calls, "every call should have finished"
    del account_id


if __name__ == "__main__":
    main()
