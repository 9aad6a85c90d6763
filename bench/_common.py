"""Shared helpers for the benchmarks: realistic call records, fresh databases, timing, tables.

Not part of the package or the test suite. Every number the benchmarks print comes from
records built here, so the data shape (2-3 legs per call, ~1 KB legs blob) is defined once.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from callvault.domain.calls import CallRecord, CdrFacts, Leg, Party, Recording
from callvault.domain.enums import (
    Action,
    Direction,
    Disconnector,
    InternalType,
    LegType,
    Reason,
    RecordingType,
    Result,
    Transport,
)
from callvault.storage.engine import make_engine, normalise_url
from callvault.storage.migrate import upgrade

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"

ACCOUNT_ID = 400_000_001
MAIN_NUMBER = "+16505550000"
EXTENSION_BASE = 500_000_001
ADMIN_PASSWORD = "bench-password-1"
# The data set ends here, so windows and results are the same on every run.
DATA_END = datetime(2026, 11, 1, tzinfo=UTC)

console = Console(width=200)

_FIRST = ("Ada", "Ben", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kim", "Lu")
_LAST = ("Moreno", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka")
_CITIES = ("San Francisco, CA", "Oakland, CA", "Austin, TX", "Denver, CO", "Boston, MA")
_TRUNKS = ("trunk-sbc-west-01", "trunk-sbc-east-02")


@dataclass(slots=True, frozen=True)
class BenchExtension:
    id: int
    number: str
    name: str


def bench_extensions(count: int) -> list[BenchExtension]:
    """``count`` extensions with fixed ids and numbers 101, 102 …"""
    return [
        BenchExtension(
            EXTENSION_BASE + i,
            str(101 + i),
            f"{_FIRST[i % len(_FIRST)]} {_LAST[(i // len(_FIRST)) % len(_LAST)]}",
        )
        for i in range(count)
    ]


def _ms_after(t: datetime, ms: int) -> datetime:
    return t + timedelta(milliseconds=ms)


def realistic_calls(
    count: int,
    *,
    extensions: Sequence[BenchExtension],
    end: datetime = DATA_END,
    days: float = 120.0,
    seed: int = 1,
    id_prefix: str = "BN",
) -> Iterator[CallRecord]:
    """``count`` finished calls in time order over ``days`` before ``end``.

    60% inbound (PSTN → main number → extension, 2-3 legs: trunk, ring, sometimes a FindMe
    forward), 40% outbound (extension → PSTN, 2 legs). Parties carry names, locations and
    devices, legs carry CDR facts, so a legs blob is about 1 KB as on a real PBX.
    """
    rng = random.Random(seed)
    span_ms = int(days * 86_400_000)
    step = span_ms / max(count, 1)
    first = end - timedelta(milliseconds=span_ms)
    for n in range(count):
        start = _ms_after(first, int(n * step + rng.random() * step))
        ext = extensions[rng.randrange(len(extensions))]
        yield _one_call(rng, n, start, ext, id_prefix)


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _one_call(
    rng: random.Random, n: int, start: datetime, ext: BenchExtension, id_prefix: str
) -> CallRecord:
    inbound = rng.random() < 0.6
    roll = rng.random()
    if roll < 0.72:
        result, reason = Result.ACCEPTED, Reason.ACCEPTED
    elif roll < 0.87:
        result, reason = Result.MISSED, Reason.NOT_ANSWERED
    elif roll < 0.97:
        result, reason = Result.VOICEMAIL, Reason.NOT_ANSWERED
    else:
        result, reason = Result.BUSY, Reason.LINE_BUSY
    answered = result is Result.ACCEPTED
    ring_ms = rng.randint(2_000, 25_000)
    talk_ms = rng.randint(15_000, 900_000) if answered else 0
    duration = ring_ms + talk_ms
    external = f"+1{rng.choice((415, 510, 512, 303, 617))}555{rng.randint(0, 9999):04d}"
    tsid = f"s-a{n:011x}z{rng.getrandbits(40):010x}"
    sid = str(3_000_000_000 + n)
    device = str(800_000_000 + (ext.id % 1000) * 7)
    own = Party(
        phone_number=MAIN_NUMBER if inbound else f"+1650555{ext.number.zfill(4)}",
        extension_number=ext.number,
        extension_id=str(ext.id),
        name=ext.name,
        device_id=device,
    )
    other = Party(phone_number=external, name=_person(rng), location=rng.choice(_CITIES))
    frm, to = (other, own) if inbound else (own, other)
    direction = Direction.INBOUND if inbound else Direction.OUTBOUND
    ring_at = start
    answer_at = _ms_after(start, ring_ms) if answered else None
    end_at = _ms_after(start, duration)
    hangup = rng.choice((Disconnector.CALLER, Disconnector.CALLEE))

    def cdr(call_id: str, status: int) -> CdrFacts:
        return CdrFacts(
            ring_time=ring_at,
            answer_time=answer_at,
            end_time=end_at,
            disconnected_by=hangup if answered else Disconnector.SYSTEM,
            sip_call_id=call_id,
            sip_status_code=status,
            trunk=rng.choice(_TRUNKS),
        )

    sip_call = f"{rng.getrandbits(64):016x}@10.0.{n % 250}.{(n // 250) % 250}"
    common: dict[str, Any] = {
        "direction": direction,
        "start_time": start,
        "telephony_session_id": tsid,
    }
    status = 200 if answered else 487
    legs = [
        Leg(
            leg_type=LegType.ACCEPT if inbound else LegType.SIP_TO_PSTN_METERED,
            master=True,
            action=Action.PHONE_CALL if inbound else Action.VOIP_CALL,
            duration_ms=duration,
            result=result,
            reason=reason,
            transport=Transport.PSTN,
            internal_type=InternalType.LOCAL if inbound else InternalType.LONG_DISTANCE,
            from_party=frm,
            to_party=to,
            cdr=cdr(sip_call, status),
            **common,
        ),
        Leg(
            leg_type=LegType.PSTN_TO_SIP if inbound else LegType.ACCEPT,
            action=Action.PHONE_CALL,
            duration_ms=talk_ms,
            result=result,
            reason=reason,
            extension_id=ext.id,
            transport=Transport.VOIP,
            internal_type=InternalType.SIP,
            from_party=frm,
            to_party=Party(extension_number=ext.number, name=ext.name, device_id=device),
            cdr=cdr(f"{sip_call}-b", status),
            **common,
        ),
    ]
    if inbound and rng.random() < 0.5:
        legs.append(
            Leg(
                leg_type=LegType.FIND_ME,
                action=Action.FIND_ME,
                duration_ms=ring_ms,
                result=Result.MISSED,
                reason=Reason.NOT_ANSWERED,
                extension_id=ext.id,
                transport=Transport.PSTN,
                from_party=frm,
                to_party=Party(phone_number=f"+1650555{rng.randint(0, 9999):04d}", name=ext.name),
                **common,
            )
        )
    recording = None
    if answered and rng.random() < 0.15:
        recording = Recording(f"{7_000_000_000 + n}", RecordingType.AUTOMATIC)
    return CallRecord(
        id=f"{id_prefix}{n:010d}",
        session_id=sid,
        telephony_session_id=tsid,
        extension_id=ext.id,
        direction=direction,
        action=Action.PHONE_CALL if inbound else Action.VOIP_CALL,
        start_time=start,
        duration_ms=duration,
        result=result,
        reason=reason,
        transport=Transport.PSTN,
        sip_uuid_info=f"{rng.getrandbits(64):016x}-{n:08x}",
        from_party=frm,
        to_party=to,
        recording=recording,
        legs=legs,
    )


# -- databases -------------------------------------------------------------------------------


def default_sqlite_url(name: str) -> str:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DATA_DIR / name}"


def is_sqlite_url(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "sqlite"


def pg_schema_url(url: str, schema: str) -> str:
    """``url`` with the session ``search_path`` set to ``schema`` (tables, alembic table)."""
    parsed = make_url(normalise_url(url))
    parsed = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


def backend_label(url: str) -> str:
    return "SQLite" if is_sqlite_url(url) else "PostgreSQL"


def fresh_database(url: str, *, schema: str = "bench") -> str:
    """Empty, migrated database for ``url``; returns the URL to use.

    SQLite: the file is deleted and recreated. PostgreSQL: ``schema`` is dropped and recreated
    inside the given database and the returned URL points its search_path at it.
    """
    if is_sqlite_url(url):
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        target = url
    else:
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        target = pg_schema_url(url, schema)
    engine = make_engine(target)
    upgrade(engine)
    engine.dispose()
    return target


def vacuum_analyze(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE calls"))
            conn.execute(text("VACUUM ANALYZE call_details"))


# -- timing and output ------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds ``fn`` took, and its result."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def timed_cpu(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds and this process's CPU seconds ``fn`` took, and its result."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0-100)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def verdict(ok: bool) -> str:
    return "[green]PASS[/green]" if ok else "[red]FAIL[/red]"


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    console.print(table)


def machine_note() -> str:
    import os
    import platform

    load = os.getloadavg()
    return (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load avg {load[0]:.2f}"
    )


def seed_account(services: Any, extensions: Sequence[BenchExtension], *, admin: bool) -> None:
    """The benchmark account with its extensions (and, for HTTP, an admin user on ext 101)."""
    services.accounts.create_account("Bench Co", MAIN_NUMBER, account_id=ACCOUNT_ID)
    for ext in extensions:
        services.accounts.add_extension(ACCOUNT_ID, ext.number, ext.name, extension_id=ext.id)
    if admin:
        from callvault.services.accounts import Role

        services.accounts.add_user(
            ACCOUNT_ID,
            extensions[0].number,
            email="admin@bench.test",
            password=ADMIN_PASSWORD,
            role=Role.ADMIN,
        )
