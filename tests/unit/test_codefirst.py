"""Code-first collections: Emmett models -> PocketBase collection JSON, defaults, loading, sync plans."""

from __future__ import annotations

import math
import os
import types
import zlib
from typing import Any

import pytest
from click.testing import CliRunner
from emmett.orm import Field, Model, before_insert, belongs_to, has_many, refers_to

import tests.support.codefirst_models as example
from app.cli import main
from app.core.collections.codefirst import (
    CodeFirstError,
    collection_id,
    convert_models,
    default_values_hook,
    models_of,
)
from app.core.collections.codefirst_sync import plan_sync
from app.core.collections.model import collection_from_json
from app.core.collections.system import USERS_ID, users_collection
from app.core.hooks import RecordEvent
from app.settings import Settings, SettingsError

EXAMPLE = "tests.support.codefirst_models"
PRODUCTS_ID = "pbc_" + str(zlib.crc32(b"baseproducts"))
POSTS_ID = "pbc_" + str(zlib.crc32(b"baseposts"))
COMMENTS_ID = "pbc_" + str(zlib.crc32(b"basecomments"))


def base(name: str, type_: str, **extra: Any) -> dict[str, Any]:
    out = {"hidden": False, "id": type_ + str(zlib.crc32(name.encode())), "name": name}
    out.update({"presentable": False, "system": False, "type": type_})
    if type_ != "autodate":
        out.update({"help": "", "required": False})
    out.update(extra)
    return dict(sorted(out.items()))


def text(name: str, **extra: Any) -> dict[str, Any]:
    options = {"autogeneratePattern": "", "max": 0, "min": 0, "pattern": "", "primaryKey": False}
    return base(name, "text", **{**options, **extra})


def relation(name: str, collection: str, **extra: Any) -> dict[str, Any]:
    options = {"cascadeDelete": True, "collectionId": collection, "maxSelect": 1, "minSelect": 0}
    return base(name, "relation", **{**options, **extra})


AUTODATES = [
    base("created", "autodate", onCreate=True, onUpdate=False),
    base("updated", "autodate", onCreate=True, onUpdate=True),
]
LOCKED = {"createRule": None, "updateRule": None, "deleteRule": None}


def convert(*models: type) -> list[Any]:
    return convert_models(list(models))


def one(model: type) -> dict[str, Any]:
    return convert(model)[0].definition


def fields_of(model: type) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in one(model)["fields"]}


def model(class_name: str, /, **attrs: Any) -> type:
    """A model class built at run time (Emmett's metaclass collects its declarations)."""
    return type(class_name, (Model,), {"__module__": __name__, **attrs})


# -- the documented example ------------------------------------------------------------------


def test_example_module_models_in_declaration_order():
    assert [m.__name__ for m in models_of(example)] == ["Product", "Post", "Comment"]
    assert [c.name for c in convert_models(models_of(example))] == ["products", "posts", "comments"]


def test_the_documented_example_is_the_tested_module():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "docs", "code-first.md"), encoding="utf-8") as doc:
        documented = doc.read().split("```python\n", 1)[1].split("```", 1)[0]
    with open(example.__file__, encoding="utf-8") as source:
        code = source.read().split('"""\n\n', 1)[1]
    assert documented == code


def test_product_collection_json():
    product = convert_models(models_of(example))[0]
    assert product.id == PRODUCTS_ID
    assert product.defaults == {"available": True}
    assert product.definition == {
        "id": PRODUCTS_ID,
        "name": "products",
        "type": "base",
        "system": False,
        "fields": [
            text("name", max=512, required=True),
            base("price", "number", min=0.01, max=None, onlyInt=False, required=True),
            base("available", "bool"),
            *AUTODATES,
        ],
        "indexes": [],
        "listRule": "",
        "viewRule": "",
        **LOCKED,
    }


def test_post_collection_json():
    post = convert_models(models_of(example))[1]
    assert post.defaults == {}
    assert post.definition == {
        "id": POSTS_ID,
        "name": "posts",
        "type": "base",
        "system": False,
        "fields": [
            text("title", min=3, max=200, required=True),
            text("body", max=32768),
            relation("user", USERS_ID, required=True),
            *AUTODATES,
        ],
        "indexes": [],
        "listRule": "",
        "viewRule": "",
        "createRule": '@request.auth.id != ""',
        "updateRule": None,
        "deleteRule": None,
    }


