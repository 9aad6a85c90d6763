"""Incoming call policies, their routing numbers and escalation rules, on-call groups, users'
incoming-call numbers and provider configs: rows to plain records and back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from callvault.storage.schema import (
    call_provider_configs,
    incoming_call_policies,
    incoming_call_policy_numbers,
    incoming_call_policy_rules,
    oncall_group_members,
    oncall_groups,
    user_incoming_call_numbers,
)


@dataclass(slots=True, frozen=True)
class PolicyRow:
    id: str
    account_id: int
    name: str
    description: str | None
    slug: str
    greeting_message: str | None
    no_answer_message: str | None
    no_one_available_message: str | None
    is_enabled: bool
    repeat_if_no_one_answers: bool
    repeat_times: int
    created_ms: int
    updated_ms: int
    numbers: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class RuleRow:
    id: str
    account_id: int
    policy_id: str
    name: str | None
    description: str | None
    order: int
    escalate_after_seconds: int
    extension_id: int | None
    group_id: str | None
    created_ms: int
    updated_ms: int


@dataclass(slots=True, frozen=True)
class GroupRow:
    id: str
    account_id: int
    name: str
    members: tuple[int, ...]
    created_ms: int
    updated_ms: int


@dataclass(slots=True, frozen=True)
class UserNumberRow:
    extension_id: int
    account_id: int
    phone_number: str
    is_verified: bool


@dataclass(slots=True, frozen=True)
class ProviderConfigRow:
    account_id: int
    provider: str
    account_sid: str
    auth_token: str


# -- policies ---------------------------------------------------------------------------------

_P = incoming_call_policies.c
_N = incoming_call_policy_numbers.c


def _policy(r: Any, numbers: Sequence[str]) -> PolicyRow:
    return PolicyRow(
        r.id,
        r.account_id,
        r.name,
        r.description,
        r.slug,
        r.greeting_message,
        r.no_answer_message,
        r.no_one_available_message,
        bool(r.is_enabled),
        bool(r.repeat_if_no_one_answers),
        r.repeat_times,
        r.created_ms,
        r.updated_ms,
        tuple(numbers),
    )


def _numbers_of(conn: Connection, policy_ids: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {pid: [] for pid in policy_ids}
    if not policy_ids:
        return out
    rows = conn.execute(
        select(_N.policy_id, _N.phone_number)
        .where(_N.policy_id.in_(list(policy_ids)))
        .order_by(_N.policy_id, _N.position)
    )
    for pid, number in rows:
        out[pid].append(number)
    return out


def insert_policy(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(incoming_call_policies.insert().values(**values))


def update_policy(conn: Connection, policy_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(incoming_call_policies).where(_P.id == policy_id).values(**values))


def delete_policy(conn: Connection, policy_id: str) -> None:
    # Explicit deletes: SQLite applies ON DELETE CASCADE only with foreign keys on, and
    # PostgreSQL does; doing it here keeps both identical.
    conn.execute(delete(incoming_call_policy_numbers).where(_N.policy_id == policy_id))
    conn.execute(
        delete(incoming_call_policy_rules).where(
            incoming_call_policy_rules.c.policy_id == policy_id
        )
    )
    conn.execute(delete(incoming_call_policies).where(_P.id == policy_id))


def get_policy(conn: Connection, account_id: int, policy_id: str) -> PolicyRow | None:
    r = conn.execute(
        select(incoming_call_policies).where(_P.account_id == account_id, _P.id == policy_id)
    ).first()
    if r is None:
        return None
    return _policy(r, _numbers_of(conn, [r.id])[r.id])


def list_policies(conn: Connection, account_id: int) -> list[PolicyRow]:
    rows = conn.execute(
        select(incoming_call_policies)
        .where(_P.account_id == account_id)
        .order_by(_P.created_ms, _P.id)
    ).all()
    numbers = _numbers_of(conn, [r.id for r in rows])
    return [_policy(r, numbers[r.id]) for r in rows]


def slug_taken(conn: Connection, account_id: int, slug: str, exclude: str | None) -> bool:
    cond = [_P.account_id == account_id, _P.slug == slug]
    if exclude:
        cond.append(_P.id != exclude)
    return conn.execute(select(_P.id).where(*cond)).first() is not None


def set_numbers(conn: Connection, account_id: int, policy_id: str, numbers: Sequence[str]) -> None:
    """Replace a policy's routing numbers, keeping the given order (the first is primary)."""
    conn.execute(delete(incoming_call_policy_numbers).where(_N.policy_id == policy_id))
    if numbers:
        conn.execute(
            incoming_call_policy_numbers.insert(),
            [
                {"phone_number": n, "policy_id": policy_id, "account_id": account_id, "position": i}
                for i, n in enumerate(numbers)
            ],
        )


