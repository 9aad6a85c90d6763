"""The sandbox telephony backend: RingOut calls simulated, nothing rings anywhere.

Each RingOut plays as the events a phone system sends (telephony events reference §5.8): the
user's own phone (``Initiator``) rings first, and once it answers the target (``Target``) is
rung; both parties are ``Inbound`` and the origin is ``RingOut``. How each phone answers is
chosen by number pattern (``+1555*=busy,+1666*=no-answer``; default: answers). The events go
through the real pipeline, journaled under the source ``sandbox`` with ids ``sandbox-…``.

Time: events are played on a background thread at the times a clock says, so tests can pass a
clock they move themselves (then ``wake`` and ``wait_idle``); ``speed`` compresses every delay.
"""

from __future__ import annotations

import fnmatch
import heapq
import itertools
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from callvault.domain.enums import Direction
from callvault.domain.events import CallEvent, CallOrigin, Endpoint, PartyStatus, RingOutRole
from callvault.errors import Conflict
from callvault.services.clock import Clock, system_clock
from callvault.services.telephony.base import EventSink, RingOutOrder

logger = logging.getLogger("callvault.telephony")

SOURCE = "sandbox"
# A worker waiting for the next event re-reads the clock at least this often (seconds), so a
# clock moved without ``wake`` is noticed soon.
_MAX_WAIT = 0.5


class Outcome(StrEnum):
    """What a simulated phone does when it rings."""

    ANSWER = "answer"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    REJECT = "reject"


_OUTCOME_SPELLINGS = {
    "answer": Outcome.ANSWER,
    "answered": Outcome.ANSWER,
    "busy": Outcome.BUSY,
    "noanswer": Outcome.NO_ANSWER,
    "reject": Outcome.REJECT,
    "rejected": Outcome.REJECT,
}

# How each outcome ends a party that did not answer (RingCentral's ``status.reason``).
_REASON = {
    Outcome.BUSY: "TargetBusy",
    Outcome.NO_ANSWER: "NoAnswer",
    Outcome.REJECT: "Rejected",
}


def parse_outcomes(spec: str) -> list[tuple[str, Outcome]]:
    """``"+1555*=busy, +1666*=no-answer"`` → [(pattern, outcome)], first match wins.

    Patterns are shell-style (``*``, ``?``, ``[…]``) over the E.164 number. Raises
    ``ValueError`` naming the bad entry."""
    rules: list[tuple[str, Outcome]] = []
    for entry in (part.strip() for part in spec.split(",")):
        if not entry:
            continue
        pattern, sep, word = entry.partition("=")
        key = "".join(ch for ch in word.lower() if ch.isalnum())
        if not sep or not pattern.strip() or key not in _OUTCOME_SPELLINGS:
            known = ", ".join(o.value for o in Outcome)
            raise ValueError(f"sandbox outcome {entry!r}: expected PATTERN=OUTCOME ({known})")
        rules.append((pattern.strip(), _OUTCOME_SPELLINGS[key]))
    return rules


@dataclass(slots=True, frozen=True)
class SandboxTimings:
    """Delays of a simulated call, in seconds of call time; ``speed`` divides them all."""

    answer_delay: float = 3.0  # a phone that answers (or is busy, or rejects) does so after
    no_answer_timeout: float = 30.0  # a phone nobody answers rings this long
    talk_time: float = 30.0  # an answered call lasts this long, then the callee hangs up
    bridge_delay: float = 0.5  # from the user answering to the target being rung
    hangup_gap: float = 0.2  # from one party leaving to the other being dropped
    speed: float = 1.0

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("sandbox speed must be positive")

    def of(self, seconds: float) -> timedelta:
        return timedelta(seconds=seconds / self.speed)


