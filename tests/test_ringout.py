"""RingOut over the RingCentral face: create, poll, cancel, the 404 after the status window,
the legacy ``/ringout`` spelling, permissions and request errors, with the official SDK.

The sandbox backend is driven by a clock the test moves, so every intermediate status is seen;
the webhook backend talks to a fake PBX on a loopback port that reports the call back as events
through ``/api/v1/events``. Every body is checked strictly against the published schema, and the
status rule itself is checked against the RingOut traces event by event.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from ringcentral.http.api_exception import ApiException
from ringcentral.platform.platform import Platform

from callvault.correlator.correlator import Correlator
from callvault.correlator.records import build_records
from callvault.domain.ringout import RingOutStatus, ringout_status
from callvault.importers.native_events import parse_event
from callvault.services.container import Services
from callvault.services.ringout import RingOutService
from callvault.services.telephony import SandboxBackend, WebhookBackend, build_backend
from callvault.services.telephony.sandbox import Outcome, SandboxTimings, parse_outcomes
from callvault.settings import Settings, TelephonyBackendKind
from callvault.storage.schema import ringouts
from tests.builders import PASSWORD, TestAccount
from tests.helpers import assert_rc_error, assert_record
from tests.openapi import assert_rc
from tests.test_sdk import api_error, as_dict
from tests.test_sdk import login as sdk_login
from tests.traces import TRACES, build_events, extension_ids, load

RINGOUT = "/restapi/v1.0/account/~/extension/~/ring-out"
LEGACY = "/restapi/v1.0/account/~/extension/~/ringout"
MY_LOG = "/restapi/v1.0/account/~/extension/~/call-log"

MY_PHONE = "+14155550101"  # the user's own phone: answers
CALLEE = "+14155550166"  # answers
BUSY = "+15555550123"  # the sandbox says busy
SILENT = "+16665550123"  # nobody answers
REJECTS = "+17775550123"  # rejects the call
OUTCOMES = "+1555*=busy,+1666*=no-answer,+1777*=reject"
TIMINGS = SandboxTimings(answer_delay=3, no_answer_timeout=30, talk_time=20)
TTL = timedelta(seconds=60)

IN_PROGRESS = ("InProgress", "InProgress", "InProgress")


# -- fixtures -----------------------------------------------------------------------------------


class ManualClock:
    """A clock that moves only when told."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Sandbox:
    backend: SandboxBackend
    clock: ManualClock

    def step(self, seconds: float) -> None:
        """Move the clock and let the simulated phones catch up."""
        self.clock.advance(seconds)
        assert self.backend.wait_idle(), "the sandbox did not catch up"


def _now_ms() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@pytest.fixture
def sandbox(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The server's RingOuts on a sandbox whose clock (and the status window's) the test
    moves; events still go through the real live pipeline."""
    clock = ManualClock(_now_ms())
    backend = SandboxBackend(
        lambda acc, evs: services.live.accept(acc, evs, source="sandbox"),
        outcomes=OUTCOMES,
        timings=TIMINGS,
        clock=clock,
    )
    service = RingOutService(
        services.db, services.live, services.calls, backend, clock=clock, status_ttl=TTL
    )
    monkeypatch.setattr(services, "ringouts", service)
    yield Sandbox(backend, clock)
    backend.close()


# -- helpers ------------------------------------------------------------------------------------


def checked(body: Any) -> dict[str, Any]:
    """A strict ``GetRingOutStatusResponse`` with a numeric-string id and a matching uri."""
    assert_rc(body, "GetRingOutStatusResponse")
    assert set(body) == {"id", "uri", "status"}, body
    assert set(body["status"]) == {"callStatus", "callerStatus", "calleeStatus"}, body
    assert isinstance(body["id"], str) and body["id"].isdigit(), body
    assert body["uri"].endswith(f"/{body['id']}"), body
    result: dict[str, Any] = body
    return result


def statuses(body: dict[str, Any]) -> tuple[str, str, str]:
    s = body["status"]
    return s["callStatus"], s["callerStatus"], s["calleeStatus"]


def path_of(body: dict[str, Any]) -> str:
    uri: str = body["uri"]
    return urlsplit(uri).path


def place(
    platform: Platform, frm: str = MY_PHONE, to: str = CALLEE, url: str = RINGOUT, **extra: Any
) -> dict[str, Any]:
    body = {"from": {"phoneNumber": frm}, "to": {"phoneNumber": to}, **extra}
    return checked(as_dict(platform.post(url, body)))


def poll(platform: Platform, created: dict[str, Any]) -> tuple[str, str, str]:
    body = checked(as_dict(platform.get(path_of(created))))
    assert body["id"] == created["id"] and body["uri"] == created["uri"]
    return statuses(body)


def sdk_error(call: Any) -> httpx.Response:
    with pytest.raises(ApiException) as exc:
        call()
    return api_error(exc)


def ringout_record(platform: Platform) -> dict[str, Any]:
    """The one RingOut record of the user's log, Detailed, strictly valid."""
    body = as_dict(platform.get(MY_LOG, {"view": "Detailed", "dateFrom": "2020-01-01T00:00:00Z"}))
    records = [r for r in assert_rc(body, "CallLogResponse")["records"]]
    found = [r for r in records if r["action"] == "RingOut Web"]
    assert len(found) == 1, records
    return assert_record(found[0])


