"""The escalation engine driven by the sandbox provider: every scenario's log and attempts
(statuses, who answered, durations, costs), and the call in the RingCentral call log with each
attempt as a leg."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from callvault.domain.escalation import DISABLED_MESSAGE, NO_ONE_AVAILABLE_MESSAGE, DialStatus
from callvault.services.container import Services
from callvault.services.escalation import (
    CALLER_HUNG_UP_MESSAGE,
    DialInstruction,
    HangupInstruction,
    Provider,
    session_id,
)
from callvault.storage.codec import to_ms
from tests.builders import TestAccount
from tests.helpers import assert_call_log
from tests.oneuptime_support import CALLER, DIALLED, ROUTING, T0, call, make_hotline, rates


def _ms(seconds: float) -> int:
    return to_ms(T0 + timedelta(seconds=seconds))


def _attempts(result: Any) -> list[tuple[str, str | None, str | None]]:
    return [(a.status, a.status_message, a.user_phone_number) for a in result.attempts]


def _call_log(http: httpx.Client, acc: TestAccount) -> list[dict[str, Any]]:
    params = {
        "view": "Detailed",
        "dateFrom": "2026-08-12T00:00:00Z",
        "dateTo": "2026-08-13T00:00:00Z",
    }
    r = http.get("/restapi/v1.0/account/~/call-log", params=params, headers=acc.auth())
    records: list[dict[str, Any]] = assert_call_log(r)["records"]
    return records


def test_answered_on_the_first_rule(services: Services, account: TestAccount) -> None:
    hot = make_hotline(services, account)
    with rates(services):
        result = call(services, {"101": "answer:4:60"})
    log = result.log
    assert (log.status, log.status_message) == ("Completed", None)
    assert log.answered_by_extension_id == hot.ext("101")
    assert (log.caller_number, log.routing_number, log.provider) == (CALLER, ROUTING, "sandbox")
    assert (log.current_rule_order, log.repeat_count) == (1, 0)
    # 4 s greeting, 4 s ringing, 60 s talk.
    assert (log.started_ms, log.ended_ms, log.duration_s) == (_ms(0), _ms(68), 68)
    # 68 s inbound at 1 cent a started minute; 60 s outbound at 2.5 cents.
    assert (log.incoming_cost_cents, log.outgoing_cost_cents, log.cost_cents) == (2, 3, 5)
    [attempt] = result.attempts
    assert (attempt.status, attempt.status_message, attempt.is_answered) == (
        "Connected",
        "completed",
        True,
    )
    assert (attempt.dial_duration_s, attempt.cost_cents, attempt.rule_id) == (
        60,
        3,
        hot.rule_ids[0],
    )
    assert (attempt.started_ms, attempt.answered_ms, attempt.ended_ms) == (_ms(0), _ms(8), _ms(68))


def test_escalated_twice_then_answered_shows_every_attempt_as_a_leg(
    services: Services, account: TestAccount, http: httpx.Client
) -> None:
    hot = make_hotline(services, account)
    result = call(services, {"101": "no-answer", "102": "busy", "103": "answer:5:30"})
    log = result.log
    assert log.status == "Completed" and log.answered_by_extension_id == hot.ext("103")
    assert (log.current_rule_order, log.repeat_count) == (3, 0)
    # The group rule rings its first reachable member, 102.
    assert _attempts(result) == [
        ("NoAnswer", "no-answer", DIALLED["101"]),
        ("Busy", "busy", DIALLED["102"]),
        ("Connected", "completed", DIALLED["103"]),
    ]
    assert [a.rule_id for a in result.attempts] == hot.rule_ids
    assert [a.extension_id for a in result.attempts] == [hot.ext(n) for n in ("101", "102", "103")]
    # 101 rings out after 20 s; 2 s to say "next engineer"; 102 is busy after 2 s; 103 answers.
    assert [(a.started_ms, a.ended_ms) for a in result.attempts] == [
        (_ms(0), _ms(24)),
        (_ms(24), _ms(28)),
        (_ms(28), _ms(65)),
    ]
    records = _call_log(http, account)
    by_owner = {str(r["extension"]["id"]): r for r in records}
    assert set(by_owner) == {str(hot.ext(n)) for n in ("101", "102", "103")}
    for record in records:
        assert record["telephonySessionId"] == session_id(log.id)
        assert [leg["legType"] for leg in record["legs"]] == [
            "Accept",
            "FindMe",
            "FindMe",
            "FindMe",
        ]
        assert [leg["result"] for leg in record["legs"]] == [
            "Accepted",
            "Missed",
            "Busy",
            "Accepted",
        ]
        assert [leg.get("to", {}).get("phoneNumber") for leg in record["legs"]] == [
            ROUTING,
            DIALLED["101"],
            DIALLED["102"],
            DIALLED["103"],
        ]
    assert by_owner[str(hot.ext("101"))]["result"] == "Missed"
    assert by_owner[str(hot.ext("102"))]["result"] == "Busy"
    answered = by_owner[str(hot.ext("103"))]
    assert answered["result"] == "Accepted"
    assert answered["from"]["phoneNumber"] == CALLER
    assert answered["legs"][3]["master"] is True


def test_rules_with_nobody_reachable_are_skipped(services: Services, account: TestAccount) -> None:
    hot = make_hotline(services, account, verified=("103",))
    result = call(services, {"103": "answer:2:10"})
    # Rule 1 (101, unverified) is skipped; the group's first reachable member is 103.
    assert _attempts(result) == [("Connected", "completed", DIALLED["103"])]
    assert result.attempts[0].rule_id == hot.rule_ids[1]
    assert result.log.current_rule_order == 2


def test_nobody_reachable_fails_at_once(
    services: Services, account: TestAccount, http: httpx.Client
) -> None:
    make_hotline(services, account, verified=())
    result = call(services)
    log = result.log
    assert (log.status, log.status_message) == ("Failed", NO_ONE_AVAILABLE_MESSAGE)
    assert result.attempts == []
    assert log.ended_ms == log.started_ms and log.duration_s == 0
    [record] = _call_log(http, account)
    assert "extension" not in record  # nobody was rung: a company-log record
    assert [leg["legType"] for leg in record["legs"]] == ["Accept"]


def test_repeat_runs_the_policy_again_then_gives_up(
    services: Services, account: TestAccount
) -> None:
    make_hotline(services, account, repeat=True)
    result = call(services)  # nobody answers
    log = result.log
    assert (log.status, log.status_message) == ("NoAnswer", "Nobody answered (6 attempts)")
    assert (log.current_rule_order, log.repeat_count) == (3, 1)
    numbers = [a.user_phone_number for a in result.attempts]
    assert numbers == [DIALLED[n] for n in ("101", "102", "103")] * 2
    assert {a.status for a in result.attempts} == {"NoAnswer"}
    assert log.answered_by_extension_id is None and log.outgoing_cost_cents == 0


def test_caller_hangs_up_mid_escalation(
    services: Services, account: TestAccount, http: httpx.Client
) -> None:
    make_hotline(services, account)
    with rates(services):
        result = call(services, {"101": "no-answer"}, hang_up_after=30)
    log = result.log
    assert (log.status, log.status_message) == ("CallerHungUp", CALLER_HUNG_UP_MESSAGE)
    assert _attempts(result) == [
        ("NoAnswer", "no-answer", DIALLED["101"]),
        ("CallerHungUp", "canceled", DIALLED["102"]),
    ]
    assert (log.ended_ms, log.duration_s, log.cost_cents) == (_ms(30), 30, 1)
    records = _call_log(http, account)
    assert sorted(r["result"] for r in records) == ["Missed", "Missed"]
    for record in records:
        assert [leg["result"] for leg in record["legs"]] == ["Missed", "Missed", "Missed"]


def test_caller_hangs_up_during_the_greeting(services: Services, account: TestAccount) -> None:
    make_hotline(services, account)
    result = call(services, {"101": "answer"}, hang_up_after=2)
    assert result.log.status == "CallerHungUp"
    assert _attempts(result) == [("CallerHungUp", "canceled", DIALLED["101"])]


def test_disabled_policy_fails_with_its_message(services: Services, account: TestAccount) -> None:
    make_hotline(services, account, enabled=False)
    result = call(services, {"101": "answer"})
    assert (result.log.status, result.log.status_message) == ("Failed", DISABLED_MESSAGE)
    assert result.attempts == []


def test_withheld_caller_is_logged_without_a_number(
    services: Services, account: TestAccount
) -> None:
    make_hotline(services, account)
    result = call(services, {"101": "answer:1:5"}, caller="anonymous")
    assert result.log.caller_number is None and result.log.status == "Completed"


def test_repeated_reports_change_nothing(services: Services, account: TestAccount) -> None:
    hot = make_hotline(services, account)
    esc = services.escalation
    log, step = esc.incoming_call(
        provider=Provider.TWILIO,
        routing_number=ROUTING,
        caller_number=CALLER,
        provider_call_id="CA-repeat",
        at=T0,
    )
    again_log, again = esc.incoming_call(
        provider=Provider.TWILIO,
        routing_number=ROUTING,
        caller_number=CALLER,
        provider_call_id="CA-repeat",
        at=T0 + timedelta(seconds=1),
    )
    assert again_log.id == log.id and again == step
    assert isinstance(step, DialInstruction) and step.timeout == 20
    done = esc.attempt_ended(
        log.id,
        step.item_id,
        dial_status=DialStatus.COMPLETED,
        dial_duration=30,
        at=T0 + timedelta(seconds=40),
    )
    repeat = esc.attempt_ended(
        log.id,
        step.item_id,
        dial_status=DialStatus.COMPLETED,
        dial_duration=30,
        at=T0 + timedelta(seconds=50),
    )
    assert done == repeat == HangupInstruction(log.id, None)
    final = esc.log(log.id)
    assert final.status == "Completed" and final.ended_ms == _ms(40)
    assert final.answered_by_extension_id == hot.ext("101")
    assert len(esc.attempts(log.id)) == 1
