// Resilience of RegistryClient against a real docker-registry (anonymous, read-only on the seeded
// storage) behind the fault-injecting proxy: what can be recovered is recovered (retries, Retry-After,
// Range resumption, idle timeouts), what cannot fails with a typed error within a bounded time.
// Every test checks the outcome, the proxy's hits (attempts, Range headers) and the elapsed time.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import type { Descriptor } from "../src/image/manifest.js";
import { basicHeader } from "../src/registry/auth.js";
import { RegistryClient, type RegistryClientOptions } from "../src/registry/client.js";
import {
  DigestMismatchError,
  NetworkError,
  ProtocolError,
  RateLimitedError,
  RegistryError,
} from "../src/registry/errors.js";
import { type FaultProxy, type FaultRule, type Hit, startFaultProxy } from "./harness/fault-proxy.js";
import { type RunningRegistry, startRegistry } from "./harness/registry.js";
import { ensureSeededStorage, type SeedContents, seedContents } from "./harness/seed.js";

/** Fast retries, so that backoff alone never explains a wait of a second. */
const FAST = { baseDelayMs: 50, maxDelayMs: 2000 };
/**
 * undici's headers/body timers run on a coarse clock and fire up to ~1 s after the timeout; they
 * never fire early. Upper bounds below allow for that lateness plus scheduling noise.
 */
const TIMER_SLACK_MS = 1200;
/** Date.now() on the proxy and performance.now() in the test are different clocks. */
const CLOCK_SLACK_MS = 25;

const ALPINE_MANIFEST = /^\/v2\/alpine\/manifests\/3\.10\.3$/;

let storageDir: string;
let contents: SeedContents;
let registry: RunningRegistry;
let proxy: FaultProxy;
/** node-app:1.0 as resolved straight from the registry, before any fault. */
let nodeApp: { config: Descriptor; layers: Descriptor[] };
/** The largest node-app layer (tens of MB): big enough to span many chunks and socket buffers. */
let bigLayer: Descriptor;
const clients: RegistryClient[] = [];

before(
  async () => {
    storageDir = await ensureSeededStorage();
    contents = await seedContents();
    registry = await startRegistry({ storageDir, readOnly: true });
    proxy = await startFaultProxy(registry.url);
    const direct = new RegistryClient({ registry: registry.url, insecure: true });
    try {
      const image = await direct.resolveImage("node-app", "1.0");
      nodeApp = { config: image.manifest.config, layers: image.manifest.layers };
    } finally {
      await direct.close();
    }
    bigLayer = [...nodeApp.layers].sort((a, b) => b.size - a.size)[0] as Descriptor;
    assert.ok(bigLayer.size > 20 * 1024 * 1024, `largest node-app layer is only ${bigLayer.size} bytes`);
  },
  { timeout: 20 * 60_000 },
);

after(async () => {
  await proxy?.stop();
  await registry?.stop();
});

beforeEach(() => proxy.reset());
afterEach(closeClients);

/** A client on the proxy, with its own pool; closed after each test, so no socket outlives its test. */
function clientFor(options: Partial<RegistryClientOptions> = {}, target: FaultProxy = proxy): RegistryClient {
  const client = new RegistryClient({ registry: target.url, insecure: true, retry: FAST, ...options });
  clients.push(client);
  return client;
}

async function closeClients(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
}

function hitsOn(path: RegExp | string, target: FaultProxy = proxy): Hit[] {
  return target.hits.filter((h) => (typeof path === "string" ? h.path.includes(path) : path.test(h.path)));
}

const blobPath = (digest: string, repository = "node-app") => `/v2/${repository}/blobs/${digest}`;

const seededDigest = (repository: string, tag: string): string => {
  const image = contents.images.find((i) => i.repository === repository && i.tag === tag);
  assert.ok(image, `${repository}:${tag} is not seeded`);
  return image.digest;
};

