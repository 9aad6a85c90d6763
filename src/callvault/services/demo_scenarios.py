"""The demo phone system and its call scenarios: one function per kind of call.

Each scenario plays one call through a small imaginary office (five users and a support ring
group) and returns every call-log record the call leaves behind, one per extension log it reaches,
with legs shaped the way RingCentral's Detailed view shows them.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from callvault.domain.calls import (
    Billing,
    CallRecord,
    CdrFacts,
    Leg,
    Message,
    Party,
    Recording,
)
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

if TYPE_CHECKING:
    from callvault.services.demo_traffic import DemoExtension

Scenario = Callable[["Pbx", datetime], list[CallRecord]]

# --------------------------------------------------------------------------------------------
# How a leg ended: RingCentral's result and reason, plus the SIP final response behind them.


@dataclass(frozen=True, slots=True)
class Status:
    result: Result
    reason: Reason
    sip: int

    @property
    def answered(self) -> bool:
        """Whether the far end (a person or a voicemail system) answered at the SIP level."""
        return self.sip == 200


ACCEPTED = Status(Result.ACCEPTED, Reason.ACCEPTED, 200)
# RingCentral reports an answered outbound call as "Call connected", not "Accepted".
CONNECTED = Status(Result.CALL_CONNECTED, Reason.ACCEPTED, 200)
# The caller gave up while it rang: the trunk sees CANCEL, answered with 487.
HUNG_UP = Status(Result.MISSED, Reason.HANG_UP, 487)
# Nobody picked up before the ring timer expired (480 Temporarily Unavailable).
UNANSWERED = Status(Result.MISSED, Reason.NO_ANSWER, 480)
# The voicemail system answers the trunk (200), but the user never did.
VOICEMAIL = Status(Result.VOICEMAIL, Reason.NO_ANSWER, 200)
BUSY = Status(Result.BUSY, Reason.LINE_BUSY, 486)
# An outbound call the far end never answered; the caller hung up (487 after CANCEL).
NOT_ANSWERED = Status(Result.NO_ANSWER, Reason.NOT_ANSWERED, 487)
# A phone that rang in parallel and was stopped because another phone took the call.
ELSEWHERE = Status(Result.ANSWERED_ELSEWHERE, Reason.STOPPED, 487)

_DESCRIPTIONS = {
    Reason.ACCEPTED: "The call was connected to and accepted by this number",
    Reason.HANG_UP: "The caller hung up before the call was answered",
    Reason.NO_ANSWER: "You did not answer the call",
    Reason.NOT_ANSWERED: "The phone number you dialed was not answered",
    Reason.LINE_BUSY: "The phone number you dialed was busy",
    Reason.STOPPED: "This attempt was stopped because the call was answered by another phone",
}

# --------------------------------------------------------------------------------------------
# The outside world: who calls the office, and where it calls.

# Area code → (location as the carrier reports it, caller-ID city name).
_AREAS = (
    ("650", "San Mateo, CA", "SAN MATEO CA"),
    ("415", "San Francisco, CA", "SAN FRANCISCO CA"),
    ("408", "San Jose, CA", "SAN JOSE CA"),
    ("212", "New York, NY", "NEW YORK NY"),
    ("312", "Chicago, IL", "CHICAGO IL"),
    ("617", "Boston, MA", "BOSTON MA"),
    ("512", "Austin, TX", "AUSTIN TX"),
    ("206", "Seattle, WA", "SEATTLE WA"),
    ("303", "Denver, CO", "DENVER CO"),
)
_FIRST = ("Maria", "James", "Priya", "Chen", "Olivia", "Omar", "Lucas", "Hana", "Noah", "Ines")
_LAST = ("Garcia", "Smith", "Patel", "Wong", "Brown", "Haddad", "Silva", "Kim", "Miller", "Rossi")

# Who gets which calls: sales talks to customers most, support takes the queue.
_INBOUND_WEIGHT = {"101": 1.0, "102": 3.0, "103": 2.0, "104": 2.0, "105": 1.5}
_OUTBOUND_WEIGHT = {"101": 1.5, "102": 4.0, "103": 1.0, "104": 1.0, "105": 1.5}


def _ms(value: int) -> timedelta:
    return timedelta(milliseconds=value)


def ext_party(ext: DemoExtension, phone: str | None = None) -> Party:
    return Party(
        phone_number=phone, extension_number=ext.number, extension_id=str(ext.id), name=ext.name
    )


@dataclass(frozen=True, slots=True)
class Office:
    """Who is who in the demo company: its users, the support ring group and its numbers."""

    users: tuple[DemoExtension, ...]
    group: DemoExtension | None
    members: tuple[DemoExtension, ...]
    main_number: str

    @classmethod
    def of(cls, extensions: list[DemoExtension], main_number: str) -> Office:
        users = tuple(e for e in extensions if e.type == "User")
        if len(users) < 2:
            raise ValueError("demo traffic needs at least two User extensions")
        group = next((e for e in extensions if e.type == "Department"), None)
        members = tuple(u for u in users if u.number in ("103", "104")) or users[:2]
        return cls(users, group, members, main_number)

    def did(self, ext: DemoExtension) -> str:
        """An extension's direct number: the main number ending in the extension number."""
        return self.main_number[: -len(ext.number)] + ext.number

    def mobile(self, ext: DemoExtension) -> str:
        """The user's own mobile, where FindMe/FollowMe and RingOut ring them."""
        return f"+1415555{150 + self.users.index(ext):04d}"


