"""Call targets: every leg of a call as a PBX's CDR lists it, one entry per attempt to reach a
party (PortSIP calls them "call targets"; reference §8.1).

``targets_of`` derives the targets of a stored record: who called whom, ring/answer/end times,
how the target ended and why it was reached. Answered-ness and who took the call come from
``outcome.py``; nothing here re-decides them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from callvault.domain.calls import CallBase, CallRecord, Party
from callvault.domain.enums import DelegationType, Direction, Disconnector, LegType
from callvault.domain.outcome import Outcome, answering_leg, is_answered, outcome_of

# Widths every store and face can hold (PortSIP publishes the same limits).
NUMBER_WIDTH = 256
NAME_WIDTH = 1024
CALLER_ID_WIDTH = 64


class TargetDirection(StrEnum):
    """Which sides of a target are inside the phone system."""

    INTERNAL = "internal"  # extension to extension
    INBOUND = "inbound"  # from outside (a trunk) to an extension, IVR, queue …
    OUTBOUND = "outbound"  # from an extension out to a trunk
    INBOUND_OUTBOUND = "inbound_outbound"  # from outside, routed back out (forward to a mobile)


class EndReason(StrEnum):
    """How a target ended."""

    CALLER_HUNG_UP = "caller_hung_up"
    CALLEE_HUNG_UP = "callee_hung_up"
    CANCELLED = "cancelled"  # the caller gave up before the target answered
    BLIND_TRANSFER = "blind_transfer"  # this party's blind transfer completed
    ATTENDED_TRANSFER = "attended_transfer"  # this party's attended (consult) transfer completed
    REPLACED = "replaced"  # taken over: attended transfer, pickup, park, another device
    REFERRED = "referred"  # sent on by a REFER, e.g. an IVR routing on the caller's digits
    REDIRECTED = "redirected"  # sent on by a redirect (SIP 302)


class Rerouting(StrEnum):
    """Why the call came to a target rather than to the party first dialled."""

    TRANSFER = "transfer"
    OVERFLOW = "overflow"
    CAPACITY_BLOCKED = "capacity_blocked"
    QUEUE_EXIT = "queue_exit"
    QUEUE_ABANDONED = "queue_abandoned"
    REDIRECT = "redirect"
    FORWARDING_UNCONDITIONAL = "forwarding_unconditional"
    FORWARDING_BUSY = "forwarding_busy"
    FORWARDING_NO_ANSWER = "forwarding_no_answer"
    FORWARDING_NOT_REACHABLE = "forwarding_not_reachable"
    FORWARDING_EXCEPTION = "forwarding_exception"
    FORWARDING_LUNCH = "forwarding_lunch"
    FORWARDING_BUSINESS_TRIP = "forwarding_business_trip"
    FORWARDING_AWAY = "forwarding_away"
    FORWARDING_NIGHT_MODE = "forwarding_night_mode"


def _norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


# ``CdrFacts.reroute_reason`` words (why a leg handed the call on) → how the leg ended. The
# correlator writes RingCentral's party-status reasons; importers write the canonical words of
# ``HAND_ON_WORDS``.
_HAND_ON: dict[str, EndReason] = {
    "blindtransfer": EndReason.BLIND_TRANSFER,
    "rcctransfer": EndReason.BLIND_TRANSFER,
    "dtmftransfer": EndReason.BLIND_TRANSFER,
    "attendedtransfer": EndReason.ATTENDED_TRANSFER,
    "consulttransfer": EndReason.ATTENDED_TRANSFER,
    "warmtransfer": EndReason.ATTENDED_TRANSFER,
    "callerinputredirect": EndReason.REFERRED,
    "referred": EndReason.REFERRED,
    "pickup": EndReason.REPLACED,
    "callflip": EndReason.REPLACED,
    "callswitch": EndReason.REPLACED,
    "takeover": EndReason.REPLACED,
    "callpark": EndReason.REPLACED,
    "parklocation": EndReason.REPLACED,
    "replaced": EndReason.REPLACED,
    "callredirected": EndReason.REDIRECTED,
    "redirected": EndReason.REDIRECTED,
}

# The ``reroute_reason`` word that stands for each hand-on ending (what importers store).
HAND_ON_WORDS: dict[EndReason, str] = {
    EndReason.BLIND_TRANSFER: "BlindTransfer",
    EndReason.ATTENDED_TRANSFER: "AttendedTransfer",
    EndReason.REFERRED: "Referred",
    EndReason.REPLACED: "Replaced",
    EndReason.REDIRECTED: "Redirected",
}

_REROUTING = {_norm(m.value): m for m in Rerouting}


# CDRs repeat a handful of words (the correlator's party reasons, the importers' canonical
# words), and normalising one (~1.4 µs) costs twenty times a cache hit: each word is
# normalised once. The caches are bounded because the words come from input.
@lru_cache(maxsize=512)
def _hand_on(word: str) -> EndReason | None:
    return _HAND_ON.get(_norm(word))


@lru_cache(maxsize=512)
def _given_rerouting(word: str) -> Rerouting | None:
    return _REROUTING.get(_norm(word))


# Outcomes whose failure the SIP status says when the source recorded none.
_STATUS_BY_OUTCOME = {Outcome.BUSY: 486, Outcome.REJECTED: 603, Outcome.FAILED: 500}

# Leg types that carry an outside caller back out of the phone system.
_FORWARDING_LEGS = frozenset(
    {
        LegType.FIND_ME,
        LegType.FOLLOW_ME,
        LegType.SIP_FORWARDING,
        LegType.SIP_TO_PSTN_METERED,
        LegType.SIP_TO_PSTN_UNMETERED,
    }
)


@dataclass(slots=True)
class CallTarget:
    """One target of a call. Strings are ``""`` when unknown; times are aware UTC.

    ``in_company_log``: the target is listed in the company's view. A call stored as several
    per-extension records carries the same legs in each; exactly one record lists each leg
    there (see ``targets_of``). ``in_owner_log``: the target involves the extension whose
    record it came from, so that user sees it among their own.

    ``targets_of`` builds it with positional arguments: keep its call in step with the order
    of the fields.
    """

    id: str
    session_id: str
    position: int
    caller: str
    caller_domain: str
    caller_name: str
    callee: str
    callee_domain: str
    callee_name: str
    started: datetime
    rang: datetime | None
    answered: datetime | None
    ended: datetime
    call_id: str
    direction: TargetDirection
    end_reason: EndReason | None
    rerouted_by: Rerouting | None
    # The SIP status that ended the attempt; 0 when it did not fail.
    status_code: int
    destination: str
    outbound_caller_id: str
    did: str
    trunk: str
    talk_seconds: int
    cost: float
    billed_account: str
    service_number: str
    user_data: str
    in_company_log: bool
    in_owner_log: bool


class ChangeKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


@dataclass(slots=True)
class StoredTarget:
    """A target as the store keeps it: with its deletion mark and change times."""

    target: CallTarget
    owner_extension_id: int | None
    deleted: bool
    modified: datetime
    # The store's row number, and the change numbers of the writes that created the row and
    # last touched it (writes of an account commit in change-number order).
    row: int
    created_change: int
    change: int


def _clip(text: str | None, width: int) -> str:
    if not text:
        return ""
    if "\x00" in text:  # PostgreSQL refuses NUL in text; nothing a CDR says needs it
        text = text.replace("\x00", "")
    return text if len(text) <= width else text[:width]


def _number(party: Party | None) -> str:
    if party is None:
        return ""
    return _clip(party.extension_number or party.phone_number, NUMBER_WIDTH)


def _internal(party: Party | None) -> bool | None:
    if party is None:
        return None
    return bool(party.extension_number or party.extension_id)


def direction_of(leg: CallBase) -> TargetDirection:
    """Inside or outside, for each side; with a side unknown, the leg's own direction."""
    caller, callee = _internal(leg.from_party), _internal(leg.to_party)
    if caller is True and callee is True:
        return TargetDirection.INTERNAL
    if caller is True and callee is False:
        return TargetDirection.OUTBOUND
    if caller is False and callee is True:
        return TargetDirection.INBOUND
    # Both outside: an outside caller reaching a company number (the trunk leg), or carried
    # back out by a forwarding leg.
    leg_type = getattr(leg, "leg_type", None)
    if caller is False and callee is False and leg_type in _FORWARDING_LEGS:
        return TargetDirection.INBOUND_OUTBOUND
    if leg.direction is Direction.OUTBOUND:
        return TargetDirection.OUTBOUND
    return TargetDirection.INBOUND


