// The official PocketBase JS SDK through every sign-in flow of a running server: sign-up, password
// auth, refresh, auth methods, email verification, password reset, OTP and email change.
//
//   node auth_scenario.mjs BASE_URL SUPERUSER_EMAIL SUPERUSER_PASSWORD MAIL_DIR
//
// MAIL_DIR is where the server's development mailer writes its .eml files (<data dir>/mails): the
// scenario reads the links and codes a user would get by email from there. The last line printed to
// stdout is a JSON summary.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { client, eq, isTrue, keys, match, ok, rejects, runSteps } from "./lib.mjs";

const [BASE_URL, SU_EMAIL, SU_PASSWORD, MAIL_DIR] = process.argv.slice(2);
if (!BASE_URL || !SU_EMAIL || !SU_PASSWORD || !MAIL_DIR) {
    console.error("usage: node auth_scenario.mjs BASE_URL SUPERUSER_EMAIL SUPERUSER_PASSWORD MAIL_DIR");
    process.exit(2);
}

const SUFFIX = Math.random().toString(36).slice(2, 8).padEnd(6, "0");
const EMAIL = `auth_${SUFFIX}@example.com`;
const NEW_EMAIL = `moved_${SUFFIX}@example.com`;
const PASSWORDS = ["first-Pw-8813", "second-Pw-5521"];
const ID_RE = /^[a-z0-9]{15}$/;

const su = client(BASE_URL, "superuser");
const user = client(BASE_URL, "user");
const state = {};

// ---------------------------------------------------------------- the development mailbox

function decodeQuotedPrintable(text) {
    const bytes = Buffer.from(
        text.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16))),
        "latin1",
    );
    return bytes.toString("utf8");
}

function mailsTo(address) {
    let names = [];
    try {
        names = readdirSync(MAIL_DIR).filter((n) => n.endsWith(".eml")).sort();
    } catch {
        return [];
    }
    return names
        .map((name) => readFileSync(join(MAIL_DIR, name), "latin1"))
        .filter((raw) => new RegExp(`^To: .*${address.replace(/[.]/g, "\\.")}`, "m").test(raw))
        .map(decodeQuotedPrintable);
}

