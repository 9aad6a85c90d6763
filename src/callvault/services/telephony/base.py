"""The telephony backend protocol and the order it is given.

callvault does not make calls itself: a backend asks something that can (a simulator, a PBX)
to ring the user's phone and then the number they want, and the call's progress comes back as
call events (origin ``RingOut``, parties with ``Initiator``/``Target`` roles, telephony events
reference §5.8) through ``LiveCallService.accept``, like any other call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from callvault.domain.events import CallEvent
from callvault.errors import CallvaultError

# Where a backend hands the events it makes up itself: (account id, events).
EventSink = Callable[[int, Sequence[CallEvent]], object]


class TelephonyUnavailable(CallvaultError):
    """The phone system could not be asked (unreachable, or it refused the request)."""

    code = "telephony-unavailable"


@dataclass(slots=True, frozen=True, kw_only=True)
class RingOutOrder:
    """A RingOut to place: ring ``from_number`` (the user's phone) first, then ``to_number``
    showing ``caller_id``. ``telephony_session_id`` is the session id callvault proposes for
    the call's events."""

    ringout_id: str
    account_id: int
    extension_id: int
    extension_number: str
    extension_name: str
    telephony_session_id: str
    from_number: str
    to_number: str
    caller_id: str
    play_prompt: bool = False
    country_id: str | None = None


class TelephonyBackend(Protocol):
    """Places and cancels RingOut calls. ``simulated`` is true when nothing really rings."""

    name: str
    simulated: bool

    def place_ringout(self, order: RingOutOrder) -> str:
        """Start the call; returns the telephony session id its events will carry.

        Raises ``TelephonyUnavailable`` when the call could not be placed."""
        ...

    def cancel(self, account_id: int, ringout_id: str, telephony_session_id: str) -> None:
        """Hang up a RingOut that has not connected yet.

        Raises ``Conflict`` when it already connected, ``TelephonyUnavailable`` when the phone
        system could not be asked."""
        ...

    def close(self) -> None:
        """Stop background work; pending simulated events are dropped."""
        ...
