/**
 * The error contract of the real console (spec 1.3–1.5), over HTTPS against the bundled
 * `shipshape console`: every failure is `{"err": "<message>"}`; no or bad credentials and expired,
 * foreign or superseded tokens are 401; a role without the route's permission is 403 (before the
 * body is looked at); malformed bodies and parameters are 400 with a message naming the problem, on
 * every route that takes a body or parameters. Routes that take neither are listed too, with a check
 * that junk in their query string is ignored (spec 1.3: `?project=` on any route).
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fetch } from "undici";
import { TokenIssuer } from "../src/auth/tokens.js";
import { type RunningConsole, startConsole } from "./harness/console.js";
import { sharedMirrorDatabase } from "./harness/shipshape-cli.js";

const PASSWORD = "console-test-pw";
/** Role strings of spec 1.4: auditor reads everything and writes nothing; ci holds only `user`. */
const USERS = [
  { username: "audit", role: "auditor" },
  { username: "pipeline", role: "ci" },
];

let tmp: string;
let dataDir: string;
let consoleProcess: RunningConsole;
let adminToken: string;

before(
  async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-console-errors-"));
    dataDir = path.join(tmp, "console");
    const databasePath = await sharedMirrorDatabase();
    consoleProcess = await startConsole({
      dataDir,
      prebuiltDatabase: databasePath,
      adminPassword: PASSWORD,
    });
    adminToken = await login("admin", PASSWORD);
    for (const user of USERS) {
      const created = await call({
        method: "POST",
        url: "/api/v1/users",
        body: JSON.stringify({ ...user, password: PASSWORD }),
        authorization: bearer(adminToken),
      });
      assert.equal(created.status, 200, created.text);
    }
  },
  { timeout: 10 * 60_000 },
);

after(async () => {
  await consoleProcess?.stop();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

interface Answer {
  status: number;
  contentType: string;
  text: string;
  headers: Headers;
}

interface Call {
  method: string;
  url: string;
  /** Sent as is; a string is not JSON-encoded, so it can be malformed. */
  body?: string | undefined;
  contentType?: string | undefined;
  authorization?: string | undefined;
}

async function call({ method, url, body, contentType, authorization }: Call): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.authorization = authorization;
  if (body !== undefined || contentType !== undefined)
    headers["content-type"] = contentType ?? "application/json";
  const res = await fetch(`${consoleProcess.url}${url}`, {
    method,
    headers,
    body,
    dispatcher: consoleProcess.dispatcher,
  });
  return {
    status: res.status,
    contentType: res.headers.get("content-type") ?? "",
    text: await res.text(),
    headers: res.headers as unknown as Headers,
  };
}

async function login(username: string, password: string): Promise<string> {
  const res = await call({
    method: "POST",
    url: "/api/v1/authenticate",
    body: JSON.stringify({ username, password }),
  });
  assert.equal(res.status, 200, res.text);
  return (JSON.parse(res.text) as { token: string }).token;
}

const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
const bearer = (token: string) => `Bearer ${token}`;

/** The spec 1.5 error shape: JSON, exactly one field `err`, a message matching `message`. */
function assertError(res: Answer, status: number, message: RegExp): string {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.contentType, /^application\/json/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), ["err"], res.text);
  assert.equal(typeof body.err, "string");
  assert.match(body.err as string, message);
  return body.err as string;
}