def test_comment_collection_json():
    comment = convert_models(models_of(example))[2]
    assert comment.definition == {
        "id": COMMENTS_ID,
        "name": "comments",
        "type": "base",
        "system": False,
        "fields": [
            text("body", max=32768, required=True),
            relation("post", POSTS_ID, required=True),
            relation("user", USERS_ID, required=True),
            *AUTODATES,
        ],
        "indexes": [],
        "listRule": "",
        "viewRule": "",
        "createRule": '@request.auth.id != ""',
        "updateRule": None,
        "deleteRule": None,
    }


def test_collection_ids_follow_pocketbase():
    # PocketBase names a new collection "pbc_" + crc32(type + name): _superusers is pbc_3142635823.
    assert collection_id("_superusers", "auth") == "pbc_3142635823"
    assert collection_id("posts") == POSTS_ID


def test_conversion_is_stable_across_calls():
    first = [c.definition for c in convert_models(models_of(example))]
    assert [c.definition for c in convert_models(models_of(example))] == first


def test_matches_emmett_own_reading_of_the_models():
    """Emmett's define_models (on a throw-away, never-connected builder) sees the same tables and fields."""
    from app.db.database import make_sql_builder
    from app.web import new_emmett_app

    class Author(Model):
        name = Field.string(validation={"presence": True})

    class Article(Model):
        belongs_to("author")
        has_many("notes")
        title = Field.string()
        body = Field.text()

    author, article = Author, Article
    builder = make_sql_builder(new_emmett_app(), "sqlite")
    builder.define_models(author, article)
    converted = {c.name: c.definition for c in convert(author, article)}
    for emmett_model in (author, article):
        table = emmett_model.table
        ours = converted[table._tablename]
        assert [f["name"] for f in ours["fields"]] == [f for f in table.fields if f != "id"] + [
            "created",
            "updated",
        ]


# -- field mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        (Field.string(), {"type": "text", "min": 0, "max": 512, "required": False}),
        (Field.string(length=80), {"type": "text", "max": 80}),
        (Field.string(validation={"len": 5}), {"min": 5, "max": 5, "required": True}),
        (Field.string(validation={"len": {"range": (3, 200)}}), {"min": 3, "max": 199}),
        (Field.string(validation={"len": {"gt": 2}}), {"min": 3, "max": 255}),
        (Field.string(validation={"len": {"gte": 2}, "allow": "empty"}), {"min": 2, "required": False}),
        (Field.text(), {"type": "text", "max": 32768}),
        (Field.string(notnull=True), {"required": True}),
        (Field.string(validation={"empty": False}), {"required": True}),
        (Field.string(validation={"match": "[a-z]+"}), {"pattern": "^([a-z]+)", "required": True}),
        (
            Field.string(validation={"match": {"expression": "[a-z]*", "strict": True}}),
            {"pattern": "(^([a-z]*))$", "required": False},
        ),
        (Field.string(validation={"is": "alphanumeric"}), {"pattern": r"^[\w]*$", "required": False}),
        (Field.string(validation={"is": "email"}), {"type": "email", "required": True}),
        (Field.string(validation={"is": "url", "allow": "empty"}), {"type": "url", "required": False}),
        (
            Field.string(validation={"in": ["draft", "published"]}),
            {"type": "select", "values": ["draft", "published"], "maxSelect": 1, "required": True},
        ),
        (
            Field.string(validation={"in": {"set": ["", "a"]}}),
            {"type": "select", "values": ["", "a"], "required": False},
        ),
        (Field.int(), {"type": "number", "onlyInt": True, "min": None, "max": None, "required": False}),
        (
            Field.bigint(validation={"gte": 1, "lte": 10}),
            {"onlyInt": True, "min": 1, "max": 10, "required": True},
        ),
        (Field.int(validation={"gt": 0, "lt": 100}), {"min": 1, "max": 99, "required": True}),
        (Field.int(validation={"gte": 0}), {"min": 0, "required": False}),
        (Field.int(validation={"presence": True}), {"required": False}),
        (Field.int(validation={"lt": 0}), {"max": -1, "required": True}),
        (
            Field.float(validation={"gt": 0}),
            {"onlyInt": False, "min": math.nextafter(0, 1), "required": True},
        ),
        (Field.float(validation={"in": {"range": (1, 5)}}), {"min": 1, "max": math.nextafter(5, 0)}),
        (Field.decimal(10, 2, validation={"gt": 0, "allow": "empty"}), {"min": 0.01, "required": False}),
        (Field.decimal(8, 3, validation={"lt": 1}), {"max": 0.999}),
        (Field.float(validation={"is": "int"}), {"onlyInt": True}),
        (Field.bool(), {"type": "bool", "required": False}),
        (Field.bool(validation={"presence": True}), {"type": "bool", "required": False}),
        (Field.bool(validation={"in": [True]}), {"type": "bool", "required": True}),
        (Field.date(), {"type": "date", "min": "", "max": "", "required": False}),
        (Field.datetime(validation={"presence": True}), {"type": "date", "required": True}),
        (Field.datetime(validation={"format": "%d/%m/%Y %H:%M"}), {"type": "date"}),
        (Field.time(), {"type": "text", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"}),
        (Field.json(), {"type": "json", "maxSize": 0, "required": False}),
        (Field.jsonb(validation={"presence": True}), {"type": "json", "required": True}),
        (Field.string(info="Shown to editors"), {"help": "Shown to editors"}),
        (Field.string(readable=False), {"hidden": True}),
        (Field.string(validation={"presence": True, "message": "Say something"}), {"required": True}),
        (Field.string(label="Name", writable=False), {"type": "text"}),
    ],
)
def test_field_mapping(declared, expected):
    converted = fields_of(model("Thing", value=declared))["value"]
    assert {key: converted.get(key, "<missing>") for key in expected} == expected


