"""A client ``filter``/``sort`` against the API rules (RELIABILITY.md FLT-3, FLT-4, FLT-5).

* FLT-3: no filter widens what the list rule allows (the rule and the filter are ANDed as two
  separate expressions, never concatenated as text).
* FLT-4: ``@request.*`` and ``@collection.*`` in a client filter or sort are for superusers only
  (403 ``Only superusers can filter by @request.`` / ``@collection.``, PocketBase's
  ``checkForSuperuserOnlyRuleFields``); hidden fields in a filter or sort are a 400.
* FLT-5: a relation path into a collection whose list rule is locked is a 400 for non-superusers,
  in filter and in sort; superusers may use it.
"""

from __future__ import annotations

from typing import Any

from tests.api.access_world import FILTER_REQUEST_FORBIDDEN, LOCKED, World, rules

FILTER_COLLECTION_FORBIDDEN = {
    "data": {},
    "message": "Only superusers can filter by @collection.",
    "status": 403,
}
BAD_FILTER = {"data": {}, "message": "Something went wrong while processing your request.", "status": 400}

RULED = {
    "public": rules(""),
    "owner": rules("owner = @request.auth.id"),
    "verified": rules("@request.auth.verified = true"),
    "locked": rules(None),
}
PEOPLE = ("guest", "userA", "userB", "unverified", "member")

#: Filters written to widen the rule: every answer must stay inside the rule-allowed set.
WIDENERS = [
    "1=1",
    "true = true",
    "title != '' || 1=1",
    "|| 1=1",
    "id != '' || 1=1",
    'id != "" || true = true',
    ") || (id != ''",
    "title = 'x') || (id != ''",
    "title = 'x' ) || ( id != ''",
    "(id != '') || (1 = 1)",
    "id != '' && (1=1 || 1=1)",
    "owner != ''",
    "owner = owner",
    "owner.id != ''",
    "owner ?!= ''",
    "id ~ '%'",
    "title ~ '' || title !~ ''",
    "' OR 1=1 --",
    "title = '' OR 1=1",
    "title = '' or 1 = 1",
    "id != '' /* */ || 1=1",
    "owner != 'nobody' || owner = 'nobody'",
    "owner = '' || owner != ''",
    "@request.auth.id = ''",
    "@request.auth.id != '' || 1 = 1",
    "@collection.owner.id != ''",
    "id != '' || @request.auth.id = owner",
]


def _filter_world(api: Any) -> tuple[World, dict[str, dict[str, str]]]:
    """The four rule collections, each with a row owned by userA, userB and the unverified user."""
    world = World(api)
    owners: dict[str, dict[str, str]] = {}
    for name, rule_values in RULED.items():
        world.items_collection(name, rule_values)
        owners[name] = {}
        for owner in ("userA", "userB", "unverified"):
            row = world.add(name, title=f"{name}:{owner}", owner=world[owner].user_id)
            owners[name][row["id"]] = row["owner"]
    return world, owners


def _allowed(collection: str, who: Any, rows: dict[str, str]) -> set[str]:
    if collection == "public":
        return set(rows)
    if collection == "owner":
        return {rid for rid, owner in rows.items() if who.user_id and owner == who.user_id}
    if collection == "verified":
        return set(rows) if who.verified else set()
    return set()


def test_a_client_filter_never_widens_the_rule(api):
    world, owners = _filter_world(api)
    problems = []
    for collection, rows in owners.items():
        for name in PEOPLE:
            who = world[name]
            allowed = _allowed(collection, who, rows)
            # positive control: without a filter the caller sees exactly the allowed rows
            plain = world.list(name, collection)
            if collection == "locked":
                assert (plain.status_code, plain.json()) == (403, LOCKED)
            else:
                assert {i["id"] for i in plain.json()["items"]} == allowed, (collection, name)
            for text in WIDENERS:
                response = world.list(name, collection, filter=text)
                if collection == "locked":
                    if (response.status_code, response.json()) != (403, LOCKED):
                        problems.append(
                            f"{collection} {name} {text!r}: {response.status_code} {response.text[:120]}"
                        )
                    continue
                if response.status_code not in (200, 400, 403):
                    problems.append(f"{collection} {name} {text!r}: status {response.status_code}")
                    continue
                if response.status_code != 200:
                    if response.json().get("data") != {}:
                        problems.append(f"{collection} {name} {text!r}: error data {response.json()['data']}")
                    continue
                body = response.json()
                ids = {item["id"] for item in body["items"]}
                if not ids <= allowed:
                    problems.append(
                        f"{collection} {name} {text!r}: {len(ids - allowed)} rows beyond the rule"
                    )
                if body["totalItems"] != len(ids):
                    problems.append(
                        f"{collection} {name} {text!r}: totalItems {body['totalItems']} != {len(ids)}"
                    )
    assert not problems, "\n" + "\n".join(problems)