describe("401: authentication", () => {
  test("no Authorization header on a protected route", async () => {
    const res = await call({ method: "GET", url: "/api/v1/registry" });
    assertError(res, 401, /authentication required/);
    assert.match(res.headers.get("www-authenticate") ?? "", /Bearer/);
  });

  test("an expired token (signed with the console's own key, 31 minutes ago)", async () => {
    const issuer = TokenIssuer.open(dataDir, { now: () => new Date(Date.now() - 31 * 60_000) });
    const token = await issuer.issue("admin");
    // The same key and a current clock accept it: only its age is wrong.
    const current = TokenIssuer.open(dataDir, { now: () => new Date(Date.now() - 29 * 60_000) });
    assert.equal((await current.verify(token)).username, "admin");
    assertError(
      await call({ method: "GET", url: "/api/v1/settings/registry", authorization: bearer(token) }),
      401,
      /^token expired$/,
    );
  });

  test("a token signed with another key, and a token that is no JWT", async () => {
    const foreign = await new TokenIssuer({ key: new Uint8Array(32).fill(7) }).issue("admin");
    for (const token of [foreign, "not-a-jwt"]) {
      assertError(
        await call({ method: "GET", url: "/api/v1/registry", authorization: bearer(token) }),
        401,
        /^invalid token$/,
      );
    }
  });

  test("a renewed token is superseded", async () => {
    const old = await login("admin", PASSWORD);
    const renewed = await call({
      method: "GET",
      url: "/api/v1/authenticate/renew",
      authorization: bearer(old),
    });
    assert.equal(renewed.status, 200, renewed.text);
    const fresh = (JSON.parse(renewed.text) as { token: string }).token;
    assertError(
      await call({ method: "GET", url: "/api/v1/version", authorization: bearer(old) }),
      401,
      /renewed/,
    );
    assert.equal(
      (await call({ method: "GET", url: "/api/v1/version", authorization: bearer(fresh) })).status,
      200,
    );
  });

  test("a wrong password on /authenticate and in Basic credentials; an unknown user", async () => {
    assertError(
      await call({
        method: "POST",
        url: "/api/v1/authenticate",
        body: JSON.stringify({ username: "admin", password: "wrong" }),
      }),
      401,
      /^invalid username or password$/,
    );
    assertError(
      await call({ method: "GET", url: "/api/v1/registry", authorization: basic("admin", "wrong") }),
      401,
      /^invalid username or password$/,
    );
    assertError(
      await call({ method: "GET", url: "/api/v1/registry", authorization: basic("nobody", PASSWORD) }),
      401,
      /^invalid username or password$/,
    );
  });

  test("malformed Authorization headers", async () => {
    assertError(
      await call({
        method: "GET",
        url: "/api/v1/registry",
        authorization: `Basic ${Buffer.from("no-colon").toString("base64")}`,
      }),
      401,
      /malformed Basic credentials/,
    );
    assertError(
      await call({ method: "GET", url: "/api/v1/registry", authorization: "Digest abc" }),
      401,
      /unsupported authorization scheme Digest/,
    );
  });
});

describe("403: a role without the route's permission", () => {
  const forbidden: { user: string; call: Call; message: RegExp }[] = [
    {
      user: "audit",
      call: { method: "POST", url: "/api/v1/registry/scan" },
      message: /^role auditor lacks read-write permission monitorImages$/,
    },
    {
      user: "audit",
      call: { method: "PUT", url: "/api/v1/settings/registry", body: '{"specifications": []}' },
      message: /^role auditor lacks read-write permission policyContainers$/,
    },
    {
      user: "audit",
      // Permission comes before validation: a malformed body from an auditor is still 403.
      call: { method: "POST", url: "/api/v1/credentials", body: "{" },
      message: /^role auditor lacks read-write permission manageCreds$/,
    },
    {
      user: "audit",
      call: { method: "POST", url: "/api/v1/settings/scan", body: "{}" },
      message: /^role auditor lacks read-write permission systemOperations$/,
    },
    {
      user: "pipeline",
      call: { method: "GET", url: "/api/v1/registry" },
      message: /^role ci lacks read permission monitorImages$/,
    },
    {
      user: "pipeline",
      call: { method: "GET", url: "/api/v1/credentials" },
      message: /^role ci lacks read permission manageCreds$/,
    },
    {
      user: "audit",
      call: { method: "GET", url: "/api/v1/users" },
      message: /^role auditor lacks read permission userManagement$/,
    },
  ];
  for (const { user, call: request, message } of forbidden) {
    test(`${user}: ${request.method} ${request.url}`, async () => {
      assertError(await call({ ...request, authorization: basic(user, PASSWORD) }), 403, message);
    });
  }

  test("what the auditor may do: read results and settings", async () => {
    const token = await login("audit", PASSWORD);
    for (const url of ["/api/v1/registry", "/api/v1/settings/registry", "/api/v1/credentials"]) {
      const res = await call({ method: "GET", url, authorization: bearer(token) });
      assert.equal(res.status, 200, `${url}: ${res.text}`);
    }
  });
});

interface Malformed {
  what: string;
  method: string;
  url: string;
  body?: string;
  contentType?: string;
  message: RegExp;
}

