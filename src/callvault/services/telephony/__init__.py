"""Telephony backends: what places and cancels RingOut calls on a phone system.

``sandbox`` simulates the calls (nothing rings anywhere); ``webhook`` asks a PBX to place them.
Either way the call's progress arrives as ordinary call events through the live pipeline.
"""

from __future__ import annotations

from callvault.services.clock import Clock, system_clock
from callvault.services.telephony.base import (
    EventSink,
    RingOutOrder,
    TelephonyBackend,
    TelephonyUnavailable,
)
from callvault.services.telephony.sandbox import SandboxBackend, SandboxTimings
from callvault.services.telephony.webhook import WebhookBackend
from callvault.settings import Settings, TelephonyBackendKind

__all__ = [
    "EventSink",
    "RingOutOrder",
    "SandboxBackend",
    "TelephonyBackend",
    "TelephonyUnavailable",
    "WebhookBackend",
    "build_backend",
]

EVENTS_PATH = "/api/v1/events"


def build_backend(
    settings: Settings, sink: EventSink, clock: Clock = system_clock
) -> TelephonyBackend:
    """The backend ``settings.telephony_backend`` names. ``sink`` takes the sandbox's events.

    Raises ``ValueError`` for a bad configuration (an unparsable outcome list, the webhook
    backend without a URL)."""
    if settings.telephony_backend is TelephonyBackendKind.WEBHOOK:
        if not settings.ringout_webhook_url:
            raise ValueError(
                "CALLVAULT_TELEPHONY_BACKEND=webhook needs CALLVAULT_RINGOUT_WEBHOOK_URL"
            )
        return WebhookBackend(
            settings.ringout_webhook_url,
            events_url=settings.base_url.rstrip("/") + EVENTS_PATH,
            token=settings.ringout_webhook_token,
            timeout=settings.ringout_webhook_timeout,
        )
    timings = SandboxTimings(
        answer_delay=settings.sandbox_answer_delay,
        no_answer_timeout=settings.sandbox_no_answer_timeout,
        talk_time=settings.sandbox_talk_time,
        speed=settings.sandbox_speed,
    )
    return SandboxBackend(sink, outcomes=settings.sandbox_outcomes, timings=timings, clock=clock)