def test_model_validation_wins_over_field_validation_and_merges_along_inheritance():
    parent = model(
        "Parent",
        title=Field.string(validation={"len": {"lte": 10}}),
        code=Field.string(),
        validation={"title": {"presence": True}, "code": {"presence": True}},
    )
    assert fields_of(parent)["title"] == text("title", max=10, required=True)
    # As in Emmett, a subclass's entry replaces the parent's entry for that field as a whole.
    child = type("Child", (parent,), {"__module__": __name__, "validation": {"title": {"len": {"lte": 20}}}})
    fields = fields_of(child)
    assert (fields["title"]["required"], fields["title"]["max"]) == (False, 20)
    assert fields["code"]["required"] is True


def test_auto_validation_off_keeps_pocketbase_defaults():
    thing = model("Thing", auto_validation=False, name=Field.string())
    assert fields_of(thing)["name"]["max"] == 0


def test_a_default_makes_the_field_optional_and_is_returned():
    thing = model(
        "Thing",
        status=Field.string(default="draft", validation={"in": ["draft", "live"]}),
        count=Field.int(),
        default_values={"count": 3},
    )
    converted = convert(thing)[0]
    assert converted.defaults == {"status": "draft", "count": 3}
    assert fields_of(thing)["status"]["required"] is False


def test_unique_fields_and_indexes():
    thing = model(
        "Thing",
        code=Field.string(unique=True),
        slug=Field.string(validation={"unique": True, "presence": True}),
        rank=Field.int(),
        indexes={
            "rank": True,
            ("code", "rank"): True,
            "by_slug": {"fields": ["slug"], "unique": True},
            "off": False,
        },
    )
    assert one(thing)["indexes"] == [
        "CREATE UNIQUE INDEX `idx_things_code` ON `things` (`code`) WHERE `code` != ''",
        "CREATE UNIQUE INDEX `idx_things_slug` ON `things` (`slug`)",
        "CREATE INDEX `idx_things_rank` ON `things` (`rank`)",
        "CREATE INDEX `idx_things_code_rank` ON `things` (`code`, `rank`)",
        "CREATE UNIQUE INDEX `idx_things_by_slug` ON `things` (`slug`)",
    ]