def answered_at(leg: CallBase) -> datetime | None:
    """When the target answered: the CDR's answer time, else (for sources that record only
    the result) the leg's start when the outcome rules say it was answered."""
    if leg.cdr.answer_time is not None:
        return leg.cdr.answer_time
    return leg.start_time if is_answered(leg) else None


def end_reason_of(
    leg: CallBase, *, answered: bool, fallback: Disconnector | None = None
) -> EndReason | None:
    """How the target ended: a hand-on reason first, else who hung up (``fallback`` is the
    call's own "who hung up", for the leg that took the call)."""
    word = leg.cdr.reroute_reason
    handed_on = _hand_on(word) if word else None
    if handed_on is not None:
        return handed_on
    who = leg.cdr.disconnected_by or fallback
    if who is Disconnector.CALLER:
        return EndReason.CALLER_HUNG_UP if answered else EndReason.CANCELLED
    if who is Disconnector.CALLEE and answered:
        return EndReason.CALLEE_HUNG_UP
    return None


def rerouting_of(leg: CallBase) -> Rerouting | None:
    """Why the call came to this leg: the CDR's own word, else what the leg type says."""
    word = leg.cdr.reached_by
    given = _given_rerouting(word) if word else None
    if given is not None:
        return given
    if getattr(leg, "leg_type", None) is LegType.TRANSFER_CALL:
        return Rerouting.TRANSFER
    if leg.delegation_type is DelegationType.QUEUE_FORWARDING:
        return Rerouting.OVERFLOW
    return None


