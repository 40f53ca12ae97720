"""AC-2 and AC-3: the identity x operation x rule matrix, and "a list rule is a filter".

Four fixture collections carry the same fields (``title``, ``owner`` -> users, ``views``) and differ
only in their rules: ``public`` (all ``""``), ``owner`` (all ``owner = @request.auth.id``), ``locked``
(all ``null``) and ``verified`` (all ``@request.auth.verified = true``). Six identities (guest,
userA, userB, an unverified user, a superuser, a record of another auth collection) try list,
view, create, update and delete on each. Expected answers are PocketBase 0.40's (api.md §2):

* list: 200 with only the allowed rows, ``totalItems`` counting only them;
* view/update/delete refused by the rule: 404 ``The requested resource wasn't found.``;
* create refused by the rule: 400 ``Failed to create record.`` (``data: {}``);
* a locked (null) rule for a non-superuser: 403 ``Only superusers can perform this action.``.

Every deny has an allow for the same collection and operation in the same table (positive
control), and after the table ran every row is read back as a superuser: refused writes changed
nothing, allowed writes did what they said.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.access_world import CREATE_FAILED, LOCKED, NOT_FOUND, Identity, World, rules

COLLECTIONS: dict[str, dict[str, str | None]] = {
    "public": rules(""),
    "owner": rules("owner = @request.auth.id"),
    "locked": rules(None),
    "verified": rules("@request.auth.verified = true"),
}
IDENTITIES = ("guest", "userA", "userB", "unverified", "superuser", "member")
OPERATIONS = ("list", "view", "create", "update", "delete")

ALLOW, DENY, LOCK = "allow", "deny", "locked"


def decision(collection: str, who: Identity, owner: str) -> str:
    """What PocketBase decides for ``who`` on a row of ``collection`` owned by ``owner``."""
    if who.superuser:
        return ALLOW
    if collection == "public":
        return ALLOW
    if collection == "locked":
        return LOCK
    if collection == "owner":
        # `owner = @request.auth.id`: the owner is always set in this table, so a guest (whose
        # @request.auth.id is empty) and a record of another auth collection never match.
        return ALLOW if who.user_id is not None and owner == who.user_id else DENY
    if collection == "verified":
        return ALLOW if who.verified else DENY
    raise AssertionError(collection)


@dataclass
class Cell:
    collection: str
    identity: str
    operation: str
    target: str
    method: str
    url: str
    outcome: str
    body: dict[str, Any] | None = None
    expected_ids: set[str] | None = None
    got: str = ""
    problems: list[str] = field(default_factory=list)

    def expected_status(self) -> int:
        if self.outcome == LOCK:
            return 403
        if self.outcome == DENY:
            return {"list": 200, "create": 400}.get(self.operation, 404)
        return {"delete": 204}.get(self.operation, 200)

    def expected_error(self) -> dict[str, Any] | None:
        if self.outcome == LOCK:
            return LOCKED
        if self.outcome == DENY and self.operation != "list":
            return CREATE_FAILED if self.operation == "create" else NOT_FOUND
        return None

    def label(self) -> str:
        outcome = "filtered" if (self.operation, self.outcome) == ("list", DENY) else self.outcome
        return (
            f"{self.collection:8} {self.identity:10} {self.operation:6} {self.target:12} expected {outcome}"
        )


class Matrix:
    """Builds the fixture collections and rows, runs every cell, then reads everything back."""

    def __init__(self, door: Any, collections: list[str]):
        self.world = World(door)
        self.door = door
        self.collections = collections
        self.rows: dict[str, dict[str, dict[str, Any]]] = {}
        for name in collections:
            self.world.items_collection(name, COLLECTIONS[name])
            self.rows[name] = {}
            self.seed(name)
        self.cells: list[Cell] = []

    def owner_of(self, name: str) -> str:
        identity = self.world[name]
        assert identity.user_id
        return identity.user_id

    def seed(self, collection: str) -> None:
        """Rows owned by userA, userB and the unverified user, plus, per identity, one row to
        update and one to delete owned by userA (everyone) and by the identity itself (users)."""
        for owner in ("userA", "userB", "unverified"):
            self.put(collection, f"seed:{owner}", owner)
        for who in IDENTITIES:
            for owner in self.targets(who):
                for op in ("update", "delete"):
                    self.put(collection, f"{op}:{who}:{owner}", owner)

    def targets(self, who: str) -> list[str]:
        own = who if self.world[who].user_id and who != "userA" else None
        return ["userA"] + ([own] if own else [])

    def put(self, collection: str, key: str, owner: str) -> None:
        record = self.world.add(collection, title=key, owner=self.owner_of(owner), views=1)
        self.rows[collection][key] = record

    # -- the table ------------------------------------------------------------------------------

    def build(self) -> None:
        for collection in self.collections:
            base = f"/api/collections/{collection}/records"
            for name in IDENTITIES:
                who = self.world[name]
                rows = self.rows[collection]
                allowed = {r["id"] for r in rows.values() if decision(collection, who, r["owner"]) == ALLOW}
                list_outcome = LOCK if decision(collection, who, "") == LOCK else ALLOW
                if list_outcome == ALLOW and len(allowed) < len(rows):
                    list_outcome = DENY  # rows were filtered out: a 200 with only the allowed ones
                self.cells.append(
                    Cell(
                        collection, name, "list", "all rows", "GET", base, list_outcome, expected_ids=allowed
                    )
                )
                for owner in self.targets(name):
                    seed = rows[f"seed:{owner}"]
                    self.cells.append(
                        Cell(
                            collection,
                            name,
                            "view",
                            f"of {owner}",
                            "GET",
                            f"{base}/{seed['id']}",
                            decision(collection, who, seed["owner"]),
                        )
                    )
                create_owner = who.user_id or self.owner_of("userA")
                owner_name = name if who.user_id else "userA"
                self.cells.append(
                    Cell(
                        collection,
                        name,
                        "create",
                        f"for {owner_name}",
                        "POST",
                        base,
                        decision(collection, who, create_owner),
                        body={"title": f"new:{name}", "owner": create_owner, "views": 7},
                    )
                )
                for op, method in (("update", "PATCH"), ("delete", "DELETE")):
                    for owner in self.targets(name):
                        row = rows[f"{op}:{name}:{owner}"]
                        self.cells.append(
                            Cell(
                                collection,
                                name,
                                op,
                                f"of {owner}",
                                method,
                                f"{base}/{row['id']}",
                                decision(collection, who, row["owner"]),
                                body={"title": f"{row['title']}:changed", "views+": 5}
                                if op == "update"
                                else None,
                            )
                        )
        # list first (rows as seeded), then views, creates, updates and deletes
        order = {op: i for i, op in enumerate(OPERATIONS)}
        self.cells.sort(key=lambda c: order[c.operation])

    def run(self) -> None:
        for cell in self.cells:
            kwargs: dict[str, Any] = {"json": cell.body} if cell.body is not None else {}
            if cell.operation == "list":
                kwargs["params"] = {"perPage": 1000}
            response = self.world.as_(cell.identity, cell.method, cell.url, **kwargs)
            cell.got = f"{response.status_code} {response.text[:160]}"
            if response.status_code != cell.expected_status():
                cell.problems.append(f"status {response.status_code} != {cell.expected_status()}")
                continue
            error = cell.expected_error()
            if error is not None and response.json() != error:
                cell.problems.append(f"body {response.json()} != {error}")
            if cell.operation == "list" and cell.outcome != LOCK:
                page = response.json()
                ids = {item["id"] for item in page["items"]}
                if ids != cell.expected_ids:
                    cell.problems.append(
                        f"ids: {len(ids - cell.expected_ids)} not allowed returned, "  # type: ignore[operator]
                        f"{len(cell.expected_ids - ids)} allowed missing"  # type: ignore[operator]
                    )
                if page["totalItems"] != len(cell.expected_ids or ()):
                    cell.problems.append(f"totalItems {page['totalItems']} != {len(cell.expected_ids or ())}")

    def read_back(self) -> list[str]:
        """Every seeded row as a superuser sees it now, against what the allowed cells did."""
        problems = []
        writes = {
            (c.collection, c.url.rsplit("/", 1)[-1], c.operation): c
            for c in self.cells
            if c.operation in ("update", "delete")
        }
        for collection in self.collections:
            for key, before in self.rows[collection].items():
                now = self.world.read(collection, before["id"])
                deleted = writes.get((collection, before["id"], "delete"))
                updated = writes.get((collection, before["id"], "update"))
                if deleted is not None and deleted.outcome == ALLOW:
                    if now is not None:
                        problems.append(f"{collection}/{key}: an allowed delete left the row")
                    continue
                if now is None:
                    problems.append(f"{collection}/{key}: the row is gone, no allowed delete targeted it")
                    continue
                if updated is not None and updated.outcome == ALLOW:
                    expected = {"title": before["title"] + ":changed", "views": 6, "owner": before["owner"]}
                    got = {k: now[k] for k in expected}
                    if got != expected:
                        problems.append(f"{collection}/{key}: allowed update gave {got}, expected {expected}")
                    continue
                if now != before:
                    problems.append(
                        f"{collection}/{key}: changed without an allowed write: {before} -> {now}"
                    )
            for cell in self.cells:
                if cell.collection != collection or cell.operation != "create":
                    continue
                title = cell.body["title"]  # type: ignore[index]
                made = self.world.all_records(collection, f'title = "{title}"')
                want = 1 if cell.outcome == ALLOW else 0
                if len(made) != want:
                    problems.append(f"{collection}: {len(made)} rows titled {title!r}, expected {want}")
                elif made and made[0]["owner"] != cell.body["owner"]:  # type: ignore[index]
                    problems.append(f"{collection}: created {title!r} has owner {made[0]['owner']}")
        return problems


def assert_positive_controls(cells: list[Cell]) -> None:
    """Every (collection, operation) with a deny in the table also has an allow."""
    groups: dict[tuple[str, str], set[str]] = {}
    for cell in cells:
        groups.setdefault((cell.collection, cell.operation), set()).add(cell.outcome)
    for (collection, operation), outcomes in groups.items():
        if outcomes & {DENY, LOCK}:
            assert ALLOW in outcomes, f"{collection}/{operation}: a deny without a sibling allow"


@pytest.mark.parametrize("collection", list(COLLECTIONS))
def test_identity_operation_rule_matrix(api, collection):
    matrix = Matrix(api, [collection])
    matrix.build()
    assert_positive_controls(matrix.cells)
    assert {c.identity for c in matrix.cells} == set(IDENTITIES)
    assert {c.operation for c in matrix.cells} == set(OPERATIONS)
    matrix.run()
    wrong = [f"{c.label()}: {'; '.join(c.problems)} | got {c.got}" for c in matrix.cells if c.problems]
    wrong += matrix.read_back()
    assert not wrong, "\n" + "\n".join(wrong)


def test_matrix_expectations_cover_every_outcome():
    """The table is not vacuous: each kind of answer appears in it."""
    outcomes = {}
    for collection in COLLECTIONS:
        for name in IDENTITIES:
            who = Identity(name, user_id="u" if name.startswith("user") or name == "unverified" else None)
            who.superuser = name == "superuser"
            who.verified = name in ("userA", "userB", "member", "superuser")
            outcomes.setdefault(decision(collection, who, "u"), set()).add(collection)
    assert outcomes[LOCK] == {"locked"}
    assert outcomes[DENY] == {"owner", "verified"}
    assert outcomes[ALLOW] == set(COLLECTIONS)


def test_users_own_rules_for_each_identity(api):
    """users' list/view rules are ``id = @request.auth.id``: each identity sees only itself, a
    record of another auth collection sees no user, a guest sees none."""
    world = World(api)
    everyone = {world[n].user_id for n in ("userA", "userB", "unverified")}
    for name in IDENTITIES:
        who = world[name]
        response = world.list(name, "users")
        assert response.status_code == 200, response.text
        ids = {item["id"] for item in response.json()["items"]}
        expected = everyone if who.superuser else ({who.user_id} if who.user_id else set())
        assert ids == expected, name
        assert response.json()["totalItems"] == len(expected)
        for other in ("userA", "userB"):
            target = world[other].user_id
            seen = world.as_(name, "GET", f"/api/collections/users/records/{target}")
            if who.superuser or who.user_id == target:
                assert seen.status_code == 200, (name, other, seen.text)
            else:
                assert (seen.status_code, seen.json()) == (404, NOT_FOUND), (name, other)


# -- AC-3: a list rule is a filter (property test) ------------------------------------------------

LIST_RULES = {
    "owner": "owner = @request.auth.id",
    "published_or_owner": "published = true || owner = @request.auth.id",
    "verified_and_views": "@request.auth.verified = true && views >= 3",
}
PROPERTY_IDENTITIES = ("guest", "userA", "userB", "unverified", "member")


def can_view(rule: str, who: Identity, row: dict[str, Any]) -> bool:
    if rule == "owner":
        return who.user_id is not None and row["owner"] == who.user_id
    if rule == "published_or_owner":
        return row["published"] or (who.user_id is not None and row["owner"] == who.user_id)
    if rule == "verified_and_views":
        return who.verified and row["views"] >= 3
    raise AssertionError(rule)


rows_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "owner": st.sampled_from(["userA", "userB", "unverified"]),
            "published": st.booleans(),
            "views": st.integers(min_value=0, max_value=6),
        }
    ),
    max_size=12,
)


def test_list_never_returns_a_row_the_rule_denies(api):
    world = World(api)
    world.items_collection("props", rules(None), [{"name": "published", "type": "bool"}])

    @settings(
        max_examples=12,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        rows=rows_strategy,
        rule=st.sampled_from(sorted(LIST_RULES)),
        identity=st.sampled_from(PROPERTY_IDENTITIES),
        min_views=st.integers(min_value=0, max_value=6),
        per_page=st.integers(min_value=1, max_value=5),
    )
    def check(rows, rule, identity, min_views, per_page):
        ran.append(rule)
        text = LIST_RULES[rule]
        world.set_rules("props", listRule=text, viewRule=text)
        response = api.delete("/api/collections/props/truncate", headers=world.su)
        assert response.status_code == 204, response.text
        stored = []
        for row in rows:
            values = {**row, "owner": world[row["owner"]].user_id}
            stored.append({**values, "id": world.add("props", **values)["id"]})
        who = world[identity]
        viewable = {r["id"] for r in stored if can_view(rule, who, r)}
        filtered = {r["id"] for r in stored if r["id"] in viewable and r["views"] >= min_views}

        everything = world.list(identity, "props")
        assert everything.status_code == 200, everything.text
        assert {i["id"] for i in everything.json()["items"]} == viewable
        assert everything.json()["totalItems"] == len(viewable)

        seen: list[str] = []
        page = 1
        while True:
            response = world.list(
                identity, "props", filter=f"views >= {min_views}", perPage=per_page, page=page
            )
            assert response.status_code == 200, response.text
            body = response.json()
            ids = [i["id"] for i in body["items"]]
            assert set(ids) <= viewable
            assert body["totalItems"] == len(filtered)
            seen += ids
            if not ids:
                break
            page += 1
        assert sorted(seen) == sorted(filtered)
        for r in stored:
            view = world.as_(identity, "GET", f"/api/collections/props/records/{r['id']}")
            assert view.status_code == (200 if r["id"] in viewable else 404), view.text

    ran: list[str] = []
    check()
    assert len(ran) >= 10 and len(set(ran)) == len(LIST_RULES), ran