def legs(record: dict[str, Any]) -> list[tuple[str, str]]:
    return [(leg["legType"], leg["result"]) for leg in record["legs"]]


# -- the sandbox, step by step ------------------------------------------------------------------


def test_both_legs_answer_then_the_status_is_gone(
    account: TestAccount, server: str, sandbox: Sandbox
) -> None:
    platform = sdk_login(account, server, "102")
    created = place(platform)
    ext = account.extensions["102"]
    assert f"/account/{account.account_id}/extension/{ext}/ring-out/" in created["uri"]
    assert statuses(created) == IN_PROGRESS
    assert poll(platform, created) == IN_PROGRESS
    sandbox.step(3)  # the user's phone answers
    assert poll(platform, created) == ("InProgress", "Success", "InProgress")
    sandbox.step(0.5)  # the callee is rung
    assert poll(platform, created) == ("InProgress", "Success", "InProgress")
    sandbox.step(3)  # the callee answers: connected
    assert poll(platform, created) == ("Success", "Success", "Success")
    sandbox.step(20)  # the callee hangs up ...
    assert poll(platform, created) == ("Success", "Success", "Finished")
    sandbox.step(0.2)  # ... and the user's leg is dropped
    assert poll(platform, created) == ("Success", "Finished", "Finished")

    record = ringout_record(platform)
    assert (record["direction"], record["result"], record["internalType"]) == (
        "Outbound",
        "Call connected",
        "RingOut",
    )
    assert record["from"]["phoneNumber"] == account.main_number  # the caller ID shown
    assert record["from"]["name"] == "Ben User"
    assert record["to"]["phoneNumber"] == CALLEE
    assert legs(record) == [
        ("RingOutWebToCaller", "Call connected"),
        ("RingOutWebToSubscriber", "Call connected"),
    ]
    assert record["legs"][0]["to"]["phoneNumber"] == MY_PHONE
    assert record["duration"] == 27

    sandbox.step(TTL.total_seconds() - 1)
    assert poll(platform, created) == ("Success", "Finished", "Finished")
    sandbox.step(1)
    r = sdk_error(lambda: platform.get(path_of(created)))
    assert_rc_error(r, 404, "CMN-102", parameter="ringOutId")
    r = sdk_error(lambda: platform.delete(path_of(created)))
    assert_rc_error(r, 404, "CMN-102", parameter="ringOutId")


def test_first_leg_busy_gives_one_leg(account: TestAccount, server: str, sandbox: Sandbox) -> None:
    platform = sdk_login(account, server, "102")
    created = place(platform, frm=BUSY)
    sandbox.step(3)
    # The callee is never dialled: there is no second leg to report on.
    assert poll(platform, created) == ("CannotReach", "Busy", "NoSessionFound")
    record = ringout_record(platform)
    assert record["result"] == "Busy"
    assert legs(record) == [("RingOutWebToCaller", "Busy")]
    # Deleting a RingOut that is over already changes nothing.
    assert platform.delete(path_of(created)).response().status_code == 204
    assert poll(platform, created) == ("CannotReach", "Busy", "NoSessionFound")


