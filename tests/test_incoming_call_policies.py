"""Managing incoming call policies: the native API (policies, rule ordering, on-call groups,
users' numbers, sandbox calls; native errors) and the ``callvault policy``/``apikey`` CLI."""

from __future__ import annotations

import re
from typing import Any

import httpx
from typer.testing import CliRunner

from callvault.cli import app
from callvault.services.container import Services
from tests.builders import TestAccount
from tests.oneuptime_support import LOG, ROUTING, headers

BASE = "/api/v1/incoming-call-policies"


def _ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def _error(r: httpx.Response, status: int, code: str, field: str | None = None) -> str:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code, err
    if field is not None:
        assert err.get("field") == field, err
    message: str = err["message"]
    return message


def test_policy_lifecycle_and_rule_ordering(http: httpx.Client, account: TestAccount) -> None:
    auth = account.auth()
    policy = _ok(
        http.post(
            BASE,
            json={"name": "Support Hotline", "routingNumbers": ["+1 (650) 555-0190"]},
            headers=auth,
        ),
        201,
    )
    assert policy["routingNumbers"] == [ROUTING] and policy["slug"] == "support-hotline"
    assert policy["isEnabled"] is True and policy["rules"] == []
    assert policy["greetingMessage"].startswith("Please wait")
    rules = f"{BASE}/{policy['id']}/rules"
    a = _ok(http.post(rules, json={"extensionNumber": "101"}, headers=auth), 201)
    group = _ok(
        http.post(
            "/api/v1/on-call-groups",
            json={"name": "Primary", "members": ["102", "103"]},
            headers=auth,
        ),
        201,
    )
    assert group["members"] == [str(account.extensions["102"]), str(account.extensions["103"])]
    b = _ok(
        http.post(rules, json={"groupId": group["id"], "escalateAfterSeconds": 45}, headers=auth),
        201,
    )
    c = _ok(
        http.post(
            rules, json={"extensionId": str(account.extensions["103"]), "order": 1}, headers=auth
        ),
        201,
    )

    def orders() -> list[tuple[str, int]]:
        listed = _ok(http.get(rules, headers=auth))["records"]
        return [(r["id"], r["order"]) for r in listed]

    # Created at order 1: the others moved down.
    assert orders() == [(c["id"], 1), (a["id"], 2), (b["id"], 3)]
    _ok(http.patch(f"{rules}/{c['id']}", json={"order": 3}, headers=auth))
    assert orders() == [(a["id"], 1), (b["id"], 2), (c["id"], 3)]
    # Setting the user clears the group.
    moved = _ok(http.patch(f"{rules}/{b['id']}", json={"extensionNumber": "102"}, headers=auth))
    assert (moved["groupId"], moved["extensionId"]) == (None, str(account.extensions["102"]))
    _ok(http.delete(f"{rules}/{a['id']}", headers=auth), 204)
    assert orders() == [(b["id"], 1), (c["id"], 2)]
    changed = _ok(
        http.patch(
            f"{BASE}/{policy['id']}",
            json={
                "name": "Night line",
                "repeatPolicyIfNoOneAnswers": True,
                "repeatPolicyIfNoOneAnswersTimes": 2,
            },
            headers=auth,
        )
    )
    assert (changed["slug"], changed["repeatPolicyIfNoOneAnswersTimes"]) == ("night-line", 2)
    assert [r["id"] for r in changed["rules"]] == [b["id"], c["id"]]
    assert [p["name"] for p in _ok(http.get(BASE, headers=auth))["records"]] == ["Night line"]
    _ok(http.delete(f"{BASE}/{policy['id']}", headers=auth), 204)
    _error(http.get(f"{BASE}/{policy['id']}", headers=auth), 404, "not-found", "policyId")


