"""callvault's error tree. Each error has a stable ``code``; no HTTP here, faces map them.

CallvaultError
├── NotFound               (code "not-found")       a named resource does not exist
├── InvalidInput           (code "invalid-input")   a named field has a bad value
├── Conflict               (code "conflict")        the change clashes with stored state
├── AuthError              (code "auth-failed")     credentials or token not accepted
└── PermissionDenied       (code "permission-denied") authenticated, but not allowed
"""

from __future__ import annotations


class CallvaultError(Exception):
    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(CallvaultError):
    code = "not-found"


class InvalidInput(CallvaultError):
    code = "invalid-input"


class Conflict(CallvaultError):
    code = "conflict"


class AuthError(CallvaultError):
    code = "auth-failed"


class PermissionDenied(CallvaultError):
    code = "permission-denied"
