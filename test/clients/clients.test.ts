/**
 * The client reproductions (docs/clients.md) against a recording stand-in Console on 127.0.0.1:
 * what each client puts on the wire — URLs, headers, bodies, order — and how it reacts to the
 * answers (paging by Total-Count, 429 retry, `{"err": …}` decoding, the one-shot progress rule).
 * The stand-in answers in the shapes of spec sections 2–5; it is not the shipshape Console, which
 * the end-to-end tests drive with these same clients.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import selfsigned from "selfsigned";
import { ProviderError, TerraformProviderClient } from "./terraform-provider.js";

const run = promisify(execFile);
const here = path.dirname(new URL(import.meta.url).pathname);
const USER = "admin";
const PASSWORD = "s3cret pass";
const TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.stand-in.token";

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** Per-test behaviour of the stand-in Console. */
interface ConsoleState {
  received: Received[];
  specifications: Record<string, unknown>[];
  credentials: Record<string, unknown>[];
  results: number;
  sendTotalCount: boolean;
  /** statuses/registry answers completed:false this many times after a scan request. */
  scanningPolls: number;
  /** Answer 429 to the next N requests on this path. */
  tooManyRequests: Map<string, number>;
  /** Next answer body on a PUT /settings/registry (the spec says empty). */
  putAnswer: string;
  /** One on-demand progress sequence: ongoing, done, then []. */
  progressCalls: number;
}

function freshState(): ConsoleState {
  return {
    received: [],
    specifications: [],
    credentials: [],
    results: 0,
    sendTotalCount: true,
    scanningPolls: 0,
    tooManyRequests: new Map(),
    putAnswer: "",
    progressCalls: 0,
  };
}

let state = freshState();

function resultId(n: number): string {
  return `127.0.0.1:5000/repo-${String(n).padStart(3, "0")}:latest`;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): true {
  const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined || typeof body === "string" ? {} : { "content-type": "application/json" }),
    ...headers,
  });
  res.end(text);
  return true;
}

function authorized(req: IncomingMessage): boolean {
  const header = req.headers.authorization ?? "";
  return (
    header === `Bearer ${TOKEN}` ||
    header === `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`
  );
}