def test_native_errors_name_the_field(http: httpx.Client, account: TestAccount) -> None:
    auth = account.auth()
    _error(http.post(BASE, json={"routingNumbers": []}, headers=auth), 400, "invalid-input", "name")
    message = _error(
        http.post(BASE, json={"name": "X", "routingNumbers": ["555"]}, headers=auth),
        400,
        "invalid-input",
        "routingNumbers[0]",
    )
    assert "E.164" in message
    _error(
        http.post(BASE, json={"name": "X", "colour": "red"}, headers=auth),
        400,
        "invalid-input",
        "colour",
    )
    _error(
        http.post(BASE, json={"name": "X", "isEnabled": "yes"}, headers=auth),
        400,
        "invalid-input",
        "isEnabled",
    )
    _error(http.post(BASE, content=b"[", headers=auth), 400, "invalid-json", "body")
    first = _ok(http.post(BASE, json={"name": "A", "routingNumbers": [ROUTING]}, headers=auth), 201)
    _error(
        http.post(BASE, json={"name": "B", "routingNumbers": [ROUTING]}, headers=auth),
        409,
        "conflict",
        "routingNumbers[0]",
    )
    rules = f"{BASE}/{first['id']}/rules"
    neither = _error(http.post(rules, json={}, headers=auth), 400, "invalid-input", "userId")
    assert (
        neither == "Either a User or an On-Call Schedule must be specified for the escalation rule"
    )
    both = _error(
        http.post(rules, json={"extensionNumber": "101", "groupId": "g"}, headers=auth),
        400,
        "invalid-input",
    )
    assert both == "Only one of User or On-Call Schedule can be specified, not both"
    _error(http.post(rules, json={"extensionNumber": "999"}, headers=auth), 404, "not-found")
    _error(
        http.post(rules, json={"extensionNumber": "101", "escalateAfterSeconds": 1}, headers=auth),
        400,
        "invalid-input",
        "escalateAfterSeconds",
    )
    _error(http.get(BASE, headers=account.auth("102")), 403, "permission-denied")
    _error(http.get(BASE), 401, "auth-required")


def test_groups_numbers_and_sandbox_calls(
    http: httpx.Client, services: Services, account: TestAccount
) -> None:
    auth = account.auth()
    policy = _ok(
        http.post(BASE, json={"name": "Hotline", "routingNumbers": [ROUTING]}, headers=auth), 201
    )
    group = _ok(
        http.post("/api/v1/on-call-groups", json={"name": "G", "members": ["102"]}, headers=auth),
        201,
    )
    _ok(http.post(f"{BASE}/{policy['id']}/rules", json={"groupId": group["id"]}, headers=auth), 201)
    _error(
        http.delete(f"/api/v1/on-call-groups/{group['id']}", headers=auth),
        409,
        "conflict",
        "groupId",
    )
    renamed = _ok(
        http.patch(
            f"/api/v1/on-call-groups/{group['id']}",
            json={"name": "On call", "members": ["103", "102"]},
            headers=auth,
        )
    )
    assert renamed["members"] == [str(account.extensions["103"]), str(account.extensions["102"])]
    number = _ok(
        http.put(
            "/api/v1/incoming-call-numbers/102", json={"phoneNumber": "+14155550102"}, headers=auth
        )
    )
    assert number == {
        "extensionId": str(account.extensions["102"]),
        "phoneNumber": "+14155550102",
        "isVerified": True,
    }
    _ok(
        http.put(
            "/api/v1/incoming-call-numbers/103",
            json={"phoneNumber": "+14155550103", "isVerified": False},
            headers=auth,
        )
    )
    listed = _ok(http.get("/api/v1/incoming-call-numbers", headers=auth))["records"]
    assert {n["phoneNumber"]: n["isVerified"] for n in listed} == {
        "+14155550102": True,
        "+14155550103": False,
    }
    # 103 comes first in the group but is not verified: 102 is rung.
    result = _ok(
        http.post(
            "/api/v1/incoming-call-sandbox/calls",
            json={"to": ROUTING, "from": "+14155550123", "outcomes": {"102": ["answer:3:40"]}},
            headers=auth,
        ),
        201,
    )
    assert result["status"] == "Completed" and result["provider"] == "sandbox"
    assert [(a["phoneNumber"], a["status"], a["dialStatus"]) for a in result["attempts"]] == [
        ("+14155550102", "Connected", "completed")
    ]
    assert result["telephonySessionId"] == f"icl-{result['id']}"
    _error(
        http.post("/api/v1/incoming-call-sandbox/calls", json={"to": "+19995550000"}, headers=auth),
        404,
        "not-found",
        "to",
    )
    _error(
        http.post(
            "/api/v1/incoming-call-sandbox/calls",
            json={"to": ROUTING, "outcomes": {"102": "sing"}},
            headers=auth,
        ),
        400,
        "invalid-input",
        "outcomes.102",
    )
    _ok(http.delete("/api/v1/incoming-call-numbers/103", headers=auth), 204)
    _error(http.delete("/api/v1/incoming-call-numbers/103", headers=auth), 404, "not-found")
    # Deleting the policy keeps its call logs: they are history.
    _ok(http.delete(f"{BASE}/{policy['id']}", headers=auth), 204)
    assert services.escalation.log(result["id"]).status == "Completed"


