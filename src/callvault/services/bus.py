"""In-process publish/subscribe of call changes, for live dashboards (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Subscription:
    account_id: int
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(1000))


class ChangeBus:
    """Publishers may run in any thread; each subscriber reads from its own asyncio queue.

    A subscriber that does not keep up loses the oldest messages rather than blocking calls.
    """

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()

    def subscribe(self, account_id: int) -> Subscription:
        sub = Subscription(account_id, asyncio.get_running_loop())
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def publish(self, account_id: int, message: dict[str, Any]) -> None:
        with self._lock:
            targets = [s for s in self._subs if s.account_id == account_id]
        for sub in targets:
            sub.loop.call_soon_threadsafe(_offer, sub.queue, message)


def _offer(queue: asyncio.Queue[dict[str, Any]], message: dict[str, Any]) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(message)