/** Streams a blob through the client, hashing it: the digest and length of what the stream yielded. */
async function download(
  client: RegistryClient,
  descriptor: Descriptor,
  signal?: AbortSignal,
  onChunk?: (received: number) => void,
): Promise<{ digest: string; length: number }> {
  const hash = createHash("sha256");
  let length = 0;
  for await (const chunk of client.openBlob("node-app", descriptor, signal ? { signal } : {})) {
    hash.update(chunk as Buffer);
    length += (chunk as Buffer).length;
    onChunk?.(length);
  }
  return { digest: `sha256:${hash.digest("hex")}`, length };
}

/** Runs `fn`, returning what it threw (failing if it did not throw) and how long it took. */
async function failure(fn: () => Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    await fn();
  } catch (err) {
    return { err, ms: performance.now() - t0 };
  }
  assert.fail("expected the call to fail");
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

/** `bytes=N-` → N. */
function rangeStart(hit: Hit | undefined): number {
  const m = /^bytes=(\d+)-$/.exec(hit?.rangeHeader ?? "");
  assert.ok(m, `expected an open-ended Range header, got ${JSON.stringify(hit?.rangeHeader)}`);
  return Number(m[1]);
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail("condition not reached in time");
    await sleep(5);
  }
}

describe("retryable statuses", { timeout: 30_000 }, () => {
  test("500, then 503, then 200 on a manifest GET: the manifest, after 3 attempts", async () => {
    const manifestGet = { method: "GET", path: ALPINE_MANIFEST };
    proxy.rules.push(
      { match: manifestGet, times: 1, fault: { kind: "status", status: 500 } },
      { match: manifestGet, times: 1, fault: { kind: "status", status: 503 } },
    );
    const client = clientFor();
    await client.ping();
    const { value: manifest, ms } = await timed(() => client.getManifest("alpine", "3.10.3"));

    assert.equal(manifest.digest, seededDigest("alpine", "3.10.3"));
    const hits = hitsOn(ALPINE_MANIFEST);
    assert.deepEqual(
      hits.map((h) => [h.faulted, h.status]),
      [
        ["status", 500],
        ["status", 503],
        [null, 200],
      ],
    );
    // Backoff 50 ms then 100 ms (±20 % jitter): a real pause, but nowhere near a second.
    assert.ok((hits[1]?.at ?? 0) - (hits[0]?.at ?? 0) >= 40 - CLOCK_SLACK_MS);
    assert.ok((hits[2]?.at ?? 0) - (hits[1]?.at ?? 0) >= 80 - CLOCK_SLACK_MS);
    assert.ok(ms < 1500, `took ${ms} ms`);
  });

  test("persistent 503: ProtocolError 503 after exactly maxAttempts attempts", async () => {
    proxy.rules.push({
      match: { path: ALPINE_MANIFEST },
      fault: { kind: "status", status: 503, body: '{"errors":[{"code":"UNAVAILABLE","message":"down"}]}' },
    });
    const client = clientFor({ retry: { ...FAST, maxAttempts: 4 } });
    await client.ping();
    const { err, ms } = await failure(() => client.getManifest("alpine", "3.10.3"));

    assert.ok(err instanceof ProtocolError, String(err));
    assert.equal(err.status, 503);
    assert.equal(err.repository, "alpine");
    assert.equal(err.reference, "3.10.3");
    assert.match(err.message, /HTTP 503/);
    assert.match(err.message, /down/, "the registry's error body is reported");
    assert.equal(hitsOn(ALPINE_MANIFEST).length, 4);
    // Three backoffs: 50 + 100 + 200 ms, ±20 %.
    assert.ok(ms >= 280 - CLOCK_SLACK_MS && ms < 2000, `took ${ms} ms`);
  });

  test("429 with Retry-After: 1 once: waits about a second, then succeeds", async () => {
    proxy.rules.push({
      match: { path: ALPINE_MANIFEST },
      times: 1,
      fault: { kind: "status", status: 429, headers: { "retry-after": "1" } },
    });
    const client = clientFor();
    await client.ping();
    const { value: manifest, ms } = await timed(() => client.getManifest("alpine", "3.10.3"));

    assert.equal(manifest.digest, seededDigest("alpine", "3.10.3"));
    const hits = hitsOn(ALPINE_MANIFEST);
    assert.deepEqual(
      hits.map((h) => h.status),
      [429, 200],
    );
    const gap = (hits[1]?.at ?? 0) - (hits[0]?.at ?? 0);
    assert.ok(gap >= 1000 - CLOCK_SLACK_MS, `retried after ${gap} ms, not after Retry-After's 1 s`);
    assert.ok(ms < 2500, `took ${ms} ms`);
  });

  test("429 with an HTTP-date Retry-After: waits until that date", async () => {
    // HTTP-dates have whole seconds: name one that is exactly representable, 1–2 s from now.
    const until = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    proxy.rules.push({
      match: { path: ALPINE_MANIFEST },
      times: 1,
      fault: { kind: "status", status: 429, headers: { "retry-after": new Date(until).toUTCString() } },
    });
    const client = clientFor({ retry: { ...FAST, maxDelayMs: 5000 } });
    await client.ping();
    const { value: manifest } = await timed(() => client.getManifest("alpine", "3.10.3"));

    assert.equal(manifest.digest, seededDigest("alpine", "3.10.3"));
    const hits = hitsOn(ALPINE_MANIFEST);
    assert.deepEqual(
      hits.map((h) => h.status),
      [429, 200],
    );
    const retriedAt = hits[1]?.at ?? 0;
    assert.ok(retriedAt >= until - CLOCK_SLACK_MS, `retried ${until - retriedAt} ms before the date`);
    assert.ok(retriedAt < until + 1000, `retried ${retriedAt - until} ms after the date`);
  });

  test("persistent 429: RateLimitedError after maxAttempts attempts, carrying the last Retry-After", async () => {
    const limited = (retryAfter: string, times?: number): FaultRule => ({
      match: { path: ALPINE_MANIFEST },
      ...(times === undefined ? {} : { times }),
      fault: { kind: "status", status: 429, headers: { "retry-after": retryAfter } },
    });
    // Two quick refusals, then one asking for 7 s: the error tells the caller how long to stay away.
    proxy.rules.push(limited("0", 2), limited("7"));
    const client = clientFor({ retry: { ...FAST, maxAttempts: 3 } });
    await client.ping();
    const { err, ms } = await failure(() => client.getManifest("alpine", "3.10.3"));

    assert.ok(err instanceof RateLimitedError, String(err));
    assert.equal(err.status, 429);
    assert.equal(err.retryAfterMs, 7000);
    assert.match(err.message, /alpine:3\.10\.3/);
    assert.equal(hitsOn(ALPINE_MANIFEST).length, 3);
    assert.ok(ms < 1000, `took ${ms} ms`);
  });

  test("a 429 that ends a request (no tries left) still pauses the host for the next requests", async () => {
    proxy.rules.push({
      match: { path: ALPINE_MANIFEST },
      fault: { kind: "status", status: 429, headers: { "retry-after": "1" } },
    });
    const client = clientFor({ retry: { ...FAST, maxAttempts: 1 } });
    await client.ping();
    const { err } = await failure(() => client.getManifest("alpine", "3.10.3"));
    assert.ok(err instanceof RateLimitedError, String(err));
    const tags = await client.listTags("debian");

    assert.deepEqual(tags, contents.repositories.find((r) => r.name === "debian")?.tags);
    const limited = hitsOn(ALPINE_MANIFEST);
    assert.equal(limited.length, 1);
    const waited = (hitsOn(/\/tags\/list/)[0]?.at ?? 0) - (limited[0]?.at ?? 0);
    assert.ok(waited >= 1000 - CLOCK_SLACK_MS, `the next request went out ${waited} ms after the 429`);
    assert.ok(waited < 2000, `the next request waited ${waited} ms`);
  });

  test("Retry-After in the past is ignored, one beyond maxDelayMs is capped", async () => {
    proxy.rules.push(
      {
        match: { path: ALPINE_MANIFEST },
        times: 1,
        fault: { kind: "status", status: 503, headers: { "retry-after": new Date(0).toUTCString() } },
      },
      {
        match: { path: ALPINE_MANIFEST },
        times: 1,
        fault: { kind: "status", status: 429, headers: { "retry-after": "3600" } },
      },
    );
    const client = clientFor({ retry: { ...FAST, maxDelayMs: 400 } });
    await client.ping();
    const { value: manifest, ms } = await timed(() => client.getManifest("alpine", "3.10.3"));

    assert.equal(manifest.digest, seededDigest("alpine", "3.10.3"));
    const hits = hitsOn(ALPINE_MANIFEST);
    assert.deepEqual(
      hits.map((h) => h.status),
      [503, 429, 200],
    );
    const [first, second] = [1, 2].map((i) => (hits[i]?.at ?? 0) - (hits[i - 1]?.at ?? 0));
    assert.ok((first ?? 0) < 300, `a past date still made the client wait ${first} ms`);
    assert.ok((second ?? 0) >= 400 - CLOCK_SLACK_MS && (second ?? 0) < 1000, `waited ${second} ms`);
    assert.ok(ms < 1500, `took ${ms} ms`);
  });

  test("a 429's pause holds back every request to that host, not only the one that got it", async () => {
    proxy.rules.push({
      match: { path: ALPINE_MANIFEST },
      times: 1,
      fault: { kind: "status", status: 429, headers: { "retry-after": "1" } },
    });
    const client = clientFor();
    await client.ping();
    const manifest = client.getManifest("alpine", "3.10.3");
    await waitFor(() => hitsOn(ALPINE_MANIFEST).length === 1);
    await sleep(50); // the 429 has reached the client and set the host's pause
    // Started while the manifest request waits out its Retry-After, on other paths of the same host.
    const [tags, catalog] = await Promise.all([
      client.listTags("debian"),
      client.listRepositories({ pageSize: 1000 }),
    ]);

    assert.equal((await manifest).digest, seededDigest("alpine", "3.10.3"));
    assert.deepEqual(tags, contents.repositories.find((r) => r.name === "debian")?.tags);
    assert.equal(catalog.length, contents.repositories.length);
    const limited = hitsOn(ALPINE_MANIFEST)[0] as Hit;
    for (const path of [/\/tags\/list/, /\/_catalog/]) {
      const hits = hitsOn(path);
      assert.equal(hits.length, 1, `${path}: ${hits.length} hits`);
      const waited = (hits[0]?.at ?? 0) - limited.at;
      assert.ok(waited >= 1000 - CLOCK_SLACK_MS, `${path} went out ${waited} ms after the 429`);
    }
  });
});