def test_callee_does_not_answer(
    services: Services, account: TestAccount, server: str, sandbox: Sandbox
) -> None:
    platform = sdk_login(account, server, "102")
    created = place(platform, to=SILENT)
    sandbox.step(3)
    sandbox.step(0.5)
    sandbox.step(29)
    assert poll(platform, created) == ("InProgress", "Success", "InProgress")
    sandbox.step(1)
    assert poll(platform, created) == ("CannotReach", "Success", "NoAnswer")
    sandbox.step(0.2)
    assert poll(platform, created) == ("CannotReach", "Finished", "NoAnswer")
    record = ringout_record(platform)
    assert record["result"] == "No Answer"
    assert legs(record) == [
        ("RingOutWebToCaller", "Call connected"),
        ("RingOutWebToSubscriber", "No Answer"),
    ]
    # Once the correlator has forgotten the call, the stored record answers the same.
    services.live.sweep(sandbox.clock() + timedelta(seconds=services.settings.active_call_linger))
    assert services.live.session_call(account.account_id, record["telephonySessionId"]) is None
    assert poll(platform, created) == ("CannotReach", "Finished", "NoAnswer")
    sandbox.step(TTL.total_seconds())
    assert_rc_error(sdk_error(lambda: platform.get(path_of(created))), 404, "CMN-102")


def test_callee_rejects(account: TestAccount, server: str, sandbox: Sandbox) -> None:
    platform = sdk_login(account, server, "102")
    created = place(platform, to=REJECTS)
    sandbox.step(3)
    sandbox.step(0.5)
    sandbox.step(3)
    assert poll(platform, created) == ("CannotReach", "Success", "Rejected")
    sandbox.step(0.2)
    assert legs(ringout_record(platform))[1] == ("RingOutWebToSubscriber", "Rejected")


def test_cancel_while_the_callee_rings(account: TestAccount, server: str, sandbox: Sandbox) -> None:
    platform = sdk_login(account, server, "102")
    created = place(platform, to=SILENT)
    sandbox.step(3)
    sandbox.step(0.5)
    response = platform.delete(path_of(created))
    assert response.response().status_code == 204 and response.body() == b""
    # The user had answered (their leg just ends); the ringing callee was dropped.
    assert poll(platform, created) == ("CannotReach", "Finished", "Rejected")
    record = ringout_record(platform)
    assert [t for t, _ in legs(record)] == ["RingOutWebToCaller", "RingOutWebToSubscriber"]
    assert platform.delete(path_of(created)).response().status_code == 204  # idempotent
    sandbox.step(30)  # the dropped callee's no-answer timeout never fires
    assert poll(platform, created) == ("CannotReach", "Finished", "Rejected")


def test_cancel_before_the_user_answers(
    account: TestAccount, server: str, sandbox: Sandbox
) -> None:
    platform = sdk_login(account, server, "102")
    created = place(platform)
    assert platform.delete(path_of(created)).response().status_code == 204
    assert poll(platform, created) == ("CannotReach", "Rejected", "NoSessionFound")
    sandbox.step(10)
    assert poll(platform, created) == ("CannotReach", "Rejected", "NoSessionFound")
    assert legs(ringout_record(platform)) == [("RingOutWebToCaller", "Hang Up")]


def test_no_cancel_once_connected(account: TestAccount, server: str, sandbox: Sandbox) -> None:
    platform = sdk_login(account, server, "102")
    created = place(platform)
    sandbox.step(3)
    sandbox.step(0.5)
    sandbox.step(3)
    r = sdk_error(lambda: platform.delete(path_of(created)))
    body = assert_rc_error(r, 400, "CMN-101", "ParameterizedErrorResponseModel")
    assert body["parameterName"] == "ringOutId" and "connected" in body["message"]
    assert poll(platform, created) == ("Success", "Success", "Success")


def test_legacy_ringout_spelling(account: TestAccount, server: str, sandbox: Sandbox) -> None:
    platform = sdk_login(account, server, "102")
    created = place(platform, url=LEGACY)
    assert f"/ringout/{created['id']}" in created["uri"]
    assert poll(platform, created) == IN_PROGRESS
    # The same RingOut under the current spelling, which its uri then echoes.
    current = checked(as_dict(platform.get(f"{RINGOUT}/{created['id']}")))
    assert current["uri"] == created["uri"].replace("/ringout/", "/ring-out/")
    assert platform.delete(f"{LEGACY}/{created['id']}").response().status_code == 204
    assert poll(platform, created)[1] == "Rejected"