# --------------------------------------------------------------------------------------------
# The switch: ids, numbers and random draws shared by every scenario.


@dataclass(slots=True)
class Session:
    """One telephony session: the ids every record and leg of one call share."""

    session_id: str
    telephony_id: str
    parties: int = 0

    def party_id(self) -> str:
        self.parties += 1
        return f"p-{self.telephony_id[2:]}-{self.parties}"


@dataclass(slots=True)
class Pbx:
    """The demo switch: hands out ids and numbers, and makes every random draw a call needs."""

    rng: random.Random
    seed: int
    office: Office
    contacts: list[Party] = field(init=False, default_factory=list)
    _contact_weights: list[float] = field(init=False, default_factory=list)
    _records: int = field(init=False, default=0)
    _session: int = field(init=False, default=0)
    _media: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._session = 20_000_000_000 + self.rng.randrange(10**9) * 10
        self._media = 3_000_000_000 + self.rng.randrange(10**8) * 10
        self.contacts = [self._new_contact(n) for n in range(80)]
        # A few customers call again and again; most call once in a while (Zipf-like).
        total = 0.0
        for n in range(len(self.contacts)):
            total += 1 / (n + 1) ** 0.8
            self._contact_weights.append(total)

    def _hash(self, text: str, size: int) -> bytes:
        return hashlib.blake2b(f"{self.seed}:{text}".encode(), digest_size=size).digest()

    def record_id(self) -> str:
        """An opaque 15-character id, unique per seed, like RingCentral's record ids."""
        self._records += 1
        return base64.b32encode(self._hash(f"record:{self._records}", 10)).decode()[:15]

    def session(self) -> Session:
        self._session += self.rng.randint(3, 60)
        tsid = "s-" + self._hash(f"session:{self._session}", 16).hex()
        return Session(str(self._session), tsid)

    def media_id(self) -> str:
        """A numeric id for a recording or a voicemail message."""
        self._media += self.rng.randint(1, 9)
        return str(self._media)

    def sip_call_id(self, s: Session) -> str:
        return f"{self._hash(f'sip:{s.telephony_id}:{s.parties}', 12).hex()}@sbc.demo.invalid"

    def _new_contact(self, n: int) -> Party:
        code, location, city = self.rng.choice(_AREAS)
        # 555-0100..0149: numbers reserved for fiction, so the demo never dials a real person.
        number = f"+1{code}5550{100 + n % 50:03d}"
        if self.rng.random() < 0.6:
            name = f"{self.rng.choice(_LAST).upper()} {self.rng.choice(_FIRST).upper()}"
        else:
            name = city if self.rng.random() < 0.7 else "WIRELESS CALLER"
        return Party(phone_number=number, name=name, location=location)

    def contact(self) -> Party:
        return self.rng.choices(self.contacts, cum_weights=self._contact_weights)[0]

    def destination(self) -> Party:
        """Where users call: mostly customers, some UK partners, now and then a toll-free line."""
        roll = self.rng.random()
        if roll < 0.08:
            return Party(
                phone_number=f"+44207946{self.rng.randrange(1000):04d}",
                location="London, United Kingdom",
            )
        if roll < 0.12:
            return Party(phone_number=f"+1800555{self.rng.randrange(100, 200):04d}")
        return self.contact()

    def pick(
        self, weights: dict[str, float], among: tuple[DemoExtension, ...] = ()
    ) -> DemoExtension:
        pool = among or self.office.users
        return self.rng.choices(pool, weights=[weights.get(u.number, 1.0) for u in pool])[0]

    def two_users(self) -> tuple[DemoExtension, DemoExtension]:
        a, b = self.rng.sample(self.office.users, 2)
        return a, b

    def ring_ms(self, lo: float = 3, hi: float = 18) -> int:
        return int(self.rng.uniform(lo, hi) * 1000)

    def talk_ms(self) -> int:
        """Conversation length: log-normal around two and a half minutes, 8 s to 45 min."""
        seconds = self.rng.lognormvariate(math.log(150), 0.9)
        return int(min(max(seconds, 8), 2700) * 1000)

    def hangs_up(self) -> Disconnector:
        return self.rng.choice((Disconnector.CALLER, Disconnector.CALLEE))

    def recording(self, owner: DemoExtension) -> Recording | None:
        """Support's lines record every call; others press record now and then."""
        if owner in self.office.members:
            return Recording(self.media_id(), RecordingType.AUTOMATIC)
        if self.rng.random() < 0.08:
            return Recording(self.media_id(), RecordingType.ON_DEMAND)
        return None

    def voicemail(self) -> Message:
        return Message(self.media_id(), "VoiceMail")

    def trunk(self) -> str:
        return self.rng.choice(("pstn-trunk-a", "pstn-trunk-b"))