describe("connection resets before any response", { timeout: 30_000 }, () => {
  test("on the ping, the catalog and the tags list: each retried once and answered", async () => {
    const once = (path: RegExp): FaultRule => ({ match: { path }, times: 1, fault: { kind: "reset" } });
    proxy.rules.push(once(/^\/v2\/$/), once(/^\/v2\/_catalog/), once(/^\/v2\/alpine\/tags\/list/));
    const client = clientFor();
    const { value, ms } = await timed(async () => ({
      ping: await client.ping(),
      repositories: await client.listRepositories({ pageSize: 1000 }),
      tags: await client.listTags("alpine"),
    }));

    assert.equal(value.ping.auth, "none");
    assert.deepEqual(
      value.repositories,
      contents.repositories.map((r) => r.name),
    );
    assert.deepEqual(value.tags, contents.repositories.find((r) => r.name === "alpine")?.tags);
    for (const path of [/^\/v2\/$/, /^\/v2\/_catalog/, /^\/v2\/alpine\/tags\/list/]) {
      assert.deepEqual(
        hitsOn(path).map((h) => [h.faulted, h.status]),
        [
          ["reset", undefined],
          [null, 200],
        ],
        String(path),
      );
    }
    assert.ok(ms < 2000, `took ${ms} ms`);
  });
});