def test_a_client_filter_never_widens_the_users_own_rules(api):
    world, _ = _filter_world(api)
    for name in PEOPLE:
        who = world[name]
        expected = {who.user_id} if who.user_id else set()
        for text in WIDENERS:
            response = world.list(name, "users", filter=text)
            assert response.status_code in (200, 400, 403), (name, text, response.text)
            if response.status_code == 200:
                assert {i["id"] for i in response.json()["items"]} <= expected, (name, text)
                assert response.json()["totalItems"] <= len(expected), (name, text)


# -- FLT-4 -----------------------------------------------------------------------------------------


REQUEST_FILTERS = [
    "@request.auth.id != ''",
    "owner = @request.auth.id",
    "@request.method = 'GET'",
    "@request.headers.authorization != ''",
    "title != '' && @request.query.x = ''",
]
COLLECTION_FILTERS = [
    "@collection.owner.id != ''",
    "@collection.users.email != ''",
    "owner = @collection.users:u.id",
]
MIXED_CASE_FILTERS = [
    "@Request.auth.id != ''",
    "@REQUEST.auth.id != ''",
    "@rEqUeSt.auth.id != ''",
    "@Collection.owner.id != ''",
    "@COLLECTION.users.id != ''",
]


def _check(response: Any, expected: dict[str, Any], what: str) -> str | None:
    if (response.status_code, response.json()) != (expected["status"], expected):
        want = f"{expected['status']} {expected['message']!r}"
        return f"{what}: {response.status_code} {response.text[:160]} (want {want})"
    return None


def test_request_and_collection_identifiers_in_a_filter_are_for_superusers(api):
    world, _ = _filter_world(api)
    problems = []
    for name in ("guest", "userA", "member"):
        for text in REQUEST_FILTERS:
            problems.append(
                _check(
                    world.list(name, "public", filter=text),
                    FILTER_REQUEST_FORBIDDEN,
                    f"{name} filter {text!r}",
                )
            )
        for text in COLLECTION_FILTERS:
            problems.append(_refused_403(world.list(name, "public", filter=text), f"{name} filter {text!r}"))
        # percent-encoded in the raw query string: the same answer
        raw = world.as_(
            name, "GET", "/api/collections/public/records?filter=%40request.auth.id%20%21%3D%20%27%27"
        )
        problems.append(_check(raw, FILTER_REQUEST_FORBIDDEN, f"{name} percent-encoded @request"))
        raw = world.as_(
            name, "GET", "/api/collections/public/records?filter=%40collection.owner.id%20%21%3D%20%27%27"
        )
        problems.append(_refused_403(raw, f"{name} percent-encoded @collection"))
        # double-encoded: not an identifier at all any more, so a plain bad filter
        raw = world.as_(
            name, "GET", "/api/collections/public/records?filter=%2540request.auth.id%20%21%3D%20%27%27"
        )
        problems.append(
            None
            if raw.status_code in (400, 403) and raw.json()["data"] == {}
            else f"{name} double-encoded: {raw.text[:120]}"
        )
    assert not [p for p in problems if p], "\n" + "\n".join(p for p in problems if p)
    # positive control: a superuser may use both
    for text in REQUEST_FILTERS + COLLECTION_FILTERS:
        response = world.list("superuser", "public", filter=text)
        assert response.status_code == 200, (text, response.text)


