"""The sandbox provider: simulated inbound calls run through the escalation engine.

Nothing is dialled and no provider is involved. A call follows a script: what each user's phone
does when rung (answer after some seconds and talk, be busy, not answer, fail), when the caller
hangs up, and how long the greeting takes. The engine is driven exactly as the Twilio webhooks
drive it, on a virtual clock starting at ``start``; logs and call records come out as from a
real call, with ``provider`` "sandbox".
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from callvault.domain.escalation import DialStatus
from callvault.errors import InvalidInput
from callvault.services.accounts import AccountService
from callvault.services.clock import Clock, system_clock
from callvault.services.escalation import (
    DialInstruction,
    EscalationService,
    Instruction,
    Provider,
)
from callvault.services.policies import normalise_phone
from callvault.storage.incoming_calls import AttemptRow, CallLogRow


class SandboxAction(StrEnum):
    ANSWER = "answer"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAIL = "fail"


_DIAL_STATUS = {
    SandboxAction.BUSY: DialStatus.BUSY,
    SandboxAction.NO_ANSWER: DialStatus.NO_ANSWER,
    SandboxAction.FAIL: DialStatus.FAILED,
}


@dataclass(slots=True, frozen=True)
class SandboxOutcome:
    """What a phone does when rung: ``after`` seconds of ringing before it answers (then
    ``talk`` seconds of conversation), reports busy, or fails; no-answer rings out."""

    action: SandboxAction
    after: float = 5.0
    talk: float = 60.0


NO_ANSWER = SandboxOutcome(SandboxAction.NO_ANSWER)


def parse_outcome(text: str, field: str = "outcome") -> SandboxOutcome:
    """``answer``, ``answer:AFTER``, ``answer:AFTER:TALK``, ``busy[:AFTER]``,
    ``no-answer``, ``fail[:AFTER]`` (seconds)."""
    name, *numbers = [p.strip() for p in text.strip().lower().split(":")]
    try:
        action = SandboxAction(name.replace("_", "-"))
    except ValueError:
        choices = ", ".join(a.value for a in SandboxAction)
        raise InvalidInput(f"{text!r} is not one of {choices}", field=field) from None
    try:
        values = [float(n) for n in numbers]
    except ValueError:
        raise InvalidInput(f"{text!r}: seconds must be numbers", field=field) from None
    if len(values) > 2 or any(v < 0 for v in values):
        raise InvalidInput(f"{text!r}: at most two non-negative numbers", field=field)
    defaults = {SandboxAction.BUSY: 2.0, SandboxAction.FAIL: 1.0}
    after = values[0] if values else defaults.get(action, 5.0)
    talk = values[1] if len(values) > 1 else 60.0
    return SandboxOutcome(action, after, talk)


@dataclass(slots=True)
class SandboxScript:
    """``outcomes`` by user — extension number, extension id or the dialled phone number —
    each a list used in turn as the user is rung again (the last one repeats)."""

    outcomes: Mapping[str, Sequence[SandboxOutcome]] = field(default_factory=dict)
    default: SandboxOutcome = NO_ANSWER
    caller_hangs_up_after: float | None = None
    greeting_seconds: float = 4.0
    say_seconds: float = 2.0


@dataclass(slots=True)
class SandboxResult:
    log: CallLogRow
    attempts: list[AttemptRow]


class EscalationSandbox:
    def __init__(
        self,
        escalation: EscalationService,
        accounts: AccountService,
        clock: Clock = system_clock,
    ) -> None:
        self.escalation = escalation
        self.accounts = accounts
        self.clock = clock

    def call(
        self,
        *,
        to: str,
        caller: str | None,
        script: SandboxScript,
        start: datetime | None = None,
    ) -> SandboxResult:
        """Run one simulated call to routing number ``to`` from ``caller``; returns the log
        and its attempts. Raises NotFound when no policy routes ``to``."""
        esc = self.escalation
        t = start or self.clock()
        try:
            caller_number: str | None = normalise_phone(caller or "", "from")
        except InvalidInput:
            caller_number = None  # withheld, anonymous
        log, step = esc.incoming_call(
            provider=Provider.SANDBOX,
            routing_number=to,
            caller_number=caller_number,
            provider_call_id=f"SB{uuid.uuid4().hex}",
            at=t,
        )
        hangup = (
            t + timedelta(seconds=script.caller_hangs_up_after)
            if script.caller_hangs_up_after is not None
            else None
        )
        rung: dict[str, int] = {}
        first = True
        while isinstance(step, DialInstruction):
            speech = script.greeting_seconds if first else script.say_seconds
            dial_at = t + timedelta(seconds=speech if step.say else 0)
            outcome = self._outcome(log.account_id, step, script, rung)
            step, t = self._attempt(step, outcome, dial_at, hangup)
            first = False
        if esc.log(log.id).ended_ms is None:  # the caller left with no attempt going on
            esc.call_ended(log.id, at=t)
        return SandboxResult(esc.log(log.id), esc.attempts(log.id))

    def _attempt(
        self,
        step: DialInstruction,
        outcome: SandboxOutcome,
        dial_at: datetime,
        hangup: datetime | None,
    ) -> tuple[Instruction, datetime]:
        """Play one attempt; returns the engine's next instruction and the time it came."""
        esc = self.escalation
        log_id, item_id = step.log_id, step.item_id
        rings = outcome.action in (SandboxAction.ANSWER, SandboxAction.NO_ANSWER)
        ring_at = dial_at + timedelta(seconds=1)
        answer_at: datetime | None = None
        if outcome.action is SandboxAction.ANSWER and outcome.after < step.timeout:
            answer_at = dial_at + timedelta(seconds=outcome.after)
            end = answer_at + timedelta(seconds=outcome.talk)
        elif outcome.action in (SandboxAction.BUSY, SandboxAction.FAIL):
            end = dial_at + timedelta(seconds=min(outcome.after, step.timeout))
        else:
            end = dial_at + timedelta(seconds=step.timeout)
        if hangup is not None and hangup < (answer_at or end):
            if rings and ring_at < hangup:
                esc.attempt_ringing(log_id, item_id, at=ring_at)
            done = esc.attempt_ended(
                log_id, item_id, dial_status=DialStatus.CANCELED, caller_gone=True, at=hangup
            )
            return done, hangup
        if rings:
            esc.attempt_ringing(log_id, item_id, at=min(ring_at, answer_at or ring_at))
        if answer_at is None:
            status = _DIAL_STATUS[outcome.action]
            if outcome.action is SandboxAction.ANSWER:  # rang out before the user picked up
                status = DialStatus.NO_ANSWER
            return esc.attempt_ended(log_id, item_id, dial_status=status, at=end), end
        esc.attempt_answered(log_id, item_id, at=answer_at)
        if hangup is not None and hangup < end:
            end = hangup  # the caller ends the conversation
        talk = int((end - answer_at).total_seconds())
        done = esc.attempt_ended(
            log_id, item_id, dial_status=DialStatus.COMPLETED, dial_duration=talk, at=end
        )
        return done, end

    def _outcome(
        self,
        account_id: int,
        step: DialInstruction,
        script: SandboxScript,
        rung: dict[str, int],
    ) -> SandboxOutcome:
        attempt = next(a for a in self.escalation.attempts(step.log_id) if a.id == step.item_id)
        keys = [step.number]
        if attempt.extension_id is not None:
            keys.append(str(attempt.extension_id))
            ext = next(
                (e for e in self.accounts.extensions(account_id) if e.id == attempt.extension_id),
                None,
            )
            if ext is not None:
                keys.append(ext.number)
        for key in keys:
            outcomes = script.outcomes.get(key)
            if outcomes:
                n = rung.get(key, 0)
                rung[key] = n + 1
                return outcomes[min(n, len(outcomes) - 1)]
        return script.default