describe("small bodies dropped mid-body", { timeout: 30_000 }, () => {
  test("a manifest truncated mid-body is fetched again and verified", async () => {
    proxy.rules.push({ match: { path: ALPINE_MANIFEST }, times: 1, fault: { kind: "truncate", bytes: 100 } });
    const client = clientFor();
    await client.ping();
    const { value: manifest, ms } = await timed(() => client.getManifest("alpine", "3.10.3"));

    assert.equal(manifest.digest, seededDigest("alpine", "3.10.3"));
    assert.deepEqual(
      hitsOn(ALPINE_MANIFEST).map((h) => [h.faulted, h.status]),
      [
        ["truncate", 200],
        [null, 200],
      ],
    );
    assert.ok(ms < 1000, `took ${ms} ms`);
  });

  test("a catalog page and a tags list truncated mid-body are fetched again", async () => {
    proxy.rules.push(
      { match: { path: /^\/v2\/_catalog/ }, times: 1, fault: { kind: "truncate", bytes: 500 } },
      { match: { path: /^\/v2\/debian\/tags\/list/ }, times: 1, fault: { kind: "reset-after", bytes: 10 } },
    );
    const client = clientFor();
    const { value, ms } = await timed(async () => ({
      repositories: await client.listRepositories({ pageSize: 1000 }),
      tags: await client.listTags("debian"),
    }));

    assert.deepEqual(
      value.repositories,
      contents.repositories.map((r) => r.name),
    );
    assert.deepEqual(value.tags, contents.repositories.find((r) => r.name === "debian")?.tags);
    assert.deepEqual(
      hitsOn(/^\/v2\/_catalog/).map((h) => [h.faulted, h.status]),
      [
        ["truncate", 200],
        [null, 200],
      ],
    );
    assert.deepEqual(
      hitsOn(/^\/v2\/debian\/tags\/list/).map((h) => [h.faulted, h.status]),
      [
        ["reset-after", 200],
        [null, 200],
      ],
    );
    assert.ok(ms < 1000, `took ${ms} ms`);
  });

  test("a catalog page dropped mid-body on every attempt: NetworkError after maxAttempts", async () => {
    proxy.rules.push({ match: { path: /^\/v2\/_catalog/ }, fault: { kind: "truncate", bytes: 500 } });
    const client = clientFor({ retry: { ...FAST, maxAttempts: 3 } });
    await client.ping();
    const { err, ms } = await failure(() => client.listRepositories({ pageSize: 1000 }));

    assert.ok(err instanceof NetworkError, String(err));
    assert.match(err.message, /listing repositories/);
    assert.equal(hitsOn(/^\/v2\/_catalog/).length, 3);
    assert.ok(ms < 1000, `took ${ms} ms`);
  });
});