/** At least one malformed body or parameter per route that takes a body or parameters. */
const MALFORMED: Malformed[] = [
  // POST /authenticate (spec 2.1)
  {
    what: "unparsable JSON",
    method: "POST",
    url: "/api/v1/authenticate",
    body: '{"username": "admin",',
    message: /not valid JSON/,
  },
  {
    what: "an array",
    method: "POST",
    url: "/api/v1/authenticate",
    body: "[]",
    message: /body must be an object/,
  },
  // Scalars are coerced (docs/api-compatibility.md: "cap": "5" is 5), so a wrong type is an object.
  {
    what: "an object as username",
    method: "POST",
    url: "/api/v1/authenticate",
    body: '{"username": {"name": "admin"}, "password": "x"}',
    message: /body\.username must be a string/,
  },
  {
    what: "no password",
    method: "POST",
    url: "/api/v1/authenticate",
    body: '{"username": "admin"}',
    message: /username and password are required/,
  },
  {
    what: "no body",
    method: "POST",
    url: "/api/v1/authenticate",
    contentType: "application/json",
    message: /body must be an object/,
  },
  {
    what: "a form body",
    method: "POST",
    url: "/api/v1/authenticate",
    body: "username=admin&password=x",
    contentType: "application/x-www-form-urlencoded",
    message: /unsupported content type application\/x-www-form-urlencoded/,
  },
  // GET /authenticate/renew (2.3)
  {
    what: "Basic credentials instead of a token",
    method: "GET",
    url: "/api/v1/authenticate/renew",
    message: /renewal needs a Bearer token/,
  },
  // GET/POST/PUT /settings/registry (3.1–3.3)
  {
    what: "POST without a body",
    method: "POST",
    url: "/api/v1/settings/registry",
    contentType: "application/json",
    message: /body must be an object/,
  },
  {
    what: "POST of a list",
    method: "POST",
    url: "/api/v1/settings/registry",
    body: "[]",
    message: /body must be an object/,
  },
  {
    what: "POST with a list as registry",
    method: "POST",
    url: "/api/v1/settings/registry",
    body: '{"version": "2", "registry": ["a", "b"]}',
    message: /body\.registry must be a string/,
  },
  {
    what: "POST with a number as registry (no coercion of body types)",
    method: "POST",
    url: "/api/v1/settings/registry?scanLater=true",
    body: '{"version": "2", "registry": 5}',
    message: /body\.registry must be a string/,
  },
  {
    what: "POST with a string as cap",
    method: "POST",
    url: "/api/v1/settings/registry?scanLater=true",
    body: '{"version": "2", "registry": "127.0.0.1:5000", "cap": "5"}',
    message: /body\.cap must be a number/,
  },
  {
    what: "POST with a negative cap",
    method: "POST",
    url: "/api/v1/settings/registry?scanLater=true",
    body: '{"version": "2", "registry": "127.0.0.1:5000", "cap": -1}',
    message: /cap/,
  },
  {
    what: "POST with an unknown registry type",
    method: "POST",
    url: "/api/v1/settings/registry?scanLater=true",
    body: '{"version": "99", "registry": "127.0.0.1:5000"}',
    message: /99/,
  },
  {
    what: "POST with an unknown credential",
    method: "POST",
    url: "/api/v1/settings/registry?scanLater=true",
    body: '{"version": "2", "registry": "127.0.0.1:5000", "credentialID": "missing"}',
    message: /missing/,
  },
  {
    what: "POST with scanLater=maybe",
    method: "POST",
    url: "/api/v1/settings/registry?scanLater=maybe",
    body: '{"version": "2", "registry": "127.0.0.1:5000"}',
    message: /scanLater must be true or false/,
  },
  {
    what: "PUT with specifications not a list",
    method: "PUT",
    url: "/api/v1/settings/registry",
    body: '{"specifications": {}}',
    message: /body\.specifications must be an array/,
  },
  {
    what: "PUT with a string cap",
    method: "PUT",
    url: "/api/v1/settings/registry",
    body: '{"specifications": [{"version": "2", "registry": "127.0.0.1:5000", "cap": "five"}]}',
    message: /specifications\[0\]\.cap must be/,
  },
  {
    what: "PUT of unparsable JSON",
    method: "PUT",
    url: "/api/v1/settings/registry",
    body: '{"specifications": [',
    message: /not valid JSON/,
  },
  {
    what: "PUT with scanLater=later",
    method: "PUT",
    url: "/api/v1/settings/registry?scanLater=later",
    body: "{}",
    message: /scanLater must be true or false/,
  },
  // GET/POST /settings/scan (4.7)
  {
    what: "POST without a body",
    method: "POST",
    url: "/api/v1/settings/scan",
    contentType: "application/json",
    message: /body must be an object/,
  },
  {
    what: "POST with a period under an hour",
    method: "POST",
    url: "/api/v1/settings/scan",
    body: '{"registryScanPeriodMs": 5}',
    message: /registryScanPeriodMs must be 0 \(off\) or at least/,
  },
  {
    what: "POST with a string period",
    method: "POST",
    url: "/api/v1/settings/scan",
    body: '{"registryScanPeriodMs": "daily"}',
    message: /registryScanPeriodMs must be a number/,
  },
  {
    what: "POST with retention 0 days",
    method: "POST",
    url: "/api/v1/settings/scan",
    body: '{"registryScanRetentionDays": 0}',
    message: /registryScanRetentionDays must be an integer >= 1/,
  },
  // GET/POST /credentials, DELETE /credentials/{id} (3.5–3.7)
  {
    what: "GET with sort=password",
    method: "GET",
    url: "/api/v1/credentials?sort=password",
    message: /sort must be one of/,
  },
  {
    what: "GET with limit=ten",
    method: "GET",
    url: "/api/v1/credentials?limit=ten",
    message: /limit must be a non-negative integer, got "ten"/,
  },
  {
    what: "GET with cloud=perhaps",
    method: "GET",
    url: "/api/v1/credentials?cloud=perhaps",
    message: /cloud must be true or false/,
  },
  {
    what: "POST without _id",
    method: "POST",
    url: "/api/v1/credentials",
    body: '{"type": "basic"}',
    message: /body\._id is required/,
  },
  {
    what: "POST with an empty _id",
    method: "POST",
    url: "/api/v1/credentials",
    body: '{"_id": " ", "type": "basic"}',
    message: /_id must not be empty/,
  },
  {
    what: "POST with an unknown type",
    method: "POST",
    url: "/api/v1/credentials",
    body: '{"_id": "x", "type": "kerberos"}',
    message: /unknown credential type "kerberos"/,
  },
  {
    what: "POST with a string secret",
    method: "POST",
    url: "/api/v1/credentials",
    body: '{"_id": "x", "type": "basic", "secret": "pw"}',
    message: /body\.secret must be an object/,
  },
  {
    what: "POST without a body",
    method: "POST",
    url: "/api/v1/credentials",
    contentType: "application/json",
    message: /body must be an object/,
  },
  {
    what: "DELETE with unparsable JSON",
    method: "DELETE",
    url: "/api/v1/credentials/x",
    body: "{",
    message: /not valid JSON/,
  },
  // POST /registry/scan, /scan/select, /stop, /stop/{id}; GET /registry/progress (4.1–4.5)
  {
    what: "on demand without tag",
    method: "POST",
    url: "/api/v1/registry/scan",
    body: '{"onDemandScan": true}',
    message: /on-demand scan needs tag\.repo/,
  },
  {
    what: "on demand without tag or digest",
    method: "POST",
    url: "/api/v1/registry/scan",
    body: '{"onDemandScan": true, "tag": {"repo": "node-app"}}',
    message: /needs tag\.tag or tag\.digest/,
  },
  {
    what: "onDemandScan as a string",
    method: "POST",
    url: "/api/v1/registry/scan",
    body: '{"onDemandScan": "yes"}',
    message: /body\.onDemandScan must be a boolean/,
  },
  {
    what: "tag as a string",
    method: "POST",
    url: "/api/v1/registry/scan",
    body: '{"tag": "node-app:1.0"}',
    message: /body\.tag must be an object/,
  },
  {
    what: "a rescan without repo",
    method: "POST",
    url: "/api/v1/registry/scan",
    body: '{"tag": {"tag": "1.0"}}',
    message: /rescan needs tag\.repo/,
  },
  {
    what: "unparsable JSON",
    method: "POST",
    url: "/api/v1/registry/scan",
    body: "{onDemandScan: true}",
    message: /not valid JSON/,
  },
  {
    what: "select with an empty list",
    method: "POST",
    url: "/api/v1/registry/scan/select",
    body: "[]",
    message: /non-empty array/,
  },
  {
    what: "select with an object",
    method: "POST",
    url: "/api/v1/registry/scan/select",
    body: "{}",
    message: /body must be an array/,
  },
  {
    what: "select without settings",
    method: "POST",
    url: "/api/v1/registry/scan/select",
    body: "[{}]",
    message: /\[0\]\.settings is required/,
  },
  {
    what: "select with an object as version",
    method: "POST",
    url: "/api/v1/registry/scan/select",
    body: '[{"settings": {"version": {}}}]',
    message: /body\[0\]\.settings\.version must be a string/,
  },
  {
    what: "select of a specification not stored",
    method: "POST",
    url: "/api/v1/registry/scan/select",
    body: '[{"settings": {"version": "2", "registry": "127.0.0.1:9", "repository": "none"}}]',
    message: /registry specification 127\.0\.0\.1:9 none not found/,
  },
  {
    what: "select without a body",
    method: "POST",
    url: "/api/v1/registry/scan/select",
    contentType: "application/json",
    message: /^body must be a non-empty array of scan requests$/,
  },
  {
    what: "stop with unparsable JSON",
    method: "POST",
    url: "/api/v1/registry/stop",
    body: "{",
    message: /not valid JSON/,
  },
  {
    what: "stop one with unparsable JSON",
    method: "POST",
    url: "/api/v1/registry/stop/spec-1",
    body: "[",
    message: /not valid JSON/,
  },
  {
    what: "progress with onDemand but no repo",
    method: "GET",
    url: "/api/v1/registry/progress?onDemand=true",
    message: /onDemand=true needs repo/,
  },
  {
    what: "progress with onDemand but no tag",
    method: "GET",
    url: "/api/v1/registry/progress?onDemand=true&repo=node-app",
    message: /onDemand=true needs tag or digest/,
  },
  {
    what: "progress with repo but onDemand=false",
    method: "GET",
    url: "/api/v1/registry/progress?onDemand=false&repo=node-app&tag=1.0",
    message: /repo, tag may only be given with onDemand=true/,
  },
  {
    what: "progress with onDemand=perhaps",
    method: "GET",
    url: "/api/v1/registry/progress?onDemand=perhaps",
    message: /onDemand must be true or false/,
  },
  // GET /registry, /registry/names, /registry/download (5.1–5.3)
  {
    what: "limit=abc",
    method: "GET",
    url: "/api/v1/registry?limit=abc",
    message: /limit must be a non-negative integer, got "abc"/,
  },
  {
    what: "offset=-1",
    method: "GET",
    url: "/api/v1/registry?offset=-1",
    message: /offset must be a non-negative integer/,
  },
  {
    what: "sort=severity",
    method: "GET",
    url: "/api/v1/registry?sort=severity",
    message: /sort must be one of .*got "severity"/,
  },
  {
    what: "reverse=maybe",
    method: "GET",
    url: "/api/v1/registry?reverse=maybe",
    message: /reverse must be true or false/,
  },
  {
    what: "compact=yes",
    method: "GET",
    url: "/api/v1/registry?compact=yes",
    message: /compact must be true or false/,
  },
  {
    what: "names with limit=1.5",
    method: "GET",
    url: "/api/v1/registry/names?limit=1.5",
    message: /limit must be a non-negative integer/,
  },
  {
    what: "names with sort=size",
    method: "GET",
    url: "/api/v1/registry/names?sort=size",
    message: /sort must be one of/,
  },
  {
    what: "download with offset=x",
    method: "GET",
    url: "/api/v1/registry/download?offset=x",
    message: /offset must be a non-negative integer/,
  },
  {
    what: "download with layers=maybe",
    method: "GET",
    url: "/api/v1/registry/download?layers=maybe",
    message: /layers must be true or false/,
  },
  // GET/POST/PUT /users, DELETE /users/{username}, PUT /users/password (user management)
  {
    what: "a short password",
    method: "POST",
    url: "/api/v1/users",
    body: '{"username": "u1", "password": "short", "role": "auditor"}',
    message: /password must be at least 8 characters, got 5/,
  },
  {
    what: "an unknown role",
    method: "POST",
    url: "/api/v1/users",
    body: '{"username": "u1", "password": "long-enough", "role": "root"}',
    message: /unknown role "root"/,
  },
  {
    what: "no role",
    method: "POST",
    url: "/api/v1/users",
    body: '{"username": "u1", "password": "long-enough"}',
    message: /body\.role is required/,
  },
  {
    what: "a change without username",
    method: "PUT",
    url: "/api/v1/users",
    body: '{"role": "auditor"}',
    message: /body\.username is required/,
  },
  {
    what: "a change of nothing",
    method: "PUT",
    url: "/api/v1/users",
    body: '{"username": "audit"}',
    message: /nothing to change/,
  },
  {
    what: "a delete with unparsable JSON",
    method: "DELETE",
    url: "/api/v1/users/audit",
    body: "{",
    message: /not valid JSON/,
  },
  {
    what: "a password change without newPassword",
    method: "PUT",
    url: "/api/v1/users/password",
    body: '{"oldPassword": "console-test-pw"}',
    message: /body\.newPassword is required/,
  },
  // POST/DELETE /registry/webhook/webhook (3.9, no authentication)
  {
    what: "a push notification that does not parse",
    method: "POST",
    url: "/api/v1/registry/webhook/webhook",
    body: '{"events": [',
    contentType: "application/vnd.docker.distribution.events.v1+json",
    message: /not valid JSON/,
  },
  {
    what: "a webhook delete with unparsable JSON",
    method: "DELETE",
    url: "/api/v1/registry/webhook/webhook",
    body: "}",
    message: /not valid JSON/,
  },
];

