"""Rules that only compare request values with constants are decided without SQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app import build_runtime
from app.core.rules.context import AuthState, RequestInfo
from app.core.rules.folding import fold
from app.core.rules.operands import Lit
from app.core.rules.syntax import parse
from app.settings import Settings


def literal(values: dict[str, Any]) -> Any:
    def resolve(raw: Any) -> Any:
        name = getattr(raw, "name", None)
        if name is None:
            return Lit(raw.value, "text")
        value = values.get(name)
        return Lit(value, "null" if value is None else "text")

    return resolve


@pytest.mark.parametrize(
    ("rule", "values", "expected"),
    [
        ('@request.auth.id != ""', {"@request.auth.id": "abc"}, True),
        ('@request.auth.id != ""', {"@request.auth.id": None}, False),  # NULL equals "" (PocketBase)
        ('@request.auth.id = ""', {"@request.auth.id": ""}, True),
        (
            '@request.auth.id != "" && @request.auth.role = "admin"',
            {"@request.auth.id": "a", "@request.auth.role": "x"},
            False,
        ),
        ('@request.auth.id != "" || title = "x"', {"@request.auth.id": "a"}, True),
        ('@request.auth.id != "" && title = "x"', {"@request.auth.id": "a"}, None),
        ("@request.auth.id = author", {"@request.auth.id": "a"}, None),
        ('@request.auth.id ?= ""', {"@request.auth.id": "a"}, None),
        ('@request.auth.id > ""', {"@request.auth.id": "a"}, None),
    ],
)
def test_fold(rule, values, expected):
    assert fold(parse(rule), literal(values)) is expected


@pytest.fixture
def runtime(tmp_path: Any) -> Iterator[Any]:
    runtime = build_runtime(Settings.from_env({}, data_dir=str(tmp_path)))
    yield runtime
    runtime.close()


def test_the_compiler_returns_no_query_for_a_rule_that_holds(runtime):
    users = runtime.registry.get("users")
    signed_in = RequestInfo(auth=AuthState(users, {"id": "abc123", "email": "a@b.co"}))
    assert runtime.rules.rule(users, '@request.auth.id != ""', signed_in) is None
    # a guest fails it: that is left to SQL, which answers no rows
    assert runtime.rules.rule(users, '@request.auth.id != ""', RequestInfo()) is not None
    assert runtime.rules.rule(users, "@request.auth.id = id", signed_in) is not None