def internal_type(number: str | None, main_number: str) -> InternalType:
    """RingCentral's rating class: same area code is Local, rest of +1 is LongDistance."""
    if not number or not number.startswith("+1"):
        return InternalType.INTERNATIONAL
    if number.startswith("+1800"):
        return InternalType.TOLL_FREE_NUMBER
    return InternalType.LOCAL if number[:5] == main_number[:5] else InternalType.LONG_DISTANCE


def billing(number: str | None, talk_ms: int) -> Billing:
    """Per started minute: domestic minutes come out of the plan, international are bought."""
    minutes = math.ceil(talk_ms / 60_000)
    if number is not None and number.startswith("+1800"):
        return Billing(0.0, 0.0)
    if number is not None and number.startswith("+1"):
        return Billing(round(minutes * 0.019, 4), 0.0)
    return Billing(0.0, round(minutes * 0.089, 4))


# --------------------------------------------------------------------------------------------
# Builders: legs, the CDR facts of PSTN legs, and records that summarise a master leg.


@dataclass(frozen=True, slots=True)
class Span:
    """When a leg happened: it rang for ``ring_ms``, then (if answered) lasted ``talk_ms``."""

    start: datetime
    ring_ms: int
    talk_ms: int = 0

    @property
    def total_ms(self) -> int:
        return self.ring_ms + self.talk_ms

    @property
    def end(self) -> datetime:
        return self.start + _ms(self.total_ms)


def leg(
    s: Session,
    kind: LegType,
    status: Status,
    span: Span,
    *,
    direction: Direction,
    frm: Party,
    to: Party,
    owner: DemoExtension | None,
    transport: Transport = Transport.VOIP,
    action: Action = Action.PHONE_CALL,
    itype: InternalType | None = None,
    master: bool = False,
) -> Leg:
    return Leg(
        leg_type=kind,
        master=master,
        direction=direction,
        action=action,
        start_time=span.start,
        duration_ms=span.total_ms,
        result=status.result,
        reason=status.reason,
        reason_description=_DESCRIPTIONS.get(status.reason),
        extension_id=owner.id if owner else None,
        telephony_session_id=s.telephony_id,
        party_id=s.party_id(),
        transport=transport,
        internal_type=itype,
        from_party=frm,
        to_party=to,
    )


def pstn(
    pbx: Pbx,
    s: Session,
    lg: Leg,
    span: Span,
    status: Status,
    *,
    by: Disconnector,
    did: str | None = None,
    caller_id: str | None = None,
) -> Leg:
    """Attach what the trunk's CDR knows to a PSTN leg; outbound PSTN legs also get billed."""
    lg.cdr = CdrFacts(
        ring_time=span.start,
        answer_time=span.start + _ms(span.ring_ms) if status.answered else None,
        end_time=span.end,
        disconnected_by=by,
        sip_call_id=pbx.sip_call_id(s),
        sip_status_code=status.sip,
        trunk=pbx.trunk(),
        did=did,
        outbound_caller_id=caller_id,
    )
    if lg.direction is Direction.OUTBOUND:
        number = lg.to_party.phone_number if lg.to_party else None
        lg.billing = billing(number, span.talk_ms if status.answered else 0)
    return lg


