"""Issue 8 finding 7: Unicode in the tokens of ``filter`` and ``sort`` never turns into a 500.

Python's ``\\d``/``isdigit()``/``isalnum()`` accept far more than ASCII (U+0661, U+00B2, U+00E9,
U+01C5), and ``float("\\u0661")`` is 1.0; SQLite's JSON paths and PocketBase's lexer accept ASCII
only. Generated identifiers, JSON path segments and numbers mix ASCII with characters of every
letter, mark and number category, and go through the records API (both engines, both doors).
Properties:

- the answer is 200 or 400, always in the error envelope when it is a 400;
- a token holding a non-ASCII letter, mark or digit is refused with a 400 (as PocketBase does).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.scenario import superuser_headers

CATEGORIES = ("Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc")
unicode_chars = st.characters(categories=CATEGORIES, exclude_characters="\x00")
ascii_chars = st.sampled_from("abcxyz019_")
segments = st.text(st.one_of(ascii_chars, unicode_chars), min_size=1, max_size=6)

# (template, is it a filter?) — "{s}" is the generated token
TEMPLATES = [
    ("meta.{s} = 1", True),
    ("meta.a.{s} != null", True),
    ("meta.{s}.b ~ 'x'", True),
    ("{s} = 1", True),
    ("title = {s}", True),
    ("n > {s}", True),
    ("n > -{s}", True),
    ("title ?= {s}.5", True),
    ("meta.{s}", False),
    ("-meta.a.{s}", False),
    ("{s}", False),
]


@pytest.fixture
def things(api):
    su = superuser_headers(api)
    definition = {"name": "things", "listRule": "", "viewRule": "",
                  "fields": [{"name": "title", "type": "text"}, {"name": "n", "type": "number"},
                             {"name": "meta", "type": "json"}]}  # fmt: skip
    assert api.post("/api/collections", headers=su, json=definition).status_code == 200
    for meta in ({"a": [1, {"b": "x"}], "1": 2}, [[1], "x"], "text", None):
        created = api.post("/api/collections/things/records", headers=su, json={"title": "1", "meta": meta})
        assert created.status_code == 200, created.text
    return api


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(template=st.sampled_from(TEMPLATES), token=segments)
def test_unicode_tokens_never_500(things, template, token):
    text, is_filter = template
    expression = text.format(s=token)
    params = {"filter": expression} if is_filter else {"sort": expression}
    response = things.get("/api/collections/things/records", params=params)
    assert response.status_code in (200, 400), (params, response.status_code, response.text)
    if not token.isascii():
        assert response.status_code == 400, (params, response.text)
    if response.status_code == 400:
        body = response.json()
        assert body["status"] == 400 and set(body) == {"data", "message", "status"}, body


DIGITS = ["\u0661", "\u06f1", "\u07c1", "\u0967", "\u09e7", "\uff11", "\u00b2", "\u216b"]


@pytest.mark.parametrize("digit", DIGITS)
def test_non_ascii_digits_in_json_paths_and_numbers(things, digit):
    """The reviewer's cases: ``meta.<U+0661>`` in a filter and a sort, and U+0661 as a number."""
    for params in ({"filter": f"meta.{digit} = 1"}, {"sort": f"meta.{digit}"}, {"sort": f"-meta.a.{digit}"},
                   {"filter": f"n = {digit}"}, {"filter": f"meta.a.{digit}{digit} != null"}):  # fmt: skip
        response = things.get("/api/collections/things/records", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["status"] == 400
    # ASCII indexes still work on both engines: meta.a.1.b is "x" for exactly one row.
    found = things.get("/api/collections/things/records", params={"filter": "meta.a.1.b = 'x'"})
    assert found.status_code == 200 and found.json()["totalItems"] == 1, found.text


@pytest.mark.parametrize("blank", ["\u00a0", "\u2028", "\u3000", "\u0085", "\f", "\v"])
def test_only_ascii_blanks_separate_tokens(things, blank):
    """PocketBase separates tokens with space, tab and newline only (we also take CR)."""
    for separator, status in ((blank, 400), (" ", 200), ("\t", 200), ("\r\n", 200)):
        params = {"filter": f"title{separator}={separator}'1'"}
        response = things.get("/api/collections/things/records", params=params)
        assert response.status_code == status, (params, response.text)
