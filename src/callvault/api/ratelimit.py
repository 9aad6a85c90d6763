"""Sliding-window rate limiting per (user, app, group) with a penalty box, in process memory.

Mirrors RingCentral's usage plans: each group (light, medium, heavy, auth) allows N requests per
window; once exceeded, every request in that group is refused until the penalty interval has
passed without further attempts.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from callvault.settings import RateLimitProfile


@dataclass(slots=True, frozen=True)
class GroupLimit:
    requests: int
    window: int = 60
    penalty: int = 60


RINGCENTRAL_LIMITS: dict[str, GroupLimit] = {
    "light": GroupLimit(50),
    "medium": GroupLimit(40),
    "heavy": GroupLimit(10),
    "auth": GroupLimit(5),
}


def limits_for(profile: RateLimitProfile) -> dict[str, GroupLimit] | None:
    if profile is RateLimitProfile.OFF:
        return None
    if profile is RateLimitProfile.RELAXED:
        return {g: GroupLimit(lim.requests * 100) for g, lim in RINGCENTRAL_LIMITS.items()}
    return dict(RINGCENTRAL_LIMITS)


@dataclass(slots=True, frozen=True)
class Verdict:
    allowed: bool
    group: str
    limit: int
    remaining: int
    window: int
    retry_after: int = 0


class RateLimiter:
    def __init__(self, limits: dict[str, GroupLimit]) -> None:
        self.limits = limits
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._penalty_until: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def check(self, key: str, group: str) -> Verdict:
        limit = self.limits[group]
        now = time.monotonic()
        slot = (key, group)
        with self._lock:
            until = self._penalty_until.get(slot, 0.0)
            if until > now:
                # A request during the penalty restarts it, as RingCentral documents.
                self._penalty_until[slot] = now + limit.penalty
                return Verdict(False, group, limit.requests, 0, limit.window, limit.penalty)
            hits = self._hits.setdefault(slot, deque())
            while hits and hits[0] <= now - limit.window:
                hits.popleft()
            if len(hits) >= limit.requests:
                self._penalty_until[slot] = now + limit.penalty
                return Verdict(False, group, limit.requests, 0, limit.window, limit.penalty)
            hits.append(now)
            return Verdict(True, group, limit.requests, limit.requests - len(hits), limit.window)
