"""The filter golden table's dataset and cases, as data (shared by PocketBase and EmmettBase runs).

Collections (PocketBase collection JSON): the built-in ``users`` auth collection (id
``_pb_users_auth_``) gets a single relation ``org`` -> ``orgs``; ``orgs`` (name, tier);
``posts`` (every field kind the filter language treats differently); ``comments`` (relation
``post`` -> ``posts``, for the back-relation ``comments_via_post``). Every list/view rule is ``""``
so rules never interfere. Records carry fixed client-supplied 15-char ids, and their values hold
the edge cases: empty strings, zero, negatives, unicode, ``% _ \\ ' "`` in text, a very long word,
JSON ``null``/``[]``/``{}``, numbers stored as JSON strings, empty relations and dates.

``CASES`` is the list of filter texts that ``tests/bench/record_filter_golden.py`` runs against the
real PocketBase (the answers land in ``tests/api/golden/filters.json``) and that
``tests/api/test_filter_golden.py`` replays on EmmettBase. ``load(client, headers)`` creates the
whole dataset through the HTTP API of either server (``client``: an ``httpx.Client`` or a test door).

Nothing here depends on the time of the run, except ``created``/``updated`` (autodate): the cases
that read them are chosen so that every record answers the same way whenever the run happens.
"""

from __future__ import annotations

from typing import Any

USERS_ID = "_pb_users_auth_"
ORGS_ID = "pbc_golden_orgs"
POSTS_ID = "pbc_golden_posts"
COMMENTS_ID = "pbc_golden_cmts"
USER_PASSWORD = "golden-password-123"

LONG_WORD = "Supercalifragilisticexpialidocious" + "x" * 200


def _id(prefix: str, number: int) -> str:
    return f"{prefix}{number:014d}"


def U(n: int) -> str:  # short names keep the tables below readable
    return _id("u", n)


def O(n: int) -> str:  # noqa: E743
    return _id("o", n)


def P(n: int) -> str:
    return _id("p", n)


def C(n: int) -> str:
    return _id("c", n)


# -- collections ----------------------------------------------------------------------------------

OPEN_RULES: dict[str, Any] = {
    "listRule": "",
    "viewRule": "",
    "createRule": None,
    "updateRule": None,
    "deleteRule": None,
}

ORG_FIELD = {"name": "org", "type": "relation", "collectionId": ORGS_ID, "maxSelect": 1}