def record(
    pbx: Pbx, s: Session, owner: DemoExtension, legs: list[Leg], **overrides: Any
) -> CallRecord:
    """The owner's log entry: it summarises its master leg unless ``overrides`` say otherwise."""
    m = next(lg for lg in legs if lg.master)
    fields: dict[str, Any] = {
        "direction": m.direction,
        "action": m.action,
        "start_time": m.start_time,
        "duration_ms": m.duration_ms,
        "result": m.result,
        "reason": m.reason,
        "reason_description": m.reason_description,
        "transport": m.transport,
        "internal_type": m.internal_type,
        "from_party": m.from_party,
        "to_party": m.to_party,
        "billing": m.billing,
        "transfer_target_session_id": m.transfer_target_session_id,
        "transferee_session_id": m.transferee_session_id,
    }
    fields.update(overrides)
    return CallRecord(
        id=pbx.record_id(),
        session_id=s.session_id,
        telephony_session_id=s.telephony_id,
        party_id=m.party_id,
        extension_id=owner.id,
        legs=legs,
        **fields,
    )


def _trunk_leg(
    pbx: Pbx,
    s: Session,
    status: Status,
    span: Span,
    caller: Party,
    to: Party,
    owner: DemoExtension,
    *,
    by: Disconnector,
    master: bool = True,
) -> Leg:
    """The ``Accept`` leg: the call as it arrived from the carrier on the dialled number."""
    itype = internal_type(caller.phone_number, pbx.office.main_number)
    lg = leg(
        s,
        LegType.ACCEPT,
        status,
        span,
        direction=Direction.INBOUND,
        frm=caller,
        to=to,
        owner=owner,
        transport=Transport.PSTN,
        itype=itype,
        master=master,
    )
    return pstn(pbx, s, lg, span, status, by=by, did=to.phone_number)


def _desk_leg(s: Session, status: Status, span: Span, caller: Party, owner: DemoExtension) -> Leg:
    """The switch hands the call to the user's desk phone a moment after the trunk leg arrives."""
    late = Span(span.start + _ms(120), max(span.ring_ms - 120, 0), span.talk_ms)
    return leg(
        s,
        LegType.PSTN_TO_SIP,
        status,
        late,
        direction=Direction.INBOUND,
        frm=caller,
        to=ext_party(owner),
        owner=owner,
    )


# --------------------------------------------------------------------------------------------
# Inbound calls from the PSTN to one user.


def _inbound(pbx: Pbx, start: datetime, status: Status, ring_ms: int, talk_ms: int) -> CallRecord:
    owner = pbx.pick(_INBOUND_WEIGHT)
    caller = pbx.contact()
    # Most callers dial the user's direct number; the rest come via the main number's menu.
    dialled = pbx.office.did(owner) if pbx.rng.random() < 0.75 else pbx.office.main_number
    s = pbx.session()
    span = Span(start, ring_ms, talk_ms)
    by = pbx.hangs_up() if status is ACCEPTED else Disconnector.CALLER
    desk_status = UNANSWERED if status is VOICEMAIL else status
    desk_span = Span(start, ring_ms, talk_ms if status is ACCEPTED else 0)
    legs = [
        _trunk_leg(pbx, s, status, span, caller, ext_party(owner, dialled), owner, by=by),
        _desk_leg(s, desk_status, desk_span, caller, owner),
    ]
    extra: dict[str, Any] = {}
    if status is ACCEPTED:
        extra["recording"] = pbx.recording(owner)
    if status is VOICEMAIL:
        extra["message"] = legs[0].message = pbx.voicemail()
    return record(pbx, s, owner, legs, **extra)


def inbound_answered(pbx: Pbx, start: datetime) -> list[CallRecord]:
    return [_inbound(pbx, start, ACCEPTED, pbx.ring_ms(), pbx.talk_ms())]


def inbound_missed(pbx: Pbx, start: datetime) -> list[CallRecord]:
    # Most misses are callers giving up mid-ring; the rest rang out on a user without voicemail.
    if pbx.rng.random() < 0.7:
        return [_inbound(pbx, start, HUNG_UP, pbx.ring_ms(4, 25), 0)]
    return [_inbound(pbx, start, UNANSWERED, pbx.ring_ms(28, 32), 0)]


