import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeProtectedHeader } from "jose";
import { LoginLimiter } from "./login-limiter.js";
import { generatePassword, hashPassword, verifyPassword } from "./passwords.js";
import { TOKEN_LIFETIME_SECONDS, TokenError, TokenIssuer } from "./tokens.js";

test("tokens are HS256 JWTs valid for 30 minutes", async () => {
  let now = new Date("2026-01-01T00:00:00Z");
  const issuer = new TokenIssuer({ key: Buffer.alloc(32, 1), now: () => now });
  const token = await issuer.issue("admin");
  assert.deepEqual(decodeProtectedHeader(token), { alg: "HS256", typ: "JWT" });
  assert.ok(token.startsWith("eyJ"));
  const claims = await issuer.verify(token);
  assert.equal(claims.username, "admin");
  assert.equal(claims.expiresAt, now.getTime() / 1000 + TOKEN_LIFETIME_SECONDS);
  now = new Date(now.getTime() + (TOKEN_LIFETIME_SECONDS - 1) * 1000);
  assert.equal((await issuer.verify(token)).username, "admin");
  now = new Date(now.getTime() + 2000);
  await assert.rejects(
    issuer.verify(token),
    (e: Error) => e instanceof TokenError && /expired/.test(e.message),
  );
});

test("tokens signed with another key, altered or renewed are refused", async () => {
  const issuer = new TokenIssuer({ key: Buffer.alloc(32, 1) });
  const other = new TokenIssuer({ key: Buffer.alloc(32, 2) });
  const token = await issuer.issue("alice");
  await assert.rejects(other.verify(token), /invalid token/);
  const [h, p, s] = token.split(".");
  const forged = Buffer.from(JSON.stringify({ sub: "admin", iss: "shipshape", exp: 9e9, jti: "x" })).toString(
    "base64url",
  );
  await assert.rejects(issuer.verify([h, forged, s].join(".")), /invalid token/);
  await assert.rejects(issuer.verify(`${p}`), /invalid token/);
  const renewed = await issuer.renew(token);
  assert.equal((await issuer.verify(renewed)).username, "alice");
  await assert.rejects(issuer.verify(token), /renewed/);
});

test("a deleted user's tokens are revoked, also for a new user of the same name, until they expire", async () => {
  let now = new Date("2026-01-01T00:00:00Z");
  const issuer = new TokenIssuer({ key: Buffer.alloc(32, 1), now: () => now });
  const old = await issuer.issue("bob");
  const carol = await issuer.issue("carol");
  now = new Date(now.getTime() + 60_000);
  const later = await issuer.issue("bob");
  issuer.revokeUser("bob");
  for (const token of [old, later]) {
    await assert.rejects(
      issuer.verify(token),
      (e: Error) => e instanceof TokenError && /revoked: its user was deleted/.test(e.message),
    );
  }
  assert.equal((await issuer.verify(carol)).username, "carol");
  // The revocation is by issue time: a token of the next second on belongs to the new bob.
  now = new Date(now.getTime() + 1000);
  const fresh = await issuer.issue("bob");
  assert.equal((await issuer.verify(fresh)).issuedAt, now.getTime() / 1000);
  assert.equal((await issuer.verify(fresh)).username, "bob");
  await assert.rejects(issuer.verify(later), /revoked/);
});

test("passwords hash with scrypt and verify only the same password", async () => {
  const password = generatePassword();
  assert.equal(password.length, 24);
  const hash = await hashPassword(password);
  assert.match(hash, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.notEqual(await hashPassword(password), hash, "salted");
  for (const [candidate, stored, expected] of [
    [password, hash, true],
    [`${password}x`, hash, false],
    ["", hash, false],
    [password, "plain", false],
    [password, "scrypt$0$8$1$AA==$AA==", false],
  ] as const) {
    assert.equal(await verifyPassword(candidate, stored), expected, `${candidate} vs ${stored}`);
  }
});

test("the login limiter blocks per user and per address for the window", () => {
  let now = 0;
  const limiter = new LoginLimiter({ maxFailures: 3, maxAddressFailures: 5, windowMs: 1000, now: () => now });
  for (let i = 0; i < 3; i++) limiter.recordFailure("admin", "10.0.0.1");
  assert.equal(limiter.retryAfterMs("admin", "10.0.0.2"), 1000, "user blocked from any address");
  assert.equal(limiter.retryAfterMs("bob", "10.0.0.1"), 0, "address not yet at its bound");
  for (let i = 0; i < 2; i++) limiter.recordFailure(`user${i}`, "10.0.0.1");
  assert.equal(limiter.retryAfterMs("bob", "10.0.0.1"), 1000, "address blocked for every user");
  now = 600;
  assert.equal(limiter.retryAfterMs("admin", "10.0.0.9"), 400);
  now = 1000;
  assert.equal(limiter.retryAfterMs("admin", "10.0.0.1"), 0, "window over");
  limiter.recordFailure("carol", "10.0.0.3");
  limiter.recordSuccess("carol");
  for (let i = 0; i < 2; i++) limiter.recordFailure("carol", "10.0.0.3");
  assert.equal(limiter.retryAfterMs("carol", "10.0.0.4"), 0, "success cleared the user's count");
});
