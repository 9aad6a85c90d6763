"""The four OneUptime models this face serves, column by column: wire name, callvault field,
value kind, relations one level deep, and who may read or change them (reference §1, §3.9).

Wire names (OneUptime's camelCase) live only here and in the rest of this folder; the store
speaks callvault's field names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """How a column's values look on the wire and how query values are read."""

    ID = "id"  # ``_id``: a plain UUID string
    NUM_ID = "num_id"  # ``_id`` of an account (project) or extension (user): digits
    REF = "ref"  # ObjectID of a callvault UUID record
    NUM_REF = "num_ref"  # ObjectID of an account or extension: digits
    DATE = "date"
    PHONE = "phone"
    PHONES = "phones"  # a list of phone numbers (callvault's own column)
    TEXT = "text"
    NUMBER = "number"
    BOOL = "bool"


@dataclass(slots=True, frozen=True)
class Column:
    field: str  # callvault's field name, as the store knows it
    kind: Kind


@dataclass(slots=True, frozen=True)
class Relation:
    field: str  # the store's relation name
    model: str  # the related model's name (a key of MODELS)


OWNER_ROLES = ("ProjectOwner", "ProjectAdmin")
READ_ROLES = (*OWNER_ROLES, "ProjectMember", "Viewer")
SETTINGS_ROLES = ("SettingsAdmin", "SettingsMember")


@dataclass(slots=True)
class Model:
    name: str  # OneUptime's table name, used in error messages
    title: str  # the singular display name, used in permission messages
    entity: str  # the store's entity
    columns: dict[str, Column]
    relations: dict[str, Relation] = field(default_factory=dict)
    read: tuple[str, ...] = READ_ROLES
    # This face changes nothing: logs are the engine's, policies are managed through the
    # native API and the CLI. Create, update and delete answer "… is not allowed." (422).
    create: tuple[str, ...] = ()
    update: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    path: str | None = None  # served at /api/<path>; None for models seen only as relations


def _cols(**spec: tuple[str, Kind]) -> dict[str, Column]:
    return {wire: Column(field, kind) for wire, (field, kind) in spec.items()}


_BASE = {
    "_id": ("id", Kind.ID),
    "projectId": ("account_id", Kind.NUM_REF),
    "createdAt": ("created_ms", Kind.DATE),
    "updatedAt": ("updated_ms", Kind.DATE),
    "deletedAt": ("deleted_ms", Kind.DATE),
}
_PROJECT = Relation("account", "Project")

PERMISSION_TITLES = {
    "ProjectOwner": "Project Owner",
    "ProjectAdmin": "Project Admin",
    "ProjectMember": "Project Member",
    "Viewer": "Viewer",
    "SettingsAdmin": "Settings Admin",
    "SettingsMember": "Settings Member",
    "SettingsViewer": "Settings Viewer",
    "ReadProjectIncomingCallLog": "Read Incoming Call Log",
    "ReadProjectIncomingCallLogItem": "Read Incoming Call Log Item",
    "CreateProjectIncomingCallPolicy": "Create Incoming Call Policy",
    "ReadProjectIncomingCallPolicy": "Read Incoming Call Policy",
    "EditProjectIncomingCallPolicy": "Edit Incoming Call Policy",
    "DeleteProjectIncomingCallPolicy": "Delete Incoming Call Policy",
    "CreateProjectIncomingCallPolicyEscalationRule": "Create Incoming Call Policy Escalation Rule",
    "ReadProjectIncomingCallPolicyEscalationRule": "Read Incoming Call Policy Escalation Rule",
    "EditProjectIncomingCallPolicyEscalationRule": "Edit Incoming Call Policy Escalation Rule",
    "DeleteProjectIncomingCallPolicyEscalationRule": "Delete Incoming Call Policy Escalation Rule",
}

