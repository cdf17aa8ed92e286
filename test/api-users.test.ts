/**
 * User management (GET/POST/PUT /users, DELETE /users/{username}, PUT /users/password,
 * GET /rbac/roles) and the optional GET /registry rate limit, over real HTTPS against the real
 * SQLite console store and orchestrator, as test/api-console.test.ts runs the console in-process.
 * Users are created through the API, so every role and password below went through the routes.
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Agent, fetch } from "undici";
import { type Api, buildServer, type ServerOptions } from "../src/api/server.js";
import { loadTls } from "../src/api/tls.js";
import { LoginLimiter } from "../src/auth/login-limiter.js";
import { hashPassword, verifyPassword } from "../src/auth/passwords.js";
import { ROLE_NAMES, roleObject } from "../src/auth/roles.js";
import { SecretBox } from "../src/auth/secrets.js";
import { TokenIssuer } from "../src/auth/tokens.js";
import { Orchestrator } from "../src/scan/orchestrator.js";
import { openConsoleStore } from "../src/store/console.js";
import type { ConsoleStore } from "../src/store/console-store.js";

const ADMIN_PASSWORD = "admin-pw-1";

interface Console {
  base: string;
  store: ConsoleStore;
  close(): Promise<void>;
}

let tmp: string;
let dispatcher: Agent;
let tls: { key: string; cert: string };

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-users-"));
  tls = await loadTls({ dataDir: tmp });
  dispatcher = new Agent({ connect: { ca: tls.cert } });
});
after(async () => {
  await dispatcher?.close();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

/** A console with one `admin` (as the first start makes it), on its own SQLite file. */
async function startConsole(name: string, options: ServerOptions = {}): Promise<Console> {
  const dir = path.join(tmp, name);
  await fs.mkdir(dir);
  const { store, console: consoleStore } = await openConsoleStore({
    sqliteFile: path.join(dir, "console.db"),
  });
  await consoleStore.putUser({
    username: "admin",
    role: "admin",
    passwordHash: await hashPassword(ADMIN_PASSWORD),
    createdAt: new Date().toISOString(),
  });
  const secrets = SecretBox.open(dir, {});
  const orchestrator = new Orchestrator({
    store: consoleStore,
    cacheStore: store,
    database: () => {
      throw new Error("no vulnerability database in this test");
    },
    resolveCredential: async () => undefined,
    hostname: "users-test",
  });
  await orchestrator.init();
  const app: Api = await buildServer(
    {
      store: consoleStore,
      scans: orchestrator,
      secrets,
      tokens: new TokenIssuer({ key: Buffer.alloc(32, 7) }),
      limiter: new LoginLimiter({ maxFailures: 3, maxAddressFailures: 1000 }),
      database: () => undefined,
      reschedule: async () => {},
      version: "0.1.0",
    },
    { https: tls, logger: false, ...options },
  );
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  assert.ok(address && typeof address === "object");
  return {
    base: `https://127.0.0.1:${address.port}`,
    store: consoleStore,
    async close() {
      await app.close();
      await orchestrator.close();
      await consoleStore.close();
    },
  };
}

const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
const ADMIN = basic("admin", ADMIN_PASSWORD);

async function call(
  c: Console,
  method: string,
  url: string,
  options: { auth?: string; body?: unknown } = {},
) {
  const headers: Record<string, string> = {};
  if (options.auth) headers.authorization = options.auth;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] = "application/json";
  }
  const res = await fetch(`${c.base}${url}`, { method, headers, body, dispatcher });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

function assertError(res: { status: number; json: unknown; text: string }, status: number, message: RegExp) {
  assert.equal(res.status, status, res.text);
  const err = (res.json as { err?: unknown } | undefined)?.err;
  assert.equal(typeof err, "string", res.text);
  assert.match(err as string, message);
}

async function bearer(c: Console, username: string, password: string): Promise<string> {
  const res = await call(c, "POST", "/api/v1/authenticate", { body: { username, password } });
  assert.equal(res.status, 200, res.text);
  return `Bearer ${(res.json as { token: string }).token}`;
}

