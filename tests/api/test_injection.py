"""FLT-2 / FLT-4: an injection corpus through every input of the records API, both doors, both
databases (RELIABILITY.md).

More than 200 payloads (SQL injection, quotes and escapes of both dialects, comments, NUL, unicode
look-alikes, LIKE wildcards, very long and deeply nested strings, ``@request``/``@collection`` in
several spellings, hidden fields of an auth collection...) go into ``filter``, ``sort``,
``expand``, ``fields``, ``page``, ``perPage``, ``skipTotal``, record ids in the path (GET, PATCH,
DELETE) and JSON values of a create. Afterwards:

- no response is a 5xx; every 4xx is PocketBase's envelope ``{"data", "message", "status"}`` with
  no SQL or driver text in it;
- a payload used as a quoted filter value matches exactly the rows holding that text (``=``) or
  containing it (``~``, with ``%`` / ``_`` / ``\\`` literal unless the value has a ``%``);
- non-superusers get 403 for ``@request.*`` / ``@collection.*`` in ``filter`` and ``sort``, and 400
  for hidden fields (``password``, ``tokenKey``, a hidden text field);
- the superuser-only canary collection still holds its one row, and reads left the row count of
  every table unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from app.core.rules.context import RequestInfo
from app.core.superusers import create_superuser
from tests.support.doors import Door

SUPERUSER = ("root@example.com", "root-password-1")
USER = ("ann@example.com", "ann-password-1")
CANARY_SECRET = "canary-secret-value"
HIDDEN_VALUE = "s3cret-hidden-value"
MAX_FILTER = 3500
SYSTEM = RequestInfo(context="system")
ENVELOPE_KEYS = {"data", "message", "status"}
LEAK_RE = re.compile(r"SELECT |INSERT |sqlite|psycopg|syntax error|Traceback|no such column", re.I)
#: PocketBase names the identifier it found: "Only superusers can filter by @request." (or @collection.)
FORBIDDEN_MESSAGES = ("Only superusers can filter by @request.", "Only superusers can filter by @collection.")

# -- the corpus -------------------------------------------------------------------------------------

SQL_INJECTION = [
    "' OR 1=1 --",
    "' OR '1'='1",
    '" OR "1"="1',
    "' OR 1=1 /*",
    "') OR ('1'='1",
    '") OR ("1"="1',
    "' OR ''='",
    "1' OR '1'='1' --",
    "' OR 1=1#",
    "admin'--",
    "'); DROP TABLE posts; --",
    "'); DROP TABLE canary; --",
    '"; DROP TABLE canary; --',
    "1; DROP TABLE canary",
    "'; DELETE FROM canary; --",
    "'; UPDATE canary SET secret='pwned'; --",
    "'; INSERT INTO posts (id) VALUES ('pwnedpwnedpwned'); --",
    "' UNION SELECT secret FROM canary --",
    "' UNION ALL SELECT NULL, NULL, NULL --",
    "1 UNION SELECT sqlite_version()",
    "' AND 1=(SELECT COUNT(*) FROM canary) --",
    "' || (SELECT secret FROM canary) || '",
    "'||pg_sleep(2)||'",
    "'; SELECT pg_sleep(2); --",
    "' AND randomblob(100000000) --",
    "1) OR (1=1",
    "x' AND SLEEP(2) --",
    "' OR EXISTS(SELECT 1 FROM canary) --",
    "'; COMMIT; DROP TABLE canary; --",
    "'; ATTACH DATABASE '/tmp/x.db' AS x; --",
    "'; VACUUM INTO '/tmp/x.db'; --",
    "'; COPY canary TO '/tmp/x'; --",
    "'; SET statement_timeout = 1; --",
    "title = 'x' UNION SELECT secret FROM canary",
    "title = 'x'; DROP TABLE canary",
    "title = 'x' -- ' || id != ''",
    "title = 'x' /* */ || id != ''",
    "id = id",
    "1=1",
    "|| 1=1",
    ") || (id != ''",
    "id != '' || 1=1",
    'title = "\\"" || id != \'\'',
]
QUOTES_AND_ESCAPES = [
    "'",
    '"',
    "''",
    '""',
    "`",
    "\\",
    "\\\\",
    "\\'",
    '\\"',
    "\\'; DROP TABLE canary; --",
    "E'\\\\'",
    "E'\\''",
    "E'\\x27 OR 1=1 --'",
    "$$",
    "$$ OR 1=1 $$",
    "$$; DROP TABLE canary; $$",
    "$tag$ OR 1=1 $tag$",
    "U&'\\0027'",
    "\u2018 OR 1=1 --",
    "\u2019 OR 1=1 --",
    "\u201c OR 1=1 --",
    "\u201d",
    "\uff07 OR 1=1 --",
    "\u02bc OR 1=1 --",
    "\u2032",
    "\u00b4",
    "a'b",
    'a"b',
    "a\\'b",
    "it's",
]
COMMENTS_AND_SEPARATORS = [
    "/* */",
    "/**/OR/**/1=1",
    "/*",
    "*/",
    "--",
    "-- x",
    "#",
    "//",
    "// comment\ntitle = 'x'",
    "title = 'x' // '; DROP TABLE canary",
    ";",
    ";;",
    "\n",
    "\r\n",
    "\t",
    " ",
    "",
]
WILDCARDS = [
    "%",
    "_",
    "%%",
    "%_%",
    "a%",
    "%a",
    "_a_",
    "\\%",
    "\\_",
    "\\\\%",
    "[a]",
    "[^a]",
    "*",
    "?",
    ".*",
    "%' OR 1=1 --",
    "100%",
    "50_50",
    "_______________",
    "%%%%%%%%%%%%%%%",
    "he%o",
    "h_llo",
]
CONTROL_AND_UNICODE = [
    "\x00",
    "a\x00b",
    "\x00' OR 1=1 --",
    "\x01",
    "\x1b[31m",
    "\x7f",
    "%00",
    "\u00df",
    "\u0130",
    "\u01c5",
    "\u2126",
    "\u212a",
    "\U0001f600",
    "\u202e",
    "\u200b",
    "\ufeff",
    "e\u0301",
    "\uff54\uff49\uff54\uff4c\uff45",
    "\U0001d565\U0001d55a",
    "\u2167",
    "\u0663",
    "\uff11",
    "\u3000",
    "\ud7ff",
    "\uffff",
]
LONG_AND_NESTED = [
    "x" * 10240,
    "'" * 5000,
    "%" * 5000,
    "\\" * 3000,
    "(" * 1000 + ")" * 1000,
    "(" * 1000 + "title = 'x'" + ")" * 1000,
    "(" * 33 + "title = 'x'" + ")" * 33,
    "a(" * 1000 + ")" * 1000 + " = 1",
    "title = 'x' && " * 250 + "title = 'x'",
    ",".join(["title"] * 100),
    ".".join(["owner"] * 50),
    "title" + ".x" * 500,
    "owner." * 7 + "id",
]
IDENTIFIERS = [
    "@request.auth.id",
    "@REQUEST.AUTH.ID",
    "@Request.Auth.Id",
    "@rEqUeSt.auth.id",
    "%40request.auth.id",
    "%2540request.auth.id",
    "@request.auth.id = ''",
    "@request.auth.id != ''",
    "@REQUEST.auth.id = ''",
    "@request.headers.authorization != ''",
    "@request.query.filter = ''",
    "@request.method = 'GET'",
    "@request.body.title = ''",
    "@collection.canary.secret",
    "@collection.canary.secret = 'canary-secret-value'",
    "@COLLECTION.canary.secret != ''",
    "@collection.users.password != ''",
    "@collection.users.tokenKey != ''",
    "@now",
    "@random",
    "@rowid",
    "-@rowid",
    "@",
    "@@",
    "@request",
    "@collection",
    "@yesterday < created",
]
HIDDEN_AND_FIELDS = [
    "password",
    "tokenKey",
    "password != ''",
    "tokenKey != ''",
    "password ~ '$argon2'",
    "tokenKey ~ 'a'",
    "owner.password != ''",
    "owner.tokenKey ~ 'a'",
    "-password",
    "+tokenKey",
    "owner.password",
    "secret",
    "secret != ''",
    "email ~ '@'",
    "owner.email ~ '@'",
    "emailVisibility = false",
    "title",
    "-title",
    "+title",
    "title,views",
    "-created,title",
    " title ",
    "title:lower",
    "tags:each",
    "tags:length",
    "owner.name",
    "owner",
    "posts_via_owner",
    "posts_via_owner.title",
    "expand",
    "*",
    "*,owner",
    "id:excerpt(10)",
    "title:excerpt(999999999999)",
    "title:excerpt(-1)",
    "title:excerpt(1,true)",
    "title:unknown(1)",
    "expand.owner.password",
    "expand.owner.tokenKey",
    "collectionId",
    "rowid",
    "_rowid",
    "oid",
    "meta.a",
    "meta.'a'",
    "meta.$",
    "meta..a",
    "meta.a; DROP",
    "title = title",
    "title ~ ''",
    "true",
    "null",
    "(",
    ")",
    "((((",
    "))))",
    "&&",
    "||",
    "!",
    "!=",
    "?=",
    "~",
    ":",
    "::",
]
NUMBERS = [
    "0",
    "-0",
    "-1",
    "1",
    "+1",
    " 1",
    "1 ",
    "1.5",
    "1e3",
    "1e999",
    "-1e999",
    "NaN",
    "Infinity",
    "-Infinity",
    "inf",
    "0x10",
    "0b1",
    "1_000",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999999",
    "4611686018427387904",
    "1000000000",
    "10000000000",
    "false",
    "t",
    "f",
    "yes",
    "on",
    "TRUE",
    "1,2",
    "1;2",
    "[]",
    "{}",
    "undefined",
]
OTHER = [
    "../../etc/passwd",
    "..%2f..%2f",
    "%2e%2e",
    "a/b",
    "a?b=c",
    "a#b",
    "a b",
    "a+b",
    "%25",
    "%27",
    "%22",
    "%2527",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "${7*7}",
    "<!--",
    "javascript:alert(1)",
    "aaaaaaaaaaaaaaa",
    "AAAAAAAAAAAAAAA",
    "Hello",
    "hello",
    "HELLO WORLD",
    "lo wo",
]
CORPUS: list[str] = list(
    dict.fromkeys(
        SQL_INJECTION
        + QUOTES_AND_ESCAPES
        + COMMENTS_AND_SEPARATORS
        + WILDCARDS
        + CONTROL_AND_UNICODE
        + LONG_AND_NESTED
        + IDENTIFIERS
        + HIDDEN_AND_FIELDS
        + NUMBERS
        + OTHER
    )
)
SEED_TITLES = ["Hello", "hello world", "Other", "it's 100% a_b\\c", ""]


def test_the_corpus_is_big_enough():
    assert len(CORPUS) >= 200, len(CORPUS)


# -- the world --------------------------------------------------------------------------------------


class World:
    """A superuser, a user, a guest; ``posts`` (every rule open, so a wildcard id or a runaway
    write would show), the built-in ``users`` made public (so a hidden-field oracle would leak),
    and the superuser-only ``canary`` with one row."""

    def __init__(self, door: Door):
        self.door = door
        runtime = door.runtime
        create_superuser(runtime.records, *SUPERUSER)
        self.su = self.login("_superusers", *SUPERUSER)
        response = door.patch(
            "/api/collections/users", headers=self.su, json={"listRule": "", "viewRule": ""}
        )
        assert response.status_code == 200, response.text
        response = door.post(
            "/api/collections/users/records",
            json={"email": USER[0], "password": USER[1], "passwordConfirm": USER[1], "name": "Ann"},
        )
        assert response.status_code == 200, response.text
        self.user_id = response.json()["id"]
        self.user = self.login("users", *USER)
        self.roles: dict[str, dict[str, str]] = {"guest": {}, "user": self.user}
        open_rules = dict.fromkeys(("listRule", "viewRule", "createRule", "updateRule", "deleteRule"), "")
        posts = {
            "name": "posts",
            **open_rules,
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "views", "type": "number"},
                {"name": "published", "type": "bool"},
                {"name": "meta", "type": "json"},
                {"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
                {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
                {"name": "secret", "type": "text", "hidden": True},
                {"name": "created", "type": "autodate", "onCreate": True},
            ],
        }
        response = door.post("/api/collections", headers=self.su, json=posts)
        assert response.status_code == 200, response.text
        canary = {"name": "canary", "fields": [{"name": "secret", "type": "text"}]}
        response = door.post("/api/collections", headers=self.su, json=canary)
        assert response.status_code == 200, response.text
        response = door.post(
            "/api/collections/canary/records", headers=self.su, json={"secret": CANARY_SECRET}
        )
        assert response.status_code == 200, response.text
        self.canary = response.json()
        for title in SEED_TITLES:
            self.add_post(title=title, owner=self.user_id, secret=HIDDEN_VALUE, meta={"a": 1})
        self.counts_before = self.table_counts()

    def login(self, collection: str, email: str, password: str) -> dict[str, str]:
        response = self.door.post(
            f"/api/collections/{collection}/auth-with-password",
            json={"identity": email, "password": password},
        )
        assert response.status_code == 200, response.text
        return {"Authorization": response.json()["token"]}

    def add_post(self, **values: Any) -> str:
        _, record = self.door.runtime.records.create("posts", values, SYSTEM)
        return str(record["id"])

    # -- invariants -----------------------------------------------------------------------------

    def table_counts(self) -> dict[str, int]:
        db = self.door.runtime.db
        if db.dialect == "postgres":
            names = [
                r[0]
                for r in db.fetchall("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ]
        else:
            names = [r[0] for r in db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")]
        counts = {}
        for name in names:
            counts[name] = int(db.scalar('SELECT COUNT(*) FROM "' + name.replace('"', '""') + '"'))
        return counts

    def assert_canary_intact(self) -> None:
        response = self.door.get("/api/collections/canary/records", headers=self.su)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["totalItems"] == 1
        [row] = body["items"]
        assert (row["id"], row["secret"]) == (self.canary["id"], CANARY_SECRET)
        rows = self.door.runtime.db.fetchall('SELECT "id", "secret" FROM "canary"')
        assert rows == [(self.canary["id"], CANARY_SECRET)]
        # the schema is intact too: every collection still answers
        for name in ("posts", "users", "canary"):
            assert self.door.get(f"/api/collections/{name}/records", headers=self.su).status_code == 200

    def titles(self) -> dict[str, str]:
        rows = self.door.runtime.db.fetchall('SELECT "id", "title" FROM "posts"')
        return {str(r[0]): str(r[1]) for r in rows}


@pytest.fixture
def world(api: Door) -> World:
    return World(api)


# -- response checks --------------------------------------------------------------------------------


class Failures:
    """Collects every wrong answer of a corpus run, so one report lists them all."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, what: str, response: httpx.Response, expected: str) -> None:
        body = response.text[:300]
        self.items.append(f"{what}\n      -> {response.status_code} {body}\n      expected: {expected}")

    def check(self) -> None:
        if self.items:
            shown = "\n  ".join(self.items[:40])
            more = f"\n  ... and {len(self.items) - 40} more" if len(self.items) > 40 else ""
            pytest.fail(f"{len(self.items)} wrong answers:\n  {shown}{more}", pytrace=False)


