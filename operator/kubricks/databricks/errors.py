"""Databricks' error shape (``{"error_code": ..., "message": ...}``) as typed exceptions. Pure.

What a workspace answers ends up in status and Events, and the workspace's host is the user's choice: an error
keeps at most MESSAGE_LIMIT characters of its message, cut only after the whole message was classified.
"""

import re

MESSAGE_LIMIT = 1024
CODE_LIMIT = 128


class DatabricksError(Exception):
    def __init__(self, status: int, error_code: str, message: str) -> None:
        error_code, message = truncated(error_code, CODE_LIMIT), truncated(message)
        super().__init__(f"{error_code}: {message}" if error_code else message)
        self.status = status
        self.error_code = error_code
        self.message = message


class Unauthenticated(DatabricksError):
    """The token or the OAuth credentials were refused (401)."""


class PermissionDenied(DatabricksError):
    """The credentials are valid but lack a permission (403)."""


class NotFound(DatabricksError):
    """The run, cluster or setting does not exist."""


class InvalidRequest(DatabricksError):
    """The request itself is wrong (400), other than for a missing resource."""


class RateLimited(DatabricksError):
    """429: the workspace asks to slow down; retried after Retry-After."""


class ServerError(DatabricksError):
    """5xx: the workspace failed; retried."""


class ResponseTooLarge(DatabricksError):
    """The answer's body is larger than kubricks reads from a workspace; never retried."""


def truncated(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` cut to at most ``limit`` characters (``limit`` > 64), ending with how many were cut."""
    if len(text) <= limit:
        return text
    kept = limit - 48  # room for the marker, whose count has at most 20 digits
    return f"{text[:kept]}… ({len(text) - kept} more characters)"


# Databricks answers some lookups of a missing id with 400 INVALID_PARAMETER_VALUE, not 404.
_DOES_NOT_EXIST = re.compile(r"does not exist|not found", re.IGNORECASE)


def error_for(status: int, body: object) -> DatabricksError:
    payload = body if isinstance(body, dict) else {}
    code = str(payload.get("error_code") or "")
    message = str(payload.get("message") or payload.get("error") or body or f"HTTP {status}")
    if status == 401:
        return Unauthenticated(status, code or "UNAUTHENTICATED", message)
    if status == 403:
        return PermissionDenied(status, code or "PERMISSION_DENIED", message)
    if status == 404 or code == "RESOURCE_DOES_NOT_EXIST":
        return NotFound(status, code or "RESOURCE_DOES_NOT_EXIST", message)
    if status == 400 and code == "INVALID_PARAMETER_VALUE" and _DOES_NOT_EXIST.search(message):
        return NotFound(status, code, message)
    if status == 429:
        return RateLimited(status, code or "REQUEST_LIMIT_EXCEEDED", message)
    if status >= 500:
        return ServerError(status, code or "INTERNAL_ERROR", message)
    return InvalidRequest(status, code or "INVALID_REQUEST", message)
