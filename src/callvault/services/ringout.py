"""RingOut: place a two-legged call, report its progress, cancel it before it connects.

A telephony backend places the call; its progress arrives as call events like any other call's.
The status is read from that call: from the correlator while it is in progress (or lingering
after its end), then from its stored call-log record, through the one domain rule
(``domain.ringout``). Some time after the call ended (``status_ttl``) the RingOut is gone, as
on RingCentral.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from callvault.domain.calls import CallRecord
from callvault.domain.query import CallQuery
from callvault.domain.ringout import (
    CANCELLED,
    CONNECTING,
    NEVER_REPORTED,
    RingOutStatusInfo,
    after_cancel,
    record_end,
    ringout_legs,
    ringout_status,
)
from callvault.errors import Conflict, NotFound
from callvault.services.calls import CallService
from callvault.services.clock import Clock, now_ms, system_clock
from callvault.services.live import LiveCallService
from callvault.services.telephony.base import RingOutOrder, TelephonyBackend
from callvault.storage import ringouts as store
from callvault.storage.accounts import get_account, get_extension
from callvault.storage.codec import from_ms, to_ms
from callvault.storage.engine import Database
from callvault.storage.ringouts import RingOutRow

# A RingOut whose phone system has reported nothing this long after it was placed is
# considered never set up (its status says NoSessionFound).
SETUP_TIMEOUT = timedelta(minutes=2)


@dataclass(slots=True, frozen=True)
class RingOutRequest:
    """Numbers in E.164: ring ``from_number`` first, then ``to_number``."""

    from_number: str
    to_number: str
    caller_id: str | None = None
    play_prompt: bool = False
    country_id: str | None = None


@dataclass(slots=True, frozen=True)
class RingOut:
    row: RingOutRow
    status: RingOutStatusInfo


@dataclass(slots=True, frozen=True)
class _Seen:
    """What is known of a RingOut's call: its record (None before any event) and when the
    call ended (None while it goes on)."""

    record: CallRecord | None
    ended: datetime | None


class RingOutService:
    def __init__(
        self,
        db: Database,
        live: LiveCallService,
        calls: CallService,
        backend: TelephonyBackend,
        *,
        clock: Clock = system_clock,
        status_ttl: timedelta = timedelta(seconds=60),
        setup_timeout: timedelta = SETUP_TIMEOUT,
    ) -> None:
        self.db = db
        self.live = live
        self.calls = calls
        self.backend = backend
        self.clock = clock
        self.status_ttl = status_ttl
        self.setup_timeout = setup_timeout

    # -- the operations ------------------------------------------------------------------------

    def create(self, account_id: int, extension_id: int, request: RingOutRequest) -> RingOut:
        """Place a RingOut from the extension; returns it with its first status.

        Raises ``NotFound`` for an unknown extension, ``TelephonyUnavailable`` when the phone
        system could not place the call (nothing is kept then)."""
        with self.db.read() as conn:
            ext = get_extension(conn, extension_id)
            account = get_account(conn, account_id)
        if ext is None or account is None or ext.account_id != account_id:
            raise NotFound("no such extension", field="extensionId")
        row = self._insert(
            RingOutRow(
                id="",
                account_id=account_id,
                extension_id=extension_id,
                telephony_session_id=f"s-{secrets.token_hex(16)}",
                from_number=request.from_number,
                to_number=request.to_number,
                # The callee sees the requested caller ID, else the company number.
                caller_id=request.caller_id or account.main_number or request.from_number,
                created_ms=now_ms(self.clock),
            )
        )
        order = RingOutOrder(
            ringout_id=row.id,
            account_id=account_id,
            extension_id=extension_id,
            extension_number=ext.number,
            extension_name=ext.name,
            telephony_session_id=row.telephony_session_id,
            from_number=row.from_number,
            to_number=row.to_number,
            caller_id=row.caller_id or row.from_number,
            play_prompt=request.play_prompt,
            country_id=request.country_id,
        )
        try:
            session = self.backend.place_ringout(order)
        except Exception:
            with self.db.write() as conn:
                store.remove(conn, row.id)
            raise
        if session != row.telephony_session_id:
            with self.db.write() as conn:
                store.set_session(conn, row.id, session)
            row = dataclasses.replace(row, telephony_session_id=session)
        return RingOut(row, self._status(row, self._seen(row)))

    def status(self, account_id: int, extension_id: int, ringout_id: str) -> RingOut:
        """The RingOut's current status. Raises ``NotFound`` for an unknown RingOut, one of
        another extension, or one whose call ended more than ``status_ttl`` ago."""
        row = self._row(account_id, extension_id, ringout_id)
        return RingOut(row, self._status(row, self._seen(row)))

    def cancel(self, account_id: int, extension_id: int, ringout_id: str) -> None:
        """Hang up a RingOut that has not connected; nothing happens to one already over.

        Raises ``NotFound`` as ``status`` does, ``Conflict`` once the callee answered, and
        ``TelephonyUnavailable`` when the phone system could not be asked."""
        row = self._row(account_id, extension_id, ringout_id)
        seen = self._seen(row)
        self._status(row, seen)  # gone after the status window, as the status is
        if seen.ended is not None or row.cancelled_ms is not None:
            return
        if seen.record is not None:
            _, callee = ringout_legs(seen.record)
            if callee is not None and callee.cdr.answer_time is not None:
                raise Conflict("the RingOut is connected and can no longer be cancelled")
        self.backend.cancel(account_id, row.id, row.telephony_session_id)
        with self.db.write() as conn:
            store.mark_cancelled(conn, row.id, now_ms(self.clock))

    def close(self) -> None:
        self.backend.close()

    # -- reading a RingOut's call -------------------------------------------------------------

    def _insert(self, row: RingOutRow) -> RingOutRow:
        """Store the row under a fresh numeric id (12 digits, as RingCentral's are numbers)."""
        for _ in range(10):
            candidate = dataclasses.replace(row, id=str(secrets.randbelow(9 * 10**11) + 10**11))
            try:
                with self.db.write() as conn:
                    store.insert(conn, candidate)
            except IntegrityError:
                continue
            return candidate
        raise RuntimeError("no free RingOut id after 10 tries")

    def _row(self, account_id: int, extension_id: int, ringout_id: str) -> RingOutRow:
        row = None
        if ringout_id.isascii() and ringout_id.isdigit() and len(ringout_id) <= 20:
            with self.db.read() as conn:
                row = store.get(conn, account_id, ringout_id)
        if row is None or row.extension_id != extension_id:
            raise NotFound(f"no RingOut {ringout_id}", field="ringOutId")
        return row

    def _seen(self, row: RingOutRow) -> _Seen:
        if row.finished_ms is not None and self._expired(from_ms(row.finished_ms)):
            return _Seen(None, from_ms(row.finished_ms))  # gone: no need to look
        live = self.live.session_call(row.account_id, row.telephony_session_id)
        if live is not None:
            records, finished = live
            return _Seen(_pick(records, row.extension_id), finished)
        page = self.calls.list(
            CallQuery(
                account_id=row.account_id,
                telephony_session_id=row.telephony_session_id,
                show_deleted=True,
                with_legs=True,
                per_page=10,
            )
        )
        if page.items:
            record = _pick(page.items, row.extension_id)
            return _Seen(record, record_end(record))
        if row.cancelled_ms is not None:
            return _Seen(None, from_ms(row.cancelled_ms))
        unreported = from_ms(row.created_ms) + self.setup_timeout
        return _Seen(None, unreported if self.clock() >= unreported else None)

    def _expired(self, ended: datetime) -> bool:
        return self.clock() >= ended + self.status_ttl

    def _status(self, row: RingOutRow, seen: _Seen) -> RingOutStatusInfo:
        if seen.ended is not None:
            if self._expired(seen.ended):
                raise NotFound(f"no RingOut {row.id}", field="ringOutId")
            if row.finished_ms is None:
                with self.db.write() as conn:
                    store.mark_finished(conn, row.id, to_ms(seen.ended))
        if seen.record is None:
            if row.cancelled_ms is not None:
                return CANCELLED
            return NEVER_REPORTED if seen.ended is not None else CONNECTING
        status = ringout_status(seen.record)
        if row.cancelled_ms is None:
            return status
        return after_cancel(status, callee_rang=ringout_legs(seen.record)[1] is not None)


def _pick(records: list[CallRecord], extension_id: int) -> CallRecord:
    """The record of the RingOut's own extension, else any with RingOut legs."""
    for record in records:
        if record.extension_id == extension_id:
            return record
    return next((r for r in records if any(ringout_legs(r))), records[0])
