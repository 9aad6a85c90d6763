"""Incoming call policies and their escalation, as pure decisions.

A policy owns routing numbers and ordered escalation rules; each rule names one user (an
extension) or one on-call group. When a call arrives the engine asks ``first_step``; after every
dial attempt it asks ``step_after``. Both walk the rules in ``order`` (gaps allowed), skip a rule
whose target has nobody reachable, repeat the whole policy as configured, and finish with the
policy's message. Who is reachable is answered by a ``Resolver`` the caller supplies; there is no
I/O and no clock here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class IncomingCallStatus(StrEnum):
    """The status of a call log and of each dial attempt (OneUptime's nine values)."""

    INITIATED = "Initiated"
    RINGING = "Ringing"
    CONNECTED = "Connected"
    ESCALATED = "Escalated"
    NO_ANSWER = "NoAnswer"
    FAILED = "Failed"
    COMPLETED = "Completed"
    CALLER_HUNG_UP = "CallerHungUp"
    BUSY = "Busy"


# A call log in one of these states will not change any more.
FINAL_LOG_STATUSES = frozenset(
    {
        IncomingCallStatus.COMPLETED,
        IncomingCallStatus.NO_ANSWER,
        IncomingCallStatus.FAILED,
        IncomingCallStatus.CALLER_HUNG_UP,
    }
)


class DialStatus(StrEnum):
    """How a dial attempt ended, in the words of Twilio's ``DialCallStatus``."""

    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"


def parse_dial_status(raw: str | None) -> DialStatus:
    """A provider's dial status; anything unknown counts as ``failed`` (as OneUptime does)."""
    try:
        return DialStatus((raw or "").strip().lower())
    except ValueError:
        return DialStatus.FAILED


# Spoken texts. The defaults are OneUptime's column defaults; the fallbacks its code's texts.
DEFAULT_GREETING = "Please wait while we connect you to the on-call engineer."
DEFAULT_NO_ANSWER = "No one is available. Please try again later."
DEFAULT_NO_ONE_AVAILABLE = (
    "We are sorry, but no on-call engineer is currently available. "
    "Please try again later or contact support."
)
FALLBACK_NO_ONE_AVAILABLE = "We're sorry, but no on-call engineer is currently available."
DISABLED_SAY = "Sorry, this service is currently disabled."
NEXT_ENGINEER_SAY = "Connecting you to the next available engineer."
DISABLED_MESSAGE = "Policy is disabled"
NO_ONE_AVAILABLE_MESSAGE = "No on-call user available in any escalation rule"
DEFAULT_ESCALATE_AFTER = 30


@dataclass(slots=True, frozen=True)
class EscalationRule:
    """One step of a policy: ring this user, or the on-call member of this group."""

    id: str
    order: int
    escalate_after_seconds: int
    extension_id: int | None = None
    group_id: str | None = None


@dataclass(slots=True, frozen=True)
class PolicyPlan:
    """What the engine needs to know about a policy, rules sorted by ``order``."""

    id: str
    enabled: bool
    rules: tuple[EscalationRule, ...]
    greeting: str | None = DEFAULT_GREETING
    no_answer_message: str | None = DEFAULT_NO_ANSWER
    no_one_available_message: str | None = DEFAULT_NO_ONE_AVAILABLE
    repeat_if_no_one_answers: bool = False
    repeat_times: int = 1


@dataclass(slots=True, frozen=True)
class Reachable:
    """A user who can be dialled now, at this number."""

    extension_id: int
    phone_number: str


# The reachable user behind a rule right now, or None when nobody is.
Resolver = Callable[[EscalationRule], Reachable | None]


@dataclass(slots=True, frozen=True)
class Dial:
    """Ring ``target`` for ``timeout`` seconds; the log moves to ``log_status``."""

    rule: EscalationRule
    target: Reachable
    timeout: int
    say: str | None
    log_status: IncomingCallStatus
    repeat_count: int


@dataclass(slots=True, frozen=True)
class Finish:
    """End the call: say ``say`` and hang up; the log ends in ``status`` with ``message``."""

    status: IncomingCallStatus
    message: str | None
    say: str | None


Step = Dial | Finish


def _next_rule(
    rules: Sequence[EscalationRule], after_order: int, resolve: Resolver
) -> tuple[EscalationRule, Reachable] | None:
    """The first rule past ``after_order`` whose target is reachable (OneUptime's
    ``getNextRuleWithAvailableUser``: rules with nobody reachable are skipped)."""
    for rule in rules:
        if rule.order <= after_order:
            continue
        target = resolve(rule)
        if target is not None:
            return rule, target
    return None


def _dial(
    found: tuple[EscalationRule, Reachable],
    say: str | None,
    status: IncomingCallStatus,
    repeat_count: int,
) -> Dial:
    rule, target = found
    timeout = rule.escalate_after_seconds or DEFAULT_ESCALATE_AFTER
    return Dial(rule, target, timeout, say, status, repeat_count)


def first_step(policy: PolicyPlan, resolve: Resolver) -> Step:
    """What to do when a call reaches one of the policy's numbers."""
    if not policy.enabled:
        return Finish(IncomingCallStatus.FAILED, DISABLED_MESSAGE, DISABLED_SAY)
    found = _next_rule(policy.rules, 0, resolve)
    if found is None:
        say = policy.no_one_available_message or FALLBACK_NO_ONE_AVAILABLE
        return Finish(IncomingCallStatus.FAILED, NO_ONE_AVAILABLE_MESSAGE, say)
    return _dial(found, policy.greeting or None, IncomingCallStatus.INITIATED, 0)


def step_after(
    policy: PolicyPlan, current_order: int, repeat_count: int, resolve: Resolver
) -> Step:
    """What to do after an attempt that nobody answered: the next reachable rule, else the
    policy again from the top while repeats remain, else the no-answer message."""
    found = _next_rule(policy.rules, current_order, resolve)
    if found is not None:
        return _dial(found, NEXT_ENGINEER_SAY, IncomingCallStatus.ESCALATED, repeat_count)
    allowed = max(policy.repeat_times, 1)
    if policy.repeat_if_no_one_answers and repeat_count < allowed:
        found = _next_rule(policy.rules, 0, resolve)
        if found is not None:
            return _dial(found, NEXT_ENGINEER_SAY, IncomingCallStatus.ESCALATED, repeat_count + 1)
    say = policy.no_answer_message or DEFAULT_NO_ANSWER
    return Finish(IncomingCallStatus.NO_ANSWER, None, say)


def attempt_status(dial: DialStatus, caller_gone: bool) -> IncomingCallStatus:
    """The status of a finished dial attempt. OneUptime collapses everything unanswered into
    ``NoAnswer``; callvault keeps busy, failed and the caller giving up apart."""
    if dial is DialStatus.COMPLETED:
        return IncomingCallStatus.CONNECTED
    if caller_gone:
        return IncomingCallStatus.CALLER_HUNG_UP
    if dial is DialStatus.BUSY:
        return IncomingCallStatus.BUSY
    if dial is DialStatus.FAILED:
        return IncomingCallStatus.FAILED
    return IncomingCallStatus.NO_ANSWER


def billed_cents(seconds: int, cents_per_minute: float) -> int:
    """Carrier billing: started minutes, rounded up to whole cents."""
    if seconds <= 0 or cents_per_minute <= 0:
        return 0
    minutes = -(-seconds // 60)
    # Rounded first, so 10 minutes at 0.7 cents stay 7 cents despite binary floats.
    return math.ceil(round(minutes * cents_per_minute, 6))


def sorted_rules(rules: Sequence[EscalationRule]) -> tuple[EscalationRule, ...]:
    return tuple(sorted(rules, key=lambda r: (r.order, r.id)))