def test_unknown_ringouts(http: httpx.Client, account: TestAccount, sandbox: Sandbox) -> None:
    for bad in ("123456789012", "abc", "9" * 30):
        r = http.get(f"{RINGOUT}/{bad}", headers=account.auth("102"))
        assert_rc_error(r, 404, "CMN-102", parameter="ringOutId")
        r = http.delete(f"{LEGACY}/{bad}", headers=account.auth("102"))
        assert_rc_error(r, 404, "CMN-102", parameter="ringOutId")


# -- permissions, rate-limit groups, request errors -----------------------------------------------


def test_permissions(http: httpx.Client, account: TestAccount, sandbox: Sandbox) -> None:
    e = account.extensions
    body = {"from": {"phoneNumber": MY_PHONE}, "to": {"phoneNumber": CALLEE}}
    # An app token without the RingOut permission.
    r = http.post(
        "/restapi/oauth/token",
        auth=(account.client_id, account.client_secret),
        data={
            "grant_type": "password",
            "username": f"{account.main_number}*102",
            "password": PASSWORD,
            "scope": "ReadCallLog",
        },
    )
    token = r.json()["access_token"]
    assert r.json()["scope"] == "ReadCallLog"
    r = http.post(RINGOUT, json=body, headers={"Authorization": f"Bearer {token}"})
    assert_rc_error(r, 403, "CMN-401")
    assert r.json()["permissionName"] == "RingOut"
    # A user rings out only from their own extension.
    other = f"/restapi/v1.0/account/~/extension/{e['103']}/ring-out"
    assert_rc_error(http.post(other, json=body, headers=account.auth("102")), 403, "CMN-404")
    # An admin may ring out for any extension of the account; the RingOut is that extension's.
    mine = f"/restapi/v1.0/account/~/extension/{e['102']}/ring-out"
    r = http.post(mine, json=body, headers=account.auth("101"))
    created = checked(r.json())
    assert f"/extension/{e['102']}/ring-out/" in created["uri"]
    rid = created["id"]
    assert http.get(f"{RINGOUT}/{rid}", headers=account.auth("102")).status_code == 200
    assert http.get(f"{mine}/{rid}", headers=account.auth("101")).status_code == 200
    # Nobody sees it under another extension; another user cannot even ask there.
    assert_rc_error(http.get(f"{RINGOUT}/{rid}", headers=account.auth("103")), 404, "CMN-102")
    assert_rc_error(http.get(f"{RINGOUT}/{rid}", headers=account.auth("101")), 404, "CMN-102")
    assert_rc_error(http.get(f"{mine}/{rid}", headers=account.auth("103")), 403, "CMN-404")
    assert_rc_error(http.delete(f"{mine}/{rid}", headers=account.auth("103")), 403, "CMN-404")
    # Another account is invisible; no token at all is refused.
    r = http.post("/restapi/v1.0/account/1/extension/~/ring-out", json=body, headers=account.auth())
    assert_rc_error(r, 404, "CMN-102", parameter="accountId")
    assert http.post(RINGOUT, json=body).status_code == 401


def test_rate_limit_groups(http: httpx.Client, account: TestAccount, sandbox: Sandbox) -> None:
    body = {"from": {"phoneNumber": MY_PHONE}, "to": {"phoneNumber": CALLEE}}
    created = http.post(RINGOUT, json=body, headers=account.auth("102"))
    assert created.headers["X-Rate-Limit-Group"] == "heavy"
    status = http.get(path_of(created.json()), headers=account.auth("102"))
    assert status.headers["X-Rate-Limit-Group"] == "light"
    deleted = http.delete(path_of(created.json()), headers=account.auth("102"))
    assert deleted.status_code == 204 and deleted.headers["X-Rate-Limit-Group"] == "heavy"


def test_limited_server_counts_status_polls_as_light(
    account: TestAccount, limited_server: str, sandbox: Sandbox
) -> None:
    with httpx.Client(base_url=limited_server) as client:
        body = {"from": {"phoneNumber": MY_PHONE}, "to": {"phoneNumber": CALLEE}}
        created = client.post(RINGOUT, json=body, headers=account.auth("103"))
        assert created.headers["X-Rate-Limit-Limit"] == "10"
        path = path_of(created.json())
        # Far more polls than the heavy group's 10 per minute.
        for _ in range(15):
            r = client.get(path, headers=account.auth("103"))
            assert r.status_code == 200 and r.headers["X-Rate-Limit-Limit"] == "50"