MODELS: dict[str, Model] = {
    "IncomingCallLog": Model(
        name="IncomingCallLog",
        title="Incoming Call Log",
        entity="incoming_call_log",
        path="incoming-call-log",
        columns=_cols(
            **_BASE,
            incomingCallPolicyId=("policy_id", Kind.REF),
            callerPhoneNumber=("caller_number", Kind.PHONE),
            routingPhoneNumber=("routing_number", Kind.PHONE),
            callProviderCallId=("provider_call_id", Kind.TEXT),
            status=("status", Kind.TEXT),
            statusMessage=("status_message", Kind.TEXT),
            callDurationInSeconds=("duration_s", Kind.NUMBER),
            callCostInUSDCents=("cost_cents", Kind.NUMBER),
            incomingCallCostInUSDCents=("incoming_cost_cents", Kind.NUMBER),
            outgoingCallCostInUSDCents=("outgoing_cost_cents", Kind.NUMBER),
            startedAt=("started_ms", Kind.DATE),
            endedAt=("ended_ms", Kind.DATE),
            answeredByUserId=("answered_by_extension_id", Kind.NUM_REF),
            currentEscalationRuleOrder=("current_rule_order", Kind.NUMBER),
            repeatCount=("repeat_count", Kind.NUMBER),
        ),
        relations={
            "project": _PROJECT,
            "incomingCallPolicy": Relation("policy", "IncomingCallPolicy"),
            "answeredByUser": Relation("answered_by", "User"),
        },
        read=(*READ_ROLES, "ReadProjectIncomingCallLog"),
    ),
    "IncomingCallLogItem": Model(
        name="IncomingCallLogItem",
        title="Incoming Call Log Item",
        entity="incoming_call_log_item",
        path="incoming-call-log-item",
        columns=_cols(
            **_BASE,
            incomingCallLogId=("log_id", Kind.REF),
            incomingCallPolicyEscalationRuleId=("rule_id", Kind.REF),
            userId=("extension_id", Kind.NUM_REF),
            userPhoneNumber=("user_phone_number", Kind.PHONE),
            status=("status", Kind.TEXT),
            statusMessage=("status_message", Kind.TEXT),
            dialDurationInSeconds=("dial_duration_s", Kind.NUMBER),
            callCostInUSDCents=("cost_cents", Kind.NUMBER),
            startedAt=("started_ms", Kind.DATE),
            endedAt=("ended_ms", Kind.DATE),
            isAnswered=("is_answered", Kind.BOOL),
        ),
        relations={
            "project": _PROJECT,
            "incomingCallLog": Relation("log", "IncomingCallLog"),
            "incomingCallPolicyEscalationRule": Relation(
                "rule", "IncomingCallPolicyEscalationRule"
            ),
            "user": Relation("user", "User"),
        },
        read=(*READ_ROLES, "ReadProjectIncomingCallLogItem"),
    ),
    "IncomingCallPolicy": Model(
        name="IncomingCallPolicy",
        title="Incoming Call Policy",
        entity="incoming_call_policy",
        path="incoming-call-policy",
        columns=_cols(
            **_BASE,
            name=("name", Kind.TEXT),
            description=("description", Kind.TEXT),
            slug=("slug", Kind.TEXT),
            routingPhoneNumber=("routing_number", Kind.PHONE),
            # callvault: every number routing to the policy, the primary one first.
            routingPhoneNumbers=("routing_numbers", Kind.PHONES),
            callProviderPhoneNumberId=("provider_number_id", Kind.TEXT),
            phoneNumberCountryCode=("country_code", Kind.TEXT),
            phoneNumberAreaCode=("area_code", Kind.TEXT),
            phoneNumberPurchasedAt=("purchased_ms", Kind.DATE),
            greetingMessage=("greeting_message", Kind.TEXT),
            noAnswerMessage=("no_answer_message", Kind.TEXT),
            noOneAvailableMessage=("no_one_available_message", Kind.TEXT),
            isEnabled=("is_enabled", Kind.BOOL),
            repeatPolicyIfNoOneAnswers=("repeat_if_no_one_answers", Kind.BOOL),
            repeatPolicyIfNoOneAnswersTimes=("repeat_times", Kind.NUMBER),
            projectCallSMSConfigId=("provider_config_id", Kind.REF),
            createdByUserId=("created_by", Kind.REF),
        ),
        relations={"project": _PROJECT},
        read=(*READ_ROLES, *SETTINGS_ROLES, "SettingsViewer", "ReadProjectIncomingCallPolicy"),
    ),
    "IncomingCallPolicyEscalationRule": Model(
        name="IncomingCallPolicyEscalationRule",
        title="Incoming Call Policy Escalation Rule",
        entity="incoming_call_policy_rule",
        path="incoming-call-policy-escalation-rule",
        columns=_cols(
            **_BASE,
            incomingCallPolicyId=("policy_id", Kind.REF),
            name=("name", Kind.TEXT),
            description=("description", Kind.TEXT),
            order=("order", Kind.NUMBER),
            escalateAfterSeconds=("escalate_after_seconds", Kind.NUMBER),
            onCallDutyPolicyScheduleId=("group_id", Kind.REF),
            userId=("extension_id", Kind.NUM_REF),
            createdByUserId=("created_by", Kind.REF),
        ),
        relations={
            "project": _PROJECT,
            "incomingCallPolicy": Relation("policy", "IncomingCallPolicy"),
            "user": Relation("user", "User"),
            "onCallDutyPolicySchedule": Relation("group", "OnCallDutyPolicySchedule"),
        },
        read=(
            *READ_ROLES,
            *SETTINGS_ROLES,
            "SettingsViewer",
            "ReadProjectIncomingCallPolicyEscalationRule",
        ),
    ),
    # Seen only as relations: a project is a callvault account, a user an extension, an
    # on-call schedule an on-call group.
    "Project": Model(
        name="Project",
        title="Project",
        entity="account",
        columns=_cols(_id=("id", Kind.NUM_ID), name=("name", Kind.TEXT)),
    ),
    "User": Model(
        name="User",
        title="User",
        entity="extension",
        columns=_cols(_id=("id", Kind.NUM_ID), name=("name", Kind.TEXT)),
    ),
    "OnCallDutyPolicySchedule": Model(
        name="OnCallDutyPolicySchedule",
        title="On-Call Duty Policy Schedule",
        entity="oncall_group",
        columns=_cols(_id=("id", Kind.ID), name=("name", Kind.TEXT)),
    ),
}

SERVED = tuple(m for m in MODELS.values() if m.path)


def permission_list(names: tuple[str, ...]) -> str:
    return ", ".join(PERMISSION_TITLES.get(n, n) for n in names)