def number_owner(conn: Connection, number: str) -> tuple[int, str] | None:
    """(account id, policy id) of the policy a routing number belongs to."""
    r = conn.execute(select(_N.account_id, _N.policy_id).where(_N.phone_number == number)).first()
    return (r.account_id, r.policy_id) if r else None


# -- rules ------------------------------------------------------------------------------------

_R = incoming_call_policy_rules.c


def _rule(r: Any) -> RuleRow:
    return RuleRow(
        r.id,
        r.account_id,
        r.policy_id,
        r.name,
        r.description,
        r.rule_order,
        r.escalate_after_seconds,
        r.extension_id,
        r.group_id,
        r.created_ms,
        r.updated_ms,
    )


def list_rules(conn: Connection, policy_id: str) -> list[RuleRow]:
    rows = conn.execute(
        select(incoming_call_policy_rules)
        .where(_R.policy_id == policy_id)
        .order_by(_R.rule_order, _R.created_ms, _R.id)
    )
    return [_rule(r) for r in rows]


def get_rule(conn: Connection, policy_id: str, rule_id: str) -> RuleRow | None:
    r = conn.execute(
        select(incoming_call_policy_rules).where(_R.policy_id == policy_id, _R.id == rule_id)
    ).first()
    return _rule(r) if r else None


def count_rules(conn: Connection, policy_id: str) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(incoming_call_policy_rules)
            .where(_R.policy_id == policy_id)
        ).scalar_one()
    )


def shift_rules(
    conn: Connection,
    policy_id: str,
    lo: int,
    hi: int | None,
    by: int,
    exclude: str | None = None,
    *,
    now_ms: int,
) -> None:
    """Move the orders of the policy's rules with ``lo <= order`` (``<= hi``) by ``by``; a
    moved rule is updated (``updated_ms``) like any other change of it."""
    cond = [_R.policy_id == policy_id, _R.rule_order >= lo]
    if hi is not None:
        cond.append(_R.rule_order <= hi)
    if exclude:
        cond.append(_R.id != exclude)
    conn.execute(
        update(incoming_call_policy_rules)
        .where(*cond)
        .values(rule_order=_R.rule_order + by, updated_ms=now_ms)
    )


def insert_rule(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(incoming_call_policy_rules.insert().values(**values))


def update_rule(conn: Connection, rule_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(incoming_call_policy_rules).where(_R.id == rule_id).values(**values))


def delete_rule(conn: Connection, rule_id: str) -> None:
    conn.execute(delete(incoming_call_policy_rules).where(_R.id == rule_id))


def rules_using_group(conn: Connection, group_id: str) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(incoming_call_policy_rules)
            .where(_R.group_id == group_id)
        ).scalar_one()
    )


# -- on-call groups ---------------------------------------------------------------------------

_G = oncall_groups.c
_M = oncall_group_members.c