describe("user management", () => {
  let c: Console;
  before(async () => {
    c = await startConsole("users");
  });
  after(async () => {
    await c?.close();
  });

  test("an admin creates users; GET /users lists them without passwords", async () => {
    for (const [username, role] of [
      ["audrey", "auditor"],
      ["ci-bot", "ci"],
      ["vera", "vulnerabilityManager"],
    ]) {
      const res = await call(c, "POST", "/api/v1/users", {
        auth: ADMIN,
        body: { username, password: `${username}-password`, role, authType: "basic" },
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.text, "");
    }
    const list = await call(c, "GET", "/api/v34.03/users", { auth: ADMIN });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json, [
      { username: "admin", role: "admin", authType: "basic" },
      { username: "audrey", role: "auditor", authType: "basic" },
      { username: "ci-bot", role: "ci", authType: "basic" },
      { username: "vera", role: "vulnerabilityManager", authType: "basic" },
    ]);
    assert.doesNotMatch(list.text, /scrypt|password/i);
    // The stored hash is scrypt and verifies the password given at creation.
    const stored = await c.store.getUser("audrey");
    assert.ok(stored);
    assert.match(stored.passwordHash, /^scrypt\$/);
    assert.equal(await verifyPassword("audrey-password", stored.passwordHash), true);
  });

  test("a created auditor reads results but cannot scan or manage users", async () => {
    const auditor = basic("audrey", "audrey-password");
    const results = await call(c, "GET", "/api/v1/registry", { auth: auditor });
    assert.equal(results.status, 200, results.text);
    assert.deepEqual(results.json, []);
    assert.equal(results.headers.get("total-count"), "0");
    assertError(
      await call(c, "POST", "/api/v1/registry/scan", { auth: auditor, body: {} }),
      403,
      /role auditor lacks read-write permission monitorImages/,
    );
    assertError(await call(c, "GET", "/api/v1/users", { auth: auditor }), 403, /userManagement/);
    assertError(await call(c, "GET", "/api/v1/rbac/roles", { auth: auditor }), 403, /userManagement/);
    assertError(
      await call(c, "POST", "/api/v1/users", {
        auth: auditor,
        body: { username: "mallory", password: "mallory-password", role: "admin" },
      }),
      403,
      /userManagement/,
    );
    assertError(await call(c, "DELETE", "/api/v1/users/admin", { auth: auditor }), 403, /userManagement/);
    // An operator, who may do everything else, may not manage users either.
    await call(c, "POST", "/api/v1/users", {
      auth: ADMIN,
      body: { username: "otto", password: "otto-password", role: "operator" },
    });
    assertError(
      await call(c, "GET", "/api/v1/users", { auth: basic("otto", "otto-password") }),
      403,
      /role operator lacks read permission userManagement/,
    );
  });

  test("creation is validated with messages that name the problem", async () => {
    const cases: [unknown, RegExp][] = [
      [
        { username: "x1", password: "long-enough", role: "superuser" },
        /unknown role "superuser"; built-in roles: admin, operator, auditor/,
      ],
      [
        { username: "x2", password: "short", role: "auditor" },
        /password must be at least 8 characters, got 5/,
      ],
      [{ username: "x3", password: "", role: "auditor" }, /password must be at least 8 characters, got 0/],
      [{ username: "audrey", password: "another-password", role: "ci" }, /user audrey already exists/],
      [{ username: "", password: "long-enough", role: "ci" }, /username must not be empty/],
      [{ username: " padded", password: "long-enough", role: "ci" }, /white space/],
      [{ username: "x4", role: "ci" }, /body\.password is required/],
      [{ password: "long-enough", role: "ci" }, /body\.username is required/],
      [{ username: "x5", password: "long-enough" }, /body\.role is required/],
      [
        { username: "x6", password: "long-enough", role: "ci", authType: "ldap" },
        /authType "ldap" is not supported/,
      ],
    ];
    for (const [body, message] of cases) {
      assertError(await call(c, "POST", "/api/v1/users", { auth: ADMIN, body }), 400, message);
    }
    // Nothing of the refused requests was stored; audrey kept her role.
    const names = (await c.store.listUsers()).map((u) => u.username);
    assert.deepEqual(
      names.filter((n) => /^x\d$/.test(n)),
      [],
    );
    assert.equal((await c.store.getUser("audrey"))?.role, "auditor");
  });

  test("GET /rbac/roles lists every built-in role as a Role object", async () => {
    const res = await call(c, "GET", "/api/v1/rbac/roles", { auth: ADMIN });
    assert.equal(res.status, 200, res.text);
    const roles = res.json as {
      name: string;
      system: boolean;
      perms: { name: string; readWrite: boolean }[];
    }[];
    assert.deepEqual(
      roles.map((r) => r.name),
      ROLE_NAMES,
    );
    assert.deepEqual(
      roles,
      ROLE_NAMES.map((name) => roleObject(name)),
    );
    const admin = roles.find((r) => r.name === "admin");
    assert.deepEqual(
      admin?.perms.find((p) => p.name === "userManagement"),
      { name: "userManagement", readWrite: true },
    );
    const auditor = roles.find((r) => r.name === "auditor");
    assert.equal(
      auditor?.perms.some((p) => p.name === "userManagement"),
      false,
    );
    assert.deepEqual(
      auditor?.perms.find((p) => p.name === "monitorImages"),
      { name: "monitorImages", readWrite: false },
    );
  });

  test("PUT /users changes a role at once and a password for the next login", async () => {
    const token = await bearer(c, "ci-bot", "ci-bot-password");
    assertError(await call(c, "GET", "/api/v1/registry", { auth: token }), 403, /role ci lacks/);
    const promote = await call(c, "PUT", "/api/v1/users", {
      auth: ADMIN,
      body: { username: "ci-bot", role: "devSecOps", password: "" },
    });
    assert.equal(promote.status, 200, promote.text);
    // The same token now carries the new role (the role is read on every request).
    assert.equal((await call(c, "GET", "/api/v1/registry", { auth: token })).status, 200);
    const repassword = await call(c, "PUT", "/api/v1/users", {
      auth: ADMIN,
      body: { username: "ci-bot", password: "ci-bot-new-password" },
    });
    assert.equal(repassword.status, 200, repassword.text);
    assert.equal(
      (await call(c, "GET", "/api/v1/version", { auth: basic("ci-bot", "ci-bot-password") })).status,
      401,
    );
    assert.equal(
      (await call(c, "GET", "/api/v1/version", { auth: basic("ci-bot", "ci-bot-new-password") })).status,
      200,
    );
    assert.equal((await c.store.getUser("ci-bot"))?.role, "devSecOps");

    const cases: [unknown, number, RegExp][] = [
      [{ username: "ci-bot", role: "root" }, 400, /unknown role "root"/],
      [{ username: "ci-bot", password: "1234567" }, 400, /password must be at least 8 characters, got 7/],
      [{ username: "ci-bot" }, 400, /nothing to change/],
      [{ username: "nobody", role: "ci" }, 404, /user nobody not found/],
      [
        { username: "admin", role: "auditor" },
        400,
        /user admin is the last admin; make another user admin first/,
      ],
    ];
    for (const [body, status, message] of cases) {
      assertError(await call(c, "PUT", "/api/v1/users", { auth: ADMIN, body }), status, message);
    }
    assert.equal((await c.store.getUser("admin"))?.role, "admin");
  });

  test("PUT /users/password: any user changes their own password, knowing the old one", async () => {
    const auditor = await bearer(c, "audrey", "audrey-password");
    const cases: [unknown, RegExp][] = [
      [
        { oldPassword: "wrong-password", newPassword: "audrey-new-password" },
        /oldPassword is not the current password/,
      ],
      [{ oldPassword: "audrey-password", newPassword: "short" }, /newPassword must be at least 8 characters/],
      [{ oldPassword: "audrey-password" }, /body\.newPassword is required/],
    ];
    for (const [body, message] of cases) {
      assertError(await call(c, "PUT", "/api/v1/users/password", { auth: auditor, body }), 400, message);
    }
    const changed = await call(c, "PUT", "/api/v1/users/password", {
      auth: auditor,
      body: { oldPassword: "audrey-password", newPassword: "audrey-new-password" },
    });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(
      (await call(c, "GET", "/api/v1/registry", { auth: basic("audrey", "audrey-password") })).status,
      401,
    );
    assert.equal(
      (await call(c, "GET", "/api/v1/registry", { auth: basic("audrey", "audrey-new-password") })).status,
      200,
    );
    // Wrong old passwords count as failed logins: after the limiter's 3, even the right one waits.
    for (let i = 0; i < 3; i++) {
      await call(c, "PUT", "/api/v1/users/password", {
        auth: auditor,
        body: { oldPassword: `guess-${i}-password`, newPassword: "whatever-password" },
      });
    }
    const blocked = await call(c, "PUT", "/api/v1/users/password", {
      auth: auditor,
      body: { oldPassword: "audrey-new-password", newPassword: "whatever-password" },
    });
    assertError(blocked, 429, /too many failed logins/);
    assert.ok(Number(blocked.headers.get("retry-after")) > 0);
    assert.equal(
      await verifyPassword("audrey-new-password", (await c.store.getUser("audrey"))?.passwordHash ?? ""),
      true,
    );
  });

  test("a deleted user's tokens stop working; the last admin cannot be deleted", async () => {
    const token = await bearer(c, "vera", "vera-password");
    assert.equal((await call(c, "GET", "/api/v1/version", { auth: token })).status, 200);
    const deleted = await call(c, "DELETE", "/api/v1/users/vera", { auth: ADMIN });
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal(deleted.text, "");
    assertError(
      await call(c, "GET", "/api/v1/version", { auth: token }),
      401,
      /revoked: its user was deleted/,
    );
    assertError(await call(c, "DELETE", "/api/v1/users/vera", { auth: ADMIN }), 404, /user vera not found/);
    // A new user of the same name does not inherit the old one's tokens.
    await call(c, "POST", "/api/v1/users", {
      auth: ADMIN,
      body: { username: "vera", password: "new-vera-password", role: "admin" },
    });
    assertError(await call(c, "GET", "/api/v1/users", { auth: token }), 401, /revoked/);
    // Tokens are revoked up to the deletion's second (iat has whole seconds); wait for the next one.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const newToken = await bearer(c, "vera", "new-vera-password");
    assert.equal((await call(c, "GET", "/api/v1/users", { auth: newToken })).status, 200);
    assert.equal((await call(c, "DELETE", "/api/v1/users/vera", { auth: ADMIN })).status, 200);
    assertError(
      await call(c, "DELETE", "/api/v1/users/admin", { auth: ADMIN }),
      400,
      /last admin and cannot be deleted/,
    );

    // With a second admin the first may go, and the second is then the last.
    await call(c, "POST", "/api/v1/users", {
      auth: ADMIN,
      body: { username: "ada", password: "ada-password", role: "admin" },
    });
    const ada = basic("ada", "ada-password");
    assert.equal((await call(c, "DELETE", "/api/v1/users/admin", { auth: ada })).status, 200);
    assertError(await call(c, "GET", "/api/v1/users", { auth: ADMIN }), 401, /invalid username or password/);
    assertError(await call(c, "DELETE", "/api/v1/users/ada", { auth: ada }), 400, /last admin/);
    const names = ((await call(c, "GET", "/api/v1/users", { auth: ada })).json as { username: string }[]).map(
      (u) => u.username,
    );
    assert.deepEqual(names, ["ada", "audrey", "ci-bot", "otto"]);
  });
});