def status_code_of(leg: CallBase) -> int:
    """The SIP status that ended the attempt, 0 for success (2xx) or no failure."""
    code = leg.cdr.sip_status_code
    if code is not None:
        return 0 if 100 <= code < 300 else code
    return _STATUS_BY_OUTCOME.get(outcome_of(leg), 0)


_MS = timedelta(milliseconds=1)


def _seconds(delta: timedelta) -> int:
    return max(0, (delta // _MS + 500) // 1000)


def _target_id(session_id: str, key: str, occurrence: int) -> str:
    """A stable id for a target: the same leg gets the same id in every record of its call."""
    text = f"target|{session_id}|{key}|{occurrence}"
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def _ownership(record: CallRecord, legs: list[CallBase]) -> tuple[list[bool], list[bool]]:
    """Which legs this record lists in the company view and in its owner's own view.

    Rule for the company view: a company record (no owner) lists every leg; an extension's
    record lists the legs of its own extension, and the legs of no extension (trunk, outside
    parties) only when it is the record of the first extension in leg order. The records the
    correlator and the importers write for one call each carry all its legs, and there is one
    record per extension on those legs, so every leg is listed exactly once.
    """
    owner = record.extension_id
    if owner is None:
        return [True] * len(legs), [False] * len(legs)
    first = owner
    for lg in legs:
        if lg.extension_id is not None:
            first = lg.extension_id
            break
    mine = str(owner)
    company, personal = [], []
    for lg in legs:
        ext, frm, to = lg.extension_id, lg.from_party, lg.to_party
        company.append(ext == owner or (ext is None and first == owner))
        personal.append(
            ext == owner
            or (frm is not None and frm.extension_id == mine)
            or (to is not None and to.extension_id == mine)
        )
    if not any(personal):  # the record is in the owner's log; its legs name no one: show all
        personal = [True] * len(legs)
    return company, personal


def targets_of(record: CallRecord) -> list[CallTarget]:
    """The targets of a record: one per leg, or one for the record itself when it has none."""
    legs: list[CallBase] = list(record.legs) or [record]
    company, personal = _ownership(record, legs)
    # The record's own "who hung up" is the fallback of the leg that took the call; without
    # one there is no need to find that leg.
    hung_up = record.cdr.disconnected_by
    answering = None
    if hung_up is not None:
        answering = answering_leg(record) if record.legs else record
    session = record.session_id
    seen: dict[str, int] = {}
    out: list[CallTarget] = []
    for n, leg in enumerate(legs):
        cdr, frm, to, started = leg.cdr, leg.from_party, leg.to_party, leg.start_time
        caller, callee = _number(frm), _number(to)
        leg_type = getattr(leg, "leg_type", None)
        key = "|".join(
            (
                leg.telephony_session_id or "",
                leg.party_id or "",
                started.isoformat(),
                caller,
                callee,
                leg_type.value if leg_type else "record",
            )
        )
        occurrence = seen[key] = seen.get(key, 0) + 1
        answered = answered_at(leg)
        ended = cdr.end_time or started + timedelta(milliseconds=leg.duration_ms)
        fallback = hung_up if leg is answering else None
        # Positional arguments, in field order: passing the 29 fields by keyword took a sixth
        # of this function on the ingest path (bench/ingest.py). test_encoding_stability.py
        # checks that each field gets its own value.
        out.append(
            CallTarget(
                _target_id(session, key, occurrence),  # id
                session,  # session_id
                n,  # position
                caller,
                _clip(cdr.from_domain, NAME_WIDTH),  # caller_domain
                _clip(frm.name, NAME_WIDTH) if frm else "",  # caller_name
                callee,
                _clip(cdr.to_domain, NAME_WIDTH),  # callee_domain
                _clip(to.name, NAME_WIDTH) if to else "",  # callee_name
                started,
                cdr.ring_time,  # rang
                answered,
                ended,
                _clip(cdr.sip_call_id, NAME_WIDTH),  # call_id
                direction_of(leg),
                end_reason_of(leg, answered=answered is not None, fallback=fallback),
                rerouting_of(leg),  # rerouted_by
                status_code_of(leg),
                _clip(cdr.destination, NAME_WIDTH),  # destination
                _clip(cdr.outbound_caller_id, CALLER_ID_WIDTH),  # outbound_caller_id
                _clip(cdr.did, NUMBER_WIDTH),  # did
                _clip(cdr.trunk, NAME_WIDTH),  # trunk
                _seconds(ended - answered) if answered else 0,  # talk_seconds
                cdr.cost or 0.0,  # cost
                _clip(cdr.billed_account, NAME_WIDTH),  # billed_account
                _clip(cdr.service_number, NUMBER_WIDTH),  # service_number
                _clip(cdr.user_data, 4000),  # user_data
                company[n],  # in_company_log
                personal[n],  # in_owner_log
            )
        )
    return out