/** Waits (mail goes out in the background) for mail number `count` to `address`; returns its text. */
async function nthMail(address, count) {
    for (let waited = 0; waited < 10000; waited += 50) {
        const mails = mailsTo(address);
        if (mails.length >= count) return mails[count - 1];
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no mail #${count} to ${address} in ${MAIL_DIR}`);
}

function linkToken(mail, action) {
    const found = mail.match(new RegExp(`/_/#/auth/${action}/([A-Za-z0-9_\\-.]+)`));
    ok(found, `a ${action} link in the mail`, mail.slice(0, 400));
    return found[1];
}

// ---------------------------------------------------------------- steps

const steps = [];
const step = (name, run) => steps.push({ name, run });

step("superuser sign-in", async () => {
    await su.collection("_superusers").authWithPassword(SU_EMAIL, SU_PASSWORD);
    isTrue(su.authStore.isSuperuser, "superuser authStore");
});

step("sign up", async () => {
    const record = await user.collection("users").create({
        email: EMAIL,
        emailVisibility: true,
        password: PASSWORDS[0],
        passwordConfirm: PASSWORDS[0],
        name: "Auth Flow",
    });
    match(record.id, ID_RE, "record id");
    eq(record.verified, false, "a new account is not verified");
    state.userId = record.id;
    const weak = await rejects(
        user.collection("users").create({ email: `weak_${EMAIL}`, password: "password1", passwordConfirm: "password1" }),
        400,
        "a common password",
    );
    eq(weak.response.data.password.code, "validation_password_too_common", "common password error code");
});

step("auth methods", async () => {
    const methods = await user.collection("users").listAuthMethods();
    eq(methods.password, { identityFields: ["email"], enabled: true }, "password method");
    eq(methods.emailPassword, true, "legacy emailPassword");
    keys(methods, ["password", "oauth2", "mfa", "otp", "authProviders", "usernamePassword", "emailPassword"], "auth methods");
});

step("password auth and refresh", async () => {
    const auth = await user.collection("users").authWithPassword(EMAIL, PASSWORDS[0]);
    isTrue(user.authStore.isValid, "authStore after sign-in");
    eq(auth.record.id, state.userId, "signed-in record");
    eq(auth.record.email, EMAIL, "the owner sees its email");
    await rejects(user.collection("users").authWithPassword(EMAIL, "wrong-password-0"), 400, "wrong password");
    // (the SDK cleared nothing: a failed sign-in leaves the store as it was)
    isTrue(user.authStore.isValid, "authStore after a failed sign-in");
    const refreshed = await user.collection("users").authRefresh();
    eq(refreshed.record.id, state.userId, "refreshed record");
    ok(typeof refreshed.token === "string" && refreshed.token.split(".").length === 3, "refreshed token", refreshed.token);
    state.firstToken = refreshed.token;
});

step("email verification", async () => {
    eq(await user.collection("users").requestVerification(EMAIL), true, "requestVerification");
    const token = linkToken(await nthMail(EMAIL, 1), "confirm-verification");
    eq(await user.collection("users").confirmVerification(token), true, "confirmVerification");
    const refreshed = await user.collection("users").authRefresh();
    eq(refreshed.record.verified, true, "verified after confirming");
    await rejects(user.collection("users").confirmVerification(token), 400, "a used verification link");
});

step("password reset", async () => {
    eq(await user.collection("users").requestPasswordReset(EMAIL), true, "requestPasswordReset");
    eq(await user.collection("users").requestPasswordReset(`nobody_${EMAIL}`), true, "unknown address: same answer");
    const token = linkToken(await nthMail(EMAIL, 2), "confirm-password-reset");
    eq(await user.collection("users").confirmPasswordReset(token, PASSWORDS[1], PASSWORDS[1]), true, "confirmPasswordReset");
    await rejects(user.collection("users").authRefresh(), 401, "the old session is revoked");
    await rejects(user.collection("users").authWithPassword(EMAIL, PASSWORDS[0]), 400, "the old password");
    await user.collection("users").authWithPassword(EMAIL, PASSWORDS[1]);
    isTrue(user.authStore.isValid, "signed in with the new password");
});

step("one-time password", async () => {
    await su.collections.update("users", { otp: { enabled: true } });
    const methods = await user.collection("users").listAuthMethods();
    eq(methods.otp.enabled, true, "otp listed as enabled");
    const { otpId } = await user.collection("users").requestOTP(EMAIL);
    match(otpId, ID_RE, "otpId");
    const mail = await nthMail(EMAIL, 3);
    const code = mail.match(/\b(\d{8})\b/)?.[1];
    ok(code, "an 8-digit code in the mail", mail.slice(0, 400));
    user.authStore.clear();
    await rejects(user.collection("users").authWithOTP(otpId, code === "00000000" ? "11111111" : "00000000"), 400, "a wrong code");
    const auth = await user.collection("users").authWithOTP(otpId, code);
    eq(auth.record.id, state.userId, "signed in with the code");
    await rejects(user.collection("users").authWithOTP(otpId, code), 400, "a used code");
});

step("email change", async () => {
    await user.collection("users").authWithPassword(EMAIL, PASSWORDS[1]);
    eq(await user.collection("users").requestEmailChange(NEW_EMAIL), true, "requestEmailChange");
    const token = linkToken(await nthMail(NEW_EMAIL, 1), "confirm-email-change");
    eq(await user.collection("users").confirmEmailChange(token, PASSWORDS[1]), true, "confirmEmailChange");
    await rejects(user.collection("users").authWithPassword(EMAIL, PASSWORDS[1]), 400, "the old address");
    const auth = await user.collection("users").authWithPassword(NEW_EMAIL, PASSWORDS[1]);
    eq(auth.record.email, NEW_EMAIL, "the new address");
});

step("cleanup", async () => {
    await su.collections.update("users", { otp: { enabled: false } });
    eq(await su.collection("users").delete(state.userId), true, "delete the user");
});

await runSteps(steps, { extra: { baseUrl: BASE_URL } });