def envelope_problem(response: httpx.Response, sent: str = "") -> str | None:
    """Why ``response`` is not an acceptable answer (a 2xx, or a 4xx in the error envelope).
    ``sent``: the payload, which a validation message may quote back (that is no leak)."""
    status = response.status_code
    if status >= 500:
        return "a 5xx"
    if status < 400:
        return None if status < 300 else "a redirect"
    try:
        body = response.json()
    except ValueError:
        return "a 4xx without a JSON body"
    if not isinstance(body, dict) or set(body) != ENVELOPE_KEYS:
        return "a 4xx without the {data, message, status} envelope"
    if body["status"] != status or not isinstance(body["data"], dict) or not isinstance(body["message"], str):
        return "a malformed envelope"
    text = response.text
    for echoed in (json.dumps(sent)[1:-1], json.dumps(sent, ensure_ascii=False)[1:-1]) if sent else ():
        text = text.replace(echoed, "")
    if LEAK_RE.search(text):
        return "SQL or driver text in the error"
    return None


def leak_problem(response: httpx.Response) -> str | None:
    """Hidden values in a response to a non-superuser."""
    for marker in ('"password"', '"tokenKey"', "$argon2", HIDDEN_VALUE, CANARY_SECRET):
        if marker in response.text:
            return f"the response shows {marker}"
    return None