def inbound_voicemail(pbx: Pbx, start: datetime) -> list[CallRecord]:
    # Four to six rings, then the greeting and a message of a few seconds to a minute and a half.
    ring = pbx.ring_ms(20, 30)
    message = pbx.ring_ms(12, 95)
    return [_inbound(pbx, start, VOICEMAIL, ring, message)]


def inbound_busy(pbx: Pbx, start: datetime) -> list[CallRecord]:
    # The user is already on a call with call waiting off: the switch answers 486 at once.
    return [_inbound(pbx, start, BUSY, pbx.ring_ms(0.3, 1.5), 0)]


# --------------------------------------------------------------------------------------------
# Outbound calls from a user's phone to the PSTN.


def _outbound(pbx: Pbx, start: datetime, status: Status, span: Span) -> CallRecord:
    owner = pbx.pick(_OUTBOUND_WEIGHT)
    dest = pbx.destination()
    caller_id = pbx.office.did(owner) if pbx.rng.random() < 0.7 else pbx.office.main_number
    s = pbx.session()
    # Toll-free destinations cost nothing per minute, so they leave on the unmetered route.
    free = (dest.phone_number or "").startswith("+1800")
    kind = LegType.SIP_TO_PSTN_UNMETERED if free else LegType.SIP_TO_PSTN_METERED
    itype = internal_type(dest.phone_number, pbx.office.main_number)
    lg = leg(
        s,
        kind,
        status,
        span,
        direction=Direction.OUTBOUND,
        frm=ext_party(owner, caller_id),
        to=dest,
        owner=owner,
        transport=Transport.PSTN,
        itype=itype,
        master=True,
    )
    by = pbx.hangs_up() if status.answered else Disconnector.CALLER
    if status is BUSY:
        by = Disconnector.CALLEE
    pstn(pbx, s, lg, span, status, by=by, did=caller_id, caller_id=caller_id)
    recording = pbx.recording(owner) if status.answered else None
    return record(pbx, s, owner, [lg], recording=recording)


def outbound_answered(pbx: Pbx, start: datetime) -> list[CallRecord]:
    return [_outbound(pbx, start, CONNECTED, Span(start, pbx.ring_ms(4, 20), pbx.talk_ms()))]


def outbound_no_answer(pbx: Pbx, start: datetime) -> list[CallRecord]:
    return [_outbound(pbx, start, NOT_ANSWERED, Span(start, pbx.ring_ms(20, 45)))]


def outbound_busy(pbx: Pbx, start: datetime) -> list[CallRecord]:
    return [_outbound(pbx, start, BUSY, Span(start, pbx.ring_ms(1, 3)))]


# --------------------------------------------------------------------------------------------
# Calls between two extensions: one call, a record in each party's log.


def _ext_to_ext(
    pbx: Pbx,
    s: Session,
    a: DemoExtension,
    b: DemoExtension,
    span: Span,
    answered: bool,
    transferee: str | None = None,
) -> list[CallRecord]:
    records = []
    for owner, direction, status in (
        (a, Direction.OUTBOUND, CONNECTED if answered else NOT_ANSWERED),
        (b, Direction.INBOUND, ACCEPTED if answered else UNANSWERED),
    ):
        lg = leg(
            s,
            LegType.EXTENSION_TO_EXTENSION,
            status,
            span,
            direction=direction,
            frm=ext_party(a),
            to=ext_party(b),
            owner=owner,
            action=Action.VOIP_CALL,
            itype=InternalType.USUAL,
            master=True,
        )
        lg.transferee_session_id = transferee
        records.append(record(pbx, s, owner, [lg]))
    return records


def internal(pbx: Pbx, start: datetime) -> list[CallRecord]:
    a, b = pbx.two_users()
    answered = pbx.rng.random() < 0.8
    span = Span(start, pbx.ring_ms(2, 10), pbx.talk_ms() if answered else 0)
    if not answered:
        span = Span(start, pbx.ring_ms(15, 30))
    return _ext_to_ext(pbx, pbx.session(), a, b, span, answered)


# --------------------------------------------------------------------------------------------
# Forwarding to the user's mobile: FindMe rings desk and mobile together, FollowMe one by one.