def _autodates(updated: bool = True) -> list[dict[str, Any]]:
    fields = [{"name": "created", "type": "autodate", "onCreate": True, "onUpdate": False}]
    if updated:
        fields.append({"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True})
    return fields


ORGS = {
    "id": ORGS_ID,
    "name": "orgs",
    "type": "base",
    **OPEN_RULES,
    "fields": [
        {"name": "name", "type": "text"},
        {"name": "tier", "type": "number"},
        *_autodates(updated=False),
    ],
}

POSTS = {
    "id": POSTS_ID,
    "name": "posts",
    "type": "base",
    **OPEN_RULES,
    "fields": [
        {"name": "title", "type": "text"},
        {"name": "body", "type": "editor"},
        {"name": "views", "type": "number"},
        {"name": "score", "type": "number"},
        {"name": "published", "type": "bool"},
        {"name": "status", "type": "select", "values": ["draft", "live", "archived"], "maxSelect": 1},
        {"name": "tags", "type": "select", "values": ["a", "b", "c", "d"], "maxSelect": 4},
        {"name": "meta", "type": "json"},
        {"name": "author", "type": "relation", "collectionId": USERS_ID, "maxSelect": 1},
        {"name": "editors", "type": "relation", "collectionId": USERS_ID, "maxSelect": 10},
        {"name": "published_at", "type": "date"},
        *_autodates(),
    ],
}

COMMENTS = {
    "id": COMMENTS_ID,
    "name": "comments",
    "type": "base",
    **OPEN_RULES,
    "fields": [
        {"name": "body", "type": "text"},
        {"name": "post", "type": "relation", "collectionId": POSTS_ID, "maxSelect": 1},
        {"name": "user", "type": "relation", "collectionId": USERS_ID, "maxSelect": 1},
        {"name": "votes", "type": "number"},
        *_autodates(updated=False),
    ],
}

# -- records --------------------------------------------------------------------------------------

ORG_ROWS: list[dict[str, Any]] = [
    {"id": O(1), "name": "Acme", "tier": 1},
    {"id": O(2), "name": "acme labs", "tier": 2},
    {"id": O(3), "name": "Ünïcode 日本", "tier": 3},
    {"id": O(4), "name": "", "tier": 0},
    {"id": O(5), "name": "50% off_sale", "tier": 5},
    {"id": O(6), "name": "Nobody", "tier": 1},  # no member
]


def _user(n: int, name: str, org: str, verified: bool = True, visible: bool = False) -> dict[str, Any]:
    return {
        "id": U(n),
        "email": f"user{n:02d}@example.com",
        "emailVisibility": visible,
        "verified": verified,
        "name": name,
        "org": org,
    }


USER_ROWS: list[dict[str, Any]] = [
    _user(1, "Alice", O(1), visible=True),
    _user(2, "bob", O(2), verified=False),
    _user(3, "Élodie", O(3)),
    _user(4, "日本太郎", O(1)),
    _user(5, "", "", verified=False),
    _user(6, "O'Brien", O(4)),
    _user(7, 'Say "hi"', O(5), visible=True),
    _user(8, "100%", O(2)),
    _user(9, "under_score", ""),
    _user(10, "back\\slash", O(1), verified=False),
    _user(11, "ALICE", O(3)),
    _user(12, "Zed " + LONG_WORD[:60], O(5)),
]


def _post(n: int, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": P(n),
        "title": "",
        "body": "",
        "views": 0,
        "score": 0,
        "published": False,
        "status": "",
        "tags": [],
        "meta": None,
        "author": "",
        "editors": [],
        "published_at": "",
    }
    row.update(values)
    return row


POST_ROWS: list[dict[str, Any]] = [
    _post(
        1,
        title="Hello World",
        body="<p>First post</p>",
        views=10,
        score=4.5,
        published=True,
        status="live",
        tags=["a", "b"],
        meta={"a": {"b": 1}, "list": [1, 2, 3], "n": 10, "s": "hello"},
        author=U(1),
        editors=[U(2), U(3)],
        published_at="2024-03-15 10:00:00.000Z",
    ),
    _post(2, title="hello again", status="draft", author=U(2)),
    _post(
        3,
        body="<p>empty title</p>",
        views=-5,
        score=-1.25,
        tags=["c"],
        meta={},
        editors=[U(1)],
    ),
    _post(
        4,
        title="100% pure",
        body="percent",
        views=100,
        score=99.99,
        published=True,
        status="live",
        tags=["a", "b", "c", "d"],
        meta={"a": {"b": "1"}, "n": "10"},
        author=U(8),
        editors=[U(8), U(1), U(5)],
        published_at="2023-12-31 23:59:59.999Z",
    ),
    _post(
        5,
        title="under_score_title",
        views=7,
        score=7,
        status="archived",
        tags=["d"],
        meta={"a": {"b": None}, "list": []},
        author=U(9),
        editors=[U(9)],
        published_at="2024-01-01 00:00:00.000Z",
    ),
    _post(
        6,
        title="back\\slash path C:\\temp",
        views=3,
        score=0.5,
        status="draft",
        tags=["b"],
        meta=[],
        author=U(10),
        editors=[U(10), U(11)],
    ),
    _post(
        7,
        title='It\'s "quoted"',
        views=42,
        score=42,
        published=True,
        status="live",
        tags=["a"],
        meta={"s": "It's"},
        author=U(6),
        editors=[U(6), U(7)],
    ),
    _post(
        8,
        title="Café 日本語",
        body="<p>unicode é</p>",
        views=8,
        score=8.0,
        published=True,
        status="live",
        tags=["b", "c"],
        meta={"s": "日本", "a": {"b": 2}},
        author=U(3),
        editors=[U(3), U(4)],
        published_at="2024-06-01 12:00:00.000Z",
    ),
    _post(
        9,
        title=LONG_WORD,
        views=1000000,
        score=123456.789,
        status="archived",
        tags=["a", "c"],
        meta={"list": ["x", "y"], "deep": {"er": {"est": "bottom"}}},
        author=U(12),
    ),
    _post(
        10,
        title="null",
        body="null",
        views=1,
        score=1,
        status="draft",
        tags=["a"],
        meta={"n": None},
        author=U(5),
        editors=[U(5)],
    ),
    _post(
        11,
        title="0",
        body="0",
        score=0.1,
        published=True,
        status="live",
        tags=["c", "d"],
        meta={"flag": True, "n": 0},
        author=U(11),
        editors=[U(1), U(11)],
        published_at="2025-01-01 00:00:00.000Z",
    ),
    _post(
        12,
        title="true",
        body="false",
        views=2,
        score=2,
        published=True,
        status="archived",
        tags=["b", "d"],
        meta={"flag": False, "list": [0]},
        author=U(4),
        editors=[U(12)],
        published_at="2022-02-02 02:02:02.000Z",
    ),
    _post(
        13,
        title="%",
        views=5,
        score=5.5,
        status="draft",
        meta={"s": "%_\\"},
        author=U(7),
        editors=[U(2), U(3), U(4)],
    ),
    _post(
        14,
        title="_",
        views=6,
        score=6,
        published=True,
        status="live",
        tags=["a", "d"],
        meta={"a": {"b": [1, 2]}},
        author=U(1),
        editors=[U(1)],
        published_at="2024-01-01 00:00:00.001Z",
    ),
    _post(15, title="5.0", body="1.5"),  # numbers as text (SQLite's REAL -> TEXT form)
]


def _comment(n: int, body: str, post: str, user: str, votes: int) -> dict[str, Any]:
    return {"id": C(n), "body": body, "post": post, "user": user, "votes": votes}


COMMENT_ROWS: list[dict[str, Any]] = [
    _comment(1, "great post", P(1), U(2), 3),
    _comment(2, "Great!", P(1), U(3), 0),
    _comment(3, "meh", P(2), U(1), -1),
    _comment(4, "x marks", P(4), U(5), 10),
    _comment(5, "", P(4), U(1), 0),
    _comment(6, "100% agree", P(7), U(8), 2),
    _comment(7, "日本語 comment", P(8), U(4), 5),
    _comment(8, "under_score", P(8), U(9), 1),
    _comment(9, "no post", "", U(1), 0),
    _comment(10, "back\\slash", P(12), U(10), 1),
    _comment(11, "another x", P(1), U(1), 1),
]

#: collection name -> rows, in creation order
ROWS: dict[str, list[dict[str, Any]]] = {
    "orgs": ORG_ROWS,
    "users": USER_ROWS,
    "posts": POST_ROWS,
    "comments": COMMENT_ROWS,
}

#: fields whose values depend on the run (left out when comparing stored records)
VOLATILE_FIELDS = ("created", "updated")


# -- loading --------------------------------------------------------------------------------------


def _check(response: Any, what: str) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"{what}: HTTP {response.status_code} {response.text[:2000]}")
    return response.json() if response.content else None


def load(client: Any, headers: dict[str, str]) -> None:
    """Create the collections and records through the API, as a superuser (``headers``).

    ``client`` needs ``get/post/patch(url, json=..., headers=...)`` answering httpx responses.
    """
    _check(client.post("/api/collections", json=ORGS, headers=headers), "create orgs")
    users = _check(client.get("/api/collections/users", headers=headers), "view users")
    patch = {**OPEN_RULES, "createRule": "", "fields": [*users["fields"], ORG_FIELD]}
    patch.pop("updateRule")
    patch.pop("deleteRule")
    _check(client.patch("/api/collections/users", json=patch, headers=headers), "add users.org")
    _check(client.post("/api/collections", json=POSTS, headers=headers), "create posts")
    _check(client.post("/api/collections", json=COMMENTS, headers=headers), "create comments")
    for collection, rows in ROWS.items():
        for row in rows:
            body = dict(row)
            if collection == "users":
                body.update(password=USER_PASSWORD, passwordConfirm=USER_PASSWORD)
            _check(
                client.post(f"/api/collections/{collection}/records", json=body, headers=headers),
                f"create {collection} {row['id']}",
            )


def stored_records(client: Any, headers: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Every record of the dataset as the server returns it (volatile fields left out)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for collection in ROWS:
        body = _check(
            client.get(
                f"/api/collections/{collection}/records",
                params={"perPage": 1000, "sort": "id"},
                headers=headers,
            ),
            f"list {collection}",
        )
        out[collection] = [
            {k: v for k, v in sorted(item.items()) if k not in VOLATILE_FIELDS} for item in body["items"]
        ]
    return out


def list_ids(client: Any, headers: dict[str, str], text: str) -> tuple[int, list[str] | None]:
    """(status, sorted ids) of ``GET /api/collections/posts/records?filter=text``; ids None on error."""
    response = client.get(
        "/api/collections/posts/records",
        params={"filter": text, "perPage": 1000, "fields": "id"},
        headers=headers,
    )
    if response.status_code != 200:
        return response.status_code, None
    return 200, sorted(item["id"] for item in response.json()["items"])


# -- the cases ------------------------------------------------------------------------------------

U1, U2, U5, U8 = U(1), U(2), U(5), U(8)
O1 = O(1)

CASES: list[str] = [
    # --- literals on both sides
    "1 = 1",
    "1 = 2",
    "1 != 2",
    "1 < 2",
    '"a" = "a"',
    '"a" = "b"',
    '"b" > "a"',
    '"10" > "9"',
    "10 > 9",
    '1 = "1"',
    "1.5 > 1",
    "true = true",
    "true = false",
    "true = 1",
    '"true" = true',
    "null = null",
    "null != null",
    "'' = null",
    "null = ''",
    "'' != null",
    '"" = ""',
    '0 = ""',
    "0 = null",
    "0 = false",
    '"0.0" = 0',
    '"0" = 0',
    '"1" = true',
    "'' = false",
    '"" = 0',
    "true = 1.0",
    "false = 0",
    "1 = 1.0",
    '"a" > 1',
    # --- text: equality, empty values, ordering
    'title = "Hello World"',
    'title = "hello world"',
    'title != "Hello World"',
    "title = ''",
    'title = ""',
    "title = null",
    "null = title",
    'title != ""',
    "title != null",
    'title > "h"',
    'title < "b"',
    'title >= "Hello World"',
    'title <= ""',
    "title = 0",
    "title = 0.0",
    "title = true",
    'title = "true"',
    'title = "null"',
    "title = title",
    "title != title",
    "title = body",
    'body = ""',
    'body = "0"',
    "body = 0",
    'title = "Café 日本語"',
    f'title = "{LONG_WORD}"',
    # --- quotes and escapes in literals
    "title = 'It\\'s \"quoted\"'",
    'title = "It\'s \\"quoted\\""',
    'title = "It\\\'s \\"quoted\\""',
    'title = "back\\slash path C:\\temp"',
    'title = "unterminated',
    "title = 'It\\'s \\\"quoted\\\"'",
    'title = "back\\slash path C:\\\\temp"',
    '"a\\tb" = "a\tb"',
    '"a\\nb" = "a\nb"',
    "\"a\\sb\" = 'a\\sb'",
    "\"a\\bb\" = 'a\\bb'",
    '"a\\\\b" = "a\\b"',
    '"a\\\\\\\\b" = "a\\\\b"',
    '"\\\'" = "\'"',
    "'a\\\"b' = 'a\"b'",
    '"a\\x41" = "aA"',
    '"a\\_b" = "a_b"',
    # --- LIKE: ~ and !~
    'title ~ "hello"',
    'title ~ "HELLO"',
    'title !~ "hello"',
    'title ~ ""',
    'title !~ ""',
    "title ~ null",
    "title ~ 0",
    'title ~ "%"',
    'title ~ "%%"',
    'title ~ "100%"',
    'title ~ "%pure"',
    'title ~ "%_%"',
    'title ~ "_"',
    'title ~ "h_llo"',
    'title ~ "h_llo%"',
    'title ~ "%\\_%"',
    'title ~ "under\\_score"',
    'title ~ "100\\%"',
    'title ~ "100\\%%"',
    'title ~ "k\\s"',
    'title ~ "C:\\temp"',
    'title ~ "\\\\"',
    "title ~ '\\\\'",
    'title ~ "\\"',
    'title ~ "\\\\%"',
    'title ~ "%\\\\%"',
    'title ~ "\\\\_"',
    'title ~ "%\\\\\\\\%"',
    'title ~ "\'"',
    "title ~ '\"'",
    'title ~ "日本"',
    'title ~ "café"',
    'title ~ "CAFÉ"',
    'title ~ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
    'body ~ "<p>"',
    'body !~ "p"',
    'status ~ "ar"',
    'title ~ "ll" && title !~ "World"',
    "title !~ null",
    "null ~ null",
    "title ~ title",
    "title ~ body",
    "body ~ title",
    "title !~ body",
    "title ~ meta.s",
    "meta.s ~ title",
    # --- numbers
    "views = 0",
    'views = "0"',
    "views = ''",
    "views = null",
    "views != 0",
    "views != null",
    "views > 5",
    "views >= 10",
    "views < 0",
    "views <= 0",
    "views > -10",
    "views = -5",
    'views > "5"',
    'views = "10"',
    'views = "abc"',
    'views > "abc"',
    "views = 10.0",
    "views = 1e6",
    "views = 1000000",
    "views = true",
    "views = false",
    "score = 4.5",
    "score > 4.4",
    "score < 0.2",
    "score = 8",
    "score >= 99.99",
    "score = -1.25",
    "score > views",
    "views = score",
    "views > 1 && views < 10",
    "views ~ 0",
    'views ~ "10"',
    'score = "4.5"',
    "title < 1",
    "title > 0",
    "title = 1.5",
    "title = 5",
    "title = 5.0",
    "body = 1.5",
    "author.name = 100",
    "strftime('%Y', published_at) > 2000",
    "views = 1.",
    "views = .5",
    "views = -0",
    "views = +5",
    "views = 1_000",
    "views = 0x10",
    "views = 010",
    "score = 4.50",
    "views = - 5",
    "views=-5",
    "views >-1",
    "-5 = views",
    # --- bools
    "published = true",
    "published = false",
    "published != true",
    "published = 1",
    "published = 0",
    'published = "true"',
    'published = "1"',
    "published = null",
    "published = ''",
    "published != ''",
    "published > false",
    'published = "0"',
    'published = "false"',
    'published = " 1"',
    'published = "1.0"',
    'published = "t"',
    'published != "true"',
    "published = 2",
    "published = 0.5",
    "published = TRUE",
    "published = True",
    "title = NULL",
    "title = Null",
    # --- any-of (?) forms on plain fields
    'title ?= "Hello World"',
    'title ?!= ""',
    'title ?~ "hello"',
    'title ?!~ "hello"',
    "views ?> 5",
    "views ?>= 100",
    "views ?< 1",
    "views ?<= 0",
    "views ?!= 0",
    "title ?= null",
    "title ?!= null",
    # --- select single / multiple, :each, :length
    'status = "live"',
    'status = ""',
    "status = null",
    'status != "draft"',
    'status ?= "live"',
    'status:each = "live"',
    'tags = "a"',
    'tags ?= "a"',
    'tags ?!= "a"',
    'tags != "a"',
    'tags ~ "a"',
    'tags ?~ "a"',
    'tags !~ "a"',
    'tags = ""',
    "tags = null",
    'tags != ""',
    "tags = '[\"a\"]'",
    'tags = "[]"',
    'tags:each = "a"',
    'tags:each ?= "a"',
    'tags:each != "a"',
    'tags:each ?!= "a"',
    'tags:each ~ "a"',
    'tags:each > "b"',
    '"a" = tags:each',
    '"a" ?= tags',
    "tags:length = 0",
    "tags:length > 2",
    "tags:length = 4",
    'tags:length = "2"',
    "status:length = 1",
    "title:length = 1",
    'title:each = "x"',
    "editors:length = 0",
    "editors:length >= 2",
    "title:length = 0",
    "title:length = null",
    "title:length > 0",
    'title:each = "Hello World"',
    'title:each ?= "_"',
    "author:length = 1",
    "author:length = 0",
    f'author:each = "{U1}"',
    "status:length = 0",
    "published:length = 0",
    "views:length = 0",
    "meta:length = 0",
    "meta.list:length != 3",
    "meta.list:each = 1",
    "tags:length = 2.0",
    'editors:length = "1"',
    # --- :lower
    'title:lower = "hello world"',
    'title:lower ~ "hello"',
    'status:lower = "live"',
    'views:lower = "10"',
    'tags:lower ~ "a"',
    'author.name:lower = "alice"',
    'author.name:lower = "élodie"',
    'author.name:lower = "Élodie"',
    'editors.name:lower ?= "alice"',
    'title:upper = "X"',
    # --- json paths
    "meta.a.b = 1",
    'meta.a.b = "1"',
    "meta.a.b = null",
    "meta.a.b != null",
    'meta.a.b = ""',
    "meta.a.b > 0",
    "meta.a.b >= 1",
    "meta.n = 10",
    'meta.n = "10"',
    "meta.n > 5",
    "meta.n = 0",
    "meta.n = null",
    "meta.n != null",
    'meta.s = "hello"',
    'meta.s ~ "日"',
    'meta.s ~ "hell"',
    'meta.s = "It\'s"',
    'meta.s ~ "\\%\\_"',
    'meta.s ~ "%\\%%"',
    "meta.list.0 = 1",
    'meta.list.1 = "y"',
    "meta.list.0 = 0",
    "meta.list.5 = null",
    "meta.list.0 != null",
    'meta.deep.er.est = "bottom"',
    "meta.flag = true",
    "meta.flag = false",
    "meta.flag = 1",
    "meta = null",
    'meta = ""',
    'meta != ""',
    'meta = "{}"',
    'meta = "[]"',
    "meta != null",
    'meta ~ "list"',
    "meta.a = null",
    "meta.a.b.0 = 1",
    "meta.missing = null",
    "meta.missing != null",
    'meta.a.b ~ "1"',
    "meta.list:length = 3",
    'meta.s ?= "hello"',
    'meta.flag = "true"',
    'meta.flag = "1"',
    "meta.flag != false",
    "meta.n = true",
    "meta.n = false",
    "meta.list.0 = true",
    "meta.a.b = true",
    "meta.a.b < 5",
    "meta.s > 0",
    "meta.s < 0",
    # --- single relations and relation paths
    f'author = "{U1}"',
    'author = ""',
    'author != ""',
    "author = null",
    f'author.id = "{U1}"',
    f'author.id != "{U1}"',
    'author.name = "Alice"',
    'author.name ~ "alice"',
    'author.name = ""',
    'author.name != ""',
    "author.name = null",
    'author.email = "user01@example.com"',
    'author.email ~ "user0"',
    "author.verified = true",
    "author.verified = false",
    "author.emailVisibility = true",
    "author.name = 'O\\'Brien'",
    'author.name = "O\'Brien"',
    "author.name = 'Say \"hi\"'",
    'author.name ~ "100%"',
    'author.name ~ "100\\%"',
    'author.name ~ "_"',
    'author.name ~ "\\\\"',
    'author.name ~ "élodie"',
    'author.name ~ "日本"',
    'author.org.name = "Acme"',
    'author.org.name ~ "acme"',
    'author.org.name = ""',
    'author.org.name != ""',
    "author.org.tier > 1",
    "author.org.tier = 0",
    "author.org.tier = null",
    f'author.org = "{O1}"',
    f'author.org.id = "{O1}"',
    'author.org = ""',
    'author.tokenKey != ""',
    'author.password = "x"',
    "author.nosuch = 1",
    "author.name.x = 1",
    "author.org.name.x = 1",
    "author.created > @yesterday",
    "author.name = title",
    'author.name = author.org.name && author != ""',
    'author.name ?= "Alice"',
    'author.org.name ?~ "acme"',
    'author.name ~ "%e"',
    # --- multiple relations
    f'editors = "{U1}"',
    f'editors ?= "{U1}"',
    f'editors != "{U1}"',
    f'editors ~ "{U1}"',
    'editors = ""',
    'editors != ""',
    "editors = null",
    f'editors.id = "{U1}"',
    f'editors.id ?= "{U1}"',
    f'editors.id != "{U1}"',
    f'editors.id ?!= "{U1}"',
    f'editors:each = "{U1}"',
    f'editors:each ?= "{U1}"',
    'editors.name = "Alice"',
    'editors.name ?= "Alice"',
    'editors.name != "Alice"',
    'editors.name ?!= "Alice"',
    'editors.name ~ "a"',
    'editors.name ?~ "a"',
    'editors.name !~ "a"',
    'editors.name ?!~ "a"',
    'editors.name = ""',
    'editors.name ?= ""',
    'editors.name != ""',
    "editors.verified = true",
    "editors.verified ?= false",
    'editors.org.name = "Acme"',
    'editors.org.name ?= "Acme"',
    "editors.org.tier > 0",
    "editors.org.tier ?> 2",
    "editors.org.tier >= 1",
    "editors.org.tier < 3",
    "editors.org.tier ?< 1",
    "editors.org.tier <= 1",
    "editors.id ?= author",
    "editors.id ?= author.id",
    "editors.id = author",
    "author ?= editors.id",
    "editors.org ?= author.org",
    "editors.name ?= author.name",
    "editors.name ?= 'Say \"hi\"'",
    'editors.name ?~ "%"',
    'editors.nosuch ?= "x"',
    "editors.name ?= null",
    "editors.name = null",
    "editors.name ?!= null",
    'editors.name ?~ "a%"',
    # --- back-relations
    'comments_via_post.body ?~ "x"',
    'comments_via_post.body ~ "x"',
    'comments_via_post.body = "great post"',
    'comments_via_post.body ?= "great post"',
    'comments_via_post.body != ""',
    'comments_via_post.body ?= ""',
    "comments_via_post.votes > 0",
    "comments_via_post.votes ?> 2",
    "comments_via_post.votes >= 0",
    'comments_via_post.id != ""',
    'comments_via_post.id ?!= ""',
    'comments_via_post.id = ""',
    "comments_via_post.id = null",
    'comments_via_post.user.name ?= "bob"',
    'comments_via_post.user.org.name ?= "Acme"',
    'comments_via_post.user.name ?~ "\\\\"',
    "comments_via_post.user ?= author",
    "comments_via_post.user ?= editors.id",
    'comments_via_post.post.title ?~ "hello"',
    "comments_via_post.votes:length > 0",
    'comments_via_nosuch.body = "x"',
    'comments_via_body.body = "x"',
    'posts_via_author.title = "x"',
    # --- dates and macros
    'published_at > "2024-01-01"',
    'published_at >= "2024-01-01 00:00:00.000Z"',
    'published_at > "2024-01-01 00:00:00.000Z"',
    'published_at < "2024"',
    'published_at = ""',
    "published_at = null",
    'published_at != ""',
    "published_at < @now",
    "published_at > @now",
    'published_at ~ "2024-"',
    'published_at = "2024-03-15 10:00:00.000Z"',
    'published_at = "2024-03-15 10:00:00Z"',
    "created > @yesterday",
    "created < @yesterday",
    "created > @tomorrow",
    "created <= @now",
    'created != ""',
    'created = ""',
    'created > "2020-01-01"',
    "updated >= created",
    "@now > @yesterday",
    '@now > "2020"',
    "@year >= 2025",
    "@month <= 12 && @month >= 1",
    "@weekday >= 0 && @weekday <= 6",
    "@nosuch = 1",
    # --- functions
    "strftime('%Y', published_at) = \"2024\"",
    "strftime('%Y-%m', published_at) = \"2024-03\"",
    "strftime('%m', published_at) = '01'",
    "strftime('%Y', published_at) = 2024",
    "strftime('%Y', published_at) = ''",
    "strftime('%Y', published_at) = null",
    "strftime('%Y', published_at) != ''",
    "strftime('%d', published_at) > '10'",
    "strftime('%H:%M', published_at) = '10:00'",
    "strftime('%w', published_at) = '0'",
    "strftime('%Y', title) = null",
    "strftime('%Y', created) = strftime('%Y', @now)",
    "strftime('%Y', published_at, 'start of year') = '2024'",
    "strftime('%Y') = strftime('%Y', @now)",
    "strftime(published_at) = ''",
    "nosuchfn(title) = 1",
    "geoDistance(10, 20, 10, 20) < 1",
    # --- system fields
    f'id = "{P(1)}"',
    'id ~ "p0000000000000"',
    'id != ""',
    f'id > "{P(10)}"',
    f'id ?= "{P(2)}"',
    'collectionName = "posts"',
    f'collectionId = "{POSTS_ID}"',
    # --- @request / @collection (the caller is a superuser)
    '@request.auth.id != ""',
    '@request.auth.collectionName = "_superusers"',
    '@request.method = "GET"',
    '@request.query.perPage = "1000"',
    "@request.headers.x_nosuch = null",
    "@request.body.title = null",
    '@collection.orgs.name ?= "Acme"',
    '@collection.orgs.name = "Acme"',
    "@collection.orgs.id ?= author.org",
    "@collection.comments.post ?= id",
    "@collection.comments.post = id",
    "@collection.comments:c.post = id && @collection.comments:c.votes > 2",
    "@collection.nosuch.id = id",
    # --- precedence, parentheses, comments, whitespace
    'views > 5 || published = true && status = "draft"',
    '(views > 5 || published = true) && status = "draft"',
    'published = true && (status = "live" || status = "archived")',
    'published = true && status = "live" || status = "archived"',
    "views = 0 || views = 1 || views = 2",
    'title = "x" || (views > 1000 && (score > 1 || score < 0))',
    "((((views > 5))))",
    "(views > 5) && (views < 50) || (score < 0)",
    "views > 5 // trailing comment",
    "views > 5 // comment\n && published = true",
    "views > 5 && // mid comment\n published = true",
    "// only a comment",
    'title = "//not a comment"',
    "views>5",
    "   views  >  5   ",
    "views>5&&published=true",
    "views > 5\n&&\npublished = true",
    "views > 5 && published = true && status = 'live' && tags ?= 'a'",
    # --- syntax errors and unknown names
    "title ~~ (",
    "views >",
    "= 5",
    "views = 5 &&",
    "(views = 5",
    "views = 5)",
    "views == 5",
    "views <> 5",
    "views = 5 & published = true",
    "views = 5 | published = true",
    "views 5",
    "()",
    "nosuch = 1",
    'title:nosuch = "x"',
    "views = 5 title = 1",
    "(views = 5) (views = 6)",
    "(views > 5) (views < 50)",
    "views > 5 (views < 50)",
    "(views > 5) || (views < 50) (score > 7)",
    "(views > 5) views < 50",
    'TITLE = "Hello World"',
    "title = 'a' 'b'",
]