describe("GET /registry rate limit", () => {
  test("off by default: more requests than Prisma SaaS allows all answer 200", async () => {
    const c = await startConsole("unlimited");
    try {
      const statuses = new Set<number>();
      for (let i = 0; i < 35; i++)
        statuses.add((await call(c, "GET", "/api/v1/registry", { auth: ADMIN })).status);
      assert.deepEqual([...statuses], [200]);
    } finally {
      await c.close();
    }
  });

  test("when set: per user, only GET /registry, 429 with err and Retry-After", async () => {
    // A window far longer than the test, so no request can fall into a fresh one on a slow machine.
    const c = await startConsole("limited", { registryRateLimit: { max: 3, windowMs: 10 * 60_000 } });
    try {
      await call(c, "POST", "/api/v1/users", {
        auth: ADMIN,
        body: { username: "reader", password: "reader-password", role: "auditor" },
      });
      const reader = await bearer(c, "reader", "reader-password");
      // Failed authentication spends nothing of the user's budget.
      assert.equal(
        (await call(c, "GET", "/api/v1/registry", { auth: basic("reader", "wrong-password") })).status,
        401,
      );
      for (let i = 0; i < 3; i++) {
        const res = await call(c, "GET", "/api/v1/registry", { auth: reader });
        assert.equal(res.status, 200, `request ${i + 1}: ${res.text}`);
      }
      const limited = await call(c, "GET", "/api/v1/registry", { auth: reader });
      assertError(limited, 429, /rate limit exceeded: 3 requests per 600 s per user; retry in \d+ s/);
      const retryAfter = Number(limited.headers.get("retry-after"));
      assert.ok(retryAfter > 0 && retryAfter <= 600, `Retry-After ${retryAfter}`);
      // Basic auth for the same user shares the budget: the limit is per user, not per token.
      assert.equal(
        (await call(c, "GET", "/api/v1/registry", { auth: basic("reader", "reader-password") })).status,
        429,
      );
      // Another user has their own budget, and other routes are not limited.
      assert.equal((await call(c, "GET", "/api/v1/registry", { auth: ADMIN })).status, 200);
      for (let i = 0; i < 5; i++) {
        assert.equal((await call(c, "GET", "/api/v1/registry/names", { auth: reader })).status, 200);
      }
    } finally {
      await c.close();
    }
  });
});
