// Shared by the JS SDK scenarios: request tracing, assertions that explain a mismatch, and the step
// runner that prints PASS/FAIL lines and a JSON summary as its last line of output.

import { readFileSync } from "node:fs";
import { isDeepStrictEqual, inspect } from "node:util";

import PocketBase, { ClientResponseError } from "pocketbase";

export const SDK_VERSION = JSON.parse(
    readFileSync(new URL("./node_modules/pocketbase/package.json", import.meta.url), "utf8"),
).version;

// ---------------------------------------------------------------- tracing

// The last requests and responses, printed when a step fails.
export const trace = [];

export function traced(pb, label) {
    pb.beforeSend = (url, options) => {
        let body = options.body;
        if (typeof FormData !== "undefined" && body instanceof FormData) {
            body = Object.fromEntries([...body.entries()].map(([k, v]) => [k, typeof v === "string" ? v : `<${v?.constructor?.name}>`]));
        } else if (typeof body === "string") {
            try {
                body = JSON.parse(body);
            } catch {
                // keep the raw text
            }
        }
        trace.push({ client: label, method: options.method || "GET", url, query: options.query, body });
        if (trace.length > 20) trace.shift();
        return { url, options };
    };
    pb.afterSend = (response, data) => {
        const entry = trace.findLast((t) => t.client === label && t.status === undefined);
        if (entry) {
            entry.status = response.status;
            entry.response = data;
        }
        return data;
    };
    return pb;
}

export function client(baseUrl, label) {
    return traced(new PocketBase(baseUrl), label);
}

// ---------------------------------------------------------------- assertions

export class Mismatch extends Error {}

export function show(value) {
    return inspect(value, { depth: 8, breakLength: 120, maxArrayLength: 50, maxStringLength: 300 });
}

export function fail(what, detail) {
    throw new Mismatch(detail ? `${what}\n${detail}` : what);
}

export function ok(condition, what, actual) {
    if (!condition) fail(what, actual === undefined ? "" : `  got: ${show(actual)}`);
}

export function eq(actual, expected, what) {
    if (!isDeepStrictEqual(actual, expected)) {
        fail(`${what}: not equal`, `  expected: ${show(expected)}\n  got:      ${show(actual)}`);
    }
}

export function keys(obj, expected, what) {
    ok(obj !== null && typeof obj === "object" && !Array.isArray(obj), `${what}: expected an object`, obj);
    eq(Object.keys(obj).sort(), [...expected].sort(), `${what}: keys`);
}

export function match(value, re, what) {
    ok(typeof value === "string" && re.test(value), `${what}: ${show(value)} does not match ${re}`);
}

export function isTrue(value, what) {
    eq(value, true, what);
}

/** Awaits a promise that must reject with a ClientResponseError of `status`; returns the error. */
export async function rejects(promise, status, what) {
    let result;
    try {
        result = await promise;
    } catch (err) {
        ok(err instanceof ClientResponseError, `${what}: expected a ClientResponseError`, err);
        if (err.status !== status) {
            fail(`${what}: expected HTTP ${status}, got ${err.status}`, `  response: ${show(err.response)}`);
        }
        keys(err.response, ["data", "message", "status"], `${what}: error envelope`);
        eq(err.response.status, status, `${what}: envelope status`);
        return err;
    }
    fail(`${what}: expected a ${status} rejection, but the call resolved`, `  got: ${show(result)}`);
}

// ---------------------------------------------------------------- runner

function describeError(err) {
    if (err instanceof Mismatch) return err.message;
    if (err instanceof ClientResponseError) {
        return `unexpected ${err.status || "network"} error from ${err.url}: ${err.message}\n  response: ${show(err.response)}` +
            (err.status ? "" : `\n  cause: ${show(err.originalError)}`);
    }
    return err?.stack || String(err);
}

/** Runs `steps` ({name, run}) in order; stops at the first failure unless `keepGoing`. Prints the
 * JSON summary (with `extra` merged in) and exits 1 when a step failed. */
export async function runSteps(steps, { keepGoing = false, extra = {} } = {}) {
    const results = [];
    let failed = 0;
    for (const { name, run } of steps) {
        if (failed && !keepGoing) {
            results.push({ step: name, ok: null });
            continue;
        }
        const started = performance.now();
        try {
            await run();
            results.push({ step: name, ok: true, ms: Math.round(performance.now() - started) });
            console.log(`PASS  ${name}`);
        } catch (err) {
            failed += 1;
            const message = describeError(err);
            results.push({ step: name, ok: false, ms: Math.round(performance.now() - started), error: message.split("\n")[0] });
            console.log(`FAIL  ${name}`);
            console.error(`\nFAIL [${name}] ${message}`);
            const recent = trace.splice(0).slice(-3);
            if (recent.length) {
                console.error("  last requests:");
                for (const t of recent) {
                    const query = t.query && Object.keys(t.query).length ? `?${new URLSearchParams(t.query)}` : "";
                    console.error(`    ${t.method} ${t.url}${query} (${t.client}) -> ${t.status ?? "no response"}`);
                    if (t.body !== undefined) console.error(`      request:  ${show(t.body).replace(/\n/g, "\n      ")}`);
                    if (t.response !== undefined) console.error(`      response: ${show(t.response).replace(/\n/g, "\n      ")}`);
                }
            }
            console.error("");
        }
    }
    const summary = {
        ok: failed === 0,
        sdk: SDK_VERSION,
        ...extra,
        passed: results.filter((r) => r.ok === true).length,
        failed,
        skipped: results.filter((r) => r.ok === null).length,
        steps: results,
    };
    console.log(JSON.stringify(summary));
    process.exit(failed ? 1 : 0);
}