def _mobile_leg(
    pbx: Pbx,
    s: Session,
    kind: LegType,
    status: Status,
    span: Span,
    caller: Party,
    owner: DemoExtension,
) -> Leg:
    """The switch dials out to the mobile, passing the caller's number through as caller ID."""
    action = Action.FIND_ME if kind is LegType.FIND_ME else Action.FOLLOW_ME
    mobile = Party(phone_number=pbx.office.mobile(owner), name=owner.name)
    itype = internal_type(mobile.phone_number, pbx.office.main_number)
    lg = leg(
        s,
        kind,
        status,
        span,
        direction=Direction.OUTBOUND,
        frm=caller,
        to=mobile,
        owner=owner,
        transport=Transport.PSTN,
        action=action,
        itype=itype,
    )
    by = pbx.hangs_up() if status.answered else Disconnector.SYSTEM
    return pstn(pbx, s, lg, span, status, by=by, caller_id=caller.phone_number)


def forwarded(pbx: Pbx, start: datetime) -> list[CallRecord]:
    others = tuple(u for u in pbx.office.users if u not in pbx.office.members)
    owner = pbx.pick(_INBOUND_WEIGHT, others)
    caller = pbx.contact()
    s = pbx.session()
    to = ext_party(owner, pbx.office.did(owner))
    if pbx.rng.random() < 0.5:
        return [_find_me(pbx, s, start, caller, to, owner)]
    return [_follow_me(pbx, s, start, caller, to, owner)]


def _find_me(
    pbx: Pbx, s: Session, start: datetime, caller: Party, to: Party, owner: DemoExtension
) -> CallRecord:
    ring, talk = pbx.ring_ms(4, 15), pbx.talk_ms()
    trunk = _trunk_leg(
        pbx, s, ACCEPTED, Span(start, ring, talk), caller, to, owner, by=pbx.hangs_up()
    )
    desk = _desk_leg(s, ELSEWHERE, Span(start, ring), caller, owner)
    mobile = _mobile_leg(
        pbx, s, LegType.FIND_ME, CONNECTED, Span(start + _ms(300), ring - 300, talk), caller, owner
    )
    return record(pbx, s, owner, [trunk, desk, mobile], recording=pbx.recording(owner))


def _follow_me(
    pbx: Pbx, s: Session, start: datetime, caller: Party, to: Party, owner: DemoExtension
) -> CallRecord:
    desk_ring, mobile_ring = pbx.ring_ms(18, 22), pbx.ring_ms(5, 20)
    answered = pbx.rng.random() < 0.8
    # Unanswered on the mobile too, the call falls back to the user's voicemail.
    tail = pbx.talk_ms() if answered else pbx.ring_ms(12, 60)
    status = ACCEPTED if answered else VOICEMAIL
    span = Span(start, desk_ring + mobile_ring, tail)
    trunk = _trunk_leg(
        pbx,
        s,
        status,
        span,
        caller,
        to,
        owner,
        by=pbx.hangs_up() if answered else Disconnector.CALLER,
    )
    desk = _desk_leg(s, UNANSWERED, Span(start, desk_ring), caller, owner)
    mobile_span = Span(start + _ms(desk_ring), mobile_ring, tail if answered else 0)
    mobile = _mobile_leg(
        pbx,
        s,
        LegType.FOLLOW_ME,
        CONNECTED if answered else NOT_ANSWERED,
        mobile_span,
        caller,
        owner,
    )
    extra: dict[str, Any] = {"recording": pbx.recording(owner)} if answered else {}
    if not answered:
        extra["message"] = trunk.message = pbx.voicemail()
    return record(pbx, s, owner, [trunk, desk, mobile], **extra)


# --------------------------------------------------------------------------------------------
# The support ring group: members' phones ring in parallel; each member gets a record.


def ring_group(pbx: Pbx, start: datetime) -> list[CallRecord]:
    group = pbx.office.group
    if group is None:
        return inbound_answered(pbx, start)
    members = pbx.office.members
    caller = pbx.contact()
    dialled = pbx.office.did(group) if pbx.rng.random() < 0.5 else pbx.office.main_number
    s = pbx.session()
    winner = pbx.rng.choice(members) if pbx.rng.random() < 0.8 else None
    ring = pbx.ring_ms(4, 20) if winner else pbx.ring_ms(28, 32)
    talk = pbx.talk_ms() if winner else 0
    overall = ACCEPTED if winner else UNANSWERED
    by = pbx.hangs_up() if winner else Disconnector.CALLER
    to_group = ext_party(group, dialled)
    trunk = _trunk_leg(
        pbx, s, overall, Span(start, ring, talk), caller, to_group, group, by=by, master=False
    )
    hunts = []
    for m in members:
        # The phone that answers is Accepted; the others stop ringing: "Answered Elsewhere".
        status = UNANSWERED if winner is None else ACCEPTED if m is winner else ELSEWHERE
        span = Span(start + _ms(150), ring - 150, talk if m is winner else 0)
        hunts.append(
            leg(
                s,
                LegType.HUNTING,
                status,
                span,
                direction=Direction.INBOUND,
                frm=caller,
                to=ext_party(m),
                owner=m,
            )
        )
    records = []
    for m in members:
        legs = [trunk, *(replace(h, master=h.extension_id == m.id) for h in hunts)]
        rec = pbx.recording(m) if m is winner else None
        records.append(
            record(
                pbx,
                s,
                m,
                legs,
                to_party=to_group,
                transport=Transport.PSTN,
                internal_type=trunk.internal_type,
                recording=rec,
            )
        )
    return records