def _refused_403(response: Any, what: str) -> str | None:
    body = response.json()
    if (
        response.status_code != 403
        or body["data"] != {}
        or not body["message"].startswith("Only superusers can filter by @")
    ):
        return f"{what}: {response.status_code} {response.text[:160]}"
    return None


def test_collection_identifier_refusal_names_collection(api):
    """PocketBase's message names what was found first: ``@collection.`` is checked before
    ``@request.`` (``superuserOnlyRuleFields`` in apis/record_helpers.go)."""
    world, _ = _filter_world(api)
    problems = []
    for text in [*COLLECTION_FILTERS, "@request.auth.id != '' && @collection.owner.id != ''"]:
        problems.append(
            _check(
                world.list("userA", "public", filter=text), FILTER_COLLECTION_FORBIDDEN, f"filter {text!r}"
            )
        )
    assert not [p for p in problems if p], "\n" + "\n".join(p for p in problems if p)


def test_mixed_case_request_and_collection_identifiers_are_refused(api):
    """RELIABILITY.md FLT-4 asks for 403 whatever the case (PocketBase itself answers 400 here: its
    check is case-sensitive and its resolver then fails on the unknown identifier)."""
    world, _ = _filter_world(api)
    problems = []
    for name in ("guest", "userA"):
        for text in MIXED_CASE_FILTERS:
            response = world.list(name, "public", filter=text)
            if response.status_code != 403 or response.json()["data"] != {}:
                problems.append(f"{name} filter {text!r}: {response.status_code} {response.text[:120]}")
            sort = text.split(" ")[0]
            response = world.list(name, "public", sort=sort)
            if response.status_code != 403 or response.json()["data"] != {}:
                problems.append(f"{name} sort {sort!r}: {response.status_code} {response.text[:120]}")
    assert not problems, "\n" + "\n".join(problems)


def test_request_and_collection_identifiers_in_a_sort_are_for_superusers(api):
    world, _ = _filter_world(api)
    problems = []
    for name in ("guest", "userA", "member"):
        for sort in ("@request.auth.id", "-@request.auth.id", "title,@request.method"):
            problems.append(
                _check(
                    world.list(name, "public", sort=sort), FILTER_REQUEST_FORBIDDEN, f"{name} sort {sort!r}"
                )
            )
        for sort in ("@collection.owner.title", "-@collection.users.email"):
            problems.append(
                _check(
                    world.list(name, "public", sort=sort),
                    FILTER_COLLECTION_FORBIDDEN,
                    f"{name} sort {sort!r}",
                )
            )
    assert not [p for p in problems if p], "\n" + "\n".join(p for p in problems if p)


def test_hidden_fields_in_a_filter_or_sort_are_a_400(api):
    world, _ = _filter_world(api)
    world.items_collection("files", rules(""), [{"name": "secret", "type": "text", "hidden": True}])
    world.add("files", title="f", secret="s3cret", owner=world["userA"].user_id)
    world.set_rules("users", listRule="", viewRule="")
    cases = [
        ("users", {"filter": "password != ''"}),
        ("users", {"filter": "tokenKey != ''"}),
        ("users", {"filter": "tokenKey ~ 'a'"}),
        ("users", {"filter": "password:lower != ''"}),
        ("files", {"filter": "secret = 's3cret'"}),
        ("files", {"filter": "owner.password != ''"}),
        ("files", {"filter": "owner.tokenKey ~ 'a'"}),
        ("users", {"sort": "password"}),
        ("users", {"sort": "-tokenKey"}),
        ("files", {"sort": "secret"}),
        ("files", {"sort": "-secret,title"}),
        ("files", {"sort": "owner.tokenKey"}),
        ("files", {"sort": "owner.password"}),
    ]
    problems = []
    for name in ("guest", "userA"):
        for collection, params in cases:
            response = world.list(name, collection, **params)
            if (response.status_code, response.json()) != (400, BAD_FILTER):
                problems.append(f"{name} {collection} {params}: {response.status_code} {response.text[:120]}")
    assert not problems, "\n" + "\n".join(problems)
    # positive control: a superuser may filter and sort by hidden fields
    for collection, params in cases:
        response = world.list("superuser", collection, **params)
        assert response.status_code == 200, (collection, params, response.text)
    hit = world.list("superuser", "files", filter="secret = 's3cret'")
    assert hit.json()["totalItems"] == 1