@pytest.mark.parametrize(
    ("body", "status", "code", "parameter"),
    [
        ({"from": {"phoneNumber": MY_PHONE}}, 400, "TEL-109", "to"),
        ({"from": {"phoneNumber": MY_PHONE}, "to": {"phoneNumber": ""}}, 400, "TEL-109", "to"),
        ({"from": {"phoneNumber": MY_PHONE}, "to": {"phoneNumber": "12"}}, 400, "TEL-109", "to"),
        ({"from": {"phoneNumber": MY_PHONE}, "to": CALLEE}, 400, "TEL-109", "to"),
        ({"to": {"phoneNumber": CALLEE}}, 400, "TEL-108", "from"),
        ({"from": {"phoneNumber": "abc"}, "to": {"phoneNumber": CALLEE}}, 400, "TEL-108", "from"),
        (
            {"from": {"forwardingNumberId": "42"}, "to": {"phoneNumber": CALLEE}},
            404,
            "CMN-102",
            "forwardingNumberId",
        ),
        (
            {"from": {"phoneNumber": MY_PHONE}, "to": {"phoneNumber": CALLEE}, "playPrompt": "1"},
            400,
            "CMN-101",
            "playPrompt",
        ),
        (
            {
                "from": {"phoneNumber": MY_PHONE},
                "to": {"phoneNumber": CALLEE},
                "callerId": {"phoneNumber": "x"},
            },
            400,
            "CMN-101",
            "callerId.phoneNumber",
        ),
        ([MY_PHONE, CALLEE], 400, "CMN-101", "body"),
    ],
)
def test_bad_requests(
    http: httpx.Client,
    services: Services,
    account: TestAccount,
    sandbox: Sandbox,
    body: Any,
    status: int,
    code: str,
    parameter: str,
) -> None:
    r = http.post(RINGOUT, json=body, headers=account.auth("102"))
    assert_rc_error(r, status, code, "ParameterizedErrorResponseModel", parameter=parameter)
    with services.db.read() as conn:
        assert conn.execute(ringouts.select()).first() is None


def test_bad_json_and_lenient_numbers(
    http: httpx.Client, account: TestAccount, server: str, sandbox: Sandbox
) -> None:
    r = http.post(
        RINGOUT,
        content=b"{not json",
        headers={**account.auth("102"), "Content-Type": "application/json"},
    )
    assert_rc_error(r, 400, "CMN-103")
    platform = sdk_login(account, server, "102")
    # The guide's own example leaves out the "+"; spaces and dashes are dropped too.
    created = place(
        platform,
        frm="14155550101",
        to="+1 (415) 555-0166",
        callerId={"phoneNumber": "+16505550199"},
        playPrompt=True,
        country={"id": "1"},
    )
    sandbox.step(3)
    sandbox.step(0.5)
    assert poll(platform, created) == ("InProgress", "Success", "InProgress")
    sandbox.step(3)
    sandbox.step(20.2)
    record = ringout_record(platform)
    assert record["from"]["phoneNumber"] == "+16505550199"
    assert record["to"]["phoneNumber"] == CALLEE
    assert record["legs"][0]["to"]["phoneNumber"] == MY_PHONE


# -- the sandbox in real time -------------------------------------------------------------------