describe("big blob: dropped connections resume with Range", { timeout: 40_000 }, () => {
  const layer = () => blobPath(bigLayer.digest);

  test("truncated once: exact bytes, the second attempt asks for the rest", async () => {
    const cut = 3 * 1024 * 1024 + 7;
    proxy.rules.push({ match: { path: layer() }, times: 1, fault: { kind: "truncate", bytes: cut } });
    const client = clientFor();
    const { value, ms } = await timed(() => download(client, bigLayer));

    assert.deepEqual(value, { digest: bigLayer.digest, length: bigLayer.size });
    const hits = hitsOn(layer());
    assert.deepEqual(
      hits.map((h) => [h.faulted, h.status, h.rangeHeader]),
      [
        ["truncate", 200, undefined],
        [null, 206, `bytes=${cut}-`],
      ],
    );
    assert.ok(ms < 10_000, `took ${ms} ms`);
  });

  test("truncated three times: every resumption starts where the last one stopped", async () => {
    const cut = 5 * 1024 * 1024;
    // Byte counts are per response, so each cut comes `cut` bytes after the previous one.
    proxy.rules.push({ match: { path: layer() }, times: 3, fault: { kind: "truncate", bytes: cut } });
    const client = clientFor();
    const { value, ms } = await timed(() => download(client, bigLayer));

    assert.deepEqual(value, { digest: bigLayer.digest, length: bigLayer.size });
    assert.deepEqual(
      hitsOn(layer()).map((h) => [h.faulted, h.status, h.rangeHeader]),
      [
        ["truncate", 200, undefined],
        ["truncate", 206, `bytes=${cut}-`],
        ["truncate", 206, `bytes=${2 * cut}-`],
        [null, 206, `bytes=${3 * cut}-`],
      ],
    );
    assert.ok(ms < 15_000, `took ${ms} ms`);
  });

  test("reset mid-body, once and then twice more: exact bytes, resumed from what arrived", async () => {
    const cut = 4 * 1024 * 1024;
    proxy.rules.push({ match: { path: layer() }, times: 3, fault: { kind: "reset-after", bytes: cut } });
    const client = clientFor();
    const { value, ms } = await timed(() => download(client, bigLayer));

    assert.deepEqual(value, { digest: bigLayer.digest, length: bigLayer.size });
    const hits = hitsOn(layer());
    assert.deepEqual(
      hits.map((h) => [h.faulted, h.status]),
      [
        ["reset-after", 200],
        ["reset-after", 206],
        ["reset-after", 206],
        [null, 206],
      ],
    );
    assert.equal(hits[0]?.rangeHeader, undefined);
    // An RST may discard bytes the client had not read yet, so a resumption starts at or before the
    // cut; it must start after the previous one (progress) and never skip bytes (≤ the total sent).
    let previous = 0;
    for (const [i, hit] of hits.slice(1).entries()) {
      const start = rangeStart(hit);
      assert.ok(start > previous && start <= previous + cut, `resumption ${i + 1} at ${start}`);
      previous = start;
    }
    assert.ok(ms < 15_000, `took ${ms} ms`);
  });

  test("more drops than maxBlobResumes: NetworkError naming the digest, after 1 + maxBlobResumes attempts", async () => {
    const cut = 256 * 1024;
    proxy.rules.push({ match: { path: layer() }, fault: { kind: "truncate", bytes: cut } });
    const client = clientFor({ maxBlobResumes: 2 });
    let received = 0;
    const { err, ms } = await failure(() =>
      download(client, bigLayer, undefined, (n) => {
        received = n;
      }),
    );

    assert.ok(err instanceof NetworkError, String(err));
    assert.ok(err.message.includes(bigLayer.digest), err.message);
    assert.equal(err.reference, bigLayer.digest);
    assert.equal(received, 3 * cut, "every byte sent was yielded once, none twice");
    assert.deepEqual(
      hitsOn(layer()).map((h) => h.rangeHeader),
      [undefined, `bytes=${cut}-`, `bytes=${2 * cut}-`],
    );
    assert.ok(ms < 2000, `took ${ms} ms`);
  });

  test("a corrupted byte: DigestMismatchError naming the expected digest, no retrying", async () => {
    proxy.rules.push({ match: { path: layer() }, fault: { kind: "corrupt", offset: 12_345_678 } });
    const client = clientFor();
    const { err, ms } = await failure(() => download(client, bigLayer));

    assert.ok(err instanceof DigestMismatchError, String(err));
    assert.equal(err.expected, bigLayer.digest);
    assert.ok(err.message.includes(`expected ${bigLayer.digest}`), err.message);
    assert.notEqual(err.actual, bigLayer.digest);
    // The bytes were what the server sent: fetching them again cannot help, so exactly one attempt.
    assert.deepEqual(
      hitsOn(layer()).map((h) => h.faulted),
      ["corrupt"],
    );
    assert.ok(ms < 10_000, `took ${ms} ms`);
  });
});

