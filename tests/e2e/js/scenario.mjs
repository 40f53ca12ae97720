// End-to-end conformance scenario: the official PocketBase JS SDK (0.28.x) against a running server.
//
//   node scenario.mjs BASE_URL SUPERUSER_EMAIL SUPERUSER_PASSWORD [--keep-going]
//   PB_URL=... PB_SUPERUSER_EMAIL=... PB_SUPERUSER_PASSWORD=... node scenario.mjs
//
// Every expectation below is PocketBase's behaviour (v0.40.6, /work/shared/pocketbase/api.md), so the
// same script can be pointed at the real PocketBase (with batch requests enabled in its settings).
// Exits 1 with a message naming the step, what differed and the last requests on the first mismatch
// (--keep-going or SCENARIO_KEEP_GOING=1: run the remaining steps too, still exit 1). The last line
// printed to stdout is a JSON summary.

import { client as makeClient, eq, isTrue, keys, match, ok, rejects, runSteps } from "./lib.mjs";

// ---------------------------------------------------------------- arguments

const argv = process.argv.slice(2);
const flags = new Set(argv.filter((a) => a.startsWith("--")));
const positional = argv.filter((a) => !a.startsWith("--"));
const BASE_URL = positional[0] || process.env.PB_URL;
const SU_EMAIL = positional[1] || process.env.PB_SUPERUSER_EMAIL;
const SU_PASSWORD = positional[2] || process.env.PB_SUPERUSER_PASSWORD;
const KEEP_GOING = flags.has("--keep-going") || process.env.SCENARIO_KEEP_GOING === "1";

if (!BASE_URL || !SU_EMAIL || !SU_PASSWORD) {
    console.error("usage: node scenario.mjs BASE_URL SUPERUSER_EMAIL SUPERUSER_PASSWORD [--keep-going]");
    console.error("   or: PB_URL=... PB_SUPERUSER_EMAIL=... PB_SUPERUSER_PASSWORD=... node scenario.mjs");
    process.exit(2);
}

// A suffix keeps names unique, so the scenario can run several times against the same server.
const SUFFIX = Math.random().toString(36).slice(2, 8).padEnd(6, "0");
const COLLECTION = `e2e_posts_${SUFFIX}`;
const USER_EMAIL = `e2e_${SUFFIX}@example.com`;
const USER_PASSWORD = "e2e-secret-123";
const USER_NAME = "E2E User";
const USERS_ID = "_pb_users_auth_";

const ID_RE = /^[a-z0-9]{15}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const NOT_FOUND = "The requested resource wasn't found.";

function client(label) {
    return makeClient(BASE_URL, label);
}

const RECORD_KEYS = [
    "author",
    "collectionId",
    "collectionName",
    "created",
    "id",
    "meta",
    "published",
    "tags",
    "title",
    "updated",
    "views",
];

/** A full record of the scenario's collection: every key, system values, and the given field values. */
function checkRecord(record, expected, what) {
    keys(record, expected.expand === undefined ? RECORD_KEYS : [...RECORD_KEYS, "expand"], what);
    match(record.id, ID_RE, `${what}: id`);
    eq(record.collectionId, state.collection.id, `${what}: collectionId`);
    eq(record.collectionName, COLLECTION, `${what}: collectionName`);
    match(record.created, DATE_RE, `${what}: created`);
    match(record.updated, DATE_RE, `${what}: updated`);
    for (const [key, value] of Object.entries(expected)) {
        eq(record[key], value, `${what}: ${key}`);
    }
}

const USER_KEYS = [
    "avatar",
    "collectionId",
    "collectionName",
    "created",
    "email",
    "emailVisibility",
    "id",
    "name",
    "updated",
    "verified",
];

function checkUser(record, what) {
    keys(record, USER_KEYS, what);
    eq(record.id, state.userId ?? record.id, `${what}: id`);
    match(record.id, ID_RE, `${what}: id`);
    eq(record.collectionId, USERS_ID, `${what}: collectionId`);
    eq(record.collectionName, "users", `${what}: collectionName`);
    eq(record.email, USER_EMAIL, `${what}: email`);
    eq(record.emailVisibility, true, `${what}: emailVisibility`);
    eq(record.verified, false, `${what}: verified`);
    eq(record.name, USER_NAME, `${what}: name`);
    eq(record.avatar, "", `${what}: avatar`);
    match(record.created, DATE_RE, `${what}: created`);
    match(record.updated, DATE_RE, `${what}: updated`);
}

