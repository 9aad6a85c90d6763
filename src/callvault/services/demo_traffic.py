"""Realistic demo call traffic (placeholder being replaced by the full generator)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from callvault.domain.calls import CallRecord, Leg, Party
from callvault.domain.enums import Action, Direction, LegType, Result, Transport


@dataclass(slots=True, frozen=True)
class DemoExtension:
    id: int
    number: str
    name: str
    type: str


def generate_calls(
    extensions: list[DemoExtension], *, days: int, seed: int, now: datetime, main_number: str
) -> Iterator[CallRecord]:
    rng = random.Random(seed)
    users = [e for e in extensions if e.type == "User"]
    start = now - timedelta(days=days)
    n = 0
    t = start
    while True:
        t += timedelta(minutes=rng.randint(5, 40))
        if t >= now:
            return
        ext = rng.choice(users)
        n += 1
        caller = f"+1415555{rng.randint(0, 9999):04d}"
        rec_id = f"DEMO{seed}X{n:07d}"
        answered = rng.random() < 0.7
        ms = rng.randint(20_000, 600_000) if answered else 0
        result = Result.ACCEPTED if answered else Result.MISSED
        frm = Party(phone_number=caller, name="Caller")
        to = Party(phone_number=main_number, extension_number=ext.number, name=ext.name)
        yield CallRecord(
            id=rec_id,
            session_id=str(900_000_000 + n),
            telephony_session_id=f"s-demo{seed}{n:08x}",
            extension_id=ext.id,
            direction=Direction.INBOUND,
            action=Action.PHONE_CALL,
            start_time=t,
            duration_ms=ms,
            result=result,
            transport=Transport.PSTN,
            from_party=frm,
            to_party=to,
            legs=[
                Leg(
                    leg_type=LegType.ACCEPT,
                    direction=Direction.INBOUND,
                    start_time=t,
                    duration_ms=ms,
                    result=result,
                    extension_id=ext.id,
                    from_party=frm,
                    to_party=to,
                    master=True,
                )
            ],
        )