def _members_of(conn: Connection, group_ids: Sequence[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {gid: [] for gid in group_ids}
    if not group_ids:
        return out
    rows = conn.execute(
        select(_M.group_id, _M.extension_id)
        .where(_M.group_id.in_(list(group_ids)))
        .order_by(_M.group_id, _M.position)
    )
    for gid, ext in rows:
        out[gid].append(ext)
    return out


def _group(r: Any, members: Sequence[int]) -> GroupRow:
    return GroupRow(r.id, r.account_id, r.name, tuple(members), r.created_ms, r.updated_ms)


def insert_group(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(oncall_groups.insert().values(**values))


def update_group(conn: Connection, group_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(oncall_groups).where(_G.id == group_id).values(**values))


def set_members(conn: Connection, group_id: str, members: Sequence[int]) -> None:
    conn.execute(delete(oncall_group_members).where(_M.group_id == group_id))
    if members:
        conn.execute(
            oncall_group_members.insert(),
            [
                {"group_id": group_id, "position": i, "extension_id": ext}
                for i, ext in enumerate(members)
            ],
        )


def delete_group(conn: Connection, group_id: str) -> None:
    conn.execute(delete(oncall_group_members).where(_M.group_id == group_id))
    conn.execute(delete(oncall_groups).where(_G.id == group_id))


def get_group(conn: Connection, account_id: int, group_id: str) -> GroupRow | None:
    r = conn.execute(
        select(oncall_groups).where(_G.account_id == account_id, _G.id == group_id)
    ).first()
    return _group(r, _members_of(conn, [r.id])[r.id]) if r else None


def list_groups(conn: Connection, account_id: int) -> list[GroupRow]:
    rows = conn.execute(
        select(oncall_groups).where(_G.account_id == account_id).order_by(_G.name)
    ).all()
    members = _members_of(conn, [r.id for r in rows])
    return [_group(r, members[r.id]) for r in rows]


def groups_by_id(conn: Connection, group_ids: Iterable[str]) -> dict[str, GroupRow]:
    ids = sorted(set(group_ids))
    if not ids:
        return {}
    rows = conn.execute(select(oncall_groups).where(_G.id.in_(ids))).all()
    members = _members_of(conn, [r.id for r in rows])
    return {r.id: _group(r, members[r.id]) for r in rows}


# -- users' incoming-call numbers -------------------------------------------------------------

_U = user_incoming_call_numbers.c


def set_user_number(
    conn: Connection,
    account_id: int,
    extension_id: int,
    phone_number: str,
    is_verified: bool,
    now_ms: int,
) -> None:
    conn.execute(delete(user_incoming_call_numbers).where(_U.extension_id == extension_id))
    conn.execute(
        user_incoming_call_numbers.insert().values(
            extension_id=extension_id,
            account_id=account_id,
            phone_number=phone_number,
            is_verified=is_verified,
            updated_ms=now_ms,
        )
    )


def delete_user_number(conn: Connection, account_id: int, extension_id: int) -> int:
    result = conn.execute(
        delete(user_incoming_call_numbers).where(
            _U.account_id == account_id, _U.extension_id == extension_id
        )
    )
    return int(result.rowcount or 0)


def user_numbers(
    conn: Connection, account_id: int, extension_ids: Iterable[int] | None = None
) -> dict[int, UserNumberRow]:
    stmt = select(user_incoming_call_numbers).where(_U.account_id == account_id)
    if extension_ids is not None:
        stmt = stmt.where(_U.extension_id.in_(sorted(set(extension_ids))))
    return {
        r.extension_id: UserNumberRow(
            r.extension_id, r.account_id, r.phone_number, bool(r.is_verified)
        )
        for r in conn.execute(stmt)
    }


# -- provider configs -------------------------------------------------------------------------

_C = call_provider_configs.c


def set_provider_config(conn: Connection, row: ProviderConfigRow, now_ms: int) -> None:
    conn.execute(
        delete(call_provider_configs).where(
            _C.account_id == row.account_id, _C.provider == row.provider
        )
    )
    conn.execute(
        call_provider_configs.insert().values(
            account_id=row.account_id,
            provider=row.provider,
            account_sid=row.account_sid,
            auth_token=row.auth_token,
            updated_ms=now_ms,
        )
    )


def provider_config(conn: Connection, account_id: int, provider: str) -> ProviderConfigRow | None:
    r = conn.execute(
        select(call_provider_configs).where(_C.account_id == account_id, _C.provider == provider)
    ).first()
    return ProviderConfigRow(r.account_id, r.provider, r.account_sid, r.auth_token) if r else None
