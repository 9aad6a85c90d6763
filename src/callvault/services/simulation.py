"""Simulated call traffic, as events: a deterministic sandbox event source.

The simulated office (``simulation_flows``) plays each call as the per-party events a phone
system sends; this module decides when calls start and interleaves the events of concurrent
calls into one stream in time order. Two shapes of traffic:

* ``simulate_calls``: a window of office life (busy weekday working hours, a trickle at night
  and at weekends), for the demo's call history;
* ``simulate_live``: an endless stream at a steady rate from a given moment, for
  ``callvault simulate``.

Deterministic: the only randomness is ``random.Random(seed)``, and no clock is read; the same
arguments give the same events, ids included. Nothing here is real traffic: events are meant to
be journaled with ``source="simulated"``, their ids start with ``sim-``.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from callvault.domain.events import CallEvent
from callvault.services.simulation_flows import SCENARIOS, DemoExtension, Office, Switch

__all__ = [
    "OFFICE_TZ",
    "SCENARIOS",
    "SOURCE",
    "DemoExtension",
    "SimulatedCall",
    "interleave",
    "live_calls",
    "simulate_calls",
    "simulate_live",
    "simulated_calls",
]

# The journal source simulated events are recorded under.
SOURCE = "simulated"

# The simulated office keeps Pacific Standard Time all year (no tz database needed), 9 to 5.
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


@dataclass(slots=True, frozen=True)
class SimulatedCall:
    """One simulated call: which scenario it plays, and its events in time order (a warm
    transfer's two sessions interleaved)."""

    scenario: str
    start: datetime
    events: tuple[CallEvent, ...]

    @property
    def end(self) -> datetime:
        return self.events[-1].time

    @property
    def sessions(self) -> list[str]:
        return list(dict.fromkeys(e.session_id for e in self.events))


def _utc_ms(moment: datetime) -> datetime:
    """``moment`` as UTC with whole milliseconds, the precision events carry."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _switch(
    extensions: Sequence[DemoExtension], main_number: str, seed: int, start: datetime
) -> tuple[random.Random, Switch]:
    rng = random.Random(seed)
    # Ids depend on the seed and the start, so two runs into one account never share a session.
    salt = f"sim:{seed}:{start.isoformat()}"
    return rng, Switch(rng=rng, salt=salt, office=Office.of(list(extensions), main_number))


def _play(sw: Switch, start: datetime) -> SimulatedCall:
    names = list(SCENARIOS)
    name = sw.rng.choices(names, weights=[SCENARIOS[n][0] for n in names])[0]
    sessions = SCENARIOS[name][1](sw, start)
    order = {s.id: n for n, s in enumerate(sessions)}
    events = sorted(
        (e for s in sessions for e in s.events),
        key=lambda e: (e.time, order[e.session_id], e.sequence),
    )
    return SimulatedCall(name, start, tuple(events))


def _daily_volume(rng: random.Random, day: datetime, calls_per_day: int | None) -> int:
    weekend = day.weekday() >= 5
    if calls_per_day is None:
        return rng.randint(8, 20) if weekend else rng.randint(80, 130)
    mean = calls_per_day / 8 if weekend else calls_per_day
    return max(0, round(mean * rng.uniform(0.8, 1.2)))


def _office_hours(
    rng: random.Random, start: datetime, end: datetime, calls_per_day: int | None
) -> Iterator[datetime]:
    """Call start times in ``[start, end)``, ascending, shaped by office hours."""
    day = start.astimezone(OFFICE_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        hours = _WEEKEND_HOURS if day.weekday() >= 5 else _WEEKDAY_HOURS
        count = _daily_volume(rng, day, calls_per_day)
        picks = rng.choices(range(24), weights=hours, k=count)
        times = sorted(
            day + timedelta(hours=h, milliseconds=rng.randrange(3_600_000)) for h in picks
        )
        for t in times:
            if start <= t < end:
                yield t.astimezone(UTC)
        day += timedelta(days=1)


def simulated_calls(
    extensions: Sequence[DemoExtension],
    *,
    start: datetime,
    end: datetime,
    seed: int,
    main_number: str,
    calls_per_day: int | None = None,
) -> Iterator[SimulatedCall]:
    """Calls that start in ``[start, end)`` and are over before ``end``, in start order.

    ``calls_per_day`` is the volume of a working day (weekends get an eighth of it); by
    default a working day has 80-130 calls and a weekend day 8-20. A call still going on at
    ``end`` is left out whole, so every call given is complete. Raises ``ValueError`` when
    ``extensions`` has fewer than two users.
    """
    start, end = _utc_ms(start), _utc_ms(end)
    rng, sw = _switch(extensions, main_number, seed, start)
    for t in _office_hours(rng, start, end, calls_per_day):
        call = _play(sw, t)
        if call.end < end:
            yield call


def live_calls(
    extensions: Sequence[DemoExtension],
    *,
    start: datetime,
    seed: int,
    main_number: str,
    calls_per_minute: float,
    until: datetime | None = None,
) -> Iterator[SimulatedCall]:
    """Calls arriving at random (a Poisson stream of ``calls_per_minute``) from ``start``, in
    start order: every call that starts before ``until``, or without end when it is None.
    Each call is complete, so its last events may come after ``until``."""
    if calls_per_minute <= 0:
        raise ValueError("calls_per_minute must be positive")
    start = _utc_ms(start)
    rng, sw = _switch(extensions, main_number, seed, start)
    t = start
    while True:
        t = _utc_ms(t + timedelta(seconds=rng.expovariate(calls_per_minute / 60)))
        if until is not None and t >= until:
            return
        yield _play(sw, t)


def interleave(calls: Iterable[SimulatedCall]) -> Iterator[CallEvent]:
    """The events of ``calls`` (given in start order) merged into one stream in time order.

    Lazy: a call's events are released once the next call has started later than them, so an
    endless supply of calls gives an endless stream.
    """
    heap: list[tuple[datetime, int, CallEvent]] = []
    order = 0
    for call in calls:
        while heap and heap[0][0] <= call.start:
            yield heapq.heappop(heap)[2]
        for event in call.events:
            order += 1
            heapq.heappush(heap, (event.time, order, event))
    while heap:
        yield heapq.heappop(heap)[2]


def simulate_calls(
    extensions: Sequence[DemoExtension],
    *,
    start: datetime,
    end: datetime,
    seed: int,
    main_number: str,
    calls_per_day: int | None = None,
) -> Iterator[CallEvent]:
    """Simulated events of the calls between ``start`` and ``end`` (see ``simulated_calls``),
    in time order, concurrent calls interleaved."""
    return interleave(
        simulated_calls(
            extensions,
            start=start,
            end=end,
            seed=seed,
            main_number=main_number,
            calls_per_day=calls_per_day,
        )
    )


def simulate_live(
    extensions: Sequence[DemoExtension],
    *,
    start: datetime,
    seed: int,
    main_number: str,
    calls_per_minute: float,
    until: datetime | None = None,
) -> Iterator[CallEvent]:
    """An endless (or, with ``until``, bounded) stream of simulated events from ``start``, in
    time order (see ``live_calls``)."""
    return interleave(
        live_calls(
            extensions,
            start=start,
            seed=seed,
            main_number=main_number,
            calls_per_minute=calls_per_minute,
            until=until,
        )
    )
