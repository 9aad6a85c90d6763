"""Live calls: journal events, correlate them, write records when calls finish, sweep.

The path of an event: journaled durably (idempotent by source and event id) → fed to the
correlator → when its call finishes, the call's records go through the single ingest path and
the call's journal rows are marked done. A restart replays the journal rows not yet done, so
calls in progress survive it. Late events for a call finished long ago replay that call's
journaled events first, so the rebuilt records contain every fact.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select

from callvault.correlator.calls import LiveCall
from callvault.correlator.correlator import CallChange, ChangeKind, Correlator
from callvault.correlator.records import build_records
from callvault.domain.calls import CallRecord
from callvault.domain.enums import Result
from callvault.domain.events import CallEvent
from callvault.importers.native_events import ExtensionResolver, event_to_json, parse_event
from callvault.importers.ringcentral_json import RecordError
from callvault.services.bus import ChangeBus
from callvault.services.clock import Clock, now_ms, system_clock
from callvault.services.ingest import IngestService, RecordProblem
from callvault.storage import events as journal
from callvault.storage.codec import to_ms
from callvault.storage.engine import Database
from callvault.storage.events import JournalEntry
from callvault.storage.schema import call_events


@dataclass(slots=True)
class EventReport:
    accepted: int = 0
    duplicates: int = 0
    calls_finished: int = 0
    problems: list[RecordProblem] = field(default_factory=list)


def _trusted(ext_id: str | None, _number: str | None) -> int | None:
    """Journaled events already carry callvault extension ids."""
    return int(ext_id) if ext_id and ext_id.isdigit() else None


def decode_journaled(data: bytes) -> CallEvent:
    return parse_event(orjson.loads(data), _trusted)


class LiveCallService:
    def __init__(
        self,
        db: Database,
        ingest: IngestService,
        *,
        linger: timedelta = timedelta(seconds=120),
        idle_timeout: timedelta = timedelta(hours=4),
        clock: Clock = system_clock,
        bus: ChangeBus | None = None,
    ) -> None:
        self.db = db
        self.ingest = ingest
        self.clock = clock
        self.bus = bus or ChangeBus()
        self.correlator = Correlator(linger=linger, idle_timeout=idle_timeout)
        self._lock = threading.RLock()
        self._restored = False

    # -- intake ----------------------------------------------------------------------------

    def accept(
        self,
        account_id: int,
        events: Sequence[CallEvent],
        *,
        source: str = "native",
        raws: Sequence[bytes | None] | None = None,
    ) -> EventReport:
        """Journal and correlate ``events``; returns counts. Duplicates change nothing."""
        self.restore()
        report = EventReport()
        entries = [
            JournalEntry(
                e.event_id,
                e.session_id,
                e.sequence,
                to_ms(e.time),
                orjson.dumps(event_to_json(e)),
                raws[i] if raws else None,
            )
            for i, e in enumerate(events)
        ]
        with self.db.write() as conn:
            fresh_ids = journal.append(conn, account_id, source, entries, now_ms(self.clock))
        fresh = [e for e in events if e.event_id in fresh_ids]
        report.duplicates = len(events) - len(fresh)
        with self._lock:
            self._replay_forgotten(account_id, fresh)
            changes = [c for e in fresh if (c := self.correlator.feed(account_id, e)) is not None]
            report.accepted = len(fresh)
            report.calls_finished = self._settle(account_id, changes)
        return report

    def _replay_forgotten(self, account_id: int, events: Iterable[CallEvent]) -> None:
        """Before a late event joins a session the correlator has forgotten, feed it the
        session's earlier journaled events (the call was finished and written long ago)."""
        unknown = {
            e.session_id for e in events if not self.correlator.knows(account_id, e.session_id)
        }
        if not unknown:
            return
        with self.db.read() as conn:
            done = (
                conn.execute(
                    select(call_events.c.session_id)
                    .where(
                        call_events.c.account_id == account_id,
                        call_events.c.session_id.in_(sorted(unknown)),
                        call_events.c.call_done.is_(True),
                    )
                    .distinct()
                )
                .scalars()
                .all()
            )
            if not done:
                return
            older = journal.session_events(conn, account_id, list(done))
        for data in older:
            self.correlator.feed(account_id, decode_journaled(data))

    def _settle(self, account_id: int, changes: list[CallChange]) -> int:
        """Write records of finished calls (once per call per batch) and publish changes."""
        finished: dict[str, LiveCall] = {}
        for change in changes:
            if change.kind is ChangeKind.FINISHED:
                finished[change.call.call_id] = change.call
        # A call finished and then updated again within one batch is no longer finished.
        for change in changes:
            if change.kind is ChangeKind.UPDATED and change.call.finished_at is None:
                finished.pop(change.call.call_id, None)
        records: list[CallRecord] = []
        for call in finished.values():
            records.extend(build_records(call))
        if records:
            self.ingest.ingest(account_id, records)
        done_sessions = sorted({sid for call in finished.values() for sid in call.sessions})
        if done_sessions:
            with self.db.write() as conn:
                for start in range(0, len(done_sessions), 500):
                    journal.mark_done(conn, account_id, done_sessions[start : start + 500])
        seen: set[str] = set()
        for change in reversed(changes):
            if change.call.call_id in seen:
                continue
            seen.add(change.call.call_id)
            self.bus.publish(account_id, _message(change))
        return len(finished)

    # -- time ------------------------------------------------------------------------------

    def sweep(self, now: datetime | None = None) -> int:
        """Finish calls silent past the idle timeout (their records say so); returns count."""
        self.restore()
        with self._lock:
            changes = self.correlator.expire(now or self.clock())
            by_account: dict[int, list[CallChange]] = {}
            for change in changes:
                by_account.setdefault(change.call.account_id, []).append(change)
            return sum(self._settle(acc, chs) for acc, chs in by_account.items())

    def restore(self) -> None:
        """Once per process: replay journaled events of calls not yet finished."""
        if self._restored:
            return
        with self._lock:
            if self._restored:
                return
            with self.db.read() as conn:
                pending = list(journal.open_events(conn))
            for account_id, data in pending:
                self.correlator.feed(account_id, decode_journaled(data))
            self._restored = True

    # -- reading ---------------------------------------------------------------------------

    def active(self, account_id: int, extension_id: int | None = None) -> list[CallRecord]:
        """Records of calls in progress (result "In Progress") or lingering after their end,
        newest first; an extension sees only its own."""
        self.restore()
        with self._lock:
            calls = self.correlator.calls(account_id)
            out: list[CallRecord] = []
            for call in calls:
                for record in build_records(call):
                    if extension_id is not None and record.extension_id != extension_id:
                        continue
                    if call.finished_at is None:
                        record.result = Result.IN_PROGRESS
                        record.reason = None
                    out.append(record)
        out.sort(key=lambda r: r.start_time, reverse=True)
        return out

    def session_call(
        self, account_id: int, session_id: str
    ) -> tuple[list[CallRecord], datetime | None] | None:
        """Records of the call holding ``session_id`` (in progress, or finished and still
        lingering) and when it finished (None while in progress); None when no such call is
        held. Legs of parties still up have the result "In Progress"."""
        self.restore()
        with self._lock:
            if not self.correlator.knows(account_id, session_id):
                return None
            for call in self.correlator.calls(account_id):
                if session_id in call.sessions:
                    return build_records(call), call.finished_at
        return None