function handle(req: IncomingMessage, res: ServerResponse, body: string): true {
  const url = new URL(req.url ?? "/", "https://console");
  const route = `${req.method} ${url.pathname}`;
  const pending = state.tooManyRequests.get(url.pathname) ?? 0;
  if (pending > 0) {
    state.tooManyRequests.set(url.pathname, pending - 1);
    return send(res, 429, { err: "rate limit" });
  }
  if (route === "POST /api/v1/authenticate") {
    const credentials = JSON.parse(body) as { username?: string; password?: string };
    return credentials.username === USER && credentials.password === PASSWORD
      ? send(res, 200, { token: TOKEN })
      : send(res, 401, { err: "invalid username or password" });
  }
  if (!authorized(req)) return send(res, 401, { err: "unauthorized" });
  switch (route) {
    case "GET /api/v1/settings/registry":
      return send(res, 200, {
        specifications: state.specifications,
        webhookUrlSuffix: "/api/v1/registry/webhook/webhook",
      });
    case "PUT /api/v1/settings/registry": {
      const settings = JSON.parse(body) as { specifications?: Record<string, unknown>[] };
      state.specifications = settings.specifications ?? [];
      return send(res, 200, state.putAnswer);
    }
    case "POST /api/v1/settings/registry":
      state.specifications.push({
        ...(JSON.parse(body) as object),
        id: `spec-${state.specifications.length + 1}`,
      });
      return send(res, 200, undefined);
    case "POST /api/v1/registry/scan":
      state.scanningPolls = 1;
      return send(res, 200, undefined);
    case "GET /api/v1/statuses/registry": {
      const scanning = state.scanningPolls > 0;
      state.scanningPolls = Math.max(0, state.scanningPolls - 1);
      return send(res, 200, { completed: !scanning, scanning, scanTime: "2026-01-02T03:04:05.678Z" });
    }
    case "GET /api/v1/statuses/intelligence":
      return send(res, 200, { lastUpdate: "2026-01-02T00:00:00Z" });
    case "GET /api/v1/registry/progress": {
      state.progressCalls += 1;
      const step = (scanned: number) => ({
        id: "",
        type: "",
        discovery: false,
        total: 1,
        scanned,
        title: "",
      });
      if (state.progressCalls === 1)
        return send(res, 200, [{ discovery: step(1), imageScan: step(0), isScanOngoing: true }]);
      if (state.progressCalls === 2)
        return send(res, 200, [{ discovery: step(1), imageScan: step(1), isScanOngoing: false }]);
      return send(res, 200, []);
    }
    case "GET /api/v1/registry": {
      const name = url.searchParams.get("name");
      if (name !== null) return send(res, 200, [{ _id: name }], { "Total-Count": "1" });
      // Spec 1.6: a missing or unparsable limit means 50.
      const limit = Number.parseInt(url.searchParams.get("limit") ?? "", 10) || 50;
      const offset = Number.parseInt(url.searchParams.get("offset") ?? "0", 10);
      const page = Array.from({ length: Math.max(0, Math.min(limit, state.results - offset)) }, (_, i) => ({
        _id: resultId(offset + i),
      }));
      return send(res, 200, page, state.sendTotalCount ? { "Total-Count": String(state.results) } : {});
    }
    case "GET /api/v1/registry/download":
      return send(res, 200, "Registry,Repository,Tag,Id\r\n", { "content-type": "text/csv" });
    case "GET /api/v1/credentials":
      return send(res, 200, state.credentials);
    case "POST /api/v1/credentials": {
      const credential = JSON.parse(body) as Record<string, unknown>;
      state.credentials = [
        ...state.credentials.filter((c) => c._id !== credential._id),
        { ...credential, secret: { encrypted: "x" } },
      ];
      return send(res, 200, undefined);
    }
  }
  if (req.method === "DELETE" && url.pathname.startsWith("/api/v1/credentials/")) {
    const name = decodeURIComponent(url.pathname.slice("/api/v1/credentials/".length));
    if (!state.credentials.some((c) => c._id === name))
      return send(res, 400, { err: `credential ${name} not found` });
    state.credentials = state.credentials.filter((c) => c._id !== name);
    return send(res, 200, undefined);
  }
  return send(res, 404, { err: `no route ${route}` });
}

let consoleHost = "";
const server = createServer();

