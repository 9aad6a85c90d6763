"""Simulated call flows: each kind of call played as the per-party events a phone system sends.

A small imaginary office (users, a support ring group answered by two of them, a company number)
takes and places calls. Every flow follows the telephony events reference (§5): one
``telephonySessionId`` (``s-…``) per session, party ids ``p-<session>-<n>`` in creation order, a
per-session ``sequence`` that starts at 2, technical directions (the calling side ``Outbound``,
the called side ``Inbound``) and RingCentral's status codes and reasons. Nothing here is real
traffic: event ids start with ``sim-``, SIP Call-IDs end in ``.sim.invalid`` and outside numbers
are in the 555-01xx range reserved for fiction.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from callvault.domain.enums import Direction
from callvault.domain.events import CallEvent, CallOrigin, Endpoint, PartyStatus, RingOutRole

OUT = Direction.OUTBOUND  # the calling side: the leg comes into the phone system
IN = Direction.INBOUND  # the called side: the phone system rings out to it

SETUP = PartyStatus.SETUP
PROCEEDING = PartyStatus.PROCEEDING
ANSWERED = PartyStatus.ANSWERED
HOLD = PartyStatus.HOLD
VOICEMAIL = PartyStatus.VOICEMAIL
DISCONNECTED = PartyStatus.DISCONNECTED
GONE = PartyStatus.GONE


@dataclass(slots=True, frozen=True)
class DemoExtension:
    """An extension of the demo office: ``type`` is ``User``, ``Department`` or ``IvrMenu``."""

    id: int
    number: str
    name: str
    type: str


@dataclass(frozen=True, slots=True)
class Office:
    """Who is who in the simulated company: users, the support ring group, an optional IVR
    menu extension, and the company number."""

    users: tuple[DemoExtension, ...]
    group: DemoExtension | None
    members: tuple[DemoExtension, ...]
    ivr: DemoExtension | None
    main_number: str

    @classmethod
    def of(cls, extensions: list[DemoExtension], main_number: str) -> Office:
        """Raises ``ValueError`` when there are fewer than two ``User`` extensions."""
        users = tuple(e for e in extensions if e.type == "User")
        if len(users) < 2:
            raise ValueError("simulated traffic needs at least two User extensions")
        group = next((e for e in extensions if e.type == "Department"), None)
        members = tuple(u for u in users if u.number in ("103", "104")) or users[:2]
        ivr = next((e for e in extensions if e.type == "IvrMenu"), None)
        return cls(users, group, members, ivr, main_number)

    def did(self, ext: DemoExtension) -> str:
        """An extension's direct number: the main number ending in the extension number."""
        return self.main_number[: -len(ext.number)] + ext.number

    def mobile(self, ext: DemoExtension) -> str:
        """The user's own mobile, where FindMe and RingOut ring them."""
        return f"+1415555{150 + self.users.index(ext):04d}"


def ext_endpoint(ext: DemoExtension, phone: str | None = None) -> Endpoint:
    """An extension as a party's from/to: its short number unless a dialled number is given."""
    return Endpoint(
        phone_number=phone or ext.number,
        name=ext.name,
        extension_number=ext.number,
        extension_id=str(ext.id),
    )


# --------------------------------------------------------------------------------------------
# Sessions and parties: ids, sequence numbers, and the events themselves.


def _ms(value: float) -> timedelta:
    return timedelta(milliseconds=int(value))


def _s(seconds: float) -> timedelta:
    return timedelta(milliseconds=int(seconds * 1000))


@dataclass(slots=True)
class Party:
    """One party of a session, with what every one of its events repeats."""

    session: Session
    id: str
    direction: Direction
    extension: DemoExtension | None
    frm: Endpoint
    to: Endpoint
    queue_call: bool = False
    role: RingOutRole | None = None
    sip_call_id: str | None = None
    answered: bool = False