def short(payload: str) -> str:
    text = repr(payload)
    return text if len(text) <= 80 else text[:60] + f"...<{len(payload)} chars>"


def get(
    world: World, path: str, params: dict[str, str], headers: dict[str, str] | None = None
) -> httpx.Response:
    return world.door.get(path, params=params, headers=headers or {})


def records(world: World, collection: str = "posts") -> str:
    return f"/api/collections/{collection}/records"


def filter_literal(value: str) -> str:
    """``value`` as a double-quoted filter literal (``\\`` and ``\"`` escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- filter --------------------------------------------------------------------------------------


def test_filter_corpus(world):
    failures = Failures()
    for payload in CORPUS:
        for role, headers in world.roles.items():
            response = get(world, records(world), {"filter": payload}, headers)
            problem = envelope_problem(response, payload) or leak_problem(response)
            if problem:
                failures.add(
                    f"{role} filter={short(payload)}", response, f"2xx or 4xx envelope, not {problem}"
                )
            # the superuser-only canary stays locked whatever the filter says
            locked = get(world, records(world, "canary"), {"filter": payload}, headers)
            if locked.status_code != 403:
                failures.add(f"{role} canary filter={short(payload)}", locked, "403")
    failures.check()
    assert world.table_counts() == world.counts_before
    world.assert_canary_intact()


def like_pattern(value: str) -> str:
    """PocketBase's ``~`` value (``tools/search``): with an unescaped ``%`` it is the pattern as
    given; otherwise ``%value%`` where each ``%``, ``_`` and ``\\`` not already preceded by a
    backslash gets one."""
    if _has_unescaped_percent(value):
        return value
    out: list[str] = []
    pending = False
    for char in reversed(value):
        if pending:
            if char != "\\":
                out.append("\\")
            pending = False
        elif char in "%_\\":
            pending = True
        out.append(char)
    if pending:
        out.append("\\")
    return "%" + "".join(reversed(out)) + "%"


def _like_regex(value: str) -> re.Pattern[str] | None:
    """SQLite's ``LIKE <pattern> ESCAPE '\\'`` as a regex (ASCII letters ignore case); None when
    the pattern ends with a lone escape, which matches nothing."""
    pattern = like_pattern(value)
    parts, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            if index + 1 == len(pattern):
                return None
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return re.compile("".join(parts), re.IGNORECASE | re.ASCII | re.DOTALL)


def _has_unescaped_percent(value: str) -> bool:
    previous = ""
    for char in value:
        if char == "%" and previous != "\\":
            return True
        previous = "" if (char == "\\" and previous == "\\") else char
    return False


def _expressible(value: str, filter_text: str) -> bool:
    """Whether ``filter_text`` (a quoted ``value``) is a filter the parser must accept: no NUL and
    not over the length limit."""
    return "\x00" not in value and len(filter_text) <= MAX_FILTER


def test_payloads_as_filter_values_match_literally(world):
    """``title = "<payload>"`` finds exactly the rows with that title; ``title ~ "<payload>"`` the
    rows containing it (or matching it as a pattern when it has a ``%``)."""
    for payload in CORPUS:
        if "\x00" not in payload and len(payload) <= 5000:
            world.add_post(title=payload)
    titles = world.titles()
    counts = world.table_counts()
    failures = Failures()
    for payload in CORPUS:
        for op in ("=", "~"):
            text = f"title {op} {filter_literal(payload)}"
            response = get(world, records(world), {"filter": text, "perPage": "1000", "fields": "id"})
            what = f"guest filter={short(text)}"
            if not _expressible(payload, text):
                if response.status_code != 400 or envelope_problem(response):
                    failures.add(what, response, "400 envelope (not an expressible filter)")
                continue
            if response.status_code != 200:
                failures.add(what, response, "200")
                continue
            found = {item["id"] for item in response.json()["items"]}
            if op == "=":
                expected = {rid for rid, title in titles.items() if title == payload}
                if found != expected:
                    failures.add(what, response, f"exactly {sorted(titles[i] for i in expected)!r}")
                continue
            pattern = _like_regex(payload)
            must = {rid for rid, t in titles.items() if pattern and pattern.fullmatch(t) and t.isascii()}
            # beyond ASCII, case folding differs between engines: such titles may match either way
            may = must | {rid for rid, t in titles.items() if not t.isascii()}
            if not must <= found <= may:
                missing = sorted(short(titles[i]) for i in must - found)
                extra = sorted(short(titles[i]) for i in found - may)
                failures.add(what, response, f"missing {missing}, unexpected {extra}")
    failures.check()
    assert world.table_counts() == counts
    world.assert_canary_intact()


# -- sort, expand, fields, paging ------------------------------------------------------------------


def _run_reads(world: World, param: str, roles: Iterable[str]) -> Failures:
    failures = Failures()
    for payload in CORPUS:
        for role in roles:
            response = get(world, records(world), {param: payload}, world.roles[role])
            problem = envelope_problem(response, payload)
            if problem:
                failures.add(
                    f"{role} {param}={short(payload)}", response, f"2xx or 4xx envelope, not {problem}"
                )
                continue
            if response.status_code == 200:
                body = response.json()
                page, per_page = body["page"], body["perPage"]
                if not (
                    isinstance(page, int)
                    and page >= 1
                    and isinstance(per_page, int)
                    and 1 <= per_page <= 1000
                ):
                    failures.add(
                        f"{role} {param}={short(payload)}", response, "page >= 1, 1 <= perPage <= 1000"
                    )
                if body["totalItems"] == -1 and param != "skipTotal":
                    failures.add(f"{role} {param}={short(payload)}", response, "a total")
                leak = leak_problem(response)
                if leak:
                    failures.add(
                        f"{role} {param}={short(payload)}", response, f"no hidden values, not {leak}"
                    )
    return failures


@pytest.mark.parametrize("param", ["sort", "expand", "fields"])
def test_list_parameter_corpus(world, param):
    failures = _run_reads(world, param, ("guest", "user"))
    failures.check()
    assert world.table_counts() == world.counts_before
    world.assert_canary_intact()


@pytest.mark.parametrize("param", ["page", "perPage", "skipTotal"])
def test_paging_parameter_corpus(world, param):
    failures = _run_reads(world, param, ("guest",))
    failures.check()
    assert world.table_counts() == world.counts_before
    world.assert_canary_intact()


# -- record ids in the path -------------------------------------------------------------------------


def test_record_id_corpus(world):
    """Ids that are not ids are a 404 (or another 4xx) for view, update and delete — never a
    match on some other row, never a write."""
    titles = world.titles()
    failures = Failures()
    for payload in CORPUS:
        if payload.strip("./") == "" or payload.strip() == "":
            continue  # "", ".", ".." and "//" are path syntax, not ids: the URL names another route
        path = records(world) + "/" + quote(payload, safe="")
        for method in ("GET", "PATCH", "DELETE"):
            kwargs: dict[str, Any] = {"json": {"title": "pwned"}} if method == "PATCH" else {}
            response = world.door.request(method, path, **kwargs)
            problem = envelope_problem(response, payload)
            if problem or response.status_code < 400:
                failures.add(f"guest {method} id={short(payload)}", response, "4xx envelope")
    failures.check()
    assert world.titles() == titles
    assert world.table_counts() == world.counts_before
    world.assert_canary_intact()


# -- JSON values of a create ----------------------------------------------------------------------


def test_create_corpus(world):
    """Payloads as field values are stored and returned exactly, or refused with a field-keyed 400."""
    failures = Failures()
    created = 0
    for payload in CORPUS:
        bodies: list[tuple[str, dict[str, Any]]] = [
            ("title", {"title": payload}),
            ("meta", {"meta": {"k": payload, payload[:50]: 1}}),
            ("views", {"views": payload}),
            ("tags", {"tags": [payload]}),
            ("owner", {"owner": payload}),
            ("key", {payload: "x", "title": "k"}),
        ]
        for field, body in bodies:
            response = world.door.post(records(world), json=body, headers=world.user)
            what = f"user create {field}={short(payload)}"
            problem = envelope_problem(response, payload)
            if problem:
                failures.add(what, response, f"2xx or 4xx envelope, not {problem}")
                continue
            if response.status_code >= 400:
                if field != "key" and field not in response.json()["data"]:
                    failures.add(what, response, f"a 400 keyed by {field!r}")
                elif field == "title" and "\x00" not in payload and len(payload) <= 5000:
                    failures.add(what, response, "200: a valid text value")
                elif field == "meta" and "\x00" not in payload:
                    failures.add(what, response, "200: a valid JSON value")
                continue
            created += 1
            record = response.json()
            if (
                field in ("tags", "owner")
                and record[field] not in ([], "")
                and payload not in ("a", "b", "c")
            ):
                failures.add(what, response, "400: not a valid option / related record (or an empty value)")
                continue
            stored = world.door.get(f"{records(world)}/{record['id']}", headers=world.su).json()
            if field == "title" and stored.get("title") != payload:
                failures.add(what, response, f"title stored as sent, got {short(stored.get('title'))}")
            if field == "meta" and stored.get("meta") != body["meta"]:
                failures.add(what, response, "meta stored as sent")
            if field == "views" and not isinstance(stored.get("views"), int | float):
                failures.add(what, response, "a number")
    failures.check()
    after = world.table_counts()
    assert after.pop("posts") == world.counts_before["posts"] + created
    assert after == {k: v for k, v in world.counts_before.items() if k != "posts"}
    world.assert_canary_intact()


# -- FLT-4: superuser-only identifiers and hidden fields ----------------------------------------------

FORBIDDEN_FILTERS = [
    "@request.auth.id = ''",
    "@request.auth.id != ''",
    "@REQUEST.auth.id = ''",
    "@Request.Auth.Id != ''",
    "@rEqUeSt.auth.id = ''",
    "@request.headers.authorization != ''",
    "@request.query.filter = ''",
    "@request.method = 'GET'",
    "@request.context = 'default'",
    "@request.body.title = ''",
    "@collection.canary.secret = 'canary-secret-value'",
    "@COLLECTION.canary.secret != ''",
    "@Collection.users.password != ''",
    "@collection.users.tokenKey ~ 'a'",
    "title = 'x' || @request.auth.id = ''",
    "(title != 'x' && (@collection.canary.id != ''))",
    "strftime('%Y', @request.auth.created) != ''",
]
FORBIDDEN_SORTS = [
    "@request.auth.id",
    "-@request.auth.id",
    "@REQUEST.auth.id",
    "@collection.canary.secret",
    "title,@collection.canary.secret",
    "+@Collection.users.password",
]


def _encoded(path: str, param: str, value: str) -> str:
    """``value`` fully percent-encoded (``@`` as ``%40``), the way a careful client sends it."""
    return f"{path}?{param}={quote(value, safe='')}"


def test_superuser_only_identifiers_are_403_for_everyone_else(world):
    failures = Failures()
    cases = [("filter", f) for f in FORBIDDEN_FILTERS] + [("sort", s) for s in FORBIDDEN_SORTS]
    for param, value in cases:
        for role, headers in world.roles.items():
            for encoded in (False, True):
                if encoded:
                    response = world.door.get(_encoded(records(world), param, value), headers=headers)
                else:
                    response = get(world, records(world), {param: value}, headers)
                what = f"{role} {param}={value!r}{' (percent-encoded)' if encoded else ''}"
                if response.status_code != 403 or envelope_problem(response):
                    failures.add(what, response, "403 envelope")
                elif response.json()["message"] not in FORBIDDEN_MESSAGES:
                    failures.add(what, response, f"a message of {FORBIDDEN_MESSAGES}")
        # superusers may use them
        response = get(world, records(world), {param: value}, world.su)
        if response.status_code not in (200, 400) or envelope_problem(response):
            failures.add(f"superuser {param}={value!r}", response, "200 (or a 400 for an unsortable name)")
    # double encoding does not smuggle an identifier in: the text is then "%40request...", not valid
    for role, headers in world.roles.items():
        response = world.door.get(
            records(world) + "?filter=%2540request.auth.id%20%3D%20%27%27", headers=headers
        )
        if response.status_code != 400 or envelope_problem(response):
            failures.add(f"{role} filter=%40request.auth.id = '' (double-encoded)", response, "400")
    failures.check()
    assert world.table_counts() == world.counts_before


HIDDEN_FILTERS = [
    ("users", "password != ''"),
    ("users", "password ~ '$argon2'"),
    ("users", "tokenKey != ''"),
    ("users", "tokenKey ~ 'a'"),
    ("users", "id != '' && password > ''"),
    ("users", "posts_via_owner.secret ?= 's3cret-hidden-value'"),
    ("posts", "owner.password != ''"),
    ("posts", "owner.tokenKey ~ 'a'"),
    ("posts", "secret = 's3cret-hidden-value'"),
    ("posts", "secret ~ 's'"),
    ("posts", "title = 'x' || secret != ''"),
]
HIDDEN_SORTS = [
    ("users", "password"),
    ("users", "-tokenKey"),
    ("users", "name,password"),
    ("posts", "owner.password"),
    ("posts", "-owner.tokenKey"),
    ("posts", "secret"),
    ("posts", "-secret"),
]


def test_hidden_fields_are_400_for_everyone_but_superusers(world):
    failures = Failures()
    cases = [(c, "filter", v) for c, v in HIDDEN_FILTERS] + [(c, "sort", v) for c, v in HIDDEN_SORTS]
    for collection, param, value in cases:
        for role, headers in world.roles.items():
            response = get(world, records(world, collection), {param: value}, headers)
            if response.status_code != 400 or envelope_problem(response):
                failures.add(f"{role} {collection} {param}={value!r}", response, "400 envelope")
        response = get(world, records(world, collection), {param: value}, world.su)
        if response.status_code != 200:
            failures.add(f"superuser {collection} {param}={value!r}", response, "200")
    failures.check()
    assert world.table_counts() == world.counts_before
