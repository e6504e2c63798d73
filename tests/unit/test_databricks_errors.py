"""Databricks' error answers as typed errors: what reaches status and Events stays short."""

import pytest

from kubricks.databricks.errors import (
    CODE_LIMIT,
    MESSAGE_LIMIT,
    InvalidRequest,
    NotFound,
    ServerError,
    Unauthenticated,
    error_for,
    truncated,
)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 100, "short"),
        ("x" * 100, 100, "x" * 100),
        ("x" * 101, 100, "x" * 52 + "… (49 more characters)"),
        (
            "y" * 10_000,
            MESSAGE_LIMIT,
            "y" * (MESSAGE_LIMIT - 48) + f"… ({10_000 - MESSAGE_LIMIT + 48} more characters)",
        ),
    ],
    ids=["short", "at-the-limit", "one-over", "long"],
)
def test_truncated_keeps_the_start_and_says_how_much_was_cut(text: str, limit: int, expected: str) -> None:
    assert truncated(text, limit) == expected
    assert len(truncated(text, limit)) <= limit


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "m" * 100_000}, InvalidRequest),
        (401, {"error_code": "E" * 100_000, "message": "m" * 100_000}, Unauthenticated),
        (404, "<html>" + "h" * 100_000, NotFound),
        (503, {"error": "e" * 100_000}, ServerError),
        (400, {"error_code": "INVALID_PARAMETER_VALUE", "message": f"Cluster {'x' * 5000} does not exist"}, NotFound),
    ],
    ids=["message", "code-and-message", "html-page", "error-field", "classified-before-it-is-cut"],
)
def test_a_long_error_answer_is_cut_to_the_limit(status: int, body: object, kind: type) -> None:
    error = error_for(status, body)
    assert isinstance(error, kind)
    assert len(error.message) <= MESSAGE_LIMIT
    assert len(error.error_code) <= CODE_LIMIT
    assert error.message.endswith("more characters)")


def test_a_short_error_answer_is_kept_whole() -> None:
    error = error_for(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "Run 7 does not exist."})
    assert (type(error), error.message) == (NotFound, "Run 7 does not exist.")


def test_an_error_made_by_kubricks_itself_is_cut_too() -> None:
    error = Unauthenticated(401, "UNAUTHENTICATED", "the OAuth token endpoint refused: " + "r" * 100_000)
    assert len(error.message) <= MESSAGE_LIMIT
    assert len(str(error)) <= MESSAGE_LIMIT + CODE_LIMIT + 2
