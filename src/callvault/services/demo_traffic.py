"""Realistic, deterministic demo call traffic for the demo account.

Calls arrive with office-hours rhythm (busy weekday working hours, a trickle at night and at
weekends); each call is one scenario from the weighted table below, played by
``demo_scenarios``. Same seed and same ``now`` give the same records, ids included.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from callvault.domain.calls import CallRecord
from callvault.services import demo_scenarios as sc


@dataclass(slots=True, frozen=True)
class DemoExtension:
    id: int
    number: str
    name: str
    type: str


# Scenario → relative weight, per call (not per record: an internal call leaves two records).
# Roughly: half the calls come in from outside, a quarter go out, the rest stay inside.
SCENARIOS: dict[str, tuple[float, sc.Scenario]] = {
    "inbound_answered": (24, sc.inbound_answered),
    "inbound_missed": (7, sc.inbound_missed),
    "inbound_voicemail": (5, sc.inbound_voicemail),
    "inbound_busy": (2, sc.inbound_busy),
    "ring_group": (12, sc.ring_group),
    "forwarded": (4, sc.forwarded),
    "outbound_answered": (16, sc.outbound_answered),
    "outbound_no_answer": (5, sc.outbound_no_answer),
    "outbound_busy": (2, sc.outbound_busy),
    "ringout": (4, sc.ringout),
    "ringout_busy": (1, sc.ringout_busy),
    "internal": (11, sc.internal),
    "transfer_blind": (4, sc.transfer_blind),
    "transfer_warm": (3, sc.transfer_warm),
}

# The demo office keeps Pacific Standard Time all year (no tz database needed), 9 to 5.
OFFICE_TZ = timezone(timedelta(hours=-8), "PST")

# Relative call volume per office hour: a morning peak, a lunch dip, an afternoon peak.
# fmt: off
_WEEKDAY_HOURS = (
    0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.3, 0.8,   # 00-07: night, then early birds
    3.0, 9.0, 10.0, 9.5, 6.0, 7.5, 9.5, 9.0,  # 08-15: the working day, lunch dip at noon
    7.0, 3.5, 1.2, 0.6, 0.4, 0.3, 0.2, 0.1,   # 16-23: winding down
)
_WEEKEND_HOURS = (
    0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4,
    0.8, 1.5, 2.0, 2.0, 2.0, 2.0, 1.8, 1.5,
    1.2, 1.0, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1,
)
# fmt: on


def _calls_per_day(rng: random.Random, day: datetime) -> int:
    if day.weekday() >= 5:
        return rng.randint(8, 20)
    return rng.randint(80, 130)


def _call_times(rng: random.Random, start: datetime, end: datetime) -> Iterator[datetime]:
    """Call start times in ``[start, end)``, ascending, shaped by office hours."""
    local = start.astimezone(OFFICE_TZ)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        hours = _WEEKEND_HOURS if day.weekday() >= 5 else _WEEKDAY_HOURS
        count = _calls_per_day(rng, day)
        picks = rng.choices(range(24), weights=hours, k=count)
        times = sorted(
            day + timedelta(hours=h, milliseconds=rng.randrange(3_600_000)) for h in picks
        )
        for t in times:
            if start <= t < end:
                yield t.astimezone(UTC)
        day += timedelta(days=1)


def _utc_ms(now: datetime) -> datetime:
    """``now`` as UTC with whole milliseconds, the precision every call-log face carries."""
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _ends(record: CallRecord) -> datetime:
    ends = [record.start_time + timedelta(milliseconds=record.duration_ms)]
    ends += [lg.start_time + timedelta(milliseconds=lg.duration_ms) for lg in record.legs]
    return max(ends)


def generate_calls(
    extensions: list[DemoExtension], *, days: int, seed: int, now: datetime, main_number: str
) -> Iterator[CallRecord]:
    """Yield ``days`` of call records ending before ``now``, in ascending start time.

    Deterministic: the only randomness is ``random.Random(seed)``. Calls still going on at
    ``now`` are left out whole, so no record of a call appears without its siblings.
    Raises ``ValueError`` when ``extensions`` has fewer than two users.
    """
    end = _utc_ms(now)
    rng = random.Random(seed)
    pbx = sc.Pbx(rng=rng, seed=seed, office=sc.Office.of(extensions, main_number))
    names = list(SCENARIOS)
    weights = [SCENARIOS[n][0] for n in names]
    # A call's records never start before the call does, so once the next call begins,
    # everything queued that started earlier can be released in order.
    queue: list[tuple[datetime, int, CallRecord]] = []
    order = 0
    for start in _call_times(rng, end - timedelta(days=days), end):
        while queue and queue[0][0] <= start:
            yield heapq.heappop(queue)[2]
        scenario = SCENARIOS[rng.choices(names, weights=weights)[0]][1]
        records = scenario(pbx, start)
        if any(_ends(r) > end for r in records):
            continue
        for r in records:
            order += 1
            heapq.heappush(queue, (r.start_time, order, r))
    while queue:
        yield heapq.heappop(queue)[2]
