/**
 * The console API over real HTTPS (self-signed certificate from src/api/tls.ts, trusted as the test
 * CA), the real SQLite console store and the real orchestrator: authentication (Bearer, Basic,
 * expiry, limiter), permissions, 400 messages, versioned paths, settings and credentials round trips,
 * encryption at rest, result paging, lenient booleans, webhook.
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { Agent, fetch } from "undici";
import { type Api, buildServer } from "../src/api/server.js";
import { loadTls } from "../src/api/tls.js";
import { LoginLimiter } from "../src/auth/login-limiter.js";
import { hashPassword } from "../src/auth/passwords.js";
import { SecretBox } from "../src/auth/secrets.js";
import { TokenIssuer } from "../src/auth/tokens.js";
import { failedImageScanResult } from "../src/report/prisma-result.js";
import { Orchestrator } from "../src/scan/orchestrator.js";
import { openConsoleStore } from "../src/store/console.js";
import type { ConsoleStore, ImageResultRecord } from "../src/store/console-store.js";
import type { Store } from "../src/store/store.js";

let tmp: string;
let app: Api;
let base: string;
let store: ConsoleStore;
let cache: Store;
let orchestrator: Orchestrator;
let dispatcher: Agent;
let clock = Date.now();
const logLines: string[] = [];
const PASSWORDS = {
  admin: "admin-pw-1",
  auditor: "auditor-pw-1",
  devsec: "devsec-pw-1",
  operator: "operator-pw",
};

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-api-"));
  const opened = await openConsoleStore({ sqliteFile: path.join(tmp, "console.db") });
  store = opened.console;
  cache = opened.store;
  for (const [username, role] of [
    ["admin", "admin"],
    ["auditor", "auditor"],
    ["devsec", "devSecOps"],
    ["operator", "operator"],
  ] as const) {
    await store.putUser({
      username,
      role,
      passwordHash: await hashPassword(PASSWORDS[username]),
      createdAt: new Date().toISOString(),
    });
  }
  const secrets = SecretBox.open(tmp, {});
  orchestrator = new Orchestrator({
    store,
    cacheStore: cache,
    database: () => {
      throw new Error("no vulnerability database in this test");
    },
    resolveCredential: async (id) => {
      const credential = await store.getCredential(id);
      return credential && secrets.openCredential(credential);
    },
    hostname: "api-test",
  });
  await orchestrator.init();
  const tls = await loadTls({ dataDir: tmp });
  app = await buildServer(
    {
      store,
      scans: orchestrator,
      secrets,
      tokens: new TokenIssuer({ key: Buffer.alloc(32, 3), now: () => new Date(clock) }),
      limiter: new LoginLimiter({ maxFailures: 3, maxAddressFailures: 1000 }),
      database: () => undefined,
      reschedule: async () => {},
      version: "0.1.0",
    },
    {
      https: tls,
      logger: {
        level: "debug",
        redact: (await import("../src/api/server.js")).REDACTED_PATHS,
        stream: { write: (line: string) => logLines.push(line) },
      },
    },
  );
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  assert.ok(address && typeof address === "object");
  base = `https://127.0.0.1:${address.port}`;
  dispatcher = new Agent({ connect: { ca: tls.cert } });
});

after(async () => {
  await app?.close();
  await orchestrator?.close();
  await store?.close();
  await dispatcher?.close();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

const basic = (user: keyof typeof PASSWORDS) =>
  `Basic ${Buffer.from(`${user}:${PASSWORDS[user]}`).toString("base64")}`;

async function call(
  method: string,
  url: string,
  options: { auth?: string; body?: unknown; raw?: string; contentType?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (options.auth) headers.authorization = options.auth;
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
  const res = await fetch(`${base}${url}`, { method, headers, body, dispatcher });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

async function token(user: keyof typeof PASSWORDS): Promise<string> {
  const res = await call("POST", "/api/v1/authenticate", {
    body: { username: user, password: PASSWORDS[user] },
  });
  assert.equal(res.status, 200, res.text);
  return `Bearer ${(res.json as { token: string }).token}`;
}

test("ping needs no auth; authenticate gives a token the routes accept; Basic works too", async () => {
  const ping = await call("GET", "/api/v1/_ping");
  assert.equal(ping.status, 200);
  assert.equal(ping.text, "");
  const bearer = await token("admin");
  assert.match(bearer, /^Bearer eyJ/);
  for (const auth of [bearer, basic("admin")]) {
    const version = await call("GET", "/api/v1/version", { auth });
    assert.equal(version.status, 200);
    assert.equal(version.json, "0.1.0");
    assert.match(version.headers.get("content-type") ?? "", /^application\/json/);
  }
  const renewed = await call("GET", "/api/v1/authenticate/renew", { auth: bearer });
  assert.equal(renewed.status, 200);
  const fresh = `Bearer ${(renewed.json as { token: string }).token}`;
  assert.equal((await call("GET", "/api/v1/version", { auth: fresh })).status, 200);
  assert.equal(
    (await call("GET", "/api/v1/version", { auth: bearer })).status,
    401,
    "renewed token superseded",
  );
});

test("bad credentials, missing or invalid tokens and expired tokens are 401 {err}", async () => {
  const wrong = await call("POST", "/api/v1/authenticate", { body: { username: "admin", password: "nope" } });
  assert.equal(wrong.status, 401);
  assert.match((wrong.json as { err: string }).err, /invalid username or password/);
  const cases: [string | undefined, RegExp][] = [
    [undefined, /authentication required/],
    ["Bearer not-a-jwt", /invalid token/],
    [`Basic ${Buffer.from("admin:wrong").toString("base64")}`, /invalid username or password/],
    ["Digest abc", /unsupported authorization scheme/],
  ];
  for (const [auth, message] of cases) {
    const res = await call("GET", "/api/v1/registry", auth ? { auth } : {});
    assert.equal(res.status, 401, String(auth));
    assert.match((res.json as { err: string }).err, message);
  }
  const bearer = await token("auditor");
  clock += 31 * 60_000;
  try {
    const expired = await call("GET", "/api/v1/registry", { auth: bearer });
    assert.equal(expired.status, 401);
    assert.match((expired.json as { err: string }).err, /expired/);
  } finally {
    clock -= 31 * 60_000;
  }
});

test("repeated failed logins for one user are refused with 429 until the window passes", async () => {
  await store.putUser({
    username: "victim",
    role: "auditor",
    passwordHash: await hashPassword("right"),
    createdAt: new Date().toISOString(),
  });
  for (let i = 0; i < 3; i++) {
    const res = await call("POST", "/api/v1/authenticate", {
      body: { username: "victim", password: `guess${i}` },
    });
    assert.equal(res.status, 401);
  }
  const blocked = await call("POST", "/api/v1/authenticate", {
    body: { username: "victim", password: "right" },
  });
  assert.equal(blocked.status, 429);
  assert.ok(Number(blocked.headers.get("retry-after")) > 0);
});

test("roles: the auditor reads but cannot write; devSecOps cannot read registry settings", async () => {
  const auditor = await token("auditor");
  assert.equal((await call("GET", "/api/v1/registry", { auth: auditor })).status, 200);
  assert.equal((await call("GET", "/api/v1/settings/registry", { auth: auditor })).status, 200);
  const writes: [string, string, unknown][] = [
    ["POST", "/api/v1/registry/scan", {}],
    ["POST", "/api/v1/settings/registry?scanLater=true", { version: "2" }],
    ["POST", "/api/v1/credentials", { _id: "x", type: "basic" }],
    ["POST", "/api/v1/settings/scan", { registryScanPeriodMs: 0 }],
    ["POST", "/api/v1/registry/stop", undefined],
  ];
  for (const [method, url, body] of writes) {
    const res = await call(method, url, { auth: auditor, body });
    assert.equal(res.status, 403, `${method} ${url}`);
    assert.match((res.json as { err: string }).err, /role auditor lacks read-write permission/);
  }
  const devsec = await token("devsec");
  assert.equal((await call("GET", "/api/v1/registry", { auth: devsec })).status, 200);
  assert.equal((await call("GET", "/api/v1/settings/registry", { auth: devsec })).status, 403);
  const operator = basic("operator");
  assert.equal((await call("GET", "/api/v1/settings/scan", { auth: operator })).status, 200);
  assert.equal(
    (await call("POST", "/api/v1/settings/scan", { auth: operator, body: { registryScanPeriodMs: 0 } }))
      .status,
    403,
  );
});

test("versioned paths are served; a malformed version segment is 404 {err}", async () => {
  const auth = basic("admin");
  for (const version of ["v1", "v22.06", "v34.04", "v99.99"]) {
    const res = await call("GET", `/api/${version}/settings/scan`, { auth });
    assert.equal(res.status, 200, version);
  }
  for (const version of ["v2", "v34.4", "v34", "34.04", "v34.04.1", "vXX.YY"]) {
    const res = await call("GET", `/api/${version}/settings/scan`, { auth });
    assert.equal(res.status, 404, version);
    assert.ok((res.json as { err: string }).err.length > 0);
  }
  assert.equal(
    (await call("POST", "/api/v34.04/registry/webhook/webhook", { body: {} })).status,
    404,
    "v1 only",
  );
  assert.equal((await call("GET", "/api/v1/no/such/route", { auth })).status, 404);
});

test("malformed bodies and parameters are 400 with a message naming the problem", async () => {
  const auth = await token("admin");
  const cases: [string, string, { body?: unknown; raw?: string; contentType?: string }, RegExp][] = [
    ["POST", "/api/v1/authenticate", { raw: "{not json" }, /not valid JSON/],
    ["POST", "/api/v1/authenticate", { body: { username: "admin" } }, /username and password are required/],
    [
      "POST",
      "/api/v1/settings/registry?scanLater=true",
      { raw: "x=1", contentType: "text/plain" },
      /content type/,
    ],
    [
      "POST",
      "/api/v1/settings/registry?scanLater=true",
      { body: { registry: "r" } },
      /body\.version is required/,
    ],
    [
      "POST",
      "/api/v1/settings/registry?scanLater=true",
      { body: { version: "nexus" } },
      /unknown registry type/,
    ],
    [
      "POST",
      "/api/v1/settings/registry?scanLater=true",
      { body: { version: "2", cap: -2 } },
      /cap must be an integer >= 0/,
    ],
    [
      "POST",
      "/api/v1/settings/registry?scanLater=true",
      { body: { version: "2", cap: "many" } },
      /body\.cap must be a number/,
    ],
    ["POST", "/api/v1/settings/registry?scanLater=true", { body: { version: "2", scanners: 0 } }, /scanners/],
    [
      "POST",
      "/api/v1/settings/registry?scanLater=true",
      { body: { version: "2", os: "bsd" } },
      /os must be one of/,
    ],
    [
      "POST",
      "/api/v1/settings/registry?scanLater=true",
      { body: { version: "2", versionPattern: "%z" } },
      /versionPattern/,
    ],
    [
      "POST",
      "/api/v1/settings/registry?scanLater=true",
      { body: { version: "gitlab" } },
      /gitlabRegistrySpec/,
    ],
    [
      "POST",
      "/api/v1/settings/registry?scanLater=true",
      { body: { version: "2", credentialID: "ghost" } },
      /"ghost" does not exist/,
    ],
    [
      "POST",
      "/api/v1/settings/registry?scanLater=maybe",
      { body: { version: "2" } },
      /scanLater must be true or false/,
    ],
    [
      "PUT",
      "/api/v1/settings/registry",
      { body: { specifications: "all" } },
      /body\.specifications(\[0\])? must be an? (array|object)/,
    ],
    [
      "PUT",
      "/api/v1/settings/registry",
      { body: { specifications: [{ version: "2" }, { version: "x" }] } },
      /specifications\[1\]: unknown registry type/,
    ],
    ["POST", "/api/v1/credentials", { body: { type: "basic" } }, /body\._id is required/],
    ["POST", "/api/v1/credentials", { body: { _id: "c", type: "password" } }, /unknown credential type/],
    [
      "POST",
      "/api/v1/credentials",
      { body: { _id: "c", type: "basic", secret: { encrypted: "forged" } } },
      /not a value this console encrypted/,
    ],
    ["GET", "/api/v1/credentials?sort=secret", {}, /sort must be one of/],
    ["POST", "/api/v1/settings/scan", { body: { registryScanPeriodMs: 60_000 } }, /at least 3600000/],
    [
      "POST",
      "/api/v1/settings/scan",
      { body: { registryScanPeriodMs: "daily" } },
      /registryScanPeriodMs must be a number/,
    ],
    [
      "POST",
      "/api/v1/settings/scan",
      { body: { registryScanRetentionDays: 0 } },
      /registryScanRetentionDays/,
    ],
    ["POST", "/api/v1/registry/scan", { body: { onDemandScan: true, tag: { tag: "1" } } }, /needs tag\.repo/],
    [
      "POST",
      "/api/v1/registry/scan",
      { body: { onDemandScan: true, tag: { repo: "a" } } },
      /tag\.tag or tag\.digest/,
    ],
    [
      "POST",
      "/api/v1/registry/scan",
      { body: { onDemandScan: "yes please" } },
      /onDemandScan must be a boolean/,
    ],
    [
      "POST",
      "/api/v1/registry/scan",
      { body: { onDemandScan: true, tag: { repo: "nowhere/x", tag: "1" } } },
      /.+/,
    ],
    ["POST", "/api/v1/registry/scan/select", { body: [] }, /non-empty array/],
    ["POST", "/api/v1/registry/scan/select", { body: [{}] }, /\[0\]\.settings is required/],
    ["POST", "/api/v1/registry/scan/select", { body: { settings: {} } }, /body must be an array/],
    ["GET", "/api/v1/registry/progress?repo=a", {}, /repo may only be given with onDemand=true/],
    [
      "GET",
      "/api/v1/registry/progress?onDemand=false&registry=r&tag=t",
      {},
      /registry, tag may only be given/,
    ],
    ["GET", "/api/v1/registry/progress?onDemand=true&tag=t", {}, /needs repo/],
    ["GET", "/api/v1/registry/progress?onDemand=true&repo=a", {}, /needs tag or digest/],
    ["GET", "/api/v1/registry?limit=many", {}, /limit must be a non-negative integer/],
    ["GET", "/api/v1/registry?offset=-5", {}, /offset must be a non-negative integer/],
    ["GET", "/api/v1/registry?sort=colour", {}, /sort must be one of/],
    ["GET", "/api/v1/registry?compact=perhaps", {}, /compact must be true or false/],
    ["GET", "/api/v1/registry/names?reverse=sideways", {}, /reverse must be true or false/],
    ["GET", "/api/v1/registry/download?layers=2", {}, /layers must be true or false/],
  ];
  for (const [method, url, options, message] of cases) {
    const res = await call(method, url, { auth, ...options });
    assert.equal(res.status, 400, `${method} ${url} ${JSON.stringify(options)} ${res.text}`);
    const err = (res.json as { err?: string } | undefined)?.err;
    assert.equal(typeof err, "string", `${method} ${url}: ${res.text}`);
    assert.match(err as string, message, `${method} ${url}`);
  }
});

test("credentials: plain secrets are encrypted at rest, never returned, never logged; usages block deletion", async () => {
  const auth = await token("admin");
  const plain = "Sup3r-Secret-Registry-Password";
  const created = await call("POST", "/api/v1/credentials", {
    auth,
    body: {
      _id: "harbor-ro",
      type: "basic",
      accountID: "robot$scanner",
      secret: { plain },
      serviceAccount: {},
      caCert: "",
    },
  });
  assert.equal(created.status, 200);
  assert.equal(created.text, "");
  const list = await call("GET", "/api/v1/credentials", { auth });
  const [credential] = list.json as Record<string, unknown>[];
  assert.equal(credential?._id, "harbor-ro");
  assert.equal(credential?.owner, "admin");
  assert.equal((credential?.secret as { plain?: string } | undefined)?.plain, undefined);
  assert.match((credential?.secret as { encrypted?: string } | undefined)?.encrypted ?? "", /^v1:/);
  assert.equal(credential?.serviceAccount, undefined, "unknown keys dropped");
  assert.ok(!list.text.includes(plain));
  // Re-posting what GET returned (no plain) keeps the secret; created stays.
  assert.equal(
    (await call("POST", "/api/v1/credentials", { auth, body: { ...credential, description: "ro" } })).status,
    200,
  );
  const stored = await store.getCredential("harbor-ro");
  assert.equal(stored?.created, credential?.created);
  assert.equal(SecretBox.open(tmp, {}).openCredential(stored ?? { _id: "", type: "" }).secret?.plain, plain);

  const spec = {
    version: "2",
    registry: "127.0.0.1:1",
    repository: "library/alpine",
    credentialID: "harbor-ro",
  };
  assert.equal(
    (await call("POST", "/api/v1/settings/registry?scanLater=true", { auth, body: spec })).status,
    200,
  );
  const usages = await call("GET", "/api/v1/credentials/harbor-ro/usages", { auth });
  assert.deepEqual(usages.json, [{ type: "Registry Scan", description: "library/alpine" }]);
  const refused = await call("DELETE", "/api/v1/credentials/harbor-ro", { auth });
  assert.equal(refused.status, 400);
  assert.match((refused.json as { err: string }).err, /in use/);
  assert.equal(
    (await call("PUT", "/api/v1/settings/registry?scanLater=true", { auth, body: { specifications: [] } }))
      .status,
    200,
  );
  const deleted = await call("DELETE", "/api/v1/credentials/harbor-ro", { auth });
  assert.equal(deleted.status, 200);
  assert.equal(deleted.text, "");
  assert.equal((await call("DELETE", "/api/v1/credentials/harbor-ro", { auth })).status, 404);

  // WAL mode: the main file and its -wal beside it are both read.
  const files = await fs.readdir(tmp);
  for (const file of files.filter((f) => f.startsWith("console.db"))) {
    const bytes = await fs.readFile(path.join(tmp, file));
    assert.ok(!bytes.includes(plain), `${file} holds the plain secret`);
  }
  assert.ok(logLines.length > 0);
  assert.ok(!logLines.join("").includes(plain), "secret in the log");
  assert.ok(!logLines.join("").includes(PASSWORDS.admin), "password in the log");
});

test("registry settings: POST appends with ids, PUT replaces keeping echoed ids, scanLater lenient", async () => {
  const auth = basic("admin");
  assert.equal(
    (await call("PUT", "/api/v1/settings/registry?scanLater=true", { auth, body: { specifications: [] } }))
      .status,
    200,
  );
  for (const repository of ["library/alpine", "library/debian"]) {
    const res = await call("POST", "/api/v1/settings/registry?scanLater=true?limit=50", {
      auth,
      body: {
        version: "2",
        registry: "127.0.0.1:1",
        repository,
        cap: 5,
        scanners: 2,
        hostname: "legacy",
        credentialId: "",
      },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, "");
  }
  const got = await call("GET", "/api/v34.04/settings/registry", { auth });
  const settings = got.json as { specifications: Record<string, unknown>[]; webhookUrlSuffix: string };
  assert.deepEqual(
    settings.specifications.map((s) => s.repository),
    ["library/alpine", "library/debian"],
  );
  assert.equal(settings.webhookUrlSuffix, "/api/v1/registry/webhook/webhook");
  const [first, second] = settings.specifications;
  assert.match(String(first?.id), /^[0-9a-f]{24}$/);
  assert.notEqual(first?.id, second?.id);
  assert.equal(first?.hostname, undefined);
  assert.equal(first?.lastScanTime, "0001-01-01T00:00:00Z");
  await store.updateSpecStatus(String(first?.id), {
    lastScanStatus: "completed",
    scannedImagesSuccessTotal: 7,
  });
  const echoed = (await call("GET", "/api/v1/settings/registry", { auth })).json as typeof settings;
  const [echoFirst, echoSecond] = echoed.specifications;
  const put = await call("PUT", "/api/v1/settings/registry?scanLater=true", {
    auth,
    body: {
      specifications: [
        { ...echoSecond, cap: 2 },
        echoFirst,
        { version: "2", registry: "127.0.0.1:1", repository: "new" },
      ],
    },
  });
  assert.equal(put.status, 200, put.text);
  const after = ((await call("GET", "/api/v1/settings/registry", { auth })).json as typeof settings)
    .specifications;
  assert.deepEqual(
    after.map((s) => s.repository),
    ["library/debian", "library/alpine", "new"],
  );
  assert.equal(after[0]?.id, second?.id);
  assert.equal(after[0]?.cap, 2);
  assert.equal(after[1]?.id, first?.id);
  assert.equal(after[1]?.lastScanStatus, "completed");
  assert.equal(after[1]?.scannedImagesSuccessTotal, 7);
  assert.match(String(after[2]?.id), /^[0-9a-f]{24}$/);
  // An empty body removes everything (spec 3.3).
  assert.equal(
    (await call("PUT", "/api/v1/settings/registry?scanLater=true", { auth, raw: "" })).status,
    200,
  );
  assert.deepEqual(
    ((await call("GET", "/api/v1/settings/registry", { auth })).json as typeof settings).specifications,
    [],
  );
});

test("scan settings round trip; stop and progress answer when idle", async () => {
  const auth = basic("admin");
  const before = (await call("GET", "/api/v1/settings/scan", { auth })).json as Record<string, number>;
  assert.equal(before.registryScanPeriodMs, 86_400_000);
  const posted = await call("POST", "/api/v1/settings/scan", {
    auth,
    body: { registryScanPeriodMs: 604_800_000, imagesScanPeriodMs: 86_400_000, unknownField: 1 },
  });
  assert.equal(posted.status, 200, posted.text);
  const after = (await call("GET", "/api/v1/settings/scan", { auth })).json as Record<string, number>;
  assert.equal(after.registryScanPeriodMs, 604_800_000);
  assert.equal(after.registryScanRetentionDays, before.registryScanRetentionDays);
  assert.equal(
    (await call("POST", "/api/v1/settings/scan", { auth, body: { registryScanPeriodMs: 0 } })).status,
    200,
  );
  assert.equal((await call("POST", "/api/v1/registry/stop", { auth })).status, 200);
  assert.equal((await call("POST", "/api/v1/registry/stop/0123456789abcdef01234567", { auth })).status, 404);
  assert.deepEqual((await call("GET", "/api/v1/registry/progress", { auth })).json, []);
  assert.deepEqual(
    (await call("GET", "/api/v1/registry/progress?onDemand=true&repo=library/alpine&tag=3.19", { auth }))
      .json,
    [],
  );
  const status = (await call("GET", "/api/v1/statuses/registry", { auth })).json as Record<string, unknown>;
  assert.equal(status.scanning, false);
  const intelligence = (await call("GET", "/api/v1/statuses/intelligence", { auth })).json as Record<
    string,
    unknown
  >;
  assert.deepEqual(intelligence, { available: false, lastUpdate: "0001-01-01T00:00:00Z", sources: [] });
});

function resultRecord(i: number): ImageResultRecord {
  const repo = `team/app-${String(i).padStart(3, "0")}`;
  const scanTime = new Date(Date.UTC(2026, 0, 1, 0, i));
  const result = failedImageScanResult({
    repoTag: { registry: "127.0.0.1:5000", repo, tag: "1.0" },
    registryType: "2",
    collections: ["All"],
    hostname: "api-test",
    scanTime,
    firstScanTime: scanTime,
    scanId: 1,
    scanVersion: "0.1.0",
    error: "test result",
  });
  return {
    id: result._id,
    imageId: `sha256:${String(i).padStart(64, "0")}`,
    digest: `sha256:${String(i).padStart(64, "1")}`,
    registry: "127.0.0.1:5000",
    repository: repo,
    tag: "1.0",
    specId: "spec",
    scanTime: scanTime.toISOString(),
    firstScanTime: scanTime.toISOString(),
    vulnerabilityRiskScore: i % 7,
    vulnerabilitiesCount: 0,
    databaseBuiltAt: "",
    result: result as unknown as Record<string, unknown>,
  };
}

test("results: Total-Count, paging the way the Python SDK does, filters, search escapes, projections, CSV", async () => {
  const auth = await token("auditor");
  const total = 260;
  for (let i = 0; i < total; i++) await store.upsertResult(resultRecord(i));
  const seen: string[] = [];
  for (let offset = 0; ; offset += 50) {
    const page = await call("GET", `/api/v1/registry?filterBaseImage=true?limit=50&offset=${offset}`, {
      auth,
    });
    assert.equal(page.status, 200, page.text);
    assert.equal(page.headers.get("total-count"), String(total));
    seen.push(...(page.json as { _id: string }[]).map((r) => r._id));
    if (offset + 50 >= Number(page.headers.get("total-count"))) break;
  }
  assert.equal(seen.length, total);
  assert.equal(new Set(seen).size, total);
  assert.deepEqual(seen, [...seen].sort(), "default order is by name");
  const capped = await call("GET", "/api/v1/registry?limit=1000", { auth });
  assert.equal((capped.json as unknown[]).length, 250, "limit capped at 250");
  assert.equal(capped.headers.get("total-count"), String(total));

  const name = "127.0.0.1:5000/team/app-007:1.0";
  const cases: [string, string[]][] = [
    [`name=${encodeURIComponent(name)}`, [name]],
    [
      `id=${encodeURIComponent(name)},${encodeURIComponent("127.0.0.1:5000/team/app-008:1.0")}`,
      [name, "127.0.0.1:5000/team/app-008:1.0"],
    ],
    [
      `repository=team/app-009&repository=team/app-010`,
      ["127.0.0.1:5000/team/app-009:1.0", "127.0.0.1:5000/team/app-010:1.0"],
    ],
    [`imageID=sha256:${"0".repeat(61)}042`, ["127.0.0.1:5000/team/app-042:1.0"]],
    [
      `search=${encodeURIComponent("127\\.0\\.0\\.1%3A5000/team/APP-01")}&limit=3`,
      [0, 1, 2].map((d) => `127.0.0.1:5000/team/app-01${d}:1.0`),
    ],
    [
      `search=app-12&sort=repoTag.repo&reverse=true&limit=3`,
      [
        "127.0.0.1:5000/team/app-129:1.0",
        "127.0.0.1:5000/team/app-128:1.0",
        "127.0.0.1:5000/team/app-127:1.0",
      ],
    ],
    [`registry=elsewhere`, []],
    [`tag=2.0`, []],
  ];
  for (const [query, expected] of cases) {
    const res = await call("GET", `/api/v1/registry/names?${query}&project=Central+Console&collections=All`, {
      auth,
    });
    assert.equal(res.status, 200, `${query}: ${res.text}`);
    assert.deepEqual(res.json, expected, query);
  }
  const searched = await call("GET", "/api/v1/registry/names?search=app-12", { auth });
  assert.equal(searched.headers.get("total-count"), "10");

  const projected = await call(
    "GET",
    `/api/v1/registry?name=${encodeURIComponent(name)}&fields=repoTag.repo,labels&compact=true`,
    { auth },
  );
  assert.deepEqual(projected.json, [{ _id: name, repoTag: { repo: "team/app-007" }, labels: [] }]);
  const compact = (
    (await call("GET", `/api/v1/registry?name=${encodeURIComponent(name)}&compact=true?x`, { auth }))
      .json as Record<string, unknown>[]
  )[0];
  assert.equal(compact?.vulnerabilities, null);
  assert.equal(compact?._id, name);

  const csv = await call("GET", "/api/v1/registry/download?repository=team/app-001", { auth });
  assert.equal(csv.status, 200);
  assert.equal(csv.headers.get("content-type"), "text/csv", "the Python SDK decodes exactly text/csv");
  assert.ok(csv.text.startsWith("Registry,Repository,Tag,Id,Distro,"));
  assert.equal(csv.text.split("\r\n").filter((l) => l.startsWith("Registry,")).length, 1, "one header line");
});

test("webhook: push events for images outside every scope are accepted and do nothing", async () => {
  const dockerRegistry = {
    events: [
      {
        action: "push",
        target: {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          repository: "team/x",
          tag: "1",
          digest: "sha256:ab",
        },
        request: { host: "127.0.0.1:5999" },
      },
    ],
  };
  const hub = { push_data: { tag: "latest" }, repository: { repo_name: "alpine" } };
  for (const [body, contentType] of [
    [dockerRegistry, "application/vnd.docker.distribution.events.v1+json"],
    [hub, "application/json"],
    [{ unrelated: true }, "application/json"],
  ] as const) {
    const res = await call("POST", "/api/v1/registry/webhook/webhook", { body, contentType });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, "");
  }
  assert.equal((await call("DELETE", "/api/v1/registry/webhook/webhook")).status, 200);
});

test("the OpenAPI document lists the routes", async () => {
  const doc = (await call("GET", "/api/v1/openapi.json")).json as { paths: Record<string, unknown> };
  for (const route of [
    "/api/{apiVersion}/registry",
    "/api/{apiVersion}/settings/registry",
    "/api/v1/registry/webhook/webhook",
  ]) {
    assert.ok(Object.hasOwn(doc.paths, route), route);
  }
  assert.equal((await call("GET", "/docs")).status < 400, true);
});