def _message(change: CallChange) -> dict[str, object]:
    call = change.call
    return {
        "type": f"call.{change.kind.value}",
        "callId": call.call_id,
        "sessions": sorted(call.sessions),
        "parties": sum(len(p) for p in call.sessions.values()),
        "startTime": call.first_time.isoformat() if call.first_time else None,
        "lastEventTime": call.last_time.isoformat() if call.last_time else None,
        "swept": call.swept,
    }


def parse_events(
    items: Sequence[object], resolve: ExtensionResolver
) -> tuple[list[CallEvent], list[RecordProblem]]:
    """Canonical event JSON items → events, plus a problem per bad item (by position)."""
    events: list[CallEvent] = []
    problems: list[RecordProblem] = []
    for i, item in enumerate(items):
        try:
            events.append(parse_event(item, resolve))
        except RecordError as exc:
            problems.append(RecordProblem(i, exc.field, exc.reason))
    return events, problems


@dataclass(slots=True)
class RegenerateReport:
    events: int = 0
    calls: int = 0
    records_created: int = 0
    records_updated: int = 0
    records_unchanged: int = 0
    unfinished: int = 0


def regenerate(
    service: LiveCallService,
    *,
    account_id: int | None = None,
    session_ids: Sequence[str] = (),
    date_from: datetime | None = None,
    date_to: datetime | None = None,
) -> RegenerateReport:
    """Rebuild call records from journaled events, through a fresh correlator.

    Idempotent: records that come out the same are left untouched. Select a call by any of
    its session ids (linked sessions are followed), a window of event time, or everything.
    Calls still in progress are left to the live correlator.
    """
    report = RegenerateReport()
    fresh = Correlator(linger=timedelta(0), idle_timeout=timedelta(days=3650))
    finished: dict[tuple[int, str], LiveCall] = {}
    with service.db.read() as conn:
        if session_ids:
            if account_id is None:
                raise ValueError("regenerating by session needs the account")
            stream = _linked_session_events(conn, account_id, session_ids)
        else:
            scope = journal.sessions_in_range(
                conn,
                account_id,
                to_ms(date_from) if date_from else None,
                to_ms(date_to) if date_to else None,
            )
            by_account: dict[int, list[str]] = {}
            for acc, sid in scope:
                by_account.setdefault(acc, []).append(sid)
            stream = [
                (acc, data)
                for acc, sids in by_account.items()
                for data in _chunked_session_events(conn, acc, sids)
            ]
    seen: set[tuple[int, str]] = set()
    for acc, data in stream:
        report.events += 1
        change = fresh.feed(acc, decode_journaled(data))
        if change is not None:
            seen.add((acc, change.call.call_id))
        if change is not None and change.kind is ChangeKind.FINISHED:
            finished[(acc, change.call.call_id)] = change.call
        elif change is not None:
            finished.pop((acc, change.call.call_id), None)
    report.unfinished = len(seen - set(finished))
    for (acc, _), call in finished.items():
        result = service.ingest.ingest(acc, build_records(call))
        report.calls += 1
        report.records_created += result.created
        report.records_updated += result.updated
        report.records_unchanged += result.unchanged
    return report


def _chunked_session_events(conn: Any, account_id: int, session_ids: list[str]) -> list[bytes]:
    out: list[bytes] = []
    for start in range(0, len(session_ids), 500):
        out.extend(journal.session_events(conn, account_id, session_ids[start : start + 500]))
    return out


def _linked_session_events(
    conn: Any, account_id: int, session_ids: Sequence[str]
) -> list[tuple[int, bytes]]:
    """Events of the given sessions and of every session they link to (transitively)."""
    wanted = set(session_ids)
    done: set[str] = set()
    collected: list[bytes] = []
    while wanted - done:
        batch = sorted(wanted - done)
        done |= set(batch)
        for data in journal.session_events(conn, account_id, batch):
            collected.append(data)
            event = decode_journaled(data)
            if event.peer_session_id:
                wanted.add(event.peer_session_id)
    return [(account_id, data) for data in collected]
