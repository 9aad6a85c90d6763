"""OneUptime's error bodies: ``{"error": message}`` from a handler, ``{"message": …}`` for an
unknown route (reference §3.8). Status codes follow its ``ExceptionCode``: 400 bad data, 401
not authenticated, 422 every permission failure.

The face's routes use ``ErrorRoute``, so its errors are answered in its own shape without an
app-wide handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes

logger = logging.getLogger("callvault")


class OneUptimeError(Exception):
    def __init__(self, status: int, message: str, *, key: str = "error") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.key = key

    def response(self) -> Response:
        return JSONBytes({self.key: self.message}, status_code=self.status)


def bad_data(message: str) -> OneUptimeError:
    return OneUptimeError(400, message)


def not_authorized(message: str) -> OneUptimeError:
    return OneUptimeError(422, message)


def page_not_found(url: str) -> OneUptimeError:
    return OneUptimeError(404, f"Page not found - {url}", key="message")


class ErrorRoute(APIRoute):
    """A route whose ``OneUptimeError``s become OneUptime's error bodies."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except OneUptimeError as exc:
                return exc.response()
            except Exception:  # a bug: logged, answered as OneUptime's server error
                logger.exception("unhandled error on %s %s", request.method, request.url.path)
                return JSONBytes({"error": "Server Error"}, status_code=500)

        return guarded