/**
 * Routes that read neither a body (GET has none) nor a parameter: nothing can be malformed. Each
 * answers 200 with junk in its query string, which is ignored as `?project=` must be.
 */
const WITHOUT_INPUT = [
  "/api/v1/_ping",
  "/api/v1/version",
  "/api/v1/statuses/registry",
  "/api/v1/statuses/intelligence",
  "/api/v1/settings/registry",
  "/api/v1/settings/scan",
  "/api/v1/openapi.json",
  "/api/v1/users",
  "/api/v1/rbac/roles",
];

describe("400: malformed bodies and parameters", () => {
  for (const malformed of MALFORMED) {
    test(`${malformed.method} ${malformed.url.split("?")[0]}: ${malformed.what}`, async () => {
      const unauthenticated =
        malformed.url.endsWith("/webhook/webhook") || malformed.url.endsWith("/authenticate");
      const authorization = malformed.url.endsWith("/renew")
        ? basic("admin", PASSWORD)
        : unauthenticated
          ? undefined
          : bearer(adminToken);
      const res = await call({
        method: malformed.method,
        url: malformed.url,
        body: malformed.body,
        contentType: malformed.contentType,
        authorization,
      });
      const message = assertError(res, 400, malformed.message);
      assert.ok(message.length >= 10, `a message that says what is wrong: "${message}"`);
    });
  }

  test("every route the console serves is covered", async () => {
    const openapi = await call({ method: "GET", url: "/api/v1/openapi.json" });
    assert.equal(openapi.status, 200);
    const paths = JSON.parse(openapi.text).paths as Record<string, Record<string, unknown>>;
    const served = Object.entries(paths).flatMap(([route, methods]) =>
      Object.keys(methods).map(
        (method) => `${method.toUpperCase()} ${route.replace("/api/{apiVersion}", "/api/v1")}`,
      ),
    );
    // A route template matches a covered URL when its {params} match one path segment each.
    const covers = (template: string, method: string, url: string) => {
      const [templateMethod, templatePath = ""] = template.split(" ");
      const pattern = new RegExp(`^${templatePath.replace(/\{[^}]+\}/g, "[^/]+")}$`);
      return templateMethod === method && pattern.test(url.split("?")[0] ?? "");
    };
    const uncovered = served.filter(
      (route) =>
        !MALFORMED.some((m) => covers(route, m.method, m.url)) &&
        !WITHOUT_INPUT.some((url) => covers(route, "GET", url)) &&
        // Its only input is the id, and any id is well-formed: an unknown one is the 404 below.
        route !== "GET /api/v1/credentials/{id}/usages",
    );
    assert.deepEqual(uncovered, [], "routes with no malformed-input case");
  });

  for (const url of WITHOUT_INPUT) {
    test(`GET ${url} takes no input: junk in the query string is ignored`, async () => {
      const res = await call({
        method: "GET",
        url: `${url}?project=Central+Console&limit=abc`,
        authorization: bearer(adminToken),
      });
      assert.equal(res.status, 200, res.text);
    });
  }
});

describe("404: unknown entities, routes and API versions", () => {
  const cases: { call: Call; message: RegExp }[] = [
    {
      call: { method: "GET", url: "/api/v1/credentials/missing/usages" },
      message: /^credential missing not found$/,
    },
    {
      call: { method: "DELETE", url: "/api/v1/credentials/missing" },
      message: /^credential missing not found$/,
    },
    {
      call: { method: "POST", url: "/api/v1/registry/stop/no-such-spec" },
      message: /registry specification no-such-spec not found/,
    },
    {
      call: { method: "GET", url: "/api/v1/no-such-route" },
      message: /no route GET \/api\/v1\/no-such-route/,
    },
    { call: { method: "GET", url: "/api/v3/registry" }, message: /unknown API version v3/ },
  ];
  for (const { call: request, message } of cases) {
    test(`${request.method} ${request.url}`, async () => {
      assertError(await call({ ...request, authorization: bearer(adminToken) }), 404, message);
    });
  }
});
