"""The time source services ask; tests and demos pass their own."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def now_ms(clock: Clock) -> int:
    return int(clock().timestamp() * 1000)


def monotonic() -> float:
    return time.monotonic()