describe("stalls and idle timeouts", { timeout: 40_000 }, () => {
  const IDLE_MS = 1000;

  test("response headers stalled on the first attempt only: idle timeout, retry, success", async () => {
    proxy.rules.push({ match: { path: ALPINE_MANIFEST }, times: 1, fault: { kind: "stall" } });
    const client = clientFor({ idleTimeoutMs: IDLE_MS });
    await client.ping();
    const { value: manifest, ms } = await timed(() => client.getManifest("alpine", "3.10.3"));

    assert.equal(manifest.digest, seededDigest("alpine", "3.10.3"));
    assert.deepEqual(
      hitsOn(ALPINE_MANIFEST).map((h) => [h.faulted, h.status]),
      [
        ["stall", undefined],
        [null, 200],
      ],
    );
    assert.ok(ms >= IDLE_MS - CLOCK_SLACK_MS && ms < IDLE_MS + TIMER_SLACK_MS + 500, `took ${ms} ms`);
  });

  test("headers stalled on every attempt: NetworkError after maxAttempts idle timeouts", async () => {
    proxy.rules.push({ match: { path: ALPINE_MANIFEST }, fault: { kind: "stall" } });
    const client = clientFor({ idleTimeoutMs: IDLE_MS, retry: { ...FAST, maxAttempts: 3 } });
    await client.ping();
    const { err, ms } = await failure(() => client.getManifest("alpine", "3.10.3"));

    assert.ok(err instanceof NetworkError, String(err));
    assert.match(err.message, /timed out waiting for a response/);
    assert.equal(err.repository, "alpine");
    assert.equal(hitsOn(ALPINE_MANIFEST).length, 3);
    const min = 3 * IDLE_MS + 40 + 80;
    assert.ok(ms >= min - CLOCK_SLACK_MS && ms < min + 3 * TIMER_SLACK_MS, `took ${ms} ms`);
  });

  test("body stalled mid-blob: idle timeout, then resumed with Range", async () => {
    const cut = 2 * 1024 * 1024;
    proxy.rules.push({
      match: { path: blobPath(bigLayer.digest) },
      times: 1,
      fault: { kind: "stall", afterBytes: cut },
    });
    const client = clientFor({ idleTimeoutMs: IDLE_MS });
    const { value, ms } = await timed(() => download(client, bigLayer));

    assert.deepEqual(value, { digest: bigLayer.digest, length: bigLayer.size });
    assert.deepEqual(
      hitsOn(blobPath(bigLayer.digest)).map((h) => [h.faulted, h.status, h.rangeHeader]),
      [
        ["stall", 200, undefined],
        [null, 206, `bytes=${cut}-`],
      ],
    );
    assert.ok(ms >= IDLE_MS - CLOCK_SLACK_MS && ms < IDLE_MS + TIMER_SLACK_MS + 8000, `took ${ms} ms`);
  });
});

