"""The correlator: feed events in, get calls out.

``feed`` groups an event with the call it belongs to (merging calls when an event links them),
and reports the call as updated or, once every party has left, finished. ``expire(now)``
finishes calls that went quiet (a lost hangup) and forgets finished calls after their linger.
A late event for a finished call that is still lingering re-opens it, so its records are
rebuilt with the late fact in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from callvault.correlator.calls import LiveCall, correlation_keys
from callvault.domain.events import CallEvent


class ChangeKind(StrEnum):
    UPDATED = "updated"
    FINISHED = "finished"


@dataclass(slots=True, frozen=True)
class CallChange:
    kind: ChangeKind
    call: LiveCall


class Correlator:
    """Per-account state lives in one instance; it holds only calls not yet forgotten."""

    def __init__(
        self,
        *,
        linger: timedelta = timedelta(seconds=120),
        idle_timeout: timedelta = timedelta(hours=4),
    ) -> None:
        self.linger = linger
        self.idle_timeout = idle_timeout
        # Both by account: ids are only unique within one account's sources.
        self._by_key: dict[tuple[int, str], LiveCall] = {}
        self._calls: dict[tuple[int, str], LiveCall] = {}

    # -- feeding ---------------------------------------------------------------------------

    def feed(self, account_id: int, event: CallEvent) -> CallChange | None:
        """Apply one event; returns what changed, or None for a duplicate."""
        call = self._call_for(account_id, event)
        if not call.add(event):
            return None
        was_finished = call.finished_at is not None
        # A non-terminal event that is now its party's latest means that party is still on
        # the call: no need to look at the others (most events of a call are like that).
        still_on = not event.status.terminal and call.latest(event) is event
        if not still_on and call.all_ended():
            call.finished_at = call.last_time
            call.swept = False
            return CallChange(ChangeKind.FINISHED, call)
        if was_finished:
            # A late non-terminal event re-opened it: live again, no longer swept (the
            # sweeper will close it again if it goes quiet).
            call.finished_at = None
            call.swept = False
        return CallChange(ChangeKind.UPDATED, call)

    def _call_for(self, account_id: int, event: CallEvent) -> LiveCall:
        keys = correlation_keys(event)
        by_key = self._by_key
        found: list[LiveCall] = []
        for key in keys:
            call = by_key.get((account_id, key))
            if call is not None and call not in found:
                found.append(call)
        if len(found) == 1:
            # The common case: an event of a call already known, usually under every key.
            call = found[0]
        elif not found:
            call = LiveCall(call_id=event.session_id, account_id=account_id)
            self._calls[(account_id, call.call_id)] = call
        else:
            # The oldest call survives, so a call keeps the id dashboards already know.
            found.sort(key=lambda c: (c.first_time or event.time, c.call_id))
            call = found[0]
            for other in found[1:]:
                call.absorb(other)
                self._calls.pop((account_id, other.call_id), None)
                for key in other.keys:
                    by_key[(account_id, key)] = call
        for key in keys:
            if key not in call.keys:
                call.keys.add(key)
                by_key[(account_id, key)] = call
        return call

    # -- time ------------------------------------------------------------------------------

    def expire(self, now: datetime) -> list[CallChange]:
        """Finish calls silent for ``idle_timeout`` (marked ``swept``) and forget finished
        calls whose linger has passed. Returns the calls finished by this sweep."""
        swept: list[CallChange] = []
        for call in list(self._calls.values()):
            if call.finished_at is not None:
                if call.finished_at + self.linger <= now:
                    self._forget(call)
                continue
            if call.last_time is not None and call.last_time + self.idle_timeout <= now:
                call.swept = True
                call.finished_at = now
                swept.append(CallChange(ChangeKind.FINISHED, call))
        return swept

    def _forget(self, call: LiveCall) -> None:
        self._calls.pop((call.account_id, call.call_id), None)
        for key in call.keys:
            self._by_key.pop((call.account_id, key), None)

    # -- reading ---------------------------------------------------------------------------

    def calls(self, account_id: int) -> list[LiveCall]:
        """Calls in progress or lingering after their end, newest first."""
        found = [c for c in self._calls.values() if c.account_id == account_id]
        found.sort(key=lambda c: c.first_time or datetime.min, reverse=True)
        return found

    def knows(self, account_id: int, session_id: str) -> bool:
        return (account_id, f"s:{session_id}") in self._by_key

    def __len__(self) -> int:
        return len(self._calls)
