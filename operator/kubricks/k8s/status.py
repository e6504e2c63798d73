"""What a status merge patch would change, and what it may say, pure: the operator patches status only when
something changed, and never with a credential in a message."""

from typing import Any

from kubricks.redact import redact_userinfo


def merge_patch_changes(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """The part of the JSON merge ``patch`` (RFC 7386) that would change ``current``; empty when none would."""
    changes: dict[str, Any] = {}
    for key, value in patch.items():
        if value is None:
            if current.get(key) is not None:
                changes[key] = None
        elif isinstance(value, dict) and isinstance(current.get(key), dict):
            nested = merge_patch_changes(current[key], value)
            if nested:
                changes[key] = nested
        elif current.get(key) != value:
            changes[key] = value
    return changes


def redacted(status: dict[str, Any]) -> dict[str, Any]:
    """``status`` with no credential written into a URL in its messages: everyone who may read the object sees
    them."""
    result = dict(status)
    if isinstance(result.get("message"), str):
        result["message"] = redact_userinfo(result["message"])
    if isinstance(result.get("conditions"), list):
        result["conditions"] = [
            {**condition, "message": redact_userinfo(condition["message"])} if condition.get("message") else condition
            for condition in result["conditions"]
        ]
    return result