function checkToken(token, collectionId, recordId, what) {
    ok(typeof token === "string" && token.split(".").length === 3, `${what}: token is not a JWT`, token);
    const payload = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
    eq(payload.type, "auth", `${what}: token type`);
    eq(payload.collectionId, collectionId, `${what}: token collectionId`);
    eq(payload.id, recordId, `${what}: token id`);
    ok(Number.isInteger(payload.exp) && payload.exp > Date.now() / 1000, `${what}: token exp`, payload.exp);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- the steps

const su = client("superuser");
const anon = client("anonymous");
const user = client("user");
const state = {};
const steps = [];

function step(name, run) {
    steps.push({ name, run });
}

step("health", async () => {
    const health = await anon.health.check();
    eq(health, { message: "API is healthy.", code: 200, data: {} }, "GET /api/health");
});

step("superuser auth-with-password", async () => {
    const bad = await rejects(
        su.collection("_superusers").authWithPassword(SU_EMAIL, SU_PASSWORD + "-wrong"),
        400,
        "auth with a wrong password",
    );
    eq(bad.response, { data: {}, message: "Failed to authenticate.", status: 400 }, "wrong password error");
    ok(!su.authStore.isValid, "auth store must stay empty after a failed auth", su.authStore.token);

    const auth = await su.collection("_superusers").authWithPassword(SU_EMAIL, SU_PASSWORD);
    keys(auth, ["record", "token"], "auth response");
    keys(auth.record, ["collectionId", "collectionName", "created", "email", "emailVisibility", "id", "updated", "verified"], "superuser record");
    eq(auth.record.collectionName, "_superusers", "superuser collectionName");
    match(auth.record.collectionId, /^pbc_\d+$/, "superuser collectionId");
    eq(auth.record.email, SU_EMAIL, "superuser email");
    match(auth.record.id, ID_RE, "superuser id");
    checkToken(auth.token, auth.record.collectionId, auth.record.id, "superuser token");
    isTrue(su.authStore.isValid, "authStore.isValid");
    isTrue(su.authStore.isSuperuser, "authStore.isSuperuser");
    eq(su.authStore.record?.id, auth.record.id, "authStore.record.id");

    const refreshed = await su.collection("_superusers").authRefresh();
    eq(refreshed.record, auth.record, "auth-refresh record");
    checkToken(refreshed.token, auth.record.collectionId, auth.record.id, "refreshed token");
});

step("collections.create", async () => {
    const payload = {
        name: COLLECTION,
        type: "base",
        listRule: "",
        viewRule: "",
        createRule: "",
        updateRule: "",
        deleteRule: "",
        fields: [
            { name: "title", type: "text", required: true, min: 3 },
            { name: "views", type: "number", onlyInt: true },
            { name: "published", type: "bool" },
            { name: "tags", type: "select", values: ["a", "b", "c"], maxSelect: 3 },
            { name: "meta", type: "json" },
            { name: "author", type: "relation", collectionId: USERS_ID, maxSelect: 1 },
            { name: "created", type: "autodate", onCreate: true },
            { name: "updated", type: "autodate", onCreate: true, onUpdate: true },
        ],
    };
    const collection = await su.collections.create(payload);
    keys(
        collection,
        ["createRule", "created", "deleteRule", "fields", "id", "indexes", "listRule", "name", "system", "type", "updateRule", "updated", "viewRule"],
        "created collection",
    );
    match(collection.id, /^pbc_\d+$/, "collection id");
    eq(collection.name, COLLECTION, "collection name");
    eq(collection.type, "base", "collection type");
    eq(collection.system, false, "collection system");
    eq(collection.indexes, [], "collection indexes");
    for (const rule of ["listRule", "viewRule", "createRule", "updateRule", "deleteRule"]) {
        eq(collection[rule], "", `collection ${rule}`);
    }
    match(collection.created, DATE_RE, "collection created");
    match(collection.updated, DATE_RE, "collection updated");
    eq(
        collection.fields.map((f) => f.name),
        ["id", "title", "views", "published", "tags", "meta", "author", "created", "updated"],
        "field names (the id field first, then the submitted order)",
    );
    const field = Object.fromEntries(collection.fields.map((f) => [f.name, f]));
    const common = { help: "", hidden: false, presentable: false, system: false };
    // PocketBase names a new field <type><crc32(name)>, e.g. text724990059 for "title".
    eq(field.id, {
        autogeneratePattern: "[a-z0-9]{15}", help: "", hidden: false, id: "text3208210256", max: 15, min: 15,
        name: "id", pattern: "^[a-z0-9]+$", presentable: false, primaryKey: true, required: true, system: true, type: "text",
    }, "field id");
    eq(field.title, {
        ...common, autogeneratePattern: "", id: "text724990059", max: 0, min: 3, name: "title", pattern: "",
        primaryKey: false, required: true, type: "text",
    }, "field title");
    eq(field.views, {
        ...common, id: "number300981383", max: null, min: null, name: "views", onlyInt: true, required: false, type: "number",
    }, "field views");
    eq(field.published, { ...common, id: field.published.id, name: "published", required: false, type: "bool" }, "field published");
    match(field.published.id, /^bool\d+$/, "field published id");
    eq(field.tags, {
        ...common, id: field.tags.id, maxSelect: 3, name: "tags", required: false, type: "select", values: ["a", "b", "c"],
    }, "field tags");
    match(field.tags.id, /^select\d+$/, "field tags id");
    eq(field.meta, { ...common, id: field.meta.id, maxSize: 0, name: "meta", required: false, type: "json" }, "field meta");
    match(field.meta.id, /^json\d+$/, "field meta id");
    eq(field.author, {
        ...common, cascadeDelete: false, collectionId: USERS_ID, id: field.author.id, maxSelect: 1, minSelect: 0,
        name: "author", required: false, type: "relation",
    }, "field author");
    match(field.author.id, /^relation\d+$/, "field author id");
    for (const [name, onUpdate] of [["created", false], ["updated", true]]) {
        const f = field[name];
        eq([f.type, f.onCreate, f.onUpdate, f.system, f.hidden], ["autodate", true, onUpdate, false, false], `field ${name}`);
        match(f.id, /^autodate\d+$/, `field ${name} id`);
    }
    state.collection = collection;

    const viewed = await su.collections.getOne(COLLECTION);
    eq(viewed, collection, "collections.getOne(name) returns what create returned");
    const byId = await su.collections.getOne(collection.id);
    eq(byId.name, COLLECTION, "collections.getOne(id)");

    const duplicate = await rejects(su.collections.create(payload), 400, "creating the same collection again");
    eq(duplicate.response.message, "Failed to create collection.", "duplicate collection message");
    eq(duplicate.response.data.name?.code, "validation_collection_name_exists", "duplicate collection error code");

    const forbidden = await rejects(anon.collections.create(payload), 401, "collections.create without auth");
    eq(forbidden.response.message, "The request requires valid record authorization token.", "401 message");
});

step("users: sign up, auth-with-password, auth-refresh", async () => {
    const mismatch = await rejects(
        anon.collection("users").create({ email: USER_EMAIL, password: USER_PASSWORD, passwordConfirm: "something-else" }),
        400,
        "sign-up with a mismatched passwordConfirm",
    );
    eq(mismatch.response.message, "Failed to create record.", "sign-up mismatch message");
    eq(mismatch.response.data.passwordConfirm?.code, "validation_values_mismatch", "sign-up mismatch code");

    const created = await anon.collection("users").create({
        email: USER_EMAIL,
        password: USER_PASSWORD,
        passwordConfirm: USER_PASSWORD,
        name: USER_NAME,
        emailVisibility: true,
    });
    checkUser(created, "created user");
    eq(created.created, created.updated, "created user: created == updated");
    state.userId = created.id;

    const auth = await user.collection("users").authWithPassword(USER_EMAIL, USER_PASSWORD);
    keys(auth, ["record", "token"], "user auth response");
    checkUser(auth.record, "user auth record");
    checkToken(auth.token, USERS_ID, created.id, "user token");
    isTrue(user.authStore.isValid, "user authStore.isValid");
    eq(user.authStore.isSuperuser, false, "user authStore.isSuperuser");

    const refreshed = await user.collection("users").authRefresh();
    checkUser(refreshed.record, "user auth-refresh record");
    checkToken(refreshed.token, USERS_ID, created.id, "user refreshed token");

    // A superuser sees every user; getOne returns the same record.
    const viewed = await su.collection("users").getOne(created.id);
    eq(viewed, created, "users.getOne as superuser");
});

step("records: create", async () => {
    const posts = anon.collection(COLLECTION);
    const full = await posts.create({
        title: "First post",
        views: 1,
        published: true,
        tags: ["a", "b"],
        meta: { n: 1, nested: { list: [1, "two", null], flag: true } },
        author: state.userId,
    });
    checkRecord(full, {
        title: "First post",
        views: 1,
        published: true,
        tags: ["a", "b"],
        meta: { n: 1, nested: { list: [1, "two", null], flag: true } },
        author: state.userId,
    }, "created record");
    eq(full.created, full.updated, "created record: created == updated");
    state.first = full;

    // Unset values are empty, not null (json is the one field that can be null).
    const minimal = await posts.create({ title: "abc" });
    checkRecord(minimal, { title: "abc", views: 0, published: false, tags: [], meta: null, author: "" }, "minimal record");
    state.minimal = minimal;

    // A client-chosen id is kept.
    const chosenId = `e2eid${SUFFIX}0000`.slice(0, 15);
    const withId = await posts.create({ id: chosenId, title: "chosen id" });
    eq(withId.id, chosenId, "record created with an explicit id");
    state.withId = withId;
});

step("records: validation errors", async () => {
    const posts = anon.collection(COLLECTION);
    const invalid = await rejects(
        posts.create({ title: "ab", views: 1.5, tags: ["zzz"], author: "nonexistent0000" }),
        400,
        "create with four invalid fields",
    );
    eq(invalid.response, {
        data: {
            author: {
                code: "validation_missing_rel_records",
                message: "Failed to find all relation records with the provided ids.",
            },
            tags: { code: "validation_invalid_value", message: "Invalid value zzz.", params: { value: "zzz" } },
            title: {
                code: "validation_min_text_constraint",
                message: "Must be at least 3 character(s).",
                params: { min: 3 },
            },
            views: { code: "validation_only_int_constraint", message: "Decimal numbers are not allowed." },
        },
        message: "Failed to create record.",
        status: 400,
    }, "validation error body");

    const blank = await rejects(posts.create({ views: 2 }), 400, "create without the required title");
    eq(blank.response.data, { title: { code: "validation_required", message: "Cannot be blank." } }, "required error");

    const missing = await rejects(anon.collection("e2e_no_such_collection").getList(1, 1), 404, "list of an unknown collection");
    eq(missing.response.message, "Missing collection context.", "unknown collection message");
});

step("records: getOne", async () => {
    const posts = anon.collection(COLLECTION);
    const viewed = await posts.getOne(state.first.id);
    eq(viewed, state.first, "getOne returns the created record");

    // Anonymous callers fail the users viewRule, so expand stays empty (PocketBase sends "expand": {}).
    const expandedAnon = await posts.getOne(state.first.id, { expand: "author" });
    eq(expandedAnon, { ...state.first, expand: {} }, "getOne expand=author as anonymous");

    const expanded = await su.collection(COLLECTION).getOne(state.first.id, { expand: "author" });
    checkRecord(expanded, { ...state.first, expand: expanded.expand }, "getOne expand=author as superuser");
    keys(expanded.expand, ["author"], "expand keys");
    checkUser(expanded.expand.author, "expand.author");

    const projected = await posts.getOne(state.first.id, { fields: "id,title,views" });
    eq(projected, { id: state.first.id, title: "First post", views: 1 }, "getOne fields=id,title,views");

    const missing = await rejects(posts.getOne("doesnotexist123"), 404, "getOne of a missing id");
    eq(missing.response, { data: {}, message: NOT_FOUND, status: 404 }, "404 body");
});

step("records: update with modifiers", async () => {
    const posts = anon.collection(COLLECTION);
    const before = state.first;
    await sleep(5); // so that `updated` must move
    const updated = await posts.update(before.id, { title: "First post updated", "views+": 5, "tags+": "c" });
    checkRecord(updated, {
        id: before.id,
        title: "First post updated",
        views: 6,
        published: true,
        tags: ["a", "b", "c"],
        meta: before.meta,
        author: state.userId,
        created: before.created,
    }, "record after views+ and tags+");
    ok(updated.updated > before.updated, "updated must move forward on update", { before: before.updated, after: updated.updated });

    const again = await posts.update(before.id, { "views-": 2, "tags-": "a", published: false });
    checkRecord(again, {
        id: before.id,
        title: "First post updated",
        views: 4,
        published: false,
        tags: ["b", "c"],
        meta: before.meta,
        author: state.userId,
        created: before.created,
    }, "record after views- and tags-");

    const cleared = await posts.update(before.id, { meta: null, author: "" });
    checkRecord(cleared, { id: before.id, meta: null, author: "", views: 4, tags: ["b", "c"] }, "record after clearing meta and author");

    eq(await posts.getOne(before.id), cleared, "getOne after the updates");

    const invalid = await rejects(posts.update(before.id, { views: 1.25 }), 400, "update with a decimal views");
    eq(invalid.response.message, "Failed to update record.", "invalid update message");
    eq(invalid.response.data.views?.code, "validation_only_int_constraint", "invalid update code");

    await rejects(posts.update("doesnotexist123", { title: "nope" }), 404, "update of a missing id");
});

step("records: delete", async () => {
    const posts = anon.collection(COLLECTION);
    for (const record of [state.first, state.minimal, state.withId]) {
        eq(await posts.delete(record.id), true, `delete ${record.id}`);
        await rejects(posts.getOne(record.id), 404, `getOne after deleting ${record.id}`);
    }
    await rejects(posts.delete(state.first.id), 404, "deleting twice");
    const list = await posts.getList(1, 10);
    eq([list.totalItems, list.items], [0, []], "collection is empty after the deletes");
});

step("records: list (getList, skipTotal, expand, fields, getFullList)", async () => {
    const posts = su.collection(COLLECTION);
    state.seed = {};
    for (const [title, views] of [["Charlie", 3], ["Alpha", 1], ["Bravo", 2]]) {
        state.seed[title] = await posts.create({ title, views, author: state.userId, tags: ["a"] });
        await sleep(5); // distinct `created` values, so -created has one right answer
    }
    const { Alpha, Bravo, Charlie } = state.seed;

    const skip = await posts.getList(1, 2, {
        sort: "-created",
        expand: "author",
        fields: "id,title,expand.author.name",
        skipTotal: true,
    });
    keys(skip, ["items", "page", "perPage", "totalItems", "totalPages"], "list envelope (skipTotal)");
    eq([skip.page, skip.perPage, skip.totalItems, skip.totalPages], [1, 2, -1, -1], "skipTotal page/perPage/totalItems/totalPages");
    eq(skip.items, [
        { id: Bravo.id, title: "Bravo", expand: { author: { name: USER_NAME } } },
        { id: Alpha.id, title: "Alpha", expand: { author: { name: USER_NAME } } },
    ], "skipTotal items (sorted -created, projected to id,title,expand.author.name)");

    const counted = await posts.getList(1, 2, { sort: "-created", expand: "author", fields: "id,title,expand.author.name" });
    eq([counted.page, counted.perPage, counted.totalItems, counted.totalPages], [1, 2, 3, 2], "counted page/perPage/totalItems/totalPages");
    eq(counted.items, skip.items, "counted items equal the skipTotal items");

    const page2 = await posts.getList(2, 2, { sort: "-created" });
    eq([page2.page, page2.perPage, page2.totalItems, page2.totalPages], [2, 2, 3, 2], "page 2 envelope");
    eq(page2.items, [Charlie], "page 2 items (full records)");

    const full = await posts.getList(1, 30, { sort: "-views", expand: "author" });
    eq(full.items.map((r) => r.title), ["Charlie", "Bravo", "Alpha"], "sort -views");
    for (const item of full.items) {
        checkRecord(item, { ...state.seed[item.title], expand: item.expand }, `list item ${item.title} with expand`);
        keys(item.expand, ["author"], `list item ${item.title} expand keys`);
        checkUser(item.expand.author, `list item ${item.title} expand.author`);
    }

    const beyond = await posts.getList(5, 2);
    eq([beyond.page, beyond.totalItems, beyond.totalPages, beyond.items], [5, 3, 2, []], "a page past the end");

    const all = await posts.getFullList({ sort: "title" });
    ok(Array.isArray(all), "getFullList returns an array", all);
    eq(all, [Alpha, Bravo, Charlie], "getFullList sort=title");

    const bad = await rejects(posts.getList(1, 1, { sort: "nosuchfield" }), 400, "sort by an unknown field");
    eq(bad.response.data, {}, "bad sort error data");
});

step("batch: create, create, update, delete", async () => {
    const { Alpha, Charlie } = state.seed;
    // batch requests are off by default, as in PocketBase: a superuser turns them on
    const settings = await su.settings.update({ batch: { enabled: true, maxRequests: 50 } });
    eq(settings.batch.enabled, true, "settings.update enables batch");
    const batch = su.createBatch();
    batch.collection(COLLECTION).create({ title: "Batch one", author: state.userId });
    batch.collection(COLLECTION).create({ title: "Batch two", views: 2, tags: ["b", "c"] });
    batch.collection(COLLECTION).update(Alpha.id, { "views+": 10, "tags+": "b" });
    batch.collection(COLLECTION).delete(Charlie.id);
    const results = await batch.send();

    ok(Array.isArray(results) && results.length === 4, "batch answers one result per request", results);
    results.forEach((r, i) => keys(r, ["body", "status"], `batch result ${i}`));
    eq(results.map((r) => r.status), [200, 200, 200, 204], "batch statuses");
    checkRecord(results[0].body, { title: "Batch one", views: 0, published: false, tags: [], meta: null, author: state.userId }, "batch result 0");
    checkRecord(results[1].body, { title: "Batch two", views: 2, published: false, tags: ["b", "c"], meta: null, author: "" }, "batch result 1");
    checkRecord(results[2].body, { id: Alpha.id, title: "Alpha", views: 11, tags: ["a", "b"], created: Alpha.created }, "batch result 2");
    eq(results[3].body, null, "batch delete body");

    const all = await su.collection(COLLECTION).getFullList({ sort: "title" });
    eq(all.map((r) => r.title), ["Alpha", "Batch one", "Batch two", "Bravo"], "records after the batch");
    eq(all[1], results[0].body, "batch-created record as stored");
    await rejects(su.collection(COLLECTION).getOne(Charlie.id), 404, "record deleted by the batch");
    state.afterBatch = all;
});

step("batch: one invalid item rolls everything back", async () => {
    const { Alpha, Bravo } = state.seed;
    const batch = su.createBatch();
    batch.collection(COLLECTION).create({ title: "Batch three" });
    batch.collection(COLLECTION).update(Alpha.id, { "views+": 100 });
    batch.collection(COLLECTION).delete(Bravo.id);
    batch.collection(COLLECTION).create({ title: "no" }); // too short: min 3
    const err = await rejects(batch.send(), 400, "batch with an invalid item");
    eq(err.response, {
        data: {
            requests: {
                3: {
                    code: "batch_request_failed",
                    message: "Batch request failed.",
                    response: {
                        data: {
                            title: {
                                code: "validation_min_text_constraint",
                                message: "Must be at least 3 character(s).",
                                params: { min: 3 },
                            },
                        },
                        message: "Failed to create record.",
                        status: 400,
                    },
                },
            },
        },
        message: "Batch transaction failed.",
        status: 400,
    }, "failed batch error body");

    const all = await su.collection(COLLECTION).getFullList({ sort: "title" });
    eq(all, state.afterBatch, "nothing created, updated or deleted by the failed batch");
    const list = await su.collection(COLLECTION).getList(1, 1);
    eq(list.totalItems, 4, "record count after the failed batch");
});

step("cleanup: delete the collection and the user", async () => {
    eq(await su.collections.delete(COLLECTION), true, "delete the collection");
    await rejects(su.collections.getOne(COLLECTION), 404, "getOne of the deleted collection");
    const gone = await rejects(anon.collection(COLLECTION).getList(1, 1), 404, "records of the deleted collection");
    eq(gone.response.message, "Missing collection context.", "deleted collection message");
    eq(await su.collection("users").delete(state.userId), true, "delete the user");
    await rejects(su.collection("users").getOne(state.userId), 404, "getOne of the deleted user");
});

// ---------------------------------------------------------------- runner

await runSteps(steps, { keepGoing: KEEP_GOING, extra: { baseUrl: BASE_URL, collection: COLLECTION } });