describe("cancellation", { timeout: 30_000 }, () => {
  test("aborting a blob download stalled mid-body ends it at once, with no further attempt", async () => {
    const cut = 1024 * 1024;
    proxy.rules.push({
      match: { path: blobPath(bigLayer.digest) },
      fault: { kind: "stall", afterBytes: cut },
    });
    // Long idle timeout: only the abort can end this download.
    const client = clientFor({ idleTimeoutMs: 30_000 });
    const scan = new AbortController();
    const reason = new Error("scan cancelled");
    let received = 0;
    const done = failure(() =>
      download(client, bigLayer, scan.signal, (n) => {
        received = n;
      }),
    );
    await waitFor(() => received === cut);
    await sleep(200); // stalled for a while
    const abortedAt = performance.now();
    scan.abort(reason);
    const { err } = await done;
    const afterAbort = performance.now() - abortedAt;

    assert.equal(err, reason);
    assert.ok(afterAbort < 200, `ended ${afterAbort} ms after the abort`);
    await sleep(300);
    assert.equal(hitsOn(blobPath(bigLayer.digest)).length, 1, "no retry after the abort");
  });

  test("aborting a blob download whose headers stall ends it at once", async () => {
    proxy.rules.push({ match: { path: blobPath(bigLayer.digest) }, fault: { kind: "stall" } });
    const client = clientFor({ idleTimeoutMs: 30_000 });
    await client.ping();
    const scan = new AbortController();
    const done = failure(() => download(client, bigLayer, scan.signal));
    await waitFor(() => hitsOn(blobPath(bigLayer.digest)).length === 1);
    await sleep(200);
    const abortedAt = performance.now();
    scan.abort();
    const { err } = await done;
    const afterAbort = performance.now() - abortedAt;

    assert.equal((err as Error).name, "AbortError");
    assert.ok(!(err instanceof RegistryError), "a cancellation is not reported as a registry failure");
    assert.ok(afterAbort < 200, `ended ${afterAbort} ms after the abort`);
    await sleep(300);
    assert.equal(hitsOn(blobPath(bigLayer.digest)).length, 1, "no retry after the abort");
  });
});

