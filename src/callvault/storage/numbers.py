"""Phone numbers as the store compares them: digits only, whatever the format they came in."""

from __future__ import annotations

import re

_NON_DIGITS = re.compile(r"\D+")


def digits(number: str | None) -> str | None:
    """``+1 (650) 555-0100`` → ``16505550100``; None or digit-less input gives None."""
    if not number:
        return None
    only = _NON_DIGITS.sub("", number)
    return only or None
