"""The escalation engine: an inbound call to a routing number, rung through its policy's rules.

Provider-agnostic: an adapter (the Twilio webhooks, the sandbox) reports what happened — a
call arrived, an attempt rang, was answered, ended; the caller hung up — and gets back what to
do next (dial a number for so long, or say a message and hang up). Each call is one
``incoming_call_logs`` row and each dial attempt one ``incoming_call_log_items`` row; every
status, who answered, durations and costs are written as they become known.

Each step also becomes canonical call events (session ``icl-<log id>``: the caller's party and
one party per attempt, owned by the user dialled) through ``LiveCallService.accept``, so the
correlator files the call in the call log with every attempt as a leg. Events go out after the
engine's transaction commits. A provider retrying a webhook gets the same answer again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection

from callvault.domain.enums import Direction
from callvault.domain.escalation import (
    DEFAULT_ESCALATE_AFTER,
    DEFAULT_NO_ANSWER,
    DISABLED_MESSAGE,
    DISABLED_SAY,
    FALLBACK_NO_ONE_AVAILABLE,
    FINAL_LOG_STATUSES,
    NEXT_ENGINEER_SAY,
    NO_ONE_AVAILABLE_MESSAGE,
    Dial,
    DialStatus,
    Finish,
    IncomingCallStatus,
    PolicyPlan,
    attempt_status,
    billed_cents,
    first_step,
    step_after,
)
from callvault.domain.events import CallEvent, Endpoint, PartyStatus
from callvault.errors import NotFound
from callvault.services.clock import Clock, system_clock
from callvault.services.live import LiveCallService
from callvault.services.policies import PolicyService, normalise_phone
from callvault.storage import incoming_calls as store
from callvault.storage import policies as policy_rows
from callvault.storage.accounts import get_extension
from callvault.storage.codec import from_ms, to_ms
from callvault.storage.engine import Database
from callvault.storage.incoming_calls import AttemptRow, CallLogRow

S = IncomingCallStatus

CALLER_HUNG_UP_MESSAGE = "Caller hung up before anyone answered"

# How an attempt's party leaves the call, in the reasons the correlator reads (telephony
# events reference §6.1): a busy line, no answer, a number that does not work, the caller
# cancelling while it rang.
_END_REASON: dict[str, str | None] = {
    S.CONNECTED: None,
    S.BUSY: "TargetBusy",
    S.NO_ANSWER: "NoAnswer",
    S.FAILED: "InvalidNumber",
    S.CALLER_HUNG_UP: "Cancelled",
}
# Statuses in a party's order, so events of one millisecond still sort right.
_RANK = {
    PartyStatus.SETUP: 0,
    PartyStatus.PROCEEDING: 1,
    PartyStatus.ANSWERED: 2,
    PartyStatus.DISCONNECTED: 3,
}


class Provider(StrEnum):
    TWILIO = "twilio"
    SANDBOX = "sandbox"


@dataclass(slots=True, frozen=True)
class DialInstruction:
    """Say ``say`` (if any), then ring ``number`` for ``timeout`` seconds showing
    ``caller_id``; report the attempt as item ``item_id`` of log ``log_id``."""

    log_id: str
    item_id: str
    number: str
    timeout: int
    caller_id: str | None
    say: str | None


@dataclass(slots=True, frozen=True)
class HangupInstruction:
    """Say ``say`` (if any) and end the call."""

    log_id: str
    say: str | None


Instruction = DialInstruction | HangupInstruction


@dataclass(slots=True, frozen=True)
class Rates:
    """What calls cost, in US cents per started minute: the inbound call to the routing
    number for its whole length, and each answered dial attempt for its talk time."""

    inbound_cents_per_minute: float = 0.0
    outbound_cents_per_minute: float = 0.0


def session_id(log_id: str) -> str:
    """The telephony session id the call's records carry in the call log."""
    return f"icl-{log_id}"


