"""Correlator alone: events per second on one core with many concurrent calls, and memory.

Builds N calls of a realistic 9-event flow (caller Setup, callee Setup/Proceeding/Answered,
hold and unhold, both hang up), interleaves them so N calls are in progress at once, and feeds
every event to one ``Correlator``, building the finished calls' records as the live service
does. Reports the median of several rounds and the peak traced memory of one round.

    .venv/bin/python bench/correlator.py --calls 10000 --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from callvault.correlator.correlator import ChangeKind, Correlator
from callvault.correlator.records import build_records
from callvault.domain.enums import Direction
from callvault.domain.events import CallEvent, Endpoint, PartyStatus

T0 = datetime(2024, 1, 1, tzinfo=UTC)
OUT, IN = Direction.OUTBOUND, Direction.INBOUND
S = PartyStatus
FLOW = (
    ("p-1", OUT, S.SETUP, False),
    ("p-2", IN, S.SETUP, True),
    ("p-1", OUT, S.ANSWERED, False),
    ("p-2", IN, S.PROCEEDING, True),
    ("p-2", IN, S.ANSWERED, True),
    ("p-2", IN, S.HOLD, True),
    ("p-2", IN, S.ANSWERED, True),
    ("p-2", IN, S.DISCONNECTED, True),
    ("p-1", OUT, S.DISCONNECTED, False),
)


def call_events(n: int) -> list[CallEvent]:
    session = f"s-{n:032x}"
    start = T0 + timedelta(milliseconds=n * 7)
    caller = Endpoint(phone_number=f"+1415555{n % 10000:04d}", name="Caller")
    callee = Endpoint(phone_number="+16505550100", name="Support", extension_id=str(100 + n % 50))
    return [
        CallEvent(
            event_id=f"{session}:{i}",
            session_id=session,
            legacy_session_id=str(4_000_000_000 + n),
            sequence=i + 2,
            time=start + timedelta(seconds=i * 4),
            party_id=f"p-{session[2:]}-{party[-1]}",
            direction=direction,
            status=status,
            extension_id=100 + n % 50 if own else None,
            from_endpoint=caller,
            to_endpoint=callee,
        )
        for i, (party, direction, status, own) in enumerate(FLOW)
    ]


def interleaved(calls: int) -> list[CallEvent]:
    """Step i of every call before step i+1 of any: ``calls`` calls in progress at once."""
    flows = [call_events(n) for n in range(calls)]
    return [flow[i] for i in range(len(FLOW)) for flow in flows]


def run(
    events: list[CallEvent],
    clock: Callable[[], float] = time.perf_counter,
    *,
    records: bool = True,
) -> tuple[float, int]:
    """Seconds to feed every event (and, unless ``records`` is False, build finished calls'
    records), and the number of records built."""
    correlator = Correlator()
    built = 0
    started = clock()
    for event in events:
        change = correlator.feed(1, event)
        if records and change is not None and change.kind is ChangeKind.FINISHED:
            built += len(build_records(change.call))
    return clock() - started, built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=10_000, help="concurrent calls")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1,000 calls, 2 rounds")
    args = parser.parse_args()
    calls, rounds = (1_000, 2) if args.quick else (args.calls, args.rounds)
    events = interleaved(calls)
    rates, cpu_rates = [], []
    for _ in range(rounds):
        seconds, records = run(events)
        rates.append(len(events) / seconds)
        # CPU time of this process: what one core delivers, whatever else the machine runs.
        cpu_seconds, _ = run(events, time.process_time)
        cpu_rates.append(len(events) / cpu_seconds)
    tracemalloc.start()
    run(events)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"events per round        {len(events):>12,}")
    print(f"concurrent calls        {calls:>12,}")
    print(f"records built per round {records:>12,}")
    print(f"median events/s         {statistics.median(rates):>12,.0f}")
    print(f"min / max events/s      {min(rates):>12,.0f} / {max(rates):,.0f}")
    print(f"median events/CPU-s     {statistics.median(cpu_rates):>12,.0f}")
    grouping = [
        len(events) / run(events, time.process_time, records=False)[0] for _ in range(rounds)
    ]
    print(f"  without record building {statistics.median(grouping):>10,.0f} events/CPU-s")
    print(f"peak traced memory      {peak / 2**20:>12.1f} MiB")


if __name__ == "__main__":
    main()