def test_cli_builds_a_policy_places_a_sandbox_call_and_issues_a_key(
    services: Services, database_url: str, http: httpx.Client, account: TestAccount
) -> None:
    runner = CliRunner()
    acc = ["--account", str(account.account_id), "--database-url", database_url]

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    out = run("policy", "create", *acc, "Support Hotline", "--number", ROUTING, "--repeat", "1")
    policy_id = re.search(r"policy (\S+) created", out).group(1)  # type: ignore[union-attr]
    out = run("policy", "group-create", *acc, "Primary", "--member", "102", "--member", "103")
    group_id = re.search(r"group (\S+) created", out).group(1)  # type: ignore[union-attr]
    run("policy", "rule-add", *acc, policy_id, "--extension", "101", "--escalate-after", "15")
    run("policy", "rule-add", *acc, policy_id, "--group", group_id)
    for number, phone in (("101", "+14155550101"), ("102", "+14155550102")):
        run("policy", "number-set", *acc, "--extension", number, phone)
    shown = run("policy", "show", *acc, policy_id)
    assert "ext 101 Ada Admin" in shown and "group Primary" in shown
    out = run(
        "policy",
        "call",
        "--database-url",
        database_url,
        "--to",
        ROUTING,
        "--from",
        "+14155550123",
        "--outcome",
        "101=busy",
        "--outcome",
        "102=answer:2:30",
    )
    assert "Completed" in out and "Busy" in out and "Connected" in out
    bad = runner.invoke(app, ["policy", "rule-add", *acc, policy_id])
    assert bad.exit_code == 1 and "Either a User or an On-Call Schedule" in bad.output
    out = run("apikey", "create", *acc, "--name", "dashboard")
    key = re.search(r"ApiKey:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    r = http.post(f"{LOG}/get-list", json={"select": {"status": True}}, headers=headers(key))
    assert [d["status"] for d in r.json()["data"]] == ["Completed"]
    assert "dashboard" in run("apikey", "list", *acc)
    key_id = services.api_keys.keys(account.account_id)[0].id
    run("apikey", "revoke", *acc, key_id)
    r = http.post(f"{LOG}/count", json={}, headers=headers(key))
    assert (r.status_code, r.json()) == (400, {"error": "Invalid API Key"})
    assert "Support Hotline" in run("policy", "list", *acc)
    out = run(
        "policy",
        "twilio",
        *acc,
        "--account-sid",
        "AC1",
        "--auth-token",
        "tok",
        "--base-url",
        "https://calls.example.test",
    )
    assert "https://calls.example.test/notification/incoming-call/voice" in out