class _Scheduler:
    """Runs callbacks at clock times on one background thread (started on first use)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._cond = threading.Condition()
        self._heap: list[tuple[datetime, int, Callable[[datetime], None]]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._busy = False
        self._closed = False

    def at(self, when: datetime, task: Callable[[datetime], None]) -> None:
        """Run ``task(when)`` once the clock reaches ``when``."""
        with self._cond:
            if self._closed:
                return
            heapq.heappush(self._heap, (when, next(self._order), task))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="callvault-ringout-sandbox", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def _due(self) -> bool:
        return bool(self._heap) and self._heap[0][0] <= self.clock()

    def _next(self) -> tuple[datetime, Callable[[datetime], None]] | None:
        with self._cond:
            while not self._closed:
                if self._due():
                    when, _, task = heapq.heappop(self._heap)
                    self._busy = True
                    return when, task
                wait = _MAX_WAIT
                if self._heap:
                    wait = min(wait, (self._heap[0][0] - self.clock()).total_seconds())
                self._cond.wait(max(wait, 0.001))
            return None

    def _loop(self) -> None:
        while (item := self._next()) is not None:
            when, task = item
            try:
                task(when)
            except Exception:  # one broken call must not stop the others
                logger.exception("sandbox RingOut step failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is due at the clock's current time; False on timeout."""
        with self._cond:
            self._cond.notify_all()
            return self._cond.wait_for(lambda: not self._busy and not self._due(), timeout)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)


@dataclass(slots=True)
class _Party:
    id: str
    role: RingOutRole
    extension_id: int | None
    frm: Endpoint
    to: Endpoint
    status: PartyStatus | None = None

    @property
    def up(self) -> bool:
        return self.status is not None and not self.status.terminal

    @property
    def connected(self) -> bool:
        return self.status is PartyStatus.ANSWERED


@dataclass(slots=True)
class _Call:
    """One simulated RingOut: its session, parties and event counter. ``generation`` moves
    on cancel, so steps scheduled before it are dropped."""

    order: RingOutOrder
    session_id: str
    legacy_id: str
    initiator: _Party
    target: _Party
    sequence: int = 1  # the first event is 2, as in RingCentral's captures
    generation: int = 0
    parties: list[_Party] = field(default_factory=list)


