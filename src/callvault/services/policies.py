"""Incoming call policies: their routing numbers, ordered escalation rules, on-call groups,
users' incoming-call numbers and provider credentials; and the plan the engine runs from them.

Rule orders follow OneUptime: a rule created without an order goes last; one created at an
order pushes the rules at and after it down by one; moving a rule shifts the rules in between;
deleting one closes the gap. A rule names exactly one user (extension) or one on-call group.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from callvault.domain.escalation import (
    DEFAULT_ESCALATE_AFTER,
    DEFAULT_GREETING,
    DEFAULT_NO_ANSWER,
    DEFAULT_NO_ONE_AVAILABLE,
    EscalationRule,
    PolicyPlan,
    Reachable,
    Resolver,
    sorted_rules,
)
from callvault.errors import Conflict, InvalidInput, NotFound
from callvault.services.clock import Clock, now_ms, system_clock
from callvault.storage import policies as rows
from callvault.storage.accounts import get_account, get_extension
from callvault.storage.engine import Database
from callvault.storage.policies import (
    GroupRow,
    PolicyRow,
    ProviderConfigRow,
    RuleRow,
    UserNumberRow,
)

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_PHONE_JUNK = re.compile(r"[\s().-]")
MAX_NAME = 100
MAX_TEXT = 500
MAX_REPEAT_TIMES = 20
# Twilio's <Dial timeout> accepts 5 to 600 seconds.
MIN_ESCALATE_AFTER, MAX_ESCALATE_AFTER = 5, 600
NEITHER_TARGET = "Either a User or an On-Call Schedule must be specified for the escalation rule"
BOTH_TARGETS = "Only one of User or On-Call Schedule can be specified, not both"
PROVIDERS = ("twilio",)

# Policy fields that may be changed, with their storage column.
_POLICY_FIELDS = {
    "name": "name",
    "description": "description",
    "greeting_message": "greeting_message",
    "no_answer_message": "no_answer_message",
    "no_one_available_message": "no_one_available_message",
    "is_enabled": "is_enabled",
    "repeat_if_no_one_answers": "repeat_if_no_one_answers",
    "repeat_times": "repeat_times",
}
_RULE_FIELDS = (
    "name",
    "description",
    "order",
    "escalate_after_seconds",
    "extension_id",
    "group_id",
)


def normalise_phone(value: object, field: str) -> str:
    """An E.164 number (``+`` and 7-15 digits); spaces, dots, dashes and brackets are dropped."""
    if not isinstance(value, str):
        raise InvalidInput("must be a phone number in E.164 form, e.g. +14155550123", field=field)
    text = _PHONE_JUNK.sub("", value)
    if text.startswith("00"):
        text = "+" + text[2:]
    if not _E164.match(text):
        raise InvalidInput(
            f"{value!r} is not a phone number in E.164 form, e.g. +14155550123", field=field
        )
    return text


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:80] or "policy"


def _text(value: object, field: str, limit: int, *, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            raise InvalidInput("is required", field=field)
        return None
    if not isinstance(value, str):
        raise InvalidInput("must be a string", field=field)
    value = value.strip()
    if required and not value:
        raise InvalidInput("is required", field=field)
    if len(value) > limit:
        raise InvalidInput(f"must be at most {limit} characters", field=field)
    return value


def _bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("must be true or false", field=field)
    return value


def _int(value: object, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidInput(f"must be a whole number from {lo} to {hi}", field=field)
    return value


class PolicyService:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self.db = db
        self.clock = clock

    # -- policies ---------------------------------------------------------------------------

    def create_policy(self, account_id: int, **values: Any) -> PolicyRow:
        """A new policy. ``values``: name (required), description, numbers, greeting_message,
        no_answer_message, no_one_available_message, is_enabled, repeat_if_no_one_answers,
        repeat_times. Raises InvalidInput, NotFound (account), Conflict (a number in use)."""
        unknown = set(values) - set(_POLICY_FIELDS) - {"numbers"}
        if unknown:
            raise InvalidInput("is not a policy field", field=sorted(unknown)[0])
        if "name" not in values:
            raise InvalidInput("is required", field="name")
        defaults: dict[str, Any] = {
            "greeting_message": DEFAULT_GREETING,
            "no_answer_message": DEFAULT_NO_ANSWER,
            "no_one_available_message": DEFAULT_NO_ONE_AVAILABLE,
            "is_enabled": True,
            "repeat_if_no_one_answers": False,
            "repeat_times": 1,
        }
        clean = self._policy_values({**defaults, **values})
        numbers = self._numbers(values.get("numbers", []))
        stamp = now_ms(self.clock)
        policy_id = str(uuid.uuid4())
        try:
            with self.db.write() as conn:
                if get_account(conn, account_id) is None:
                    raise NotFound(f"account {account_id} does not exist", field="accountId")
                slug = self._free_slug(conn, account_id, str(clean["name"]), None)
                rows.insert_policy(
                    conn,
                    dict(
                        clean,
                        id=policy_id,
                        account_id=account_id,
                        slug=slug,
                        created_ms=stamp,
                        updated_ms=stamp,
                    ),
                )
                self._claim_numbers(conn, account_id, policy_id, numbers)
        except IntegrityError as exc:  # a concurrent request took a number or the slug
            raise Conflict("conflicts with a policy saved at the same time") from exc
        return self.policy(account_id, policy_id)

    def update_policy(self, account_id: int, policy_id: str, **changes: Any) -> PolicyRow:
        """Change the given fields (``numbers`` replaces the routing numbers)."""
        unknown = set(changes) - set(_POLICY_FIELDS) - {"numbers"}
        if unknown:
            raise InvalidInput("is not a policy field", field=sorted(unknown)[0])
        clean = self._policy_values(changes)
        numbers = self._numbers(changes["numbers"]) if "numbers" in changes else None
        try:
            with self.db.write() as conn:
                current = self._policy_in(conn, account_id, policy_id)
                if "name" in clean and clean["name"] != current.name:
                    name = str(clean["name"])
                    clean["slug"] = self._free_slug(conn, account_id, name, policy_id)
                rows.update_policy(conn, policy_id, dict(clean, updated_ms=now_ms(self.clock)))
                if numbers is not None:
                    self._claim_numbers(conn, account_id, policy_id, numbers)
        except IntegrityError as exc:
            raise Conflict("conflicts with a policy saved at the same time") from exc
        return self.policy(account_id, policy_id)

    def delete_policy(self, account_id: int, policy_id: str) -> None:
        """Delete a policy, its numbers and rules; its call logs stay (they are history)."""
        with self.db.write() as conn:
            self._policy_in(conn, account_id, policy_id)
            rows.delete_policy(conn, policy_id)

    def policy(self, account_id: int, policy_id: str) -> PolicyRow:
        with self.db.read() as conn:
            return self._policy_in(conn, account_id, policy_id)

    def policies(self, account_id: int) -> list[PolicyRow]:
        with self.db.read() as conn:
            return rows.list_policies(conn, account_id)

    def policy_for_number(self, number: str) -> PolicyRow | None:
        """The policy a routing number belongs to, in whichever account."""
        try:
            number = normalise_phone(number, "To")
        except InvalidInput:
            return None
        with self.db.read() as conn:
            owner = rows.number_owner(conn, number)
            if owner is None:
                return None
            return rows.get_policy(conn, owner[0], owner[1])

    def _policy_in(self, conn: Connection, account_id: int, policy_id: str) -> PolicyRow:
        found = rows.get_policy(conn, account_id, policy_id)
        if found is None:
            raise NotFound(f"policy {policy_id} does not exist", field="policyId")
        return found

    def _policy_values(self, values: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in values.items():
            if key == "numbers":
                continue
            column = _POLICY_FIELDS[key]
            if key == "name":
                out[column] = _text(value, key, MAX_NAME, required=True)
            elif key in ("is_enabled", "repeat_if_no_one_answers"):
                out[column] = _bool(value, key)
            elif key == "repeat_times":
                out[column] = _int(value, key, 1, MAX_REPEAT_TIMES)
            else:
                out[column] = _text(value, key, MAX_TEXT)
        return out

    @staticmethod
    def _numbers(value: object) -> list[str]:
        if not isinstance(value, list | tuple):
            raise InvalidInput("must be a list of phone numbers", field="numbers")
        out: list[str] = []
        for i, item in enumerate(value):
            number = normalise_phone(item, f"numbers[{i}]")
            if number in out:
                raise InvalidInput(f"{number} is listed twice", field=f"numbers[{i}]")
            out.append(number)
        return out

    def _claim_numbers(
        self, conn: Connection, account_id: int, policy_id: str, numbers: Sequence[str]
    ) -> None:
        for i, number in enumerate(numbers):
            owner = rows.number_owner(conn, number)
            if owner is not None and owner[1] != policy_id:
                raise Conflict(f"{number} already routes to another policy", field=f"numbers[{i}]")
        rows.set_numbers(conn, account_id, policy_id, numbers)

    @staticmethod
    def _free_slug(conn: Connection, account_id: int, name: str, exclude: str | None) -> str:
        base = slugify(name)
        slug, n = base, 1
        while rows.slug_taken(conn, account_id, slug, exclude):
            n += 1
            slug = f"{base}-{n}"
        return slug

    # -- escalation rules -------------------------------------------------------------------

    def rules(self, account_id: int, policy_id: str) -> list[RuleRow]:
        with self.db.read() as conn:
            self._policy_in(conn, account_id, policy_id)
            return rows.list_rules(conn, policy_id)

    def add_rule(self, account_id: int, policy_id: str, **values: Any) -> RuleRow:
        """A new rule. ``values``: extension_id or group_id (exactly one), order (default:
        last), escalate_after_seconds (default 30), name, description."""
        unknown = set(values) - set(_RULE_FIELDS)
        if unknown:
            raise InvalidInput("is not a rule field", field=sorted(unknown)[0])
        clean = self._rule_values(values)
        ext, group = clean.get("extension_id"), clean.get("group_id")
        if ext is None and group is None:
            raise InvalidInput(NEITHER_TARGET, field="userId")
        if ext is not None and group is not None:
            raise InvalidInput(BOTH_TARGETS, field="userId")
        stamp = now_ms(self.clock)
        rule_id = str(uuid.uuid4())
        with self.db.write() as conn:
            self._policy_in(conn, account_id, policy_id)
            self._check_targets(conn, account_id, ext, group)
            count = rows.count_rules(conn, policy_id)
            order = clean.pop("order", None)
            if order is None:
                order = count + 1
            else:
                rows.shift_rules(conn, policy_id, order, None, +1, now_ms=stamp)
            clean.setdefault("escalate_after_seconds", DEFAULT_ESCALATE_AFTER)
            rows.insert_rule(
                conn,
                dict(
                    clean,
                    id=rule_id,
                    account_id=account_id,
                    policy_id=policy_id,
                    rule_order=order,
                    created_ms=stamp,
                    updated_ms=stamp,
                ),
            )
            created = rows.get_rule(conn, policy_id, rule_id)
        assert created is not None
        return created

    def update_rule(self, account_id: int, policy_id: str, rule_id: str, **changes: Any) -> RuleRow:
        """Change a rule; setting the user clears the group and the other way round."""
        unknown = set(changes) - set(_RULE_FIELDS)
        if unknown:
            raise InvalidInput("is not a rule field", field=sorted(unknown)[0])
        clean = self._rule_values(changes)
        if clean.get("extension_id") is not None and clean.get("group_id") is not None:
            raise InvalidInput(BOTH_TARGETS, field="userId")
        stamp = now_ms(self.clock)
        with self.db.write() as conn:
            self._policy_in(conn, account_id, policy_id)
            rule = self._rule_in(conn, policy_id, rule_id)
            ext = clean.get("extension_id", rule.extension_id)
            group = clean.get("group_id", rule.group_id)
            if clean.get("extension_id") is not None:
                clean["group_id"] = group = None
            elif clean.get("group_id") is not None:
                clean["extension_id"] = ext = None
            if ext is None and group is None:
                raise InvalidInput(NEITHER_TARGET, field="userId")
            self._check_targets(conn, account_id, clean.get("extension_id"), clean.get("group_id"))
            order = clean.pop("order", None)
            if order is not None and order != rule.order:
                if order < rule.order:
                    rows.shift_rules(
                        conn, policy_id, order, rule.order - 1, +1, rule_id, now_ms=stamp
                    )
                else:
                    rows.shift_rules(
                        conn, policy_id, rule.order + 1, order, -1, rule_id, now_ms=stamp
                    )
                clean["rule_order"] = order
            rows.update_rule(conn, rule_id, dict(clean, updated_ms=stamp))
            return self._rule_in(conn, policy_id, rule_id)

    def delete_rule(self, account_id: int, policy_id: str, rule_id: str) -> None:
        with self.db.write() as conn:
            self._policy_in(conn, account_id, policy_id)
            rule = self._rule_in(conn, policy_id, rule_id)
            rows.delete_rule(conn, rule_id)
            rows.shift_rules(conn, policy_id, rule.order + 1, None, -1, now_ms=now_ms(self.clock))

    def _rule_in(self, conn: Connection, policy_id: str, rule_id: str) -> RuleRow:
        found = rows.get_rule(conn, policy_id, rule_id)
        if found is None:
            raise NotFound(f"rule {rule_id} does not exist", field="ruleId")
        return found

    @staticmethod
    def _rule_values(values: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in values.items():
            if key in ("name",):
                out[key] = _text(value, key, MAX_NAME)
            elif key == "description":
                out[key] = _text(value, key, MAX_TEXT)
            elif key == "order":
                out[key] = None if value is None else _int(value, "order", 1, 10_000)
            elif key == "escalate_after_seconds":
                out[key] = _int(value, key, MIN_ESCALATE_AFTER, MAX_ESCALATE_AFTER)
            elif key == "extension_id":
                if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                    raise InvalidInput("must be an extension id", field="userId")
                out[key] = value
            elif key == "group_id":
                if value is not None and not isinstance(value, str):
                    raise InvalidInput("must be an on-call group id", field="groupId")
                out[key] = value
        return out

    def _check_targets(
        self, conn: Connection, account_id: int, ext: int | None, group: str | None
    ) -> None:
        if ext is not None:
            found = get_extension(conn, ext)
            if found is None or found.account_id != account_id:
                raise NotFound(f"extension {ext} does not exist", field="userId")
        if group is not None and rows.get_group(conn, account_id, group) is None:
            raise NotFound(f"on-call group {group} does not exist", field="groupId")

    # -- on-call groups ---------------------------------------------------------------------

    def create_group(self, account_id: int, name: str, members: Sequence[int]) -> GroupRow:
        clean_name = _text(name, "name", MAX_NAME, required=True)
        stamp = now_ms(self.clock)
        group_id = str(uuid.uuid4())
        try:
            with self.db.write() as conn:
                if get_account(conn, account_id) is None:
                    raise NotFound(f"account {account_id} does not exist", field="accountId")
                self._check_members(conn, account_id, members)
                rows.insert_group(
                    conn,
                    {
                        "id": group_id,
                        "account_id": account_id,
                        "name": clean_name,
                        "created_ms": stamp,
                        "updated_ms": stamp,
                    },
                )
                rows.set_members(conn, group_id, members)
        except IntegrityError as exc:
            raise Conflict(f"a group named {clean_name!r} exists", field="name") from exc
        return self.group(account_id, group_id)

    def update_group(
        self,
        account_id: int,
        group_id: str,
        *,
        name: str | None = None,
        members: Sequence[int] | None = None,
    ) -> GroupRow:
        try:
            with self.db.write() as conn:
                self._group_in(conn, account_id, group_id)
                values: dict[str, Any] = {"updated_ms": now_ms(self.clock)}
                if name is not None:
                    values["name"] = _text(name, "name", MAX_NAME, required=True)
                rows.update_group(conn, group_id, values)
                if members is not None:
                    self._check_members(conn, account_id, members)
                    rows.set_members(conn, group_id, members)
        except IntegrityError as exc:
            raise Conflict(f"a group named {name!r} exists", field="name") from exc
        return self.group(account_id, group_id)

    def delete_group(self, account_id: int, group_id: str) -> None:
        """Delete a group; refused (Conflict) while a rule still rings it."""
        with self.db.write() as conn:
            self._group_in(conn, account_id, group_id)
            if rows.rules_using_group(conn, group_id):
                raise Conflict("an escalation rule still uses this group", field="groupId")
            rows.delete_group(conn, group_id)

    def group(self, account_id: int, group_id: str) -> GroupRow:
        with self.db.read() as conn:
            return self._group_in(conn, account_id, group_id)

    def groups(self, account_id: int) -> list[GroupRow]:
        with self.db.read() as conn:
            return rows.list_groups(conn, account_id)

    def _group_in(self, conn: Connection, account_id: int, group_id: str) -> GroupRow:
        found = rows.get_group(conn, account_id, group_id)
        if found is None:
            raise NotFound(f"on-call group {group_id} does not exist", field="groupId")
        return found

    @staticmethod
    def _check_members(conn: Connection, account_id: int, members: Sequence[int]) -> None:
        if len(set(members)) != len(members):
            raise InvalidInput("an extension is listed twice", field="members")
        for i, ext in enumerate(members):
            found = get_extension(conn, ext)
            if found is None or found.account_id != account_id:
                raise NotFound(f"extension {ext} does not exist", field=f"members[{i}]")

    # -- users' numbers and provider credentials -------------------------------------------

    def set_user_number(
        self, account_id: int, extension_id: int, phone_number: str, *, verified: bool = True
    ) -> UserNumberRow:
        """The number a user is dialled at when on call (only verified numbers are dialled)."""
        number = normalise_phone(phone_number, "phoneNumber")
        with self.db.write() as conn:
            found = get_extension(conn, extension_id)
            if found is None or found.account_id != account_id:
                raise NotFound(f"extension {extension_id} does not exist", field="extensionId")
            rows.set_user_number(
                conn, account_id, extension_id, number, verified, now_ms(self.clock)
            )
        return UserNumberRow(extension_id, account_id, number, verified)

    def remove_user_number(self, account_id: int, extension_id: int) -> None:
        with self.db.write() as conn:
            if not rows.delete_user_number(conn, account_id, extension_id):
                raise NotFound(
                    f"extension {extension_id} has no incoming-call number", field="extensionId"
                )

    def user_numbers(self, account_id: int) -> list[UserNumberRow]:
        with self.db.read() as conn:
            found = rows.user_numbers(conn, account_id)
        return [found[k] for k in sorted(found)]

    def set_provider(
        self, account_id: int, provider: str, account_sid: str, auth_token: str
    ) -> ProviderConfigRow:
        """Credentials of the provider account whose webhooks reach callvault; the auth token
        checks their signatures."""
        if provider not in PROVIDERS:
            raise InvalidInput(f"must be one of {', '.join(PROVIDERS)}", field="provider")
        sid = _text(account_sid, "accountSid", 64, required=True) or ""
        token = _text(auth_token, "authToken", 128, required=True) or ""
        row = ProviderConfigRow(account_id, provider, sid, token)
        with self.db.write() as conn:
            if get_account(conn, account_id) is None:
                raise NotFound(f"account {account_id} does not exist", field="accountId")
            rows.set_provider_config(conn, row, now_ms(self.clock))
        return row

    def provider(self, account_id: int, provider: str) -> ProviderConfigRow | None:
        with self.db.read() as conn:
            return rows.provider_config(conn, account_id, provider)

    # -- what the engine runs ---------------------------------------------------------------

    def plan(self, conn: Connection, account_id: int, policy_id: str) -> PolicyPlan | None:
        """The policy and its rules as the engine sees them; None if it was deleted."""
        policy = rows.get_policy(conn, account_id, policy_id)
        if policy is None:
            return None
        rules = [
            EscalationRule(r.id, r.order, r.escalate_after_seconds, r.extension_id, r.group_id)
            for r in rows.list_rules(conn, policy_id)
        ]
        return PolicyPlan(
            id=policy.id,
            enabled=policy.is_enabled,
            rules=sorted_rules(rules),
            greeting=policy.greeting_message,
            no_answer_message=policy.no_answer_message,
            no_one_available_message=policy.no_one_available_message,
            repeat_if_no_one_answers=policy.repeat_if_no_one_answers,
            repeat_times=policy.repeat_times,
        )

    @staticmethod
    def resolver(conn: Connection, account_id: int, plan: PolicyPlan) -> Resolver:
        """Who is reachable for each rule right now: the rule's user, or the first member of
        its group, who has a verified incoming-call number."""
        groups = rows.groups_by_id(conn, [r.group_id for r in plan.rules if r.group_id])
        numbers = {
            ext: n for ext, n in rows.user_numbers(conn, account_id).items() if n.is_verified
        }

        def resolve(rule: EscalationRule) -> Reachable | None:
            if rule.extension_id is not None:
                candidates: Sequence[int] = (rule.extension_id,)
            elif rule.group_id in groups:
                candidates = groups[rule.group_id].members
            else:
                candidates = ()
            for ext in candidates:
                if ext in numbers:
                    return Reachable(ext, numbers[ext].phone_number)
            return None

        return resolve