def test_relations():
    class Author(Model):
        name = Field.string()

    class Article(Model):
        tablename = "articles_v2"
        belongs_to({"author": "Author"}, {"editor": {"target": "User", "on_delete": "nullify"}})
        belongs_to({"parent": "self"})
        refers_to({"reviewer": "Author"})
        has_many("comments", {"likes": {"via": "comments"}})
        validation = {"parent": {"allow": "empty"}}

    definitions = {c.name: c.definition for c in convert(Author, Article)}
    article = definitions["articles_v2"]
    assert article["id"] == collection_id("articles_v2")
    relations = {f["name"]: f for f in article["fields"] if f["type"] == "relation"}
    assert list(relations) == ["author", "editor", "parent", "reviewer"]
    assert relations["author"] == relation("author", collection_id("authors"), required=True)
    assert relations["editor"] == relation("editor", USERS_ID, required=True, cascadeDelete=False)
    assert relations["parent"] == relation("parent", article["id"], required=False)
    assert relations["reviewer"] == relation("reviewer", collection_id("authors"), cascadeDelete=False)


def test_rules_accept_short_and_pocketbase_names_and_default_to_locked():
    thing = model("Thing", name=Field.string(), rules={"list": "", "viewRule": "id != ''", "delete": None})
    definition = one(thing)
    assert [definition[r] for r in ("listRule", "viewRule", "createRule", "updateRule", "deleteRule")] == [
        "",
        "id != ''",
        None,
        None,
        None,
    ]
    no_rules = one(model("Other", name=Field.string()))
    assert all(
        no_rules[r] is None for r in ("listRule", "viewRule", "createRule", "updateRule", "deleteRule")
    )


def test_auth_models():
    member = model(
        "Member",
        auth=True,
        email=Field.string(validation={"is": "email"}),
        password=Field.password(),
        nickname=Field.string(),
        rules={"list": "id = @request.auth.id", "auth": "verified = true", "manageRule": None},
    )
    converted = convert(member)[0]
    assert converted.type == "auth"
    assert converted.id == collection_id("members", "auth")
    assert [f["name"] for f in converted.definition["fields"]] == ["nickname", "created", "updated"]
    assert converted.definition["authRule"] == "verified = true"
    assert converted.definition["manageRule"] is None


def test_abstract_and_imported_models_are_not_collections():
    module = types.ModuleType("fake_models")
    shared = type("Shared", (Model,), {"__module__": "fake_models", "abstract": True, "note": Field.text()})
    concrete = type("Note", (shared,), {"__module__": "fake_models"})
    module.Shared, module.Note, module.Imported = shared, concrete, example.Product
    assert models_of(module) == [concrete]
    assert [f["name"] for f in one(concrete)["fields"]] == ["note", "created", "updated"]


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"photo": Field.upload()}, "Thing.photo: Emmett field type 'upload'"),
        ({"tags": Field.string_list()}, "Thing.tags: Emmett field type 'list:string'"),
        ({"data": Field.blob()}, "Thing.data: Emmett field type 'blob'"),
        ({"secret": Field.password()}, "Thing.secret: password fields need an auth collection"),
        ({"id": Field.int()}, "Thing.id: 'id' is a system field"),
        ({"created": Field.datetime()}, "Thing.created: 'created' is a system field"),
        ({"code": Field.string(validation={"equals": "x"})}, "Thing.code: validation 'equals'"),
        ({"code": Field.string(validation={"lower": True})}, "Thing.code: validation 'lower'"),
        ({"n": Field.int(validation={"in": [1, 2]})}, "Thing.n: on numbers only in:"),
        ({"n": Field.int(validation={"len": 2})}, "Thing.n: validation 'len'"),
        ({"code": Field.string(validation={"is": "int"})}, "Thing.code: is: 'int' is not supported"),
        ({"code": Field.string(validation={"allow": "x"})}, "Thing.code: only allow: 'empty'"),
        ({"code": Field.string(validation={"empty": True})}, "Thing.code: empty: True"),
        ({"code": Field.string(validation={"in": [1, 2]})}, "Thing.code: 'in' must list the allowed strings"),
        ({"n": Field.int(default="many")}, "Thing.n: the default 'many' is not a valid number value"),
        ({"s": Field.string(default="zz", validation={"in": ["a"]})}, "Thing.s: the default 'zz' is invalid"),
        ({"s": Field.string(ondelete="cascade")}, "Thing.s: field option(s) ondelete"),
        ({"default_values": {"nope": 1}}, "Thing.nope: default_values need a declared field"),
        ({"s": Field.string(update="x")}, "Thing.s: field option(s) update"),
        ({"rules": {"read": ""}}, "Thing: unknown rule 'read'"),
        ({"rules": {"list": True}}, "Thing: rule 'list' must be a filter string or None"),
        ({"rules": {"auth": ""}}, "Thing: unknown rule 'auth'"),
        ({"validation": {"s": [lambda v: (v, None)]}, "s": Field.string()}, "Thing.s: custom validators"),
        ({"primary_keys": ["code"], "code": Field.string()}, "Thing: custom primary keys"),
        ({"indexes": {"missing": True}}, "things: index 'missing' names an unknown field 'missing'"),
    ],
)
def test_unsupported_declarations_name_model_and_field(attrs, message):
    with pytest.raises(CodeFirstError) as info:
        convert(model("Thing", **attrs))
    assert message in str(info.value)


