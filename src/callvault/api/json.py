"""Fast JSON responses shared by every face (orjson, no response-model round trip)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response


class JSONBytes(Response):
    media_type = "application/json; charset=UTF-8"

    def __init__(
        self, content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(orjson.dumps(content), status_code=status_code, headers=headers)
