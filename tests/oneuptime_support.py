"""Helpers for the incoming-call tests: a hotline policy with three rules, sandbox calls at fixed
times, OneUptime API keys and headers, and golden files with ids normalised."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from callvault.services.container import Services
from callvault.services.escalation import Rates
from callvault.services.escalation_sandbox import SandboxResult, SandboxScript, parse_outcome
from tests.builders import TestAccount

LOG = "/api/incoming-call-log"
ITEM = "/api/incoming-call-log-item"
POLICY = "/api/incoming-call-policy"
RULE = "/api/incoming-call-policy-escalation-rule"
GOLDEN = Path(__file__).parent / "golden" / "oneuptime"
T0 = datetime(2026, 8, 12, 9, 30, tzinfo=UTC)
ROUTING = "+16505550190"
DIALLED = {"101": "+14155550101", "102": "+14155550102", "103": "+14155550103"}
CALLER = "+14155550123"
RATES = Rates(inbound_cents_per_minute=1.0, outbound_cents_per_minute=2.5)
_SANDBOX_CALL = re.compile(r"^SB[0-9a-f]{32}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class Hotline:
    """A policy: rule 1 rings 101 (20 s), rule 2 the on-call group [102, 103] (30 s),
    rule 3 rings 103 (25 s). Every user has a verified number."""

    acc: TestAccount
    policy_id: str
    rule_ids: list[str]
    group_id: str

    def ext(self, number: str) -> int:
        return self.acc.extensions[number]


def make_hotline(
    services: Services,
    acc: TestAccount,
    *,
    routing: str = ROUTING,
    repeat: bool = False,
    enabled: bool = True,
    verified: Sequence[str] = ("101", "102", "103"),
) -> Hotline:
    svc = services.policies
    policy = svc.create_policy(
        acc.account_id,
        name="Support Hotline",
        description="Round-the-clock support line",
        numbers=[routing],
        is_enabled=enabled,
        repeat_if_no_one_answers=repeat,
        repeat_times=1,
    )
    group = svc.create_group(
        acc.account_id, "Primary On-Call", [acc.extensions["102"], acc.extensions["103"]]
    )
    rules = [
        svc.add_rule(
            acc.account_id,
            policy.id,
            extension_id=acc.extensions["101"],
            escalate_after_seconds=20,
            name="Team lead",
        ),
        svc.add_rule(
            acc.account_id, policy.id, group_id=group.id, escalate_after_seconds=30, name="Primary"
        ),
        svc.add_rule(
            acc.account_id,
            policy.id,
            extension_id=acc.extensions["103"],
            escalate_after_seconds=25,
            name="Backup",
        ),
    ]
    for number, phone in DIALLED.items():
        svc.set_user_number(
            acc.account_id, acc.extensions[number], phone, verified=number in verified
        )
    return Hotline(acc, policy.id, [r.id for r in rules], group.id)


def script(
    outcomes: Mapping[str, str | Sequence[str]] | None = None,
    *,
    hang_up_after: float | None = None,
) -> SandboxScript:
    """Outcomes by extension number: ``{"101": "busy", "102": ["no-answer", "answer:3:60"]}``."""
    parsed = {
        key: [parse_outcome(v) for v in ([value] if isinstance(value, str) else value)]
        for key, value in (outcomes or {}).items()
    }
    return SandboxScript(outcomes=parsed, caller_hangs_up_after=hang_up_after)


def call(
    services: Services,
    outcomes: Mapping[str, str | Sequence[str]] | None = None,
    *,
    at: datetime = T0,
    hang_up_after: float | None = None,
    to: str = ROUTING,
    caller: str | None = CALLER,
) -> SandboxResult:
    return services.sandbox.call(
        to=to, caller=caller, script=script(outcomes, hang_up_after=hang_up_after), start=at
    )


@contextmanager
def rates(services: Services, value: Rates = RATES) -> Iterator[None]:
    """Costs on for the block (the services are shared by the whole session)."""
    before = services.escalation.rates
    services.escalation.rates = value
    try:
        yield
    finally:
        services.escalation.rates = before


def api_key(services: Services, acc: TestAccount, *permissions: str) -> str:
    return services.api_keys.create(acc.account_id, "tests", permissions or ("Viewer",)).key


def headers(key: str, acc: TestAccount | None = None) -> dict[str, str]:
    out = {"ApiKey": key}
    if acc is not None:
        out["ProjectID"] = str(acc.account_id)
    return out


def normalise(body: Any, acc: TestAccount) -> Any:
    """Ids become stable placeholders: UUIDs ``<id-N>`` in order of first appearance, the
    account ``<account>``, extensions ``<ext-NNN>``, sandbox call ids; times of "now" (policy
    and rule creation, long after the fixed call times) become ``<now>``."""
    uuids: dict[str, str] = {}
    names = {str(acc.account_id): "<account>"}
    names.update({str(ext_id): f"<ext-{num}>" for num, ext_id in acc.extensions.items()})
    late = T0 + timedelta(days=30)

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("_type") == "DateTime" and isinstance(value.get("value"), str):
                moment = datetime.fromisoformat(value["value"].replace("Z", "+00:00"))
                return {"_type": "DateTime", "value": "<now>" if moment > late else value["value"]}
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            if _UUID.match(value):
                return uuids.setdefault(value, f"<id-{len(uuids) + 1}>")
            if _SANDBOX_CALL.match(value):
                return "<sandbox-call-id>"
            return names.get(value, value)
        return value

    return walk(body)


def assert_golden(name: str, body: Any) -> None:
    """Compare with ``tests/golden/oneuptime/<name>.json``; CALLVAULT_UPDATE_GOLDEN=1 rewrites."""
    path = GOLDEN / f"{name}.json"
    text = json.dumps(body, indent=2, sort_keys=False) + "\n"
    if os.environ.get("CALLVAULT_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"{path} is missing; run with CALLVAULT_UPDATE_GOLDEN=1"
    assert json.loads(path.read_text()) == body, f"{name} differs from {path}"


@dataclass
class Calls:
    hot: Hotline
    key: str
    log_ids: list[str]  # in call order: answered, escalated, hung up, nobody answered

    @property
    def acc(self) -> TestAccount:
        return self.hot.acc


def make_calls(services: Services, account: TestAccount) -> Calls:
    """Four sandbox calls an hour apart, with costs: answered at once; escalated twice then
    answered; the caller hangs up; nobody answers."""
    hot = make_hotline(services, account)
    with rates(services):
        results = [
            call(services, {"101": "answer:4:60"}, at=T0),
            call(
                services,
                {"101": "no-answer", "102": "busy", "103": "answer:5:30"},
                at=T0 + timedelta(hours=1),
            ),
            call(services, {"101": "no-answer"}, at=T0 + timedelta(hours=2), hang_up_after=30),
            call(services, at=T0 + timedelta(hours=3), caller="+16175550199"),
        ]
    return Calls(hot, api_key(services, account), [r.log.id for r in results])