def test_relation_to_an_undeclared_model_is_refused():
    class Review(Model):
        belongs_to("book")

    with pytest.raises(CodeFirstError, match=r"Review\.book: the related model 'Book' is not declared"):
        convert(Review)


def test_callbacks_are_refused():
    class Audited(Model):
        name = Field.string()

        @before_insert
        def stamp(self, fields):
            return None

    with pytest.raises(CodeFirstError, match="Audited: ORM callbacks"):
        convert(Audited)


def test_has_many_stores_nothing():
    class Shelf(Model):
        has_many("books")
        label = Field.string()

    assert [f["name"] for f in one(Shelf)["fields"]] == ["label", "created", "updated"]


# -- defaults hook ---------------------------------------------------------------------------


def _event(submitted: dict[str, Any]) -> RecordEvent:
    collection = collection_from_json(convert_models(models_of(example))[0].definition)
    compiled = types.SimpleNamespace(
        name="products", id=PRODUCTS_ID, fields={f.name: f for f in collection.fields}
    )
    record = {"name": "Pen", "available": False}
    return RecordEvent("create", compiled, record, extra={"input": submitted})


def test_default_hook_fills_only_fields_the_client_did_not_send():
    hook = default_values_hook({"available": True})
    absent = _event({"name": "Pen"})
    hook(absent)
    assert absent.record["available"] is True
    sent = _event({"name": "Pen", "available": False})
    hook(sent)
    assert sent.record["available"] is False


def test_default_hook_calls_callables_and_casts():
    hook = default_values_hook({"available": lambda: "yes"})
    event = _event({})
    hook(event)
    assert event.record["available"] is True


# -- settings, loading, CLI ------------------------------------------------------------------


def test_modules_setting():
    assert Settings.from_env({}).modules == ()
    settings = Settings.from_env({"EMMETTBASE_MODULES": f" {EXAMPLE}, other.models ,"})
    assert settings.modules == (EXAMPLE, "other.models")
    with pytest.raises(SettingsError, match="EMMETTBASE_MODULES"):
        Settings.from_env({"EMMETTBASE_MODULES": "not a module"})


def test_build_runtime_loads_modules_without_touching_the_database(tmp_path):
    from app import build_runtime

    calls = []
    module = types.ModuleType("codefirst_setup_probe")
    module.setup = calls.append
    import sys

    sys.modules["codefirst_setup_probe"] = module
    try:
        settings = Settings.from_env({}, data_dir=str(tmp_path), modules=(EXAMPLE, "codefirst_setup_probe"))
        runtime = build_runtime(settings)
    finally:
        del sys.modules["codefirst_setup_probe"]
    assert [c.name for c in runtime.code_collections] == ["products", "posts", "comments"]
    assert runtime.hooks.has("create", "before")
    assert calls == [runtime]
    assert not os.path.exists(settings.sqlite_path)
    runtime.close()


