"""Twilio's voice webhooks over HTTP, signed with twilio's own ``RequestValidator``: a call
escalated and answered, redelivered webhooks, a caller hanging up, and every refusal (bad or
missing signature 403, unknown number 404, no credentials 400)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from twilio.request_validator import RequestValidator

from callvault.services.container import Services
from callvault.services.escalation import Provider
from tests.builders import TestAccount, make_account
from tests.helpers import assert_call_log
from tests.oneuptime_support import CALLER, DIALLED, ROUTING, Hotline, make_hotline

TOKEN = "twilio-auth-token-for-tests"
SID = "AC0123456789abcdef0123456789abcdef"
VOICE = "/notification/incoming-call/voice"


@pytest.fixture
def hotline(services: Services, account: TestAccount) -> Hotline:
    hot = make_hotline(services, account)
    services.policies.set_provider(account.account_id, "twilio", SID, TOKEN)
    return hot


def _post(
    http: httpx.Client, path: str, params: dict[str, str], *, token: str = TOKEN, **kw: Any
) -> httpx.Response:
    """POST as Twilio does: form-encoded, signed over the full URL and the parameters."""
    url = f"{http.base_url}".rstrip("/") + path
    signature = RequestValidator(token).compute_signature(url, params)
    headers = {"X-Twilio-Signature": signature, **kw.pop("headers", {})}
    return http.post(path, data=params, headers=headers, **kw)


def _twiml(r: httpx.Response) -> ET.Element:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/xml")
    return ET.fromstring(r.text)


def _voice(call_sid: str = "CA1") -> dict[str, str]:
    return {
        "AccountSid": SID,
        "CallSid": call_sid,
        "From": CALLER,
        "To": ROUTING,
        "CallStatus": "ringing",
        "Direction": "inbound",
    }


def _path(url: str, http: httpx.Client) -> str:
    return url.removeprefix(str(http.base_url).rstrip("/"))


def test_a_call_escalated_then_answered(
    http: httpx.Client, services: Services, hotline: Hotline
) -> None:
    doc = _twiml(_post(http, VOICE, _voice()))
    assert doc.find("Say") is not None
    assert doc.find("Say").text == "Please wait while we connect you to the on-call engineer."  # type: ignore[union-attr]
    dial = doc.find("Dial")
    assert dial is not None
    assert (dial.get("timeout"), dial.get("callerId"), dial.get("method")) == (
        "20",
        ROUTING,
        "POST",
    )
    number = dial.find("Number")
    assert number is not None and number.text == DIALLED["101"]
    assert number.get("statusCallbackEvent") == "initiated ringing answered completed"
    action = _path(dial.get("action", ""), http)
    progress = _path(number.get("statusCallback", ""), http)
    log_id = action.split("/")[-2]

    assert _post(http, progress, {"CallSid": "CA-leg1", "CallStatus": "ringing"}).status_code == 200
    doc = _twiml(
        _post(
            http,
            action,
            {"CallSid": "CA1", "CallStatus": "in-progress", "DialCallStatus": "no-answer"},
        )
    )
    assert doc.find("Say").text == "Connecting you to the next available engineer."  # type: ignore[union-attr]
    dial = doc.find("Dial")
    assert dial is not None and dial.get("timeout") == "30"
    assert dial.find("Number").text == DIALLED["102"]  # type: ignore[union-attr]
    action = _path(dial.get("action", ""), http)
    progress = _path(dial.find("Number").get("statusCallback", ""), http)  # type: ignore[union-attr]
    _post(http, progress, {"CallSid": "CA-leg2", "CallStatus": "ringing"})
    _post(http, progress, {"CallSid": "CA-leg2", "CallStatus": "in-progress"})
    log = services.escalation.log(log_id)
    assert log.status == "Connected" and log.answered_by_extension_id == hotline.ext("102")

    finish = {
        "CallSid": "CA1",
        "CallStatus": "in-progress",
        "DialCallStatus": "completed",
        "DialCallDuration": "95",
        "DialCallSid": "CA-leg2",
    }
    doc = _twiml(_post(http, action, finish))
    assert [child.tag for child in doc] == ["Hangup"]
    # Twilio retries a webhook it got no answer to: the same answer, nothing changes.
    assert _twiml(_post(http, action, finish)).find("Hangup") is not None
    ended = {"CallSid": "CA1", "CallStatus": "completed", "CallDuration": "140"}
    assert _post(http, "/notification/incoming-call/status", ended).status_code == 200

    log = services.escalation.log(log_id)
    assert (log.status, log.provider, log.provider_call_id) == ("Completed", "twilio", "CA1")
    assert (log.duration_s, log.answered_by_extension_id) == (140, hotline.ext("102"))
    attempts = services.escalation.attempts(log_id)
    assert [(a.status, a.status_message, a.provider_leg_id) for a in attempts] == [
        ("NoAnswer", "no-answer", "CA-leg1"),
        ("Connected", "completed", "CA-leg2"),
    ]
    assert attempts[1].dial_duration_s == 95 and attempts[1].is_answered
    # The attempts are legs of the call in the RingCentral call log.
    acc = hotline.acc
    r = http.get(
        "/restapi/v1.0/account/~/call-log",
        params={"view": "Detailed", "dateFrom": "2020-01-01T00:00:00Z"},
        headers=acc.auth(),
    )
    records = assert_call_log(r)["records"]
    assert sorted(rec["result"] for rec in records) == ["Accepted", "Missed"]
    for record in records:
        assert [leg["legType"] for leg in record["legs"]] == ["Accept", "FindMe", "FindMe"]


def test_a_retried_voice_webhook_gets_the_same_dial(http: httpx.Client, hotline: Hotline) -> None:
    first = _post(http, VOICE, _voice("CA-retry"))
    again = _post(http, VOICE, _voice("CA-retry"))
    assert first.text == again.text


def test_caller_hanging_up_mid_escalation(
    http: httpx.Client, services: Services, hotline: Hotline
) -> None:
    dial = _twiml(_post(http, VOICE, _voice("CA-gone"))).find("Dial")
    assert dial is not None
    action = _path(dial.get("action", ""), http)
    # The caller hangs up while 101 rings: Twilio ends the Dial with the parent call completed.
    gone = {"CallSid": "CA-gone", "CallStatus": "completed", "DialCallStatus": "canceled"}
    assert [c.tag for c in _twiml(_post(http, action, gone))] == ["Hangup"]
    log = services.escalation.log_for_provider_call(Provider.TWILIO, "CA-gone")
    assert log is not None and log.status == "CallerHungUp"
    assert [a.status for a in services.escalation.attempts(log.id)] == ["CallerHungUp"]


def test_caller_hanging_up_seen_only_by_the_status_callback(
    http: httpx.Client, services: Services, hotline: Hotline
) -> None:
    _post(http, VOICE, _voice("CA-quiet"))
    status = {"CallSid": "CA-quiet", "CallStatus": "completed", "CallDuration": "3"}
    assert _post(http, "/incoming-call/status", status).status_code == 200
    log = services.escalation.log_for_provider_call(Provider.TWILIO, "CA-quiet")
    assert log is not None
    assert (log.status, log.duration_s) == ("CallerHungUp", 3)
    assert [a.status for a in services.escalation.attempts(log.id)] == ["CallerHungUp"]


def test_nobody_reachable_and_disabled_are_said_and_hung_up(
    http: httpx.Client, services: Services, hotline: Hotline
) -> None:
    services.policies.update_policy(hotline.acc.account_id, hotline.policy_id, is_enabled=False)
    doc = _twiml(_post(http, VOICE, _voice("CA-off")))
    assert [c.tag for c in doc] == ["Say", "Hangup"]
    assert doc.find("Say").text == "Sorry, this service is currently disabled."  # type: ignore[union-attr]


def test_signatures_are_checked(http: httpx.Client, hotline: Hotline) -> None:
    wrong = _post(http, VOICE, _voice(), token="some-other-token")
    assert (wrong.status_code, wrong.text) == (403, "Forbidden")
    unsigned = http.post(VOICE, data=_voice())
    assert unsigned.status_code == 403
    # A signature for other parameters does not fit these.
    url = f"{http.base_url}".rstrip("/") + VOICE
    signature = RequestValidator(TOKEN).compute_signature(url, _voice("CA-other"))
    tampered = http.post(VOICE, data=_voice(), headers={"X-Twilio-Signature": signature})
    assert tampered.status_code == 403
    # Behind a proxy Twilio signs the public URL; the forwarded headers rebuild it.
    public = "https://calls.example.test" + VOICE
    signature = RequestValidator(TOKEN).compute_signature(public, _voice("CA-proxy"))
    proxied = http.post(
        VOICE,
        data=_voice("CA-proxy"),
        headers={
            "X-Twilio-Signature": signature,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "calls.example.test",
        },
    )
    assert proxied.status_code == 200, proxied.text


def test_refusals(http: httpx.Client, services: Services, hotline: Hotline) -> None:
    assert _post(http, VOICE, {"CallSid": "CA1", "From": CALLER}).status_code == 400
    unknown = _post(http, VOICE, {**_voice(), "To": "+19995550100"})
    assert (unknown.status_code, unknown.text) == (404, "Policy not found")
    missing = _post(http, "/notification/incoming-call/dial-status/nope/nope", {"CallSid": "x"})
    assert (missing.status_code, missing.text) == (404, "Call log not found")
    services.policies.update_policy(hotline.acc.account_id, hotline.policy_id, numbers=[])
    other = services.policies.create_policy(
        hotline.acc.account_id, name="No Twilio", numbers=[ROUTING]
    )
    assert other.numbers == (ROUTING,)
    # Credentials belong to the account: another account's number without them is refused.
    acc2 = make_account(services)
    services.policies.update_policy(hotline.acc.account_id, other.id, numbers=[])
    services.policies.create_policy(acc2.account_id, name="Elsewhere", numbers=[ROUTING])
    r = _post(http, VOICE, _voice("CA-noconf"))
    assert (r.status_code, r.text) == (400, "Twilio configuration not found")
