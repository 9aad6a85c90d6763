"""The strict validator itself must reject what the published schema does not allow."""

from __future__ import annotations

import pytest

from tests.openapi import validate

GOOD = {
    "id": "X1",
    "uri": "http://h/restapi/v1.0/account/1/call-log/X1?view=Simple",
    "sessionId": "1",
    "type": "Voice",
    "direction": "Inbound",
    "action": "Phone Call",
    "startTime": "2024-01-01T00:00:00.000Z",
    "extension": {"id": 5, "uri": "http://h/restapi/v1.0/account/1/extension/5"},
}


def test_accepts_a_valid_record() -> None:
    validate(GOOD, "CallLogRecord")


@pytest.mark.parametrize(
    ("patch", "why"),
    [
        ({"bogus": 1}, "extra field"),
        ({"extension": {"id": "5", "uri": "http://h/x"}}, "extension.id must be an integer"),
        ({"direction": "inbound"}, "enum spelling"),
        ({"from": {"phoneNumber": "+1", "dialedPhoneNumber": "+2"}}, "to-only field on from"),
        (
            {
                "legs": [
                    {
                        "type": "Voice",
                        "direction": "Inbound",
                        "action": "Phone Call",
                        "startTime": "2024-01-01T00:00:00.000Z",
                    }
                ]
            },
            "leg without legType",
        ),
    ],
)
def test_rejects(patch: dict[str, object], why: str) -> None:
    with pytest.raises(AssertionError):
        validate({**GOOD, **patch}, "CallLogRecord")


def test_rejects_missing_required() -> None:
    bad = dict(GOOD)
    del bad["sessionId"]
    with pytest.raises(AssertionError):
        validate(bad, "CallLogRecord")