class SandboxBackend:
    """Simulated RingOut calls; see the module docstring."""

    name = "sandbox"
    simulated = True

    def __init__(
        self,
        sink: EventSink,
        *,
        outcomes: str | list[tuple[str, Outcome]] = "",
        timings: SandboxTimings | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.sink = sink
        self.rules = parse_outcomes(outcomes) if isinstance(outcomes, str) else list(outcomes)
        self.timings = timings or SandboxTimings()
        self.clock = clock
        self._scheduler = _Scheduler(clock)
        self._lock = threading.RLock()
        self._calls: dict[str, _Call] = {}
        self._announced = False

    # -- the protocol ------------------------------------------------------------------------

    def place_ringout(self, order: RingOutOrder) -> str:
        if not self._announced:
            self._announced = True
            logger.warning(
                "RingOut uses the sandbox telephony backend: calls are simulated, no phone "
                "rings (set CALLVAULT_TELEPHONY_BACKEND=webhook to place real calls)"
            )
        session = order.telephony_session_id
        initiator = _Party(
            id=f"p-{_hex(session)}-1",
            role=RingOutRole.INITIATOR,
            extension_id=order.extension_id,
            # The user's own phone is rung showing the number they asked to call (§5.8).
            frm=Endpoint(phone_number=order.to_number),
            to=Endpoint(phone_number=order.from_number, name=order.extension_name),
        )
        target = _Party(
            id=f"p-{_hex(session)}-2",
            role=RingOutRole.TARGET,
            extension_id=None,
            frm=Endpoint(phone_number=order.caller_id, name=order.extension_name),
            to=Endpoint(phone_number=order.to_number),
        )
        call = _Call(order, session, str(secrets.randbelow(9 * 10**11) + 10**11), initiator, target)
        with self._lock:
            self._calls[session] = call
            now = self.clock()
            self._emit(call, initiator, PartyStatus.PROCEEDING, now)
            self._ring(call, initiator, now, on_answer=self._dial_target)
        return session

    def cancel(self, account_id: int, ringout_id: str, telephony_session_id: str) -> None:
        with self._lock:
            call = self._calls.get(telephony_session_id)
            if call is None or not any(p.up for p in call.parties):
                return  # over already: nothing left to hang up
            if call.target.connected:
                raise Conflict("the RingOut is connected and can no longer be cancelled")
            call.generation += 1
            now = self.clock()
            # Whoever is still ringing is dropped by the cancel; a user who already answered
            # simply hears the call end.
            for party in (call.target, call.initiator):
                if party.up:
                    reason = None if party.connected else "CallDropped"
                    self._emit(call, party, PartyStatus.DISCONNECTED, now, reason)
            self._calls.pop(telephony_session_id, None)

    def close(self) -> None:
        self._scheduler.close()

    # -- for tests driving the clock ---------------------------------------------------------

    def wake(self) -> None:
        """Tell the worker the clock moved."""
        self._scheduler.wake()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Play every step due by the clock's current time; False if that took too long."""
        return self._scheduler.wait_idle(timeout)

    # -- the call flow -----------------------------------------------------------------------

    def outcome(self, number: str) -> Outcome:
        """What the phone behind ``number`` does when it rings."""
        for pattern, outcome in self.rules:
            if fnmatch.fnmatchcase(number, pattern):
                return outcome
        return Outcome.ANSWER

    def _later(self, call: _Call, at: datetime, step: Callable[[datetime], None]) -> None:
        generation = call.generation

        def run(when: datetime) -> None:
            with self._lock:
                if call.generation == generation and call.session_id in self._calls:
                    step(when)

        self._scheduler.at(at, run)

    def _ring(
        self,
        call: _Call,
        party: _Party,
        start: datetime,
        on_answer: Callable[[_Call, datetime], None],
    ) -> None:
        """``party`` is ringing from ``start``: schedule how it answers or fails."""
        t = self.timings
        outcome = self.outcome(party.to.phone_number or "")
        if outcome is Outcome.ANSWER:

            def answer(when: datetime) -> None:
                self._emit(call, party, PartyStatus.ANSWERED, when)
                on_answer(call, when)

            self._later(call, start + t.of(t.answer_delay), answer)
            return
        delay = t.no_answer_timeout if outcome is Outcome.NO_ANSWER else t.answer_delay

        def fail(when: datetime) -> None:
            self._emit(call, party, PartyStatus.DISCONNECTED, when, _REASON[outcome])
            self._drop_rest(call, when + t.of(t.hangup_gap))

        self._later(call, start + t.of(delay), fail)

    def _dial_target(self, call: _Call, answered: datetime) -> None:
        t = self.timings

        def dial(when: datetime) -> None:
            self._emit(call, call.target, PartyStatus.PROCEEDING, when)
            self._ring(call, call.target, when, on_answer=self._converse)

        self._later(call, answered + t.of(t.bridge_delay), dial)

    def _converse(self, call: _Call, answered: datetime) -> None:
        t = self.timings

        def hang_up(when: datetime) -> None:
            self._emit(call, call.target, PartyStatus.DISCONNECTED, when)
            self._drop_rest(call, when + t.of(t.hangup_gap))

        self._later(call, answered + t.of(t.talk_time), hang_up)

    def _drop_rest(self, call: _Call, at: datetime) -> None:
        """One party left: the phone system drops the others shortly after."""

        def drop(when: datetime) -> None:
            for party in call.parties:
                if party.up:
                    self._emit(call, party, PartyStatus.DISCONNECTED, when)
            self._calls.pop(call.session_id, None)

        self._later(call, at, drop)

    def _emit(
        self,
        call: _Call,
        party: _Party,
        status: PartyStatus,
        at: datetime,
        reason: str | None = None,
    ) -> None:
        at = at.replace(microsecond=at.microsecond // 1000 * 1000)
        if party not in call.parties:
            call.parties.append(party)
        call.sequence += 1
        party.status = status
        event = CallEvent(
            event_id=f"sandbox-{_hex(call.session_id)}-{call.sequence}",
            session_id=call.session_id,
            legacy_session_id=call.legacy_id,
            sequence=call.sequence,
            time=at,
            origin=CallOrigin.RINGOUT,
            party_id=party.id,
            direction=Direction.INBOUND,  # the platform calls out to both (§5.8)
            status=status,
            reason=reason,
            extension_id=party.extension_id,
            from_endpoint=party.frm,
            to_endpoint=party.to,
            ring_out_role=party.role,
        )
        self.sink(call.order.account_id, [event])


def _hex(session_id: str) -> str:
    return session_id[2:] if session_id.startswith("s-") else session_id
