"""VAL-2: every field type takes arbitrary input and either casts it or reports a field error.

Property: ``prepare`` either returns a value or raises ``InvalidValue``; ``validate`` returns None
or a ``{code, message}`` error; a valid value survives ``to_db`` / ``from_db`` on both dialects.
"""

from __future__ import annotations

import math

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.collections.fields import InvalidValue, PlainPassword
from app.core.collections.model import Field

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
nasty_strings = st.sampled_from(
    ["NaN", "Infinity", "-Infinity", "1e309", "", " ", "\x00", "0x10", "1,5", "true", "javascript:alert(1)",
     "2024-02-30", "2024-01-01T10:00:00+14:00", "ünï©ødé@exämple.com", "a" * 6000, '{"a":', "[1,2]", "null"]
)  # fmt: skip
inputs = json_values | nasty_strings

FIELDS = [
    Field(name="t", type="text", options={"min": 2, "max": 50, "pattern": "^[a-z ]*$"}),
    Field(name="e", type="editor"),
    Field(name="n", type="number", options={"min": -10, "max": 10, "onlyInt": True}),
    Field(name="b", type="bool", required=True),
    Field(name="m", type="email", options={"onlyDomains": ["example.com"]}),
    Field(name="u", type="url"),
    Field(name="d", type="date", options={"min": "2000-01-01 00:00:00.000Z"}),
    Field(name="s", type="select", options={"values": ["a", "b"], "maxSelect": 2}),
    Field(name="s1", type="select", options={"values": ["a", "b"], "maxSelect": 1}),
    Field(name="j", type="json", options={"maxSize": 200}),
    Field(name="r", type="relation", options={"collectionId": "x", "maxSelect": 3, "minSelect": 1}),
    Field(name="f", type="file", options={"maxSelect": 2}),
    Field(name="p", type="password", options={"min": 8}),
    Field(name="g", type="geoPoint"),
]


@pytest.mark.parametrize("field", FIELDS, ids=[f.type + f.name for f in FIELDS])
@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(raw=inputs)
def test_any_input_is_cast_or_refused_with_a_field_error(field, raw):
    kind = field.kind
    try:
        value = kind.prepare(field, raw)
    except InvalidValue as exc:
        assert set(exc.error) >= {"code", "message"} and exc.error["code"].startswith("validation_")
        return
    problem = kind.validate(field, value, True)
    if problem is not None:
        assert problem["code"].startswith("validation_") and problem["message"]
        return
    if isinstance(value, float):
        assert math.isfinite(value)
    for dialect in ("sqlite", "postgres"):
        stored = kind.to_db(field, value, dialect)
        if field.type == "password":
            assert isinstance(value, PlainPassword) or value == ""
            continue
        if field.type in ("json", "geoPoint") and stored is not None:
            orjson.loads(stored)
        back = kind.from_db(field, stored, dialect)
        if field.type == "bool":
            assert back is value
        elif field.type == "number" or field.type not in ("json", "geoPoint", "editor"):
            assert back == value


def test_specific_values():
    number, date, json_field, url = FIELDS[2], FIELDS[6], FIELDS[9], FIELDS[5]
    for bad in ("NaN", "Infinity", "1e309", "abc", [1]):
        with pytest.raises(InvalidValue):
            number.kind.prepare(number, bad)
    assert number.kind.validate(number, number.kind.prepare(number, "1.5"), True)["code"] == (
        "validation_only_int_constraint"
    )
    assert date.kind.prepare(date, "2024-01-01T10:00:00+02:00") == "2024-01-01 08:00:00.000Z"
    with pytest.raises(InvalidValue):
        date.kind.prepare(date, "2024-02-30")
    deep = [[]]
    for _ in range(300):
        deep = [deep]
    with pytest.raises(InvalidValue):
        json_field.kind.prepare(json_field, deep)  # deeper than JSON encoders accept
    assert json_field.kind.validate(json_field, deep, True)["code"] == "validation_invalid_json"
    big = {"x": "y" * 500}
    assert json_field.kind.validate(json_field, big, True)["code"] == "validation_json_size_limit"
    assert url.kind.validate(url, "javascript:alert(1)", True)["code"] == "validation_invalid_url"
    editor = FIELDS[1]
    cleaned = editor.kind.prepare(editor, '<p onclick="x()">hi<script>alert(1)</script></p>')
    assert "script" not in cleaned and "onclick" not in cleaned and "hi" in cleaned