def test_sandbox_plays_in_real_time_compressed(
    services: Services, account: TestAccount, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = SandboxBackend(
        lambda acc, evs: services.live.accept(acc, evs, source="sandbox"),
        timings=SandboxTimings(answer_delay=3, talk_time=10, speed=20),
    )
    service = RingOutService(services.db, services.live, services.calls, backend)
    monkeypatch.setattr(services, "ringouts", service)
    try:
        platform = sdk_login(account, server, "102")
        created = place(platform)
        seen = [statuses(created)]
        deadline = time.monotonic() + 10
        while seen[-1] != ("Success", "Finished", "Finished"):
            assert time.monotonic() < deadline, seen
            time.sleep(0.02)
            now = poll(platform, created)
            if now != seen[-1]:
                seen.append(now)
        # Every status on the way, in order (a quick step may slip between two polls).
        expected = [
            IN_PROGRESS,
            ("InProgress", "Success", "InProgress"),
            ("Success", "Success", "Success"),
            ("Success", "Success", "Finished"),
            ("Success", "Finished", "Finished"),
        ]
        assert [s for s in expected if s in seen] == seen
        assert legs(ringout_record(platform)) == [
            ("RingOutWebToCaller", "Call connected"),
            ("RingOutWebToSubscriber", "Call connected"),
        ]
    finally:
        backend.close()


# -- the webhook backend with a fake PBX ---------------------------------------------------------


@dataclass
class FakePbx:
    """A PBX on a loopback port. It records what callvault asks, answers ``reply`` (status,
    JSON body), and reports calls back as canonical events with its own admin token; a
    cancel makes it hang up every party still up, after it answered."""

    events_token: str
    reply: tuple[int, dict[str, Any] | None] = (200, None)
    requests: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None
    _seq: int = 1

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/ringout"

    def start(self) -> None:
        pbx = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                pbx.requests.append((dict(self.headers), body))
                status, reply = pbx.reply
                data = json.dumps(reply).encode() if reply is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                if body["action"] == "place" and status == 200:
                    session = (reply or {}).get("telephonySessionId")
                    session = session or body["callback"]["telephonySessionId"]
                    pbx.sessions[session] = {"order": body, "up": {}}
                elif body["action"] == "cancel" and status < 300:
                    session = body["telephonySessionId"]
                    threading.Thread(target=pbx.hang_up_all, args=(session,)).start()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def emit(self, session: str, role: str, status: str, reason: str | None = None) -> None:
        """Report one party's state to the callback URL callvault gave."""
        call = self.sessions[session]
        order = call["order"]
        initiator = role == "Initiator"
        self._seq += 1
        party: dict[str, Any] = {
            "id": f"{session}-{'1' if initiator else '2'}",
            "direction": "Inbound",
            "status": status,
            "ringOutRole": role,
            "from": order["to"] if initiator else order["callerId"],
            "to": order["from"] if initiator else order["to"],
        }
        if initiator:
            party["extensionId"] = order["callback"]["initiatorExtensionId"]
        if reason:
            party["reason"] = reason
        event = {
            "id": f"pbx-{session}-{self._seq}",
            "sessionId": session,
            "sequence": self._seq,
            "time": datetime.now(UTC).isoformat(),
            "origin": order["callback"]["origin"],
            "party": party,
        }
        r = httpx.post(
            order["callback"]["eventsUrl"],
            json=[event],
            headers={"Authorization": f"Bearer {self.events_token}"},
        )
        assert r.status_code == 200, r.text
        call["up"][role] = status
        if status == "Disconnected":
            call["up"].pop(role)

    def hang_up_all(self, session: str) -> None:
        call = self.sessions[session]
        for role in ("Target", "Initiator"):
            if role in call["up"]:
                answered = call["up"][role] == "Answered"
                self.emit(session, role, "Disconnected", None if answered else "CallDropped")


@pytest.fixture
def pbx(
    services: Services, account: TestAccount, server: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakePbx]:
    fake = FakePbx(events_token=account.tokens["101"])
    fake.start()
    backend = WebhookBackend(fake.url, events_url=f"{server}/api/v1/events", token="pbx-secret")
    service = RingOutService(services.db, services.live, services.calls, backend)
    monkeypatch.setattr(services, "ringouts", service)
    yield fake
    backend.close()
    fake.stop()


def test_webhook_backend_with_a_pbx(account: TestAccount, server: str, pbx: FakePbx) -> None:
    pbx.reply = (200, {"telephonySessionId": "s-pbx-0001"})
    platform = sdk_login(account, server, "102")
    created = place(platform, playPrompt=True)
    assert statuses(created) == IN_PROGRESS
    ((headers, order),) = pbx.requests
    assert headers["Authorization"] == "Bearer pbx-secret"
    assert order["action"] == "place" and order["ringoutId"] == created["id"]
    assert order["from"] == {"phoneNumber": MY_PHONE} and order["to"] == {"phoneNumber": CALLEE}
    assert order["callerId"] == {"phoneNumber": account.main_number}
    assert order["playPrompt"] is True and order["extensionNumber"] == "102"
    assert order["callback"]["eventsUrl"] == f"{server}/api/v1/events"
    assert order["callback"]["origin"] == "RingOut"

    session = "s-pbx-0001"  # the PBX named its own session; callvault follows it
    pbx.emit(session, "Initiator", "Proceeding")
    assert poll(platform, created) == IN_PROGRESS
    pbx.emit(session, "Initiator", "Answered")
    assert poll(platform, created) == ("InProgress", "Success", "InProgress")
    pbx.emit(session, "Target", "Proceeding")
    pbx.emit(session, "Target", "Answered")
    assert poll(platform, created) == ("Success", "Success", "Success")
    pbx.emit(session, "Target", "Disconnected")
    pbx.emit(session, "Initiator", "Disconnected")
    assert poll(platform, created) == ("Success", "Finished", "Finished")
    record = ringout_record(platform)
    assert record["telephonySessionId"] == session
    assert legs(record) == [
        ("RingOutWebToCaller", "Call connected"),
        ("RingOutWebToSubscriber", "Call connected"),
    ]


def test_webhook_cancel_and_refusals(
    services: Services, account: TestAccount, server: str, pbx: FakePbx
) -> None:
    platform = sdk_login(account, server, "102")
    created = place(platform)
    session = pbx.requests[0][1]["callback"]["telephonySessionId"]
    pbx.emit(session, "Initiator", "Proceeding")
    pbx.reply = (204, None)
    assert platform.delete(path_of(created)).response().status_code == 204
    cancel = pbx.requests[-1][1]
    assert cancel == {
        "action": "cancel",
        "ringoutId": created["id"],
        "accountId": str(account.account_id),
        "telephonySessionId": session,
    }
    # Rejected at once, and the same once the PBX reported the hang-up.
    assert poll(platform, created) == ("CannotReach", "Rejected", "NoSessionFound")
    deadline = time.monotonic() + 5
    while (call := services.live.session_call(account.account_id, session)) is None or (
        call[1] is None
    ):
        assert time.monotonic() < deadline, "the PBX did not report the hang-up"
        time.sleep(0.02)
    assert poll(platform, created) == ("CannotReach", "Rejected", "NoSessionFound")
    assert legs(ringout_record(platform)) == [("RingOutWebToCaller", "Hang Up")]

    # A PBX that can no longer cancel: 409 → the RingOut is connected.
    pbx.reply = (200, None)
    second = place(platform)
    pbx.reply = (409, None)
    r = sdk_error(lambda: platform.delete(path_of(second)))
    assert_rc_error(r, 400, "CMN-101", parameter="ringOutId")
    # A PBX that refuses, or is not there: 503, and no RingOut is kept.
    pbx.reply = (500, None)
    r = sdk_error(lambda: place(platform))
    assert_rc_error(r, 503, "CMN-201")
    with services.db.read() as conn:
        assert len(conn.execute(ringouts.select()).all()) == 2
    pbx.stop()
    r = sdk_error(lambda: place(platform))
    assert_rc_error(r, 503, "CMN-201")


# -- choosing the backend; the sandbox's settings ----------------------------------------------


def test_backend_is_chosen_by_setting(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    def sink(_acc: int, _events: Any) -> None:
        pass

    default = build_backend(settings, sink)
    assert isinstance(default, SandboxBackend) and default.simulated
    webhook = settings.model_copy(
        update={
            "telephony_backend": TelephonyBackendKind.WEBHOOK,
            "ringout_webhook_url": "http://127.0.0.1:9/ringout",
        }
    )
    backend = build_backend(webhook, sink)
    assert isinstance(backend, WebhookBackend) and not backend.simulated
    assert backend.events_url == f"{settings.base_url}/api/v1/events"
    backend.close()
    no_url = webhook.model_copy(update={"ringout_webhook_url": None})
    with pytest.raises(ValueError, match="RINGOUT_WEBHOOK_URL"):
        build_backend(no_url, sink)
    with pytest.raises(ValueError, match="nonsense"):
        build_backend(settings.model_copy(update={"sandbox_outcomes": "nonsense"}), sink)
    # From the environment, as a deployment sets it.
    monkeypatch.setenv("CALLVAULT_TELEPHONY_BACKEND", "webhook")
    monkeypatch.setenv("CALLVAULT_RINGOUT_WEBHOOK_URL", "http://pbx.invalid/ringout")
    monkeypatch.setenv("CALLVAULT_SANDBOX_OUTCOMES", "+1555*=busy")
    env = Settings()
    assert env.telephony_backend is TelephonyBackendKind.WEBHOOK
    assert env.ringout_webhook_url == "http://pbx.invalid/ringout"
    assert env.sandbox_outcomes == "+1555*=busy" and env.ringout_status_ttl == 60


def test_outcome_patterns() -> None:
    rules = parse_outcomes(" +1555*=busy, +1666*=No-Answer ,+1777??????? = rejected,")
    assert rules == [
        ("+1555*", Outcome.BUSY),
        ("+1666*", Outcome.NO_ANSWER),
        ("+1777???????", Outcome.REJECT),
    ]
    backend = SandboxBackend(lambda _a, _e: None, outcomes=rules)
    assert backend.outcome("+15551234567") is Outcome.BUSY
    assert backend.outcome("+17771234567") is Outcome.REJECT
    assert backend.outcome("+177712345678") is Outcome.ANSWER  # one digit too many
    assert backend.outcome("+14155550100") is Outcome.ANSWER
    for bad in ("+1555*", "+1555*=maybe", "=busy"):
        with pytest.raises(ValueError):
            parse_outcomes(bad)
    with pytest.raises(ValueError):
        SandboxTimings(speed=0)


# -- the status rule, against the RingOut traces ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "ringout_both_legs_answered",
            [
                ("InProgress", "InProgress", "InProgress"),
                ("InProgress", "Success", "InProgress"),
                ("InProgress", "Success", "InProgress"),
                ("Success", "Success", "Success"),
                ("Success", "Success", "Finished"),
                ("Success", "Finished", "Finished"),
            ],
        ),
        (
            "ringout_callee_no_answer",
            [
                ("InProgress", "InProgress", "InProgress"),
                ("InProgress", "Success", "InProgress"),
                ("InProgress", "Success", "InProgress"),
                ("CannotReach", "Success", "NoAnswer"),
                ("CannotReach", "Finished", "NoAnswer"),
            ],
        ),
        (
            "ringout_first_leg_busy",
            [
                ("InProgress", "InProgress", "InProgress"),
                ("CannotReach", "Busy", "NoSessionFound"),
            ],
        ),
    ],
)
def test_status_rule_follows_the_traces(name: str, expected: list[tuple[str, ...]]) -> None:
    """After each event of the trace, the status the records of the call (live, then
    finished) give."""
    trace = load(TRACES / f"{name}.yaml")
    ids = extension_ids(trace)
    correlator = Correlator()
    seen = []
    for item in build_events(trace, ids):
        change = correlator.feed(1, parse_event(item, lambda i, _n: int(i) if i else None))
        assert change is not None
        (record,) = build_records(change.call)
        status = ringout_status(record)
        seen.append((status.call.value, status.caller.value, status.callee.value))
    assert seen == expected


