"""FLT-6 cost limits and FLT-7 LIKE / empty-value semantics of list requests, through both doors on
both databases (RELIABILITY.md; PocketBase's ``tools/search`` limits).

FLT-6: a filter over 3,500 characters or 200 comparisons, more than 8 sort fields, a sort field over
255 characters, a relation path over 6 relations (filter and sort) or 1,000 nested parentheses is a
400; ``perPage`` is capped at 1000 and defaults to 30, ``page`` below 1 is 1, a page that is not a
number is a 400, and ``skipTotal`` skips the count. Each limit is also checked at its boundary.

FLT-7: ``~`` matches a value as a substring with ``%``, ``_`` and ``\\`` taken literally, unless the
value has an unescaped ``%`` (then it is the LIKE pattern); ASCII letters ignore case; ``'' = null``
is true and ``title = null`` matches empty titles.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.core.rules.context import RequestInfo
from tests.support.doors import Door

SYSTEM = RequestInfo(context="system")
ENVELOPE_KEYS = {"data", "message", "status"}
CHAIN = 8  # nodes n0 <- n1 <- ... <- n7 (each node's parent is the previous one)
TITLES = [
    "100%",
    "100 percent",
    "a_b",
    "axb",
    "back\\slash",
    "backslash",
    "",
    "Hello World",
    "hello",
    "UPPER",
]


class World:
    def __init__(self, door: Door):
        self.door = door
        runtime = door.runtime
        runtime.collections.create(
            {
                "id": "pbc_2200000001",
                "name": "nodes",
                "listRule": "",
                "viewRule": "",
                "fields": [
                    {"name": "title", "type": "text"},
                    {"name": "rank", "type": "number"},
                    {"name": "parent", "type": "relation", "collectionId": "pbc_2200000001", "maxSelect": 1},
                ],
            }
        )
        self.node_ids: list[str] = []
        for index in range(CHAIN):
            parent = self.node_ids[-1] if self.node_ids else ""
            self.node_ids.append(self.add("nodes", title=f"n{index}", rank=index, parent=parent))
        runtime.collections.create(
            {"name": "texts", "listRule": "", "fields": [{"name": "title", "type": "text"}]}
        )
        self.text_ids = {self.add("texts", title=title): title for title in TITLES}

    def add(self, collection: str, **values: Any) -> str:
        _, record = self.door.runtime.records.create(collection, values, SYSTEM)
        return str(record["id"])

    def list(self, collection: str, **params: str) -> Any:
        return self.door.get(f"/api/collections/{collection}/records", params=params)


@pytest.fixture
def world(api: Door) -> World:
    return World(api)


def assert_400(response: Any) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["status"] == 400


def titles_of(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(item["title"] for item in response.json()["items"])


# -- FLT-6 ----------------------------------------------------------------------------------------


def test_filter_length_limit(world):
    prefix, suffix = "title = '", "'"
    at_limit = prefix + "x" * (3500 - len(prefix) - len(suffix)) + suffix
    assert len(at_limit) == 3500
    assert world.list("nodes", filter=at_limit).status_code == 200
    assert_400(world.list("nodes", filter=at_limit[:-1] + "x'"))
    assert_400(world.list("nodes", filter=prefix + "x" * 10_000 + suffix))


def test_filter_expression_limit(world):
    at_limit = " || ".join(f"rank = {i}" for i in range(200))
    assert len(at_limit) < 3500
    response = world.list("nodes", filter=at_limit)
    assert response.status_code == 200, response.text
    assert response.json()["totalItems"] == CHAIN
    assert_400(world.list("nodes", filter=at_limit + " || rank = 200"))
    assert_400(world.list("nodes", filter=" && ".join(["rank>0"] * 300)))


def test_sort_field_count_limit(world):
    eight = ",".join(["rank", "-title", "id", "parent", "-rank", "title", "-id", "parent.rank"])
    assert world.list("nodes", sort=eight).status_code == 200
    assert_400(world.list("nodes", sort=eight + ",rank"))
    assert_400(world.list("nodes", sort=",".join(["rank"] * 100)))


def test_sort_field_length_limit(world):
    assert_400(world.list("nodes", sort="r" * 256))
    assert_400(world.list("nodes", sort="-" + "parent." * 40 + "title"))


def _path(relations: int) -> str:
    return "parent." * relations + "title"


def test_relation_nesting_limit_in_filter(world):
    response = world.list("nodes", filter=f"{_path(6)} = 'n0'")
    assert titles_of(response) == ["n6"]
    assert_400(world.list("nodes", filter=f"{_path(7)} = 'n0'"))
    assert_400(world.list("nodes", filter=f"{_path(30)} = 'n0'"))


def test_relation_nesting_limit_in_sort(world):
    response = world.list("nodes", sort=f"-{_path(6)},rank")
    assert response.status_code == 200, response.text
    assert_400(world.list("nodes", sort=_path(7)))


def test_expand_stops_at_six_levels(world):
    """PocketBase expands at most 6 levels and ignores the rest of a deeper path."""
    response = world.door.get(
        f"/api/collections/nodes/records/{world.node_ids[-1]}", params={"expand": ".".join(["parent"] * 10)}
    )
    assert response.status_code == 200, response.text
    depth, node = 0, response.json()
    while node.get("expand", {}).get("parent"):
        node = node["expand"]["parent"]
        depth += 1
    assert depth == 6


def test_per_page_is_capped_and_defaulted(world):
    body = world.list("nodes", perPage=str(10**9)).json()
    assert (body["perPage"], body["totalItems"], len(body["items"])) == (1000, CHAIN, CHAIN)
    assert world.list("nodes", perPage="1000").json()["perPage"] == 1000
    assert world.list("nodes", perPage="1001").json()["perPage"] == 1000
    assert world.list("nodes").json()["perPage"] == 30
    assert world.list("nodes", perPage="0").json()["perPage"] == 30
    assert world.list("nodes", perPage="-5").json()["perPage"] == 30
    body = world.list("nodes", perPage="3", page="3").json()
    assert (body["page"], body["perPage"], body["totalPages"], len(body["items"])) == (3, 3, 3, 2)


def test_page_below_one_is_the_first_page(world):
    for page in ("-1", "0", "-999999"):
        body = world.list("nodes", page=page, perPage="2", sort="rank").json()
        assert body["page"] == 1, page
        assert [item["title"] for item in body["items"]] == ["n0", "n1"]


@pytest.mark.parametrize("value", ["abc", "1.5", "1e3", "0x10", "one", "--1", "1 2", "[]"])
def test_non_numeric_paging_is_400(world, value):
    assert_400(world.list("nodes", page=value))
    assert_400(world.list("nodes", perPage=value))


def test_far_pages_are_empty_not_errors(world):
    """A page past the end is an empty page, however far (PocketBase: 200 with no items)."""
    for page in ("100", str(10**6), str(2**31), str(2**53), str(2**63 - 1), str(10**30)):
        response = world.list("nodes", page=page, perPage="1000")
        assert response.status_code in (200, 400), (page, response.status_code, response.text)
        if response.status_code == 200:
            assert response.json()["items"] == [], page
        else:
            assert_400(response)


def test_skip_total(world):
    body = world.list("nodes", skipTotal="1", perPage="3").json()
    assert (body["totalItems"], body["totalPages"], len(body["items"])) == (-1, -1, 3)
    body = world.list("nodes", skipTotal="false", perPage="3").json()
    assert (body["totalItems"], body["totalPages"]) == (CHAIN, 3)
    assert_400(world.list("nodes", skipTotal="maybe"))


def test_deeply_nested_parentheses_are_400(world):
    assert titles_of(world.list("nodes", filter="(" * 10 + "rank = 1" + ")" * 10)) == ["n1"]
    assert_400(world.list("nodes", filter="(" * 1000 + "rank = 1" + ")" * 1000))
    assert_400(world.list("nodes", filter="(" * 1000 + ")" * 1000))
    assert_400(world.list("nodes", filter="(" * 1700))


def test_deeply_nested_function_calls_are_400(world):
    """Nesting through function calls is bounded too (no recursion error, no 500)."""
    assert_400(world.list("nodes", filter="strftime(" * 300 + "'%Y'" + ")" * 300 + " = '2024'"))
    assert_400(world.list("nodes", filter="a(" * 1000 + ")" * 1000 + " = 1"))


# -- FLT-7 ----------------------------------------------------------------------------------------

ALL = sorted(TITLES)
LIKE_CASES = [
    # no unescaped %: a substring, with % _ \ literal and ASCII case ignored
    ("title ~ 'hello'", ["Hello World", "hello"]),
    ("title ~ 'HELLO WORLD'", ["Hello World"]),
    ("title ~ 'upp'", ["UPPER"]),
    ("title ~ 'a_b'", ["a_b"]),
    ("title ~ '_'", ["a_b"]),
    ("title !~ '_'", [t for t in ALL if "_" not in t]),
    ("title ~ '\\\\'", ["back\\slash"]),
    ("title ~ 'k\\\\s'", ["back\\slash"]),
    ("title ~ 'k\\s'", ["back\\slash"]),
    ("title ~ '100\\%'", ["100%"]),
    ("title ~ '0\\_'", []),
    ("title ~ ''", ALL),
    # an unescaped %: the value is the pattern (_ is a wildcard there)
    ("title ~ '%'", ALL),
    ("title ~ '100%'", ["100 percent", "100%"]),
    ("title ~ '%percent'", ["100 percent"]),
    ("title ~ 'a_b%'", ["a_b", "axb"]),
    ("title ~ '%\\_%'", ["a_b"]),
    ("title !~ '100%'", [t for t in ALL if not t.startswith("100")]),
    ("title ~ 'h%o'", ["hello"]),
    ("title ~ 'H%O%'", ["Hello World", "hello"]),
    # any-of form on a single value behaves like the plain one
    ("title ?~ 'a_b'", ["a_b"]),
]


@pytest.mark.parametrize(("text", "expected"), LIKE_CASES, ids=[c[0] for c in LIKE_CASES])
def test_like_semantics(world, text, expected):
    assert titles_of(world.list("texts", filter=text, perPage="100")) == sorted(expected)


EMPTY_CASES = [
    ("'' = null", ALL),
    ("null = ''", ALL),
    ("null = null", ALL),
    ("'' != null", []),
    ("title = null", [""]),
    ("title = ''", [""]),
    ("null = title", [""]),
    ("title != null", [t for t in ALL if t]),
    ("title != ''", [t for t in ALL if t]),
    ("title = 'hello'", ["hello"]),
    ("title != 'hello'", [t for t in ALL if t != "hello"]),
]


@pytest.mark.parametrize(("text", "expected"), EMPTY_CASES, ids=[c[0] for c in EMPTY_CASES])
def test_empty_value_semantics(world, text, expected):
    assert titles_of(world.list("texts", filter=text, perPage="100")) == sorted(expected)
