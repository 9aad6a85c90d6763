"""Builders for test data: accounts with users and tokens, and call records."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from callvault.services.accounts import Role
from callvault.services.container import Services

PASSWORD = "test-password-1"
_counter = itertools.count(1)


@dataclass
class TestAccount:
    __test__ = False  # not a test class

    account_id: int
    main_number: str
    client_id: str
    client_secret: str
    extensions: dict[str, int]  # number → id
    tokens: dict[str, str] = field(default_factory=dict)  # extension number → access token

    def auth(self, ext: str = "101") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[ext]}"}


def login(http: httpx.Client, acc: TestAccount, ext: str) -> dict[str, Any]:
    r = http.post(
        "/restapi/oauth/token",
        auth=(acc.client_id, acc.client_secret),
        data={
            "grant_type": "password",
            "username": f"{acc.main_number}*{ext}",
            "password": PASSWORD,
        },
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def make_account(services: Services, http: httpx.Client | None = None) -> TestAccount:
    n = next(_counter)
    main = f"+1650555{n:04d}"
    acc = services.accounts.create_account(f"Test Co {n}", main)
    exts = {}
    for number, name in (("101", "Ada Admin"), ("102", "Ben User"), ("103", "Cy User")):
        row = services.accounts.add_extension(acc.id, number, name)
        exts[number] = row.id
        services.accounts.add_user(
            acc.id,
            number,
            email=f"{name.split()[0].lower()}{n}@example.test",
            password=PASSWORD,
            role=Role.ADMIN if number == "101" else Role.USER,
        )
    app = services.accounts.create_app(acc.id, "test app")
    result = TestAccount(acc.id, main, app.client_id, app.client_secret or "", exts)
    if http is not None:
        for ext in exts:
            result.tokens[ext] = login(http, result, ext)["access_token"]
    return result


def rc_record(
    record_id: str,
    *,
    extension_id: int | None = None,
    start: datetime | None = None,
    direction: str = "Inbound",
    result: str = "Accepted",
    from_number: str = "+14155550101",
    to_number: str = "+16505550100",
    duration_ms: int = 61_500,
    legs: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """A call record in RingCentral's JSON shape, as a client would POST or import it."""
    start = start or datetime.now(UTC) - timedelta(hours=1)
    stamp = start.strftime("%Y-%m-%dT%H:%M:%S.") + f"{start.microsecond // 1000:03d}Z"
    rec: dict[str, Any] = {
        "id": record_id,
        "sessionId": f"{abs(hash(record_id)) % 10**9}",
        "telephonySessionId": f"s-{record_id.lower()}",
        "startTime": stamp,
        "durationMs": duration_ms,
        "type": "Voice",
        "direction": direction,
        "action": "Phone Call",
        "result": result,
        "transport": "PSTN",
        "from": {"phoneNumber": from_number, "name": "Caller"},
        "to": {"phoneNumber": to_number},
    }
    if extension_id is not None:
        rec["extension"] = {"id": extension_id}
    if legs:
        rec["legs"] = [
            {
                "startTime": stamp,
                "durationMs": duration_ms,
                "type": "Voice",
                "direction": direction,
                "action": "Phone Call",
                "result": result,
                "legType": "Accept",
                "from": {"phoneNumber": from_number},
                "to": {"phoneNumber": to_number},
                "master": True,
                **({"extension": {"id": extension_id}} if extension_id else {}),
            }
        ]
    rec.update(extra)
    return rec