def test_a_user_who_hangs_up_while_the_callee_rings_rejects_it() -> None:
    """Guide: "1st leg answered, 2nd is ringing, user drops call on the 1st leg - 2nd leg gets
    Rejected", even when the phone system words the callee's end as a cancel."""
    trace = load(TRACES / "ringout_callee_no_answer.yaml")
    events = build_events(trace, extension_ids(trace))
    # The user's leg (seq 6) leaves first, then the callee's is cancelled (seq 5 moved last).
    target, initiator = events[3]["party"], events[4]["party"]
    events[3]["party"], events[4]["party"] = initiator, {**target, "reason": "Cancelled"}
    correlator = Correlator()
    for item in events:
        change = correlator.feed(1, parse_event(item, lambda i, _n: int(i) if i else None))
    assert change is not None and change.call.finished_at is not None
    (record,) = build_records(change.call)
    status = ringout_status(record)
    assert (status.call, status.caller, status.callee) == (
        RingOutStatus.CANNOT_REACH,
        RingOutStatus.FINISHED,
        RingOutStatus.REJECTED,
    )


def test_docs_list_every_ringout_setting() -> None:
    """docs/ringout.md names every RingOut setting with its default."""
    docs = (Path(__file__).resolve().parents[1] / "docs" / "ringout.md").read_text()
    names = [
        n
        for n in Settings.model_fields
        if n.startswith(("sandbox_", "ringout_")) or n == "telephony_backend"
    ]
    assert len(names) == 10
    for name in names:
        default = Settings.model_fields[name].default
        shown = f"{default:g}" if isinstance(default, float) else str(default or "")
        cell = f"| `CALLVAULT_{name.upper()}` |"
        row = next((ln for ln in docs.splitlines() if ln.startswith(cell)), "")
        assert row, f"CALLVAULT_{name.upper()} is not in the settings tables"
        assert f"`{shown}`" in row or not shown, (name, row)
