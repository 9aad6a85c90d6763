"""The webhook telephony backend: a PBX places the RingOut calls callvault asks for.

callvault POSTs JSON to the configured URL (``CALLVAULT_RINGOUT_WEBHOOK_URL``)::

    {"action": "place", "ringoutId": "184467440737", "accountId": "…", "extensionId": "…",
     "extensionNumber": "101", "from": {"phoneNumber": "+16505550101"},
     "to": {"phoneNumber": "+14155550166"}, "callerId": {"phoneNumber": "+16505550100"},
     "playPrompt": false, "country": {"id": "1"},
     "callback": {"eventsUrl": "https://…/api/v1/events", "telephonySessionId": "s-…",
                  "origin": "RingOut", "initiatorExtensionId": "…"}}

and ``{"action": "cancel", "ringoutId": …, "telephonySessionId": …}`` to hang one up. The PBX
answers 2xx (a JSON body may name its own ``telephonySessionId``), or 409 to a cancel it can no
longer honour. It reports the call's progress as call events to ``callback.eventsUrl``, with
the RingOut origin and the Initiator/Target roles (telephony events reference §5.8).
"""

from __future__ import annotations

from typing import Any

import httpx

from callvault.errors import Conflict
from callvault.services.telephony.base import RingOutOrder, TelephonyUnavailable


class WebhookBackend:
    """Asks a PBX over HTTP; see the module docstring."""

    name = "webhook"
    simulated = False

    def __init__(
        self,
        url: str,
        *,
        events_url: str,
        token: str | None = None,
        timeout: float = 5.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = url
        self.events_url = events_url
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = client or httpx.Client(timeout=timeout)
        self._owned = client is None

    def place_ringout(self, order: RingOutOrder) -> str:
        body: dict[str, Any] = {
            "action": "place",
            "ringoutId": order.ringout_id,
            "accountId": str(order.account_id),
            "extensionId": str(order.extension_id),
            "extensionNumber": order.extension_number,
            "from": {"phoneNumber": order.from_number},
            "to": {"phoneNumber": order.to_number},
            "callerId": {"phoneNumber": order.caller_id},
            "playPrompt": order.play_prompt,
            "callback": {
                "eventsUrl": self.events_url,
                "telephonySessionId": order.telephony_session_id,
                "origin": "RingOut",
                "initiatorExtensionId": str(order.extension_id),
            },
        }
        if order.country_id:
            body["country"] = {"id": order.country_id}
        reply = self._post(body)
        session = reply.get("telephonySessionId") if isinstance(reply, dict) else None
        if isinstance(session, str) and session.strip():
            return session.strip()
        return order.telephony_session_id

    def cancel(self, account_id: int, ringout_id: str, telephony_session_id: str) -> None:
        self._post(
            {
                "action": "cancel",
                "ringoutId": ringout_id,
                "accountId": str(account_id),
                "telephonySessionId": telephony_session_id,
            }
        )

    def close(self) -> None:
        if self._owned:
            self._client.close()

    def _post(self, body: dict[str, Any]) -> Any:
        try:
            response = self._client.post(self.url, json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            raise TelephonyUnavailable(f"the phone system did not answer: {exc}") from None
        if response.status_code == 409:
            raise Conflict("the phone system can no longer cancel this call")
        if response.status_code >= 300:
            raise TelephonyUnavailable(
                f"the phone system refused the request (HTTP {response.status_code})"
            )
        try:
            return response.json() if response.content else None
        except ValueError:
            return None
