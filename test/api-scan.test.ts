/**
 * The scan routes end to end over HTTPS: a real docker-registry serving the seeded storage, the
 * vulnerability database built from the mirror, the real orchestrator behind the API. On-demand scan
 * and its one-shot progress, the result under GET /registry?name=…, the CSV download, a regular scan
 * with /statuses/registry, and a webhook push starting a scan.
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
import { Orchestrator } from "../src/scan/orchestrator.js";
import { openConsoleStore } from "../src/store/console.js";
import type { ConsoleStore } from "../src/store/console-store.js";
import { VulnerabilityDatabase } from "../src/vulndb/database.js";
import { type RunningRegistry, startRegistry } from "./harness/registry.js";
import { ensureSeededStorage } from "./harness/seed.js";
import { sharedMirrorDatabase } from "./harness/shipshape-cli.js";

let tmp: string;
let registry: RunningRegistry;
let database: VulnerabilityDatabase;
let store: ConsoleStore;
let orchestrator: Orchestrator;
let app: Api;
let base: string;
let dispatcher: Agent;
const auth = `Basic ${Buffer.from("admin:scan-test-pw").toString("base64")}`;

before(
  async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-api-scan-"));
    const [storageDir, databasePath] = await Promise.all([ensureSeededStorage(), sharedMirrorDatabase()]);
    registry = await startRegistry({ storageDir, readOnly: true });
    database = VulnerabilityDatabase.open(databasePath);
    const opened = await openConsoleStore({ sqliteFile: path.join(tmp, "console.db") });
    store = opened.console;
    await store.putUser({
      username: "admin",
      role: "admin",
      passwordHash: await hashPassword("scan-test-pw"),
      createdAt: new Date().toISOString(),
    });
    orchestrator = new Orchestrator({
      store,
      cacheStore: opened.store,
      database: () => database,
      resolveCredential: async () => undefined,
      hostname: "api-scan-test",
      retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 },
    });
    await orchestrator.init();
    const tls = await loadTls({ dataDir: tmp });
    app = await buildServer(
      {
        store,
        scans: orchestrator,
        secrets: SecretBox.open(tmp, {}),
        tokens: TokenIssuer.open(tmp),
        limiter: new LoginLimiter(),
        database: () => database,
        reschedule: async () => {},
        version: "0.1.0",
      },
      { https: tls, logger: false },
    );
    await app.listen({ host: "127.0.0.1", port: 0 });
    const address = app.server.address();
    assert.ok(address && typeof address === "object");
    base = `https://127.0.0.1:${address.port}`;
    dispatcher = new Agent({ connect: { ca: tls.cert } });
  },
  { timeout: 20 * 60_000 },
);

after(async () => {
  await app?.close();
  await orchestrator?.close();
  await store?.close();
  database?.close();
  await dispatcher?.close();
  await registry?.stop();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

async function call(method: string, url: string, body?: unknown, contentType = "application/json") {
  const headers: Record<string, string> = { authorization: auth };
  if (body !== undefined) headers["content-type"] = contentType;
  const res = await fetch(`${base}${url}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    dispatcher,
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    json: text && res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : undefined,
    headers: res.headers,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface ProgressElement {
  isScanOngoing: boolean;
  discovery: { title: string; total: number; scanned: number };
  imageScan: { title: string; total: number; scanned: number };
}

test("on-demand scan through the API: one-shot progress, the result by name, CSV rows", {
  timeout: 5 * 60_000,
}, async () => {
  const saved = await call("POST", "/api/v1/settings/registry?scanLater=true", {
    version: "2",
    registry: `http://${registry.host}`,
    repository: "node-app",
    tag: "1.0",
    cap: 1,
    scanners: 1,
  });
  assert.equal(saved.status, 200, saved.text);
  const outside = await call("POST", "/api/v34.04/registry/scan", {
    onDemandScan: true,
    tag: { registry: registry.host, repo: "debian", tag: "bookworm" },
  });
  assert.equal(outside.status, 400);
  assert.match(outside.json.err, /not in the scope/);

  const started = await call("POST", "/api/v34.04/registry/scan", {
    onDemandScan: true,
    tag: { registry: registry.host, repo: "node-app", tag: "1.0" },
  });
  assert.equal(started.status, 200, started.text);
  assert.equal(started.text, "");
  const progressUrl = `/api/v1/registry/progress?onDemand=true&registry=${registry.host}&repo=node-app&tag=1.0`;
  const final = await until("the final on-demand progress", async () => {
    const res = await call("GET", progressUrl);
    assert.equal(res.status, 200, res.text);
    const [element] = res.json as ProgressElement[];
    return element && !element.isScanOngoing ? element : undefined;
  });
  assert.equal(final.imageScan.title, "Step 2/2 scanning images in repository: node-app, tag: 1.0");
  assert.deepEqual([final.imageScan.total, final.imageScan.scanned], [1, 1]);
  assert.deepEqual((await call("GET", progressUrl)).json, [], "final progress is answered once");

  const name = `${registry.host}/node-app:1.0`;
  const results = await call(
    "GET",
    `/api/v1/registry?name=${encodeURIComponent(name)}&normalizedSeverity=true`,
  );
  assert.equal(results.headers.get("total-count"), "1");
  const [result] = results.json as {
    _id: string;
    id: string;
    repoDigests: string[];
    creationTime: string;
    isARM64: boolean;
    image: { id?: string };
    history: { sizeBytes?: number; emptyLayer: boolean }[];
    vulnerabilitiesCount: number;
    vulnerabilities: { severity: string }[];
  }[];
  assert.equal(result?._id, name);
  assert.ok((result?.vulnerabilitiesCount ?? 0) > 0, "the testbed node-app image has known vulnerabilities");
  for (const v of result?.vulnerabilities ?? [])
    assert.ok(["low", "medium", "high", "critical"].includes(v.severity), v.severity);

  // The image's identity as the registry itself gives it, read here without shipshape's client.
  const manifestResponse = await fetch(`http://${registry.host}/v2/node-app/manifests/1.0`, {
    headers: {
      accept:
        "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
    },
  });
  assert.equal(manifestResponse.status, 200);
  const manifestDigest = manifestResponse.headers.get("docker-content-digest");
  const manifest = (await manifestResponse.json()) as {
    config: { digest: string };
    layers: { size: number }[];
  };
  const configResponse = await fetch(`http://${registry.host}/v2/node-app/blobs/${manifest.config.digest}`);
  assert.equal(configResponse.status, 200);
  const config = (await configResponse.json()) as { architecture: string; created: string };
  assert.match(manifest.config.digest, /^sha256:[0-9a-f]{64}$/);
  assert.notEqual(manifest.config.digest, manifestDigest, "the image id is not the manifest digest");
  assert.equal(result?.id, manifest.config.digest, "the result id is the config blob digest");
  assert.equal(result?.image.id, manifest.config.digest);
  assert.deepEqual(result?.repoDigests, [`${registry.host}/node-app@${manifestDigest}`]);
  assert.equal(Date.parse(result?.creationTime ?? ""), Date.parse(config.created));
  assert.equal(result?.isARM64, config.architecture === "arm64");
  assert.deepEqual(
    result?.history.filter((h) => !h.emptyLayer).map((h) => h.sizeBytes),
    manifest.layers.map((l) => l.size),
    "each history line that made a layer carries that layer's size",
  );
  const byImageId = await call(
    "GET",
    `/api/v1/registry?imageID=${encodeURIComponent(manifest.config.digest)}`,
  );
  assert.deepEqual(
    (byImageId.json as { _id: string }[]).map((r) => r._id),
    [name],
    "the imageID filter finds it by the config digest",
  );

  const csv = await call("GET", "/api/v1/registry/download?repository=node-app");
  assert.equal(csv.status, 200);
  const rows = csv.text.split("\r\n").filter((l) => l !== "");
  assert.equal(rows.length, 1 + (result?.vulnerabilitiesCount ?? 0), "header plus one row per vulnerability");
  assert.ok(rows.slice(1).every((row) => row.startsWith(`${registry.host},node-app,1.0,`)));
});

test("regular scan through the API: statuses/registry goes from scanning to completed", {
  timeout: 5 * 60_000,
}, async () => {
  assert.equal((await call("POST", "/api/v1/registry/scan")).status, 200);
  const status = await until("the regular scan to complete", async () => {
    const res = await call("GET", "/api/v1/statuses/registry");
    return res.json.completed && !res.json.scanning ? res.json : undefined;
  });
  assert.deepEqual(status.errors, []);
  const [spec] = (await call("GET", "/api/v1/settings/registry")).json.specifications;
  assert.equal(spec.lastScanStatus, "completed");
  assert.deepEqual((await call("GET", "/api/v1/registry/progress")).json, []);
});

test("a Docker Registry push notification for an image in scope starts an on-demand scan", {
  timeout: 5 * 60_000,
}, async () => {
  const event = {
    events: [
      {
        action: "push",
        target: {
          mediaType: "application/vnd.docker.distribution.manifest.v2+json",
          repository: "node-app",
          tag: "1.0",
          url: `http://${registry.host}/v2/node-app/manifests/1.0`,
        },
        request: { host: registry.host },
      },
    ],
  };
  const res = await call(
    "POST",
    "/api/v1/registry/webhook/webhook",
    event,
    "application/vnd.docker.distribution.events.v1+json",
  );
  assert.equal(res.status, 200, res.text);
  const progressUrl = `/api/v1/registry/progress?onDemand=true&registry=${registry.host}&repo=node-app&tag=1.0`;
  const seen = await until("the webhook's on-demand scan", async () => {
    const [element] = (await call("GET", progressUrl)).json as ProgressElement[];
    return element && !element.isScanOngoing ? element : undefined;
  });
  assert.equal(seen.imageScan.scanned, 1);
});