# --------------------------------------------------------------------------------------------
# RingOut: the platform first rings the user's own phone, then dials the destination.


def _ringout_to_caller(
    pbx: Pbx, s: Session, owner: DemoExtension, status: Status, span: Span, master: bool
) -> Leg:
    mine = Party(
        phone_number=pbx.office.mobile(owner),
        extension_number=owner.number,
        extension_id=str(owner.id),
        name=owner.name,
    )
    lg = leg(
        s,
        LegType.RINGOUT_WEB_TO_CALLER,
        status,
        span,
        direction=Direction.OUTBOUND,
        frm=ext_party(owner, pbx.office.did(owner)),
        to=mine,
        owner=owner,
        transport=Transport.PSTN,
        action=Action.RINGOUT_WEB,
        itype=InternalType.RING_OUT,
        master=master,
    )
    by = Disconnector.CALLEE if status is BUSY else pbx.hangs_up()
    return pstn(pbx, s, lg, span, status, by=by, caller_id=pbx.office.did(owner))


def _total_billing(legs: list[Leg]) -> Billing:
    """RingOut pays for both legs: the call to the user's own phone and the one to the callee."""
    bills = [lg.billing for lg in legs if lg.billing is not None]
    return Billing(
        round(sum(b.cost_included for b in bills), 4),
        round(sum(b.cost_purchased for b in bills), 4),
    )


def ringout(pbx: Pbx, start: datetime) -> list[CallRecord]:
    owner = pbx.pick(_OUTBOUND_WEIGHT)
    dest = pbx.contact()
    s = pbx.session()
    caller_ring = pbx.ring_ms(3, 10)
    roll = pbx.rng.random()
    status = CONNECTED if roll < 0.8 else NOT_ANSWERED if roll < 0.92 else BUSY
    # Once the user answers, a second leg dials the destination about a second later.
    sub_start = start + _ms(caller_ring + 1000)
    ring = {CONNECTED: pbx.ring_ms(4, 20), NOT_ANSWERED: pbx.ring_ms(25, 40)}.get(status, 1500)
    sub_span = Span(sub_start, ring, pbx.talk_ms() if status is CONNECTED else 0)
    first = Span(start, caller_ring, 1000 + sub_span.total_ms)
    to_caller = _ringout_to_caller(pbx, s, owner, CONNECTED, first, master=False)
    sub = leg(
        s,
        LegType.RINGOUT_WEB_TO_SUBSCRIBER,
        status,
        sub_span,
        direction=Direction.OUTBOUND,
        frm=ext_party(owner, pbx.office.did(owner)),
        to=dest,
        owner=owner,
        transport=Transport.PSTN,
        action=Action.RINGOUT_WEB,
        itype=InternalType.RING_OUT,
        master=True,
    )
    by = Disconnector.CALLEE if status is BUSY else pbx.hangs_up()
    pstn(pbx, s, sub, sub_span, status, by=by, caller_id=pbx.office.did(owner))
    cost = _total_billing([to_caller, sub])
    # The record is the whole RingOut: from the user's first ring to the last hang-up.
    return [
        record(
            pbx,
            s,
            owner,
            [to_caller, sub],
            start_time=start,
            duration_ms=first.total_ms,
            from_party=to_caller.to_party,
            billing=cost,
            recording=pbx.recording(owner) if status is CONNECTED else None,
        )
    ]


def ringout_busy(pbx: Pbx, start: datetime) -> list[CallRecord]:
    # The user's own phone is busy, so RingCentral never dials the second leg: one leg only.
    owner = pbx.pick(_OUTBOUND_WEIGHT)
    dest = pbx.contact()
    s = pbx.session()
    lg = _ringout_to_caller(pbx, s, owner, BUSY, Span(start, pbx.ring_ms(0.5, 2)), master=True)
    return [record(pbx, s, owner, [lg], to_party=dest, from_party=lg.to_party)]


