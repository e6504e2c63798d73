"""What a status merge patch would change, pure: the operator patches status only when something did."""

from typing import Any


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