@dataclass(slots=True)
class _Events:
    """Canonical events of one engine step, sent after the step's transaction commits.

    Every event carries both endpoints: the correlator reads a party's numbers and names
    from its latest event that has them.
    """

    conn: Connection
    log: CallLogRow
    out: list[CallEvent] = field(default_factory=list)
    _names: dict[int, str | None] = field(default_factory=dict)
    _policy_name: str | None = None

    def _add(
        self,
        party: str,
        direction: Direction,
        status: PartyStatus,
        at_ms: int,
        *,
        extension_id: int | None = None,
        to: Endpoint,
        reason: str | None = None,
    ) -> None:
        # Sequence: time first; at one millisecond the caller's party before the attempts'.
        offset = max(0, at_ms - self.log.started_ms)
        rank = _RANK[status] + (0 if party == "caller" else 4)
        self.out.append(
            CallEvent(
                event_id=f"{self.log.id}:{party}:{status.value}",
                session_id=session_id(self.log.id),
                sequence=offset * 8 + rank,
                time=from_ms(at_ms),
                party_id=f"{self.log.id}:{party}",
                direction=direction,
                status=status,
                reason=reason,
                extension_id=extension_id,
                from_endpoint=self._caller_endpoint(),
                to_endpoint=to,
            )
        )

    def _caller_endpoint(self) -> Endpoint:
        number = self.log.caller_number
        return Endpoint(phone_number=number, name=None if number else "Anonymous")

    def caller(self, status: PartyStatus, at_ms: int) -> None:
        """The caller's party: the calling side (``Outbound``), coming in from the PSTN to
        the routing number (named after the policy)."""
        if self._policy_name is None:
            policy = policy_rows.get_policy(self.conn, self.log.account_id, self.log.policy_id)
            self._policy_name = policy.name if policy else ""
        to = Endpoint(phone_number=self.log.routing_number, name=self._policy_name or None)
        self._add("caller", Direction.OUTBOUND, status, at_ms, to=to)

    def attempt(
        self, item: AttemptRow, status: PartyStatus, at_ms: int, *, reason: str | None = None
    ) -> None:
        """A dial attempt's party: the user's, ringing their outside number (a FindMe leg)."""
        ext = item.extension_id
        if ext is not None and ext not in self._names:
            found = get_extension(self.conn, ext)
            self._names[ext] = found.name if found else None
        name = self._names.get(ext) if ext is not None else None
        to = Endpoint(phone_number=item.user_phone_number, name=name)
        self._add(
            f"attempt-{item.attempt}",
            Direction.INBOUND,
            status,
            at_ms,
            extension_id=ext,
            to=to,
            reason=reason,
        )

    def send(self, live: LiveCallService) -> None:
        if self.out:
            live.accept(self.log.account_id, self.out, source=self.log.provider)