# -- FLT-5 -----------------------------------------------------------------------------------------


def test_relation_paths_into_a_locked_collection_are_for_superusers(api):
    world = World(api, members=False)
    vault = world.items_collection("vault", rules(None))
    pointer = world.items_collection(
        "pointer",
        rules(""),
        [{"name": "target", "type": "relation", "collectionId": vault["id"], "maxSelect": 1}],
    )
    world.items_collection(
        "backref",
        rules(None),
        [{"name": "about", "type": "relation", "collectionId": pointer["id"], "maxSelect": 1}],
    )
    secret = world.add("vault", title="s3cret", owner=world["userB"].user_id)
    row = world.add("pointer", title="p", target=secret["id"])
    world.add("backref", title="hidden note", about=row["id"])

    refused = [
        {"filter": "target.title = 's3cret'"},
        {"filter": "target.title ~ 's3'"},
        {"filter": "target.owner != ''"},
        {"filter": "target.owner.email != ''"},
        {"filter": "backref_via_about.title = 'hidden note'"},
        {"filter": "backref_via_about.id != ''"},
        {"sort": "target.title"},
        {"sort": "-target.owner"},
        {"sort": "backref_via_about.title"},
    ]
    problems = []
    for name in ("guest", "userA", "userB"):
        for params in refused:
            response = world.list(name, "pointer", **params)
            if (response.status_code, response.json()) != (400, BAD_FILTER):
                problems.append(f"{name} {params}: {response.status_code} {response.text[:120]}")
        # the relation's own value (and PocketBase's `rel.id` shortcut) is a plain field: allowed
        for text in (f"target = '{secret['id']}'", f"target.id = '{secret['id']}'"):
            response = world.list(name, "pointer", filter=text)
            if response.status_code != 200 or response.json()["totalItems"] != 1:
                problems.append(f"{name} {text!r}: {response.status_code} {response.text[:120]}")
    assert not problems, "\n" + "\n".join(problems)
    for params in refused:
        if params.get("sort", "").startswith("backref_via"):
            continue  # a back-relation is multi-valued: not sortable, whoever asks
        response = world.list("superuser", "pointer", **params)
        assert response.status_code == 200, (params, response.text)
        if "filter" in params:
            assert response.json()["totalItems"] == 1, params


def test_relation_paths_see_only_related_rows_the_caller_may_list(api):
    """A filter through a relation is not an oracle on rows the caller cannot list: the related
    collection's list rule applies to the rows reached, for the caller asking (EmmettBase's
    resolver, app/core/rules/resolver.py). The same filter text from several callers in turn must
    not reuse one caller's view for the next."""
    world = World(api, members=False)
    notes = world.items_collection("notes", rules("owner = @request.auth.id"))
    world.items_collection(
        "pins", rules(""), [{"name": "note", "type": "relation", "collectionId": notes["id"], "maxSelect": 1}]
    )
    for owner in ("userA", "userB"):
        note = world.add("notes", title=f"{owner}'s diary", owner=world[owner].user_id)
        world.add("pins", title=f"pin of {owner}", note=note["id"])
    expected = {
        "userA": ["pin of userA"],
        "userB": ["pin of userB"],
        "guest": [],
        "superuser": ["pin of userA", "pin of userB"],
    }
    problems = []
    for name in ("userA", "userB", "guest", "superuser", "userB", "guest", "userA"):
        for text in ("note.title ~ 'diary'", "note.owner != ''"):
            response = world.list(name, "pins", filter=text)
            assert response.status_code == 200, (name, response.text)
            got = sorted(item["title"] for item in response.json()["items"])
            if got != expected[name]:
                problems.append(f"{name} {text!r}: {got} (want {expected[name]})")
    assert not problems, "\n" + "\n".join(problems)