@dataclass(slots=True)
class Session:
    """One telephony session: its ids, its sequence counter and the events emitted so far."""

    id: str
    legacy_id: str
    origin: CallOrigin
    events: list[CallEvent] = field(default_factory=list)
    _sequence: int = 1  # the first delivered notification is 2, as in every capture
    _parties: int = 0
    _last: datetime | None = None

    @property
    def hex(self) -> str:
        return self.id[2:]

    def party(
        self,
        direction: Direction,
        *,
        frm: Endpoint,
        to: Endpoint,
        ext: DemoExtension | None = None,
        queue_call: bool = False,
        role: RingOutRole | None = None,
        trunk: bool = False,
    ) -> Party:
        """A new party; ``trunk`` parties (outside numbers) carry a SIP Call-ID."""
        self._parties += 1
        party_id = f"p-{self.hex}-{self._parties}"
        sip = f"{self.hex[:16]}-{self._parties}@sbc.sim.invalid" if trunk else None
        return Party(self, party_id, direction, ext, frm, to, queue_call, role, sip)

    def undelivered(self, *, parties: int = 0, events: int = 0) -> None:
        """Parties and notifications the subscriber never sees (a party without a mailbox):
        they still use up party numbers and sequence numbers, so the stream shows gaps, as
        real streams do (reference §4)."""
        self._parties += parties
        self._sequence += events

    def emit(
        self,
        party: Party,
        status: PartyStatus,
        at: datetime,
        reason: str | None = None,
        *,
        peer: Party | None = None,
        recording_id: str | None = None,
    ) -> datetime:
        """Append one notification (at whole milliseconds); returns its time. A flow must emit
        a session's notifications in time order: the sequence follows emission order."""
        at = at.replace(microsecond=at.microsecond // 1000 * 1000)
        if self._last is not None and at < self._last:
            raise ValueError(f"{self.id}: event at {at} is earlier than {self._last}")
        self._last = at
        self._sequence += 1
        if status is ANSWERED:
            party.answered = True
        self.events.append(
            CallEvent(
                event_id=f"sim-{self.hex}-{self._sequence}",
                session_id=self.id,
                legacy_session_id=self.legacy_id,
                sequence=self._sequence,
                time=at,
                origin=self.origin,
                party_id=party.id,
                direction=party.direction,
                status=status,
                reason=reason,
                extension_id=party.extension.id if party.extension else None,
                from_endpoint=party.frm,
                to_endpoint=party.to,
                peer_session_id=peer.session.id if peer else None,
                peer_party_id=peer.id if peer else None,
                queue_call=party.queue_call,
                ring_out_role=party.role,
                sip_call_id=party.sip_call_id,
                recording_id=recording_id,
            )
        )
        return at


# --------------------------------------------------------------------------------------------
# The switch: ids and every random draw a call needs.

# Area code → caller-ID city name.
_AREAS = (
    ("650", "SAN MATEO CA"),
    ("415", "SAN FRANCISCO CA"),
    ("408", "SAN JOSE CA"),
    ("212", "NEW YORK NY"),
    ("312", "CHICAGO IL"),
    ("617", "BOSTON MA"),
    ("512", "AUSTIN TX"),
    ("206", "SEATTLE WA"),
    ("303", "DENVER CO"),
)
_FIRST = ("Maria", "James", "Priya", "Chen", "Olivia", "Omar", "Lucas", "Hana", "Noah", "Ines")
_LAST = ("Garcia", "Smith", "Patel", "Wong", "Brown", "Haddad", "Silva", "Kim", "Miller", "Rossi")

# Who gets which calls: sales talks to customers most, support takes the ring group.
INBOUND_WEIGHT = {"101": 1.0, "102": 3.0, "103": 2.0, "104": 2.0, "105": 1.5}
OUTBOUND_WEIGHT = {"101": 1.5, "102": 4.0, "103": 1.0, "104": 1.0, "105": 1.5}


@dataclass(slots=True)
class Switch:
    """The simulated phone system: hands out ids and makes every random draw.

    ``salt`` goes into every id, so runs with another seed or another start never collide.
    """

    rng: random.Random
    salt: str
    office: Office
    contacts: list[Endpoint] = field(init=False, default_factory=list)
    _contact_weights: list[float] = field(init=False, default_factory=list)
    _sessions: int = field(init=False, default=0)
    _legacy: int = field(init=False, default=0)
    _media: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        base = int.from_bytes(self._hash("legacy", 8), "big")
        self._legacy = 20_000_000_000 + base % 10**9 * 10
        self._media = 3_000_000_000 + base % 10**8 * 10
        self.contacts = [self._new_contact(n) for n in range(80)]
        # A few customers call again and again; most call once in a while (Zipf-like).
        total = 0.0
        for n in range(len(self.contacts)):
            total += 1 / (n + 1) ** 0.8
            self._contact_weights.append(total)

    def _hash(self, text: str, size: int) -> bytes:
        return hashlib.blake2b(f"{self.salt}:{text}".encode(), digest_size=size).digest()

    def session(self, origin: CallOrigin = CallOrigin.CALL) -> Session:
        self._sessions += 1
        self._legacy += self.rng.randint(3, 60)
        tsid = "s-" + self._hash(f"session:{self._sessions}", 16).hex()
        return Session(tsid, str(self._legacy), origin)

    def recording_id(self, owner: DemoExtension) -> str | None:
        """Support's lines record every call; others press record now and then."""
        if owner in self.office.members or self.rng.random() < 0.08:
            self._media += self.rng.randint(1, 9)
            return str(self._media)
        return None

    def _new_contact(self, n: int) -> Endpoint:
        code, city = self.rng.choice(_AREAS)
        # 555-0100..0149: numbers reserved for fiction, so nobody real is ever "called".
        number = f"+1{code}5550{100 + n % 50:03d}"
        if self.rng.random() < 0.6:
            name = f"{self.rng.choice(_LAST).upper()} {self.rng.choice(_FIRST).upper()}"
        else:
            name = city if self.rng.random() < 0.7 else "WIRELESS CALLER"
        return Endpoint(phone_number=number, name=name)

    def contact(self) -> Endpoint:
        return self.rng.choices(self.contacts, cum_weights=self._contact_weights)[0]

    def destination(self) -> Endpoint:
        """Where users call: mostly customers, some UK partners, now and then a toll-free line."""
        roll = self.rng.random()
        if roll < 0.08:
            return Endpoint(phone_number=f"+44207946{self.rng.randrange(1000):04d}")
        if roll < 0.12:
            return Endpoint(phone_number=f"+1800555{self.rng.randrange(100, 200):04d}")
        return self.contact()

    def pick(
        self, weights: dict[str, float], among: tuple[DemoExtension, ...] = ()
    ) -> DemoExtension:
        pool = among or self.office.users
        return self.rng.choices(pool, weights=[weights.get(u.number, 1.0) for u in pool])[0]

    def two_users(self) -> tuple[DemoExtension, DemoExtension]:
        a, b = self.rng.sample(self.office.users, 2)
        return a, b

    def seconds(self, lo: float, hi: float) -> timedelta:
        return _s(self.rng.uniform(lo, hi))

    def talk(self) -> timedelta:
        """Conversation length: log-normal around two and a half minutes, 8 s to 45 min."""
        seconds = self.rng.lognormvariate(math.log(150), 0.9)
        return _s(min(max(seconds, 8), 2700))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p


# --------------------------------------------------------------------------------------------
# Building blocks shared by the flows.


def _converse(
    sw: Switch,
    a: Party,
    b: Party,
    at: datetime,
    *,
    holder: Party | None = None,
) -> datetime:
    """``a`` and ``b`` talk from ``at``; maybe ``holder`` puts the call on hold for a while
    (unhold arrives as ``Answered`` again). Then one side hangs up and the other follows.
    Returns the time the last party left."""
    talk = sw.talk()
    end = at + talk
    if holder is not None and talk > timedelta(seconds=30) and sw.chance(0.25):
        hold_at = at + talk * sw.rng.uniform(0.3, 0.6)
        holder.session.emit(holder, HOLD, hold_at)
        back = hold_at + sw.seconds(8, 60)
        holder.session.emit(holder, ANSWERED, back)
        end = max(end, back + sw.seconds(5, 20))
    first, second = (a, b) if sw.chance(0.5) else (b, a)
    first.session.emit(first, DISCONNECTED, end)
    return second.session.emit(second, DISCONNECTED, end + sw.seconds(0.1, 0.4))


def _pstn_caller(s: Session, caller: Endpoint, dialled: str, at: datetime) -> Party:
    """The carrier delivers a call for ``dialled``: the caller's (Outbound) party is set up."""
    p = s.party(OUT, frm=caller, to=Endpoint(phone_number=dialled), trunk=True)
    s.emit(p, SETUP, at)
    return p


def _through_ivr(sw: Switch, s: Session, caller: Party, at: datetime) -> datetime:
    """The auto-receptionist answers on the main number and plays its menu; the caller picks an
    extension (reference §5.1: the menu leaves with no reason). An office without an IVR menu
    extension still routes through one, but its party is not delivered (a gap in the stream).
    Returns the time the caller made the choice."""
    ivr = sw.office.ivr
    choice = at + sw.seconds(5, 14)
    if ivr is None:
        s.undelivered(parties=1, events=1)  # the menu's party and its Setup
        s.emit(caller, ANSWERED, at + sw.seconds(0.3, 0.6))
        s.undelivered(events=1)  # the menu's Disconnected
        return choice
    menu = s.party(IN, frm=caller.frm, to=ext_endpoint(ivr, caller.to.phone_number), ext=ivr)
    s.emit(menu, SETUP, at + sw.seconds(0.1, 0.3))
    s.emit(caller, ANSWERED, at + sw.seconds(0.3, 0.6))
    s.emit(menu, DISCONNECTED, choice)
    return choice


def _ring(
    s: Session,
    ext: DemoExtension,
    caller: Party,
    to: Endpoint,
    at: datetime,
    *,
    queue_call: bool = False,
) -> Party:
    """An extension's party for an incoming call: set up, then ringing. The caller's party is
    ``Answered`` as soon as a destination is reached: the system took the call, nobody has
    answered yet (reference §5.3)."""
    p = s.party(IN, frm=caller.frm, to=to, ext=ext, queue_call=queue_call)
    s.emit(p, SETUP, at)
    if not caller.answered:
        s.emit(caller, ANSWERED, at + _ms(100))
    s.emit(p, PROCEEDING, at + _ms(300))
    return p


def _answer(sw: Switch, callee: Party, at: datetime) -> datetime:
    """The callee picks up (a recorded line starts its recording)."""
    owner = callee.extension
    rec = sw.recording_id(owner) if owner is not None and owner.type == "User" else None
    return callee.session.emit(callee, ANSWERED, at, recording_id=rec)


# --------------------------------------------------------------------------------------------
# Inbound calls from outside to one user: direct-dialled, or via the main number's IVR.


@dataclass(slots=True)
class _Inbound:
    s: Session
    caller: Party
    user: Party
    ringing: datetime


def _inbound_start(sw: Switch, start: datetime, *, ivr_share: float = 0.25) -> _Inbound:
    owner = sw.pick(INBOUND_WEIGHT)
    contact = sw.contact()
    s = sw.session()
    via_ivr = sw.chance(ivr_share)
    dialled = sw.office.main_number if via_ivr else sw.office.did(owner)
    caller = _pstn_caller(s, contact, dialled, start)
    at = _through_ivr(sw, s, caller, start) if via_ivr else start + sw.seconds(0.1, 0.3)
    user = _ring(s, owner, caller, ext_endpoint(owner, dialled), at)
    return _Inbound(s, caller, user, at)


def inbound_answered(sw: Switch, start: datetime) -> list[Session]:
    c = _inbound_start(sw, start)
    talking = _answer(sw, c.user, c.ringing + sw.seconds(3, 18))
    _converse(sw, c.caller, c.user, talking, holder=c.user)
    return [c.s]


def inbound_missed(sw: Switch, start: datetime) -> list[Session]:
    """Most misses are callers giving up mid-ring; the rest ring out on a user who has no
    voicemail, and the system drops the caller."""
    c = _inbound_start(sw, start)
    if sw.chance(0.7):
        gone = c.s.emit(c.caller, DISCONNECTED, c.ringing + sw.seconds(4, 25))
        c.s.emit(c.user, DISCONNECTED, gone + _ms(120), "Cancelled")
    else:
        gone = c.s.emit(c.user, DISCONNECTED, c.ringing + sw.seconds(28, 32), "NoAnswer")
        c.s.emit(c.caller, DISCONNECTED, gone + _ms(150))
    return [c.s]


def inbound_voicemail(sw: Switch, start: datetime) -> list[Session]:
    """Four to six rings, then the greeting and a message of a few seconds to a minute and a
    half; the caller's party stays answered throughout (reference §5.5)."""
    c = _inbound_start(sw, start)
    greeting = c.s.emit(c.user, VOICEMAIL, c.ringing + sw.seconds(20, 30))
    done = c.s.emit(c.caller, DISCONNECTED, greeting + sw.seconds(15, 100))
    c.s.emit(c.user, DISCONNECTED, done + _ms(100), "Voicemail")
    return [c.s]


def inbound_busy(sw: Switch, start: datetime) -> list[Session]:
    """The user is already on a call with call waiting off: the switch answers busy at once."""
    owner = sw.pick(INBOUND_WEIGHT)
    contact = sw.contact()
    s = sw.session()
    caller = _pstn_caller(s, contact, sw.office.did(owner), start)
    at = start + sw.seconds(0.1, 0.3)
    user = s.party(IN, frm=contact, to=ext_endpoint(owner, sw.office.did(owner)), ext=owner)
    s.emit(user, SETUP, at)
    gone = s.emit(user, DISCONNECTED, at + sw.seconds(0.3, 1.5), "TargetBusy")
    s.emit(caller, DISCONNECTED, gone + _ms(100))
    return [s]


# --------------------------------------------------------------------------------------------
# The support ring group: its own party, then every member's phone rings in parallel.


def _ring_group(sw: Switch, start: datetime) -> tuple[Session, Party, Party, list[Party], datetime]:
    office = sw.office
    group = office.group
    if group is None:
        raise ValueError("the office has no ring group")
    contact = sw.contact()
    s = sw.session()
    via_main = sw.chance(0.5)
    dialled = office.main_number if via_main else office.did(group)
    caller = _pstn_caller(s, contact, dialled, start)
    at = _through_ivr(sw, s, caller, start) if via_main else start + sw.seconds(0.1, 0.3)
    hunt = s.party(IN, frm=contact, to=ext_endpoint(group, dialled), ext=group)
    s.emit(hunt, SETUP, at)
    if not caller.answered:
        s.emit(caller, ANSWERED, at + _ms(100))  # the group takes the call: greeting, music
    # Every member's phone is offered the call at once (queueCall), then they all ring.
    offered = at + sw.seconds(1, 3)
    members = [
        s.party(IN, frm=contact, to=ext_endpoint(m), ext=m, queue_call=True) for m in office.members
    ]
    for n, m in enumerate(members):
        s.emit(m, SETUP, offered + _ms(20 * n))
    for n, m in enumerate(members):
        s.emit(m, PROCEEDING, offered + _ms(250 + 20 * n))
    return s, caller, hunt, members, at


def ring_group_answered(sw: Switch, start: datetime) -> list[Session]:
    """One member answers; the others stop ringing (picked up elsewhere) and the group's own
    party leaves as answered by an agent (reference §5.4)."""
    if sw.office.group is None:
        return inbound_answered(sw, start)
    s, caller, hunt, members, at = _ring_group(sw, start)
    winner = sw.rng.choice(members)
    talking = _answer(sw, winner, at + sw.seconds(5, 22))
    # The others stop ringing; which reason RingCentral sends is uncertain (§5.4).
    for m in members:
        if m is not winner:
            s.emit(m, DISCONNECTED, talking + _ms(60), "Pickup" if sw.chance(0.5) else None)
    s.emit(hunt, DISCONNECTED, talking + _ms(120), "AgentAnswered")
    _converse(sw, caller, winner, talking + _ms(200), holder=winner)
    return [s]


def ring_group_missed(sw: Switch, start: datetime) -> list[Session]:
    """Nobody in the group picks up; after half a minute the caller gives up."""
    if sw.office.group is None:
        return inbound_missed(sw, start)
    s, caller, hunt, members, at = _ring_group(sw, start)
    gone = s.emit(caller, DISCONNECTED, at + sw.seconds(28, 32))
    for m in members:
        s.emit(m, DISCONNECTED, gone + _ms(80), "Cancelled")
    s.emit(hunt, DISCONNECTED, gone + _ms(160), "Cancelled")
    return [s]


# --------------------------------------------------------------------------------------------
# FindMe: the desk phone and the user's mobile ring together; one of them answers.


def findme(sw: Switch, start: datetime) -> list[Session]:
    office = sw.office
    others = tuple(u for u in office.users if u not in office.members)
    owner = sw.pick(INBOUND_WEIGHT, others)
    contact = sw.contact()
    s = sw.session()
    dialled = office.did(owner)
    caller = _pstn_caller(s, contact, dialled, start)
    at = start + sw.seconds(0.1, 0.3)
    desk = _ring(s, owner, caller, ext_endpoint(owner, dialled), at)
    # The forwarding party belongs to the user but rings an outside number (reference §5.4).
    mobile = s.party(
        IN,
        frm=contact,
        to=Endpoint(phone_number=office.mobile(owner), name=owner.name),
        ext=owner,
        trunk=True,
    )
    s.emit(mobile, PROCEEDING, at + _ms(400))
    on_mobile = sw.chance(0.65)
    taker, other = (mobile, desk) if on_mobile else (desk, mobile)
    talking = _answer(sw, taker, at + sw.seconds(5, 15))
    # The other phone stops ringing because this one took the call; no reason is known.
    s.emit(other, DISCONNECTED, talking + _ms(60))
    _converse(sw, caller, taker, talking + _ms(100), holder=taker)
    return [s]


# --------------------------------------------------------------------------------------------
# Outbound calls from a user's phone to an outside number (reference §5.2).


def _outbound(sw: Switch, start: datetime) -> tuple[Session, Party, Party]:
    office = sw.office
    owner = sw.pick(OUTBOUND_WEIGHT)
    dest = sw.destination()
    caller_id = office.did(owner) if sw.chance(0.7) else office.main_number
    s = sw.session()
    user = s.party(OUT, frm=ext_endpoint(owner, caller_id), to=dest, ext=owner)
    s.emit(user, SETUP, start)
    far = s.party(IN, frm=ext_endpoint(owner, caller_id), to=dest, trunk=True)
    s.emit(far, PROCEEDING, start + sw.seconds(0.2, 0.6))
    s.emit(user, PROCEEDING, start + sw.seconds(0.6, 1.0))
    return s, user, far


def outbound_answered(sw: Switch, start: datetime) -> list[Session]:
    s, user, far = _outbound(sw, start)
    answered = s.emit(far, ANSWERED, start + sw.seconds(4, 20))
    assert user.extension is not None
    s.emit(user, ANSWERED, answered + _ms(60), recording_id=sw.recording_id(user.extension))
    _converse(sw, user, far, answered + _ms(60), holder=user)
    return [s]


def outbound_no_answer(sw: Switch, start: datetime) -> list[Session]:
    """Nobody picks up: usually the user gives up, sometimes the carrier times out."""
    s, user, far = _outbound(sw, start)
    if sw.chance(0.7):
        gone = s.emit(user, DISCONNECTED, start + sw.seconds(20, 45))
        s.emit(far, DISCONNECTED, gone + _ms(100), "Cancelled")
    else:
        gone = s.emit(far, DISCONNECTED, start + sw.seconds(55, 62), "NoAnswer")
        s.emit(user, DISCONNECTED, gone + _ms(100))
    return [s]


def outbound_busy(sw: Switch, start: datetime) -> list[Session]:
    s, user, far = _outbound(sw, start)
    gone = s.emit(far, DISCONNECTED, start + sw.seconds(1, 3), "TargetBusy")
    s.emit(user, DISCONNECTED, gone + _ms(100))
    return [s]


# --------------------------------------------------------------------------------------------
# Extension to extension (reference §5.3): the caller's Answered means "destination reached".


def _internal(sw: Switch, start: datetime) -> tuple[Session, Party, Party, datetime]:
    a, b = sw.two_users()
    s = sw.session()
    caller = s.party(OUT, frm=ext_endpoint(a), to=ext_endpoint(b), ext=a)
    s.emit(caller, SETUP, start)
    callee = s.party(IN, frm=ext_endpoint(a), to=ext_endpoint(b), ext=b)
    s.emit(callee, SETUP, start + _ms(100))
    s.emit(caller, ANSWERED, start + _ms(200))
    ringing = s.emit(callee, PROCEEDING, start + _ms(300))
    return s, caller, callee, ringing


def internal_answered(sw: Switch, start: datetime) -> list[Session]:
    s, caller, callee, ringing = _internal(sw, start)
    assert callee.extension is not None
    rec = sw.recording_id(callee.extension)
    talking = s.emit(callee, ANSWERED, ringing + sw.seconds(2, 10), recording_id=rec)
    _converse(sw, caller, callee, talking, holder=caller)
    return [s]


def internal_missed(sw: Switch, start: datetime) -> list[Session]:
    s, caller, callee, ringing = _internal(sw, start)
    gone = s.emit(caller, DISCONNECTED, ringing + sw.seconds(15, 30))
    s.emit(callee, DISCONNECTED, gone + _ms(120), "Cancelled")
    return [s]


# --------------------------------------------------------------------------------------------
# RingOut (reference §5.8): the platform rings the user's own phone first, then the callee.
# Both parties are Inbound, because the platform calls out to both.


def _ringout_initiator(
    sw: Switch, start: datetime
) -> tuple[Session, DemoExtension, Endpoint, Party]:
    owner = sw.pick(OUTBOUND_WEIGHT)
    dest = sw.contact()
    s = sw.session(CallOrigin.RINGOUT)
    mine = Endpoint(phone_number=sw.office.mobile(owner), name=owner.name)
    initiator = s.party(IN, frm=dest, to=mine, ext=owner, role=RingOutRole.INITIATOR, trunk=True)
    s.emit(initiator, PROCEEDING, start)
    return s, owner, dest, initiator


def _ringout(sw: Switch, start: datetime, *, answered: bool) -> list[Session]:
    s, owner, dest, initiator = _ringout_initiator(sw, start)
    picked = s.emit(initiator, ANSWERED, start + sw.seconds(3, 10))
    target = s.party(
        IN,
        frm=Endpoint(phone_number=sw.office.did(owner), name=owner.name),
        to=dest,
        role=RingOutRole.TARGET,
        trunk=True,
    )
    ringing = s.emit(target, PROCEEDING, picked + sw.seconds(0.8, 1.5))
    if answered:
        rec = sw.recording_id(owner)
        talking = s.emit(target, ANSWERED, ringing + sw.seconds(4, 20), recording_id=rec)
        _converse(sw, initiator, target, talking)
    else:
        gone = s.emit(target, DISCONNECTED, ringing + sw.seconds(25, 40), "NoAnswer")
        s.emit(initiator, DISCONNECTED, gone + _ms(200))
    return [s]


def ringout_answered(sw: Switch, start: datetime) -> list[Session]:
    return _ringout(sw, start, answered=True)


def ringout_no_answer(sw: Switch, start: datetime) -> list[Session]:
    return _ringout(sw, start, answered=False)


def ringout_busy(sw: Switch, start: datetime) -> list[Session]:
    """The user's own phone is busy, so the callee is never dialled: one party only."""
    s, _owner, _dest, initiator = _ringout_initiator(sw, start)
    s.emit(initiator, DISCONNECTED, start + sw.seconds(0.5, 2), "TargetBusy")
    return [s]


# --------------------------------------------------------------------------------------------
# Transfers: a user answers an outside call and hands it on to a colleague.


def transfer_blind(sw: Switch, start: datetime) -> list[Session]:
    """A answers, then transfers without announcing (reference §5.6): A's party leaves with
    ``BlindTransfer`` and B's phone rings in the same session with the caller on it."""
    a, b = sw.two_users()
    contact = sw.contact()
    s = sw.session()
    caller = _pstn_caller(s, contact, sw.office.did(a), start)
    first = _ring(s, a, caller, ext_endpoint(a, sw.office.did(a)), start + sw.seconds(0.1, 0.3))
    talking = _answer(sw, first, start + sw.seconds(3, 15))
    handover = s.emit(first, DISCONNECTED, talking + sw.seconds(15, 90), "BlindTransfer")
    second = _ring(s, b, caller, ext_endpoint(b), handover)
    talking = _answer(sw, second, handover + sw.seconds(3, 15))
    _converse(sw, caller, second, talking, holder=second)
    return [s]


def transfer_warm(sw: Switch, start: datetime) -> list[Session]:
    """A answers, holds the caller, calls B in a second session, then joins them up
    (reference §5.7): A's parties in both sessions leave ``Gone``/``AttendedTransfer``, each
    pointing at the other session's surviving party; the caller and B talk on."""
    a, b = sw.two_users()
    contact = sw.contact()
    s1 = sw.session()
    caller = _pstn_caller(s1, contact, sw.office.did(a), start)
    at = start + sw.seconds(0.1, 0.3)
    a1 = _ring(s1, a, caller, ext_endpoint(a, sw.office.did(a)), at)
    talking = _answer(sw, a1, at + sw.seconds(3, 15))
    held = s1.emit(a1, HOLD, talking + sw.seconds(20, 120))
    # The consultation: an internal call from A to B in its own session.
    s2 = sw.session()
    dialled = held + sw.seconds(1, 3)
    a2 = s2.party(OUT, frm=ext_endpoint(a), to=ext_endpoint(b), ext=a)
    s2.emit(a2, SETUP, dialled)
    b2 = s2.party(IN, frm=ext_endpoint(a), to=ext_endpoint(b), ext=b)
    s2.emit(b2, SETUP, dialled + _ms(100))
    s2.emit(a2, ANSWERED, dialled + _ms(200))
    ringing = s2.emit(b2, PROCEEDING, dialled + _ms(300))
    consult = s2.emit(b2, ANSWERED, ringing + sw.seconds(2, 8), recording_id=sw.recording_id(b))
    joined = consult + sw.seconds(10, 60)
    s1.emit(a1, GONE, joined, "AttendedTransfer", peer=b2)
    s2.emit(a2, GONE, joined + _ms(30), "AttendedTransfer", peer=caller)
    _converse(sw, caller, b2, joined + _ms(100))
    return [s1, s2]


# --------------------------------------------------------------------------------------------
# The mix: scenario → relative weight per call (an internal call leaves two records).
# Roughly half the calls come in from outside, a quarter go out, the rest stay inside.

Flow = Callable[[Switch, datetime], list[Session]]

SCENARIOS: dict[str, tuple[float, Flow]] = {
    "inbound_answered": (24, inbound_answered),
    "inbound_missed": (7, inbound_missed),
    "inbound_voicemail": (5, inbound_voicemail),
    "inbound_busy": (2, inbound_busy),
    "ring_group_answered": (10, ring_group_answered),
    "ring_group_missed": (2, ring_group_missed),
    "findme": (4, findme),
    "outbound_answered": (16, outbound_answered),
    "outbound_no_answer": (5, outbound_no_answer),
    "outbound_busy": (2, outbound_busy),
    "ringout_answered": (3, ringout_answered),
    "ringout_no_answer": (1, ringout_no_answer),
    "ringout_busy": (1, ringout_busy),
    "internal_answered": (9, internal_answered),
    "internal_missed": (2, internal_missed),
    "transfer_blind": (4, transfer_blind),
    "transfer_warm": (3, transfer_warm),
}