class EscalationService:
    def __init__(
        self,
        db: Database,
        policies: PolicyService,
        live: LiveCallService,
        rates: Rates | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.db = db
        self.policies = policies
        self.live = live
        self.rates = rates or Rates()
        self.clock = clock

    def _ms(self, at: datetime | None) -> int:
        return to_ms(at or self.clock())

    # -- what adapters report ---------------------------------------------------------------

    def incoming_call(
        self,
        *,
        provider: Provider,
        routing_number: str,
        caller_number: str | None,
        provider_call_id: str | None,
        at: datetime | None = None,
    ) -> tuple[CallLogRow, Instruction]:
        """A call reached ``routing_number``: log it and decide the first step. A call the
        provider already reported (same call id) gets its current step again. Raises
        NotFound when no policy owns the number."""
        policy = self.policies.policy_for_number(routing_number)
        if policy is None:
            raise NotFound(f"no policy routes {routing_number}", field="To")
        number = normalise_phone(routing_number, "To")
        at_ms = self._ms(at)
        with self.db.write() as conn:
            if provider_call_id:
                known = store.log_by_provider_call(conn, provider.value, provider_call_id)
                if known is not None:
                    return known, self._replay(conn, known)
            plan = self.policies.plan(conn, policy.account_id, policy.id)
            assert plan is not None
            step = first_step(plan, self.policies.resolver(conn, policy.account_id, plan))
            log = CallLogRow(
                id=str(uuid.uuid4()),
                account_id=policy.account_id,
                policy_id=policy.id,
                provider=provider.value,
                caller_number=caller_number,
                routing_number=number,
                provider_call_id=provider_call_id,
                status=S.INITIATED,
                status_message=None,
                duration_s=0,
                cost_cents=0,
                incoming_cost_cents=0,
                outgoing_cost_cents=0,
                started_ms=at_ms,
                ended_ms=None,
                answered_by_extension_id=None,
                current_rule_order=1,
                repeat_count=0,
                created_ms=at_ms,
                updated_ms=at_ms,
            )
            store.insert_log(conn, log)
            events = _Events(conn, log)
            events.caller(PartyStatus.SETUP, at_ms)
            # The provider answers the call to play the greeting: the system, not a person.
            events.caller(PartyStatus.ANSWERED, at_ms)
            if isinstance(step, Finish):
                instruction: Instruction = self._finish(conn, log, step, at_ms, events)
            else:
                instruction = self._dial(conn, log, step, 1, at_ms, events)
            saved = store.get_log(conn, log.id)
        events.send(self.live)
        assert saved is not None
        return saved, instruction

    def attempt_ringing(
        self,
        log_id: str,
        item_id: str,
        *,
        provider_leg_id: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """The dialled phone rings."""
        at_ms = self._ms(at)
        with self.db.write() as conn:
            log, item = self._open_attempt(conn, log_id, item_id)
            if item is None:
                return
            store.update_item(
                conn, item.id, {"provider_leg_id": provider_leg_id or item.provider_leg_id}
            )
            events = _Events(conn, log)
            events.attempt(item, PartyStatus.PROCEEDING, at_ms)
        events.send(self.live)

    def attempt_answered(
        self,
        log_id: str,
        item_id: str,
        *,
        provider_leg_id: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """The dialled user picked up: the log is Connected and names who answered."""
        at_ms = self._ms(at)
        with self.db.write() as conn:
            log, item = self._open_attempt(conn, log_id, item_id)
            if item is None or item.answered_ms is not None:
                return
            store.update_item(
                conn,
                item.id,
                {
                    "status": S.CONNECTED,
                    "answered_ms": at_ms,
                    "is_answered": True,
                    "provider_leg_id": provider_leg_id or item.provider_leg_id,
                    "updated_ms": at_ms,
                },
            )
            store.update_log(
                conn,
                log.id,
                {
                    "status": S.CONNECTED,
                    "answered_by_extension_id": item.extension_id,
                    "updated_ms": at_ms,
                },
            )
            events = _Events(conn, log)
            events.attempt(item, PartyStatus.ANSWERED, at_ms)
        events.send(self.live)

    def attempt_ended(
        self,
        log_id: str,
        item_id: str,
        *,
        dial_status: DialStatus,
        dial_duration: int | None = None,
        caller_gone: bool = False,
        at: datetime | None = None,
    ) -> Instruction:
        """An attempt is over (for Twilio: the Dial ``action``). Answered: the call is
        complete. Otherwise the next rule, a repeat, or the no-answer message; nothing more
        when the caller has gone. ``dial_duration`` is the talk time in seconds."""
        at_ms = self._ms(at)
        with self.db.write() as conn:
            log = self._log(conn, log_id)
            item = next((i for i in store.items_of(conn, log_id) if i.id == item_id), None)
            if item is None:
                raise NotFound(f"attempt {item_id} does not exist", field="itemId")
            events = _Events(conn, log)
            if item.ended_ms is not None or log.status in FINAL_LOG_STATUSES:
                instruction = self._replay(conn, log)
            else:
                instruction = self._end_attempt(
                    conn, log, item, dial_status, dial_duration, caller_gone, at_ms, events
                )
        events.send(self.live)
        return instruction

    def call_ended(
        self, log_id: str, *, call_duration: int | None = None, at: datetime | None = None
    ) -> None:
        """The inbound call itself ended (the provider's status callback). Before anyone
        answered, the caller hung up: the ringing attempt and the log say so. ``call_duration``
        is the provider's length of the call in seconds, when it tells."""
        at_ms = self._ms(at)
        with self.db.write() as conn:
            log = self._log(conn, log_id)
            events = _Events(conn, log)
            if log.status in FINAL_LOG_STATUSES:
                if call_duration is not None and call_duration != log.duration_s:
                    self._settle_costs(conn, log, call_duration, at_ms)
            else:
                open_items = [i for i in store.items_of(conn, log_id) if i.ended_ms is None]
                if open_items:
                    item = open_items[-1]
                    answered = item.answered_ms is not None
                    self._end_attempt(
                        conn,
                        log,
                        item,
                        DialStatus.COMPLETED if answered else DialStatus.CANCELED,
                        None,
                        True,
                        at_ms,
                        events,
                        call_duration,
                    )
                else:
                    hung_up = Finish(S.CALLER_HUNG_UP, CALLER_HUNG_UP_MESSAGE, None)
                    self._finish(conn, log, hung_up, at_ms, events, call_duration)
        events.send(self.live)

    # -- reading ----------------------------------------------------------------------------

    def log(self, log_id: str) -> CallLogRow:
        with self.db.read() as conn:
            found = store.get_log(conn, log_id)
        if found is None:
            raise NotFound(f"call log {log_id} does not exist", field="logId")
        return found

    def log_for_provider_call(self, provider: Provider, call_id: str) -> CallLogRow | None:
        with self.db.read() as conn:
            return store.log_by_provider_call(conn, provider.value, call_id)

    def attempts(self, log_id: str) -> list[AttemptRow]:
        with self.db.read() as conn:
            return store.items_of(conn, log_id)

    # -- steps ------------------------------------------------------------------------------

    def _log(self, conn: Connection, log_id: str) -> CallLogRow:
        log = store.get_log(conn, log_id, lock=True)
        if log is None:
            raise NotFound(f"call log {log_id} does not exist", field="logId")
        return log

    def _open_attempt(
        self, conn: Connection, log_id: str, item_id: str
    ) -> tuple[CallLogRow, AttemptRow | None]:
        """The log and the attempt, if that attempt is still going on."""
        log = self._log(conn, log_id)
        item = next((i for i in store.items_of(conn, log_id) if i.id == item_id), None)
        if item is None:
            raise NotFound(f"attempt {item_id} does not exist", field="itemId")
        if item.ended_ms is not None or log.status in FINAL_LOG_STATUSES:
            return log, None
        return log, item

    def _dial(
        self,
        conn: Connection,
        log: CallLogRow,
        step: Dial,
        attempt: int,
        at_ms: int,
        events: _Events,
    ) -> DialInstruction:
        item = AttemptRow(
            id=str(uuid.uuid4()),
            account_id=log.account_id,
            log_id=log.id,
            attempt=attempt,
            rule_id=step.rule.id,
            extension_id=step.target.extension_id,
            user_phone_number=step.target.phone_number,
            status=S.RINGING,
            status_message=None,
            dial_duration_s=0,
            cost_cents=0,
            started_ms=at_ms,
            answered_ms=None,
            ended_ms=None,
            is_answered=False,
            provider_leg_id=None,
            created_ms=at_ms,
            updated_ms=at_ms,
        )
        store.insert_item(conn, item)
        store.update_log(
            conn,
            log.id,
            {
                "status": step.log_status,
                "current_rule_order": step.rule.order,
                "repeat_count": step.repeat_count,
                "updated_ms": at_ms,
            },
        )
        events.attempt(item, PartyStatus.SETUP, at_ms)
        return DialInstruction(
            log.id,
            item.id,
            item.user_phone_number or "",
            step.timeout,
            log.routing_number,
            step.say,
        )

    def _end_attempt(
        self,
        conn: Connection,
        log: CallLogRow,
        item: AttemptRow,
        dial: DialStatus,
        dial_duration: int | None,
        caller_gone: bool,
        at_ms: int,
        events: _Events,
        call_duration: int | None = None,
    ) -> Instruction:
        answered = dial is DialStatus.COMPLETED
        status = attempt_status(dial, caller_gone)
        answered_ms = item.answered_ms
        if answered and answered_ms is None:
            # Twilio tells the answer only through the attempt's own status callbacks; without
            # them the talk time counts back from the end.
            answered_ms = max(item.started_ms or at_ms, at_ms - (dial_duration or 0) * 1000)
            events.attempt(item, PartyStatus.ANSWERED, answered_ms)
        talk = 0
        if answered and answered_ms is not None:
            talk = dial_duration if dial_duration is not None else (at_ms - answered_ms) // 1000
        store.update_item(
            conn,
            item.id,
            {
                "status": status,
                "status_message": dial.value,
                "dial_duration_s": talk,
                "cost_cents": billed_cents(talk, self.rates.outbound_cents_per_minute),
                "answered_ms": answered_ms,
                "ended_ms": at_ms,
                "is_answered": answered,
                "updated_ms": at_ms,
            },
        )
        events.attempt(item, PartyStatus.DISCONNECTED, at_ms, reason=_END_REASON[status])
        if answered:
            done = Finish(S.COMPLETED, None, None)
            return self._finish(conn, log, done, at_ms, events, call_duration, item.extension_id)
        if caller_gone:
            hung_up = Finish(S.CALLER_HUNG_UP, CALLER_HUNG_UP_MESSAGE, None)
            return self._finish(conn, log, hung_up, at_ms, events, call_duration)
        plan = self.policies.plan(conn, log.account_id, log.policy_id)
        if plan is None:  # the policy was deleted while the call rang
            gone = Finish(S.NO_ANSWER, None, DEFAULT_NO_ANSWER)
            return self._finish(conn, log, gone, at_ms, events)
        resolve = self.policies.resolver(conn, log.account_id, plan)
        current = store.get_log(conn, log.id) or log
        step = step_after(plan, current.current_rule_order, current.repeat_count, resolve)
        if isinstance(step, Dial):
            return self._dial(conn, log, step, item.attempt + 1, at_ms, events)
        return self._finish(conn, log, step, at_ms, events)

    def _finish(
        self,
        conn: Connection,
        log: CallLogRow,
        step: Finish,
        at_ms: int,
        events: _Events,
        call_duration: int | None = None,
        answered_by: int | None = None,
    ) -> HangupInstruction:
        message = step.message
        if step.status is S.NO_ANSWER and message is None:
            tried = len(store.items_of(conn, log.id))
            message = f"Nobody answered ({tried} attempt{'s' if tried != 1 else ''})"
        values: dict[str, object] = {
            "status": step.status,
            "status_message": message,
            "ended_ms": at_ms,
            "updated_ms": at_ms,
        }
        if answered_by is not None:
            values["answered_by_extension_id"] = answered_by
        store.update_log(conn, log.id, values)
        duration = call_duration if call_duration is not None else (at_ms - log.started_ms) // 1000
        self._settle_costs(conn, log, duration, at_ms)
        events.caller(PartyStatus.DISCONNECTED, at_ms)
        return HangupInstruction(log.id, step.say)

    def _settle_costs(self, conn: Connection, log: CallLogRow, duration: int, at_ms: int) -> None:
        outgoing = sum(i.cost_cents for i in store.items_of(conn, log.id))
        incoming = billed_cents(duration, self.rates.inbound_cents_per_minute)
        store.update_log(
            conn,
            log.id,
            {
                "duration_s": max(0, duration),
                "incoming_cost_cents": incoming,
                "outgoing_cost_cents": outgoing,
                "cost_cents": incoming + outgoing,
                # A late status callback settles a finished log again: an update like any other.
                "updated_ms": at_ms,
            },
        )

    def _replay(self, conn: Connection, log: CallLogRow) -> Instruction:
        """The current step again, for a provider repeating a webhook."""
        plan = self.policies.plan(conn, log.account_id, log.policy_id)
        if log.status in FINAL_LOG_STATUSES:
            return HangupInstruction(log.id, _final_say(log, plan))
        open_items = [i for i in store.items_of(conn, log.id) if i.ended_ms is None]
        if not open_items:
            return HangupInstruction(log.id, None)
        item = open_items[-1]
        rules = {r.id: r for r in plan.rules} if plan else {}
        rule = rules.get(item.rule_id or "")
        timeout = rule.escalate_after_seconds if rule else DEFAULT_ESCALATE_AFTER
        say = (plan.greeting if plan else None) if item.attempt == 1 else NEXT_ENGINEER_SAY
        return DialInstruction(
            log.id, item.id, item.user_phone_number or "", timeout, log.routing_number, say or None
        )


def _final_say(log: CallLogRow, plan: PolicyPlan | None) -> str | None:
    if log.status == S.FAILED and log.status_message == DISABLED_MESSAGE:
        return DISABLED_SAY
    if log.status == S.FAILED and log.status_message == NO_ONE_AVAILABLE_MESSAGE:
        return (plan.no_one_available_message if plan else None) or FALLBACK_NO_ONE_AVAILABLE
    if log.status == S.NO_ANSWER:
        return (plan.no_answer_message if plan else None) or DEFAULT_NO_ANSWER
    return None