before(async () => {
  const pems = await selfsigned.generate([{ name: "commonName", value: "127.0.0.1" }]);
  server.setSecureContext({ key: pems.private, cert: pems.cert });
  server.on("request", (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      state.received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      handle(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  consoleHost = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function runSdkFlow(extra: string[] = []) {
  return run(
    "python3",
    [
      path.join(here, "python", "sdk_flow.py"),
      "--url",
      `https://${consoleHost}`,
      "--identity",
      USER,
      "--secret",
      PASSWORD,
      "--verify",
      "false",
      "--poll-seconds",
      "0.05",
      "--timeout-seconds",
      "20",
      ...extra,
    ],
    { env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } },
  );
}

describe("Python SDK flow (prismacloud-api-python request layer)", () => {
  const pagingCases = [
    { results: 0, pages: 1 },
    { results: 50, pages: 1 },
    { results: 51, pages: 2 },
    { results: 120, pages: 3 },
  ];
  for (const { results, pages } of pagingCases) {
    test(`${results} results are read in ${pages} page(s) of the ?filterBaseImage=true?limit=50&offset=N form`, async () => {
      state = freshState();
      state.results = results;
      state.specifications = [{ id: "spec-1", version: "2", registry: "127.0.0.1:5000" }];
      const { stdout } = await runSdkFlow();
      const summary = JSON.parse(stdout);
      assert.equal(summary.registry.count, results);
      assert.equal(summary.registry.pages, pages);
      assert.deepEqual(
        summary.registry.ids,
        Array.from({ length: results }, (_, i) => resultId(i)),
      );
      assert.deepEqual(summary.specifications.ids, ["spec-1"]);
      assert.equal(summary.scan.sawIncomplete, true);
      const pageUrls = state.received.filter((r) => r.url.startsWith("/api/v1/registry?")).map((r) => r.url);
      assert.deepEqual(
        pageUrls,
        Array.from(
          { length: pages },
          (_, i) => `/api/v1/registry?filterBaseImage=true?limit=50&offset=${i * 50}`,
        ),
      );
    });
  }

  test("login body, headers, the order of calls and the bodyless scan POST", async () => {
    state = freshState();
    state.results = 1;
    await runSdkFlow();
    const [login, ...rest] = state.received;
    assert.equal(login?.method, "POST");
    assert.equal(login?.url, "/api/v1/authenticate");
    assert.equal(login?.body, `{"username": "${USER}", "password": "${PASSWORD}"}`);
    assert.equal(login?.headers.authorization, undefined);
    assert.equal(login?.headers["content-type"], "application/json");
    assert.match(login?.headers["user-agent"] ?? "", /^PrismaCloudAPI\//);
    for (const request of rest) assert.equal(request.headers.authorization, `Bearer ${TOKEN}`);
    assert.deepEqual(
      rest.map((r) => `${r.method} ${r.url.split("?")[0]}`),
      [
        "GET /api/v1/settings/registry",
        "GET /api/v1/statuses/registry",
        "POST /api/v1/registry/scan",
        "GET /api/v1/statuses/registry",
        "GET /api/v1/statuses/registry",
        "GET /api/v1/registry",
        "GET /api/v1/statuses/intelligence",
      ],
    );
    const scan = rest.find((r) => r.url === "/api/v1/registry/scan");
    assert.equal(scan?.body, "");
    assert.equal(scan?.headers["content-length"], "0");
    assert.equal(scan?.headers["content-type"], "application/json");
  });

  test("a scan body is sent as json.dumps renders it", async () => {
    state = freshState();
    await runSdkFlow([
      "--scan-body",
      '{"registry": "127.0.0.1:5000", "repository": "repo-000", "tag": null}',
    ]);
    const scan = state.received.find((r) => r.url === "/api/v1/registry/scan");
    assert.equal(scan?.body, '{"registry": "127.0.0.1:5000", "repository": "repo-000", "tag": null}');
  });

  test("without Total-Count the SDK yields the page as one element, which the driver reports as malformed", async () => {
    state = freshState();
    state.results = 3;
    state.sendTotalCount = false;
    await assert.rejects(runSdkFlow(), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr ?? "", /Total-Count/);
      return true;
    });
  });

  test("a wrong password ends the program with the SDK's status-code message", async () => {
    state = freshState();
    await assert.rejects(
      run(
        "python3",
        [
          path.join(here, "python", "sdk_flow.py"),
          "--url",
          consoleHost,
          "--identity",
          USER,
          "--secret",
          "wrong",
          "--verify",
          "false",
        ],
        { env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } },
      ),
      (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr ?? "", /Status Code: 401/);
        return true;
      },
    );
  });
});

describe("Terraform provider requests", () => {
  const connect = () =>
    TerraformProviderClient.connect({
      consoleUrl: `https://${consoleHost}`,
      username: USER,
      password: PASSWORD,
    });

  test("registry settings: create, read, update, delete are PUT/GET of the whole list", async () => {
    state = freshState();
    const client = await connect();
    try {
      const created = await client.createRegistrySetting([
        {
          type: "2",
          registry: "127.0.0.1:5000",
          repository: "library/*",
          os: "linux",
          cap: 5,
          scanners: 2,
          collections: ["All"],
        },
      ]);
      assert.equal(created.length, 1);
      assert.equal(created[0]?.registry, "127.0.0.1:5000");
      assert.equal(created[0]?.credentialID, "");
      await client.updateRegistrySetting([
        {
          type: "2",
          registry: "127.0.0.1:5000",
          repository: "a<b>&c",
          cap: 0,
          harbor_deployment_security: false,
        },
        { type: "2", registry: "127.0.0.1:5001", credential: "reader" },
      ]);
      await client.deleteRegistrySetting();
      assert.deepEqual(await client.readRegistrySettings(), []);
    } finally {
      await client.close();
    }
    assert.deepEqual(
      state.received.map((r) => [r.method, r.url, r.body]),
      [
        ["POST", "/api/v1/authenticate", `{"username":"${USER}","password":"${PASSWORD}"}`],
        [
          "PUT",
          "/api/v1/settings/registry",
          '{"specifications":[{"cap":5,"collections":["All"],"os":"linux","registry":"127.0.0.1:5000","repository":"library/*","scanners":2,"version":"2"}]}',
        ],
        ["GET", "/api/v1/settings/registry", ""],
        [
          "PUT",
          "/api/v1/settings/registry",
          '{"specifications":[{"registry":"127.0.0.1:5000","repository":"a\\u003cb\\u003e\\u0026c","version":"2"},{"credentialID":"reader","registry":"127.0.0.1:5001","version":"2"}]}',
        ],
        ["GET", "/api/v1/settings/registry", ""],
        ["PUT", "/api/v1/settings/registry", "{}"],
        ["GET", "/api/v1/settings/registry", ""],
      ],
    );
    const [login, put, get] = state.received;
    // Go sends "Authorization: Bearer " (empty JWT); HTTP parsers strip the trailing space.
    assert.equal(login?.headers.authorization, "Bearer");
    assert.equal(put?.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(put?.headers["user-agent"], "Go-http-client/1.1");
    assert.equal(get?.headers["content-type"], "application/json");
    assert.equal(get?.headers["content-length"], undefined);
  });

  test("credentials: POST the Go struct, read by listing, DELETE without body", async () => {
    state = freshState();
    const client = await connect();
    try {
      const read = await client.createCredential({
        name: "ci reader",
        type: "basic",
        account_id: "robot",
        secret: { plain: "pw" },
      });
      assert.equal(read._id, "ci reader");
      await client.deleteCredential("ci reader");
      await assert.rejects(client.readCredential("ci reader"), /credential 'ci reader' not found/);
      await assert.rejects(
        client.deleteCredential("ci reader"),
        /Non-OK status: 400 \(credential ci reader not found\)/,
      );
    } finally {
      await client.close();
    }
    const calls = state.received.slice(1).map((r) => [r.method, r.url, r.body, r.headers["content-length"]]);
    const credentialJson =
      '{"_id":"ci reader","accountID":"robot","apiToken":{},"secret":{"plain":"pw"},"type":"basic"}';
    assert.deepEqual(calls, [
      ["POST", "/api/v1/credentials", credentialJson, String(Buffer.byteLength(credentialJson))],
      ["GET", "/api/v1/credentials", "", undefined],
      ["DELETE", "/api/v1/credentials/ci%20reader", "", undefined],
      ["GET", "/api/v1/credentials", "", undefined],
      ["DELETE", "/api/v1/credentials/ci%20reader", "", undefined],
    ]);
  });

  test("a 429 is sent again after 3 s; a body on a PUT answer fails as json.Unmarshal(nil)", async () => {
    state = freshState();
    state.tooManyRequests.set("/api/v1/settings/registry", 1);
    const client = await connect();
    try {
      const started = Date.now();
      assert.deepEqual(await client.readRegistrySettings(), []);
      assert.ok(Date.now() - started >= 3000);
      state.putAnswer = "{}";
      await assert.rejects(client.deleteRegistrySetting(), (error: Error) => {
        assert.ok(error instanceof ProviderError);
        assert.equal(error.message, "error deleting registry: json: Unmarshal(nil)");
        return true;
      });
    } finally {
      await client.close();
    }
    assert.deepEqual(
      state.received.map((r) => `${r.method} ${r.url}`),
      [
        "POST /api/v1/authenticate",
        "GET /api/v1/settings/registry",
        "GET /api/v1/settings/registry",
        "PUT /api/v1/settings/registry",
      ],
    );
  });

  test("a project is sent as ?project= on every call, login included", async () => {
    state = freshState();
    const client = await TerraformProviderClient.connect({
      consoleUrl: `https://${consoleHost}`,
      username: USER,
      password: PASSWORD,
      project: "Central Console",
    });
    try {
      await client.readRegistrySettings();
    } finally {
      await client.close();
    }
    assert.deepEqual(
      state.received.map((r) => r.url),
      ["/api/v1/authenticate?project=Central+Console", "/api/v1/settings/registry?project=Central+Console"],
    );
  });

  test("a wrong password is the provider's configure error", async () => {
    state = freshState();
    await assert.rejects(
      TerraformProviderClient.connect({
        consoleUrl: `https://${consoleHost}`,
        username: USER,
        password: "wrong",
      }),
      /error creating API client: error POSTing to authenticate endpoint: Non-OK status: 401 \(invalid username or password\)/,
    );
  });
});

describe("curl workflow", () => {
  test("authenticate, add, scan on demand, poll to [], status, result, CSV — Basic and Bearer as documented", async () => {
    state = freshState();
    const out = await fs.mkdtemp(path.join(os.tmpdir(), "curl-workflow-"));
    try {
      await run(
        "bash",
        [
          path.join(here, "curl-workflow.sh"),
          `https://${consoleHost}`,
          USER,
          PASSWORD,
          "127.0.0.1:5000",
          "library/alpine",
          "3.16",
          out,
        ],
        {
          env: { ...process.env, POLL_SECONDS: "0.05", POLL_TIMEOUT_SECONDS: "20" },
        },
      );
      assert.equal((await fs.readFile(path.join(out, "progress-polls.txt"), "utf8")).trim(), "2");
      assert.deepEqual(JSON.parse(await fs.readFile(path.join(out, "progress-after.json"), "utf8")), []);
      assert.match(
        await fs.readFile(path.join(out, "registry_report.csv"), "utf8"),
        /^Registry,Repository,Tag,/,
      );
    } finally {
      await fs.rm(out, { recursive: true, force: true });
    }
    const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
    assert.deepEqual(
      state.received.map((r) => [
        r.method,
        r.url,
        r.headers.authorization === basic ? "basic" : r.headers.authorization ? "bearer" : "none",
      ]),
      [
        ["POST", "/api/v1/authenticate", "none"],
        ["POST", "/api/v1/settings/registry?scanLater=true", "basic"],
        ["GET", "/api/v1/settings/registry", "bearer"],
        ["POST", "/api/v1/registry/scan", "bearer"],
        ["GET", "/api/v1/registry/progress?onDemand=true&repo=library%2falpine&tag=3.16", "basic"],
        ["GET", "/api/v1/registry/progress?onDemand=true&repo=library%2falpine&tag=3.16", "basic"],
        ["GET", "/api/v1/registry/progress?onDemand=true&repo=library%2falpine&tag=3.16", "basic"],
        ["GET", "/api/v1/statuses/registry", "bearer"],
        ["GET", "/api/v1/registry?name=127.0.0.1%3a5000%2flibrary%2falpine%3a3.16", "basic"],
        ["GET", "/api/v1/registry/download", "basic"],
      ],
    );
    const scan = state.received.find((r) => r.url === "/api/v1/registry/scan");
    assert.deepEqual(JSON.parse(scan?.body ?? ""), {
      onDemandScan: true,
      tag: { registry: "127.0.0.1:5000", repo: "library/alpine", tag: "3.16" },
    });
  });
});