describe("blob redirect to another origin", { timeout: 40_000 }, () => {
  const users = { alice: "alice-pw" };
  let authed: RunningRegistry;
  let anonymous: RunningRegistry;
  let front: FaultProxy;
  let storage: FaultProxy;
  const basicClient = () =>
    clientFor({ credentials: { kind: "basic", username: "alice", password: users.alice } }, front);

  before(async () => {
    [authed, anonymous] = await Promise.all([
      startRegistry({ storageDir, readOnly: true, auth: { kind: "htpasswd", users } }),
      startRegistry({ storageDir, readOnly: true }),
    ]);
    // The "object store": same host name, another port, so another origin that must never see the
    // registry's credentials.
    storage = await startFaultProxy(anonymous.url);
    front = await startFaultProxy(authed.url);
  });
  after(async () => {
    await closeClients();
    await Promise.all([front?.stop(), storage?.stop()]);
    await Promise.all([authed?.stop(), anonymous?.stop()]);
  });
  beforeEach(() => {
    front.reset();
    storage.reset();
    storage.rules.push({
      match: { header: ["authorization", /./] },
      fault: { kind: "status", status: 400, body: "Authorization forwarded" },
    });
    // Every blob of node-app is answered with a 307 to the same path on the other origin.
    for (const { digest } of [nodeApp.config, ...nodeApp.layers]) {
      front.rules.push({
        match: { method: "GET", path: blobPath(digest) },
        fault: { kind: "status", status: 307, headers: { location: `${storage.url}${blobPath(digest)}` } },
      });
    }
  });

  test("the detector works: the storage proxy refuses a request that carries Authorization", async () => {
    const res = await request(`${storage.url}${blobPath(nodeApp.config.digest)}`, {
      headers: { authorization: basicHeader("alice", "alice-pw") },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(await res.body.text(), "Authorization forwarded");
  });

  test("Basic credentials go to the registry, not to the redirect target; the blobs arrive verified", async () => {
    const client = basicClient();
    const { value, ms } = await timed(async () => {
      const ping = await client.ping();
      const image = await client.resolveImage("node-app", "1.0"); // fetches the config blob too
      return { ping, image, layer: await download(client, bigLayer) };
    });

    assert.equal(value.ping.auth, "basic");
    assert.equal(value.image.manifest.config.digest, nodeApp.config.digest);
    assert.deepEqual(value.layer, { digest: bigLayer.digest, length: bigLayer.size });
    // The registry answered the manifest (it needs the credentials) and redirected both blobs.
    assert.deepEqual(
      front.hits.filter((h) => h.path.includes("/blobs/")).map((h) => [h.path, h.status]),
      [
        [blobPath(nodeApp.config.digest), 307],
        [blobPath(bigLayer.digest), 307],
      ],
    );
    assert.ok(front.hits.some((h) => /\/manifests\//.test(h.path) && h.status === 200));
    assert.deepEqual(
      storage.hits.map((h) => [h.path, h.faulted, h.status]),
      [
        [blobPath(nodeApp.config.digest), null, 200],
        [blobPath(bigLayer.digest), null, 200],
      ],
    );
    assert.ok(ms < 10_000, `took ${ms} ms`);
  });

  test("a download dropped at the redirect target resumes through the registry, still without Authorization", async () => {
    const cut = 6 * 1024 * 1024 + 1;
    storage.rules.push({
      match: { path: blobPath(bigLayer.digest) },
      times: 1,
      fault: { kind: "truncate", bytes: cut },
    });
    const client = basicClient();
    const { value, ms } = await timed(() => download(client, bigLayer));

    assert.deepEqual(value, { digest: bigLayer.digest, length: bigLayer.size });
    assert.deepEqual(
      front.hits.filter((h) => h.path.includes("/blobs/")).map((h) => [h.status, h.rangeHeader]),
      [
        [307, undefined],
        [307, `bytes=${cut}-`],
      ],
    );
    assert.deepEqual(
      storage.hits.map((h) => [h.faulted, h.status, h.rangeHeader]),
      [
        ["truncate", 200, undefined],
        [null, 206, `bytes=${cut}-`],
      ],
    );
    assert.ok(ms < 10_000, `took ${ms} ms`);
  });
});