def test_unknown_module_is_a_clear_error(tmp_path):
    from app import build_runtime

    settings = Settings.from_env({}, data_dir=str(tmp_path), modules=("no_such_module_here",))
    with pytest.raises(CodeFirstError, match="'no_such_module_here' cannot be imported"):
        build_runtime(settings)


def test_cli_collections_sync(tmp_path):
    runner = CliRunner()
    env = {"EMMETTBASE_MODULES": EXAMPLE}
    first = runner.invoke(main, ["collections", "sync", "--dir", str(tmp_path)], env=env)
    assert first.exit_code == 0, first.output
    assert "Created collections: products, posts, comments" in first.output
    again = runner.invoke(main, ["collections", "sync", "--dir", str(tmp_path)], env=env)
    assert again.exit_code == 0, again.output
    assert "up to date" in again.output
    nothing = runner.invoke(
        main, ["collections", "sync", "--dir", str(tmp_path)], env={"EMMETTBASE_MODULES": ""}
    )
    assert nothing.exit_code == 2
    assert "EMMETTBASE_MODULES" in nothing.output


# -- sync planning ---------------------------------------------------------------------------


def _stored(definition: dict[str, Any]) -> Any:
    from app.core.collections.system import ensure_system_fields

    collection = collection_from_json(definition)
    ensure_system_fields(collection)
    return collection


def test_plan_creates_what_is_missing_and_leaves_equal_collections_alone():
    code = convert_models(models_of(example))
    items, result = plan_sync(code, [users_collection()])
    assert [i["name"] for i in items] == ["products", "posts", "comments"]
    assert result.created == ["products", "posts", "comments"]
    existing = [users_collection(), *(_stored(i) for i in items)]
    items, result = plan_sync(code, existing)
    assert items == []
    assert result.unchanged == ["products", "posts", "comments"]


def test_plan_takes_over_a_collection_of_the_same_name_and_keeps_undeclared_fields():
    code = convert_models(models_of(example))
    made_by_hand = collection_from_json(
        {
            "id": "handmade12345",
            "name": "posts",
            "fields": [
                {"name": "title", "type": "text", "id": "text_old_title"},
                {"name": "legacy", "type": "number", "id": "number_legacy"},
            ],
            "indexes": ["CREATE INDEX `idx_legacy` ON `posts` (`legacy`)"],
        }
    )
    items, result = plan_sync(code, [users_collection(), _stored(made_by_hand.to_json())])
    assert result.updated == ["posts"]
    posts = next(i for i in items if i["name"] == "posts")
    assert posts["id"] == "handmade12345"
    ids = {f["name"]: f["id"] for f in posts["fields"]}
    assert ids["title"] == "text_old_title"
    assert [f["name"] for f in posts["fields"]] == [
        "id",
        "title",
        "body",
        "user",
        "legacy",
        "created",
        "updated",
    ]
    assert posts["indexes"] == ["CREATE INDEX `idx_legacy` ON `posts` (`legacy`)"]
    comments = next(i for i in items if i["name"] == "comments")
    post_relation = next(f for f in comments["fields"] if f["name"] == "post")
    assert post_relation["collectionId"] == "handmade12345"


def test_plan_gives_new_auth_collections_full_auth_options():
    member = model("Member", auth=True, nickname=Field.string(), rules={"auth": ""})
    items, _ = plan_sync(convert(member), [])
    assert items[0]["authRule"] == ""
    assert items[0]["authToken"]["secret"]
    assert items[0]["passwordAuth"] == {
        "enabled": True,
        "identityFields": ["email"],
        "rejectCommonPasswords": True,
    }


def test_sync_of_an_auth_model_extending_users():
    user = model("User", auth=True, nickname=Field.string(), rules={"list": "", "create": ""})
    code = convert(user)
    items, result = plan_sync(code, [users_collection()])
    assert result.updated == ["users"]
    users = items[0]
    assert users["id"] == USERS_ID
    names = [f["name"] for f in users["fields"]]
    system = ["id", "password", "tokenKey", "email", "emailVisibility", "verified"]
    assert names == [*system, "nickname", "name", "avatar", "created", "updated"]