# --------------------------------------------------------------------------------------------
# Transfers: a user answers a PSTN call and hands it on to a colleague.


def _transfer_leg(
    s: Session, status: Status, span: Span, frm: Party, to: DemoExtension, direction: Direction
) -> Leg:
    return leg(
        s,
        LegType.TRANSFER_CALL,
        status,
        span,
        direction=direction,
        frm=frm,
        to=ext_party(to),
        owner=to,
        action=Action.TRANSFER,
    )


def transfer_blind(pbx: Pbx, start: datetime) -> list[CallRecord]:
    """A answers, then transfers without announcing; B's phone rings with the caller on it."""
    a, b = pbx.two_users()
    caller = pbx.contact()
    s = pbx.session()
    ring, talk_a = pbx.ring_ms(), pbx.ring_ms(15, 90)
    answered = pbx.rng.random() < 0.85
    ring_b = pbx.ring_ms(3, 15) if answered else pbx.ring_ms(20, 25)
    tail = pbx.talk_ms() if answered else pbx.ring_ms(12, 60)  # B's talk, or B's voicemail
    handover = start + _ms(ring + talk_a)
    whole = Span(start, ring, talk_a + ring_b + tail)
    trunk = _trunk_leg(
        pbx, s, ACCEPTED, whole, caller, ext_party(a, pbx.office.did(a)), a, by=pbx.hangs_up()
    )
    desk = _desk_leg(s, ACCEPTED, Span(start, ring, talk_a), caller, a)
    b_status = ACCEPTED if answered else VOICEMAIL
    out = _transfer_leg(
        s, b_status, Span(handover, ring_b, tail), ext_party(a), b, Direction.OUTBOUND
    )
    # A's log shows A's own part of the call; the transfer leg says where it went next.
    rec_a = record(
        pbx, s, a, [trunk, desk, out], duration_ms=ring + talk_a, recording=pbx.recording(a)
    )
    inbound = _transfer_leg(s, b_status, Span(handover, ring_b, tail), caller, b, Direction.INBOUND)
    inbound.master = True
    extra: dict[str, Any] = {"recording": pbx.recording(b)} if answered else {}
    if not answered:
        extra["message"] = inbound.message = pbx.voicemail()
    rec_b = record(pbx, s, b, [inbound], transport=Transport.PSTN, **extra)
    return [rec_a, rec_b]


def transfer_warm(pbx: Pbx, start: datetime) -> list[CallRecord]:
    """A answers, puts the caller on hold, calls B (a second session), then joins them up.

    RingCentral links the two sessions: the caller's session names the consultation as its
    ``transferTarget``, and the consultation names the caller's session as its ``transferee``.
    """
    a, b = pbx.two_users()
    caller = pbx.contact()
    s1, s2 = pbx.session(), pbx.session()
    ring, talk_a = pbx.ring_ms(), pbx.ring_ms(20, 120)
    consult = Span(start + _ms(ring + talk_a), pbx.ring_ms(2, 8), pbx.ring_ms(10, 60))
    handover = consult.end
    talk_b = pbx.talk_ms()
    a_part = ring + talk_a + consult.total_ms
    trunk = _trunk_leg(
        pbx,
        s1,
        ACCEPTED,
        Span(start, ring, a_part - ring + talk_b),
        caller,
        ext_party(a, pbx.office.did(a)),
        a,
        by=pbx.hangs_up(),
    )
    desk = _desk_leg(s1, ACCEPTED, Span(start, ring, a_part - ring), caller, a)
    out = _transfer_leg(
        s1, ACCEPTED, Span(handover, 0, talk_b), ext_party(a), b, Direction.OUTBOUND
    )
    inbound = _transfer_leg(s1, ACCEPTED, Span(handover, 0, talk_b), caller, b, Direction.INBOUND)
    inbound.master = True
    for lg in (trunk, desk, out, inbound):
        lg.transfer_target_session_id = s2.telephony_id
    rec_a = record(pbx, s1, a, [trunk, desk, out], duration_ms=a_part, recording=pbx.recording(a))
    rec_b = record(pbx, s1, b, [inbound], transport=Transport.PSTN, recording=pbx.recording(b))
    consultation = _ext_to_ext(pbx, s2, a, b, consult, True, transferee=s1.telephony_id)
    return [rec_a, *consultation, rec_b]
