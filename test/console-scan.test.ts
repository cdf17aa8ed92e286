/**
 * Registry-wide scans end to end against the real console: `shipshape console` as a child process
 * (test/harness/console.ts) over HTTPS with its own data directory, scanning the seeded storage
 * served by a real docker-registry on 127.0.0.1 through the fault proxy, which records every request
 * (blob GETs per digest) and slows or breaks chosen ones so a scan can be watched, stopped and killed
 * at a known point rather than by timing luck.
 *
 * Expected selections come from the seed's own listing (seedContents) and the testbed layout's
 * manifests and configs, selected with regular expressions written here, never with shipshape's
 * pattern or tag-selection code.
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fetch } from "undici";
import { type RunningConsole, startConsole } from "./harness/console.js";
import { type FaultProxy, type FaultRule, startFaultProxy } from "./harness/fault-proxy.js";
import { readLayoutImage } from "./harness/image-kit.js";
import { type RunningRegistry, startRegistry } from "./harness/registry.js";
import { ensureSeededStorage, type SeedContents, seedContents } from "./harness/seed.js";
import { sharedMirrorDatabase } from "./harness/shipshape-cli.js";
import { ensureTestbedLayout } from "./harness/testbed.js";

const ADMIN = `Basic ${Buffer.from("admin:console-test-pw").toString("base64")}`;
const INTERRUPTED = "Registry scan was interrupted by a console restart";

let tmp: string;
let databasePath: string;
let registry: RunningRegistry;
let authRegistry: RunningRegistry;
let seed: SeedContents;
let layout: string;
const proxies: FaultProxy[] = [];
const consoles: RunningConsole[] = [];

before(
  async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-console-scan-"));
    const settled = await Promise.allSettled([ensureSeededStorage(), sharedMirrorDatabase()]);
    for (const s of settled) if (s.status === "rejected") throw s.reason;
    databasePath = (settled[1] as PromiseFulfilledResult<string>).value;
    const storageDir = (settled[0] as PromiseFulfilledResult<string>).value;
    registry = await startRegistry({ storageDir, readOnly: true });
    authRegistry = await startRegistry({
      storageDir,
      readOnly: true,
      auth: { kind: "htpasswd", users: { scanner: "right-password" } },
    });
    seed = await seedContents();
    layout = await ensureTestbedLayout();
  },
  { timeout: 20 * 60_000 },
);

after(async () => {
  for (const c of consoles) await c.kill().catch(() => {});
  for (const p of proxies) await p.stop().catch(() => {});
  await registry?.stop();
  await authRegistry?.stop();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

// --- the console and its API ---------------------------------------------------------------------

async function launch(dataDir: string): Promise<RunningConsole> {
  const running = await startConsole({ dataDir, prebuiltDatabase: databasePath });
  consoles.push(running);
  return running;
}

async function proxyTo(upstream: RunningRegistry): Promise<FaultProxy> {
  const proxy = await startFaultProxy(upstream.url);
  proxies.push(proxy);
  return proxy;
}

interface Answer {
  status: number;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked field by field
  json: any;
  headers: Headers;
}

async function call(c: RunningConsole, method: string, url: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = { authorization: ADMIN };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${c.url}${url}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    dispatcher: c.dispatcher,
  });
  const text = await res.text();
  const json = text && res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : undefined;
  return { status: res.status, text, json, headers: res.headers as unknown as Headers };
}

async function ok(c: RunningConsole, method: string, url: string, body?: unknown): Promise<Answer> {
  const answer = await call(c, method, url, body);
  assert.equal(answer.status, 200, `${method} ${url}: ${answer.text}`);
  return answer;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 150_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface ScanStatus {
  completed: boolean;
  scanning: boolean;
  scanTime: string;
  errors: string[];
  hostname: string;
  selective: boolean;
}

const status = async (c: RunningConsole): Promise<ScanStatus> =>
  (await ok(c, "GET", "/api/v1/statuses/registry")).json;

const scanEnded = (c: RunningConsole) =>
  until("the regular scan to end", async () => {
    const s = await status(c);
    return s.scanning ? undefined : s;
  });

interface StoredSpecView {
  id: string;
  repository: string;
  scanStatus: string;
  lastScanStatus: string;
  lastScanTime: string;
  scanError?: string;
  scannedImagesSuccessTotal?: number;
  credentialID?: string;
}

async function specs(c: RunningConsole): Promise<StoredSpecView[]> {
  return (await ok(c, "GET", "/api/v1/settings/registry")).json.specifications;
}

interface ResultView {
  _id: string;
  id: string;
  err: string;
  scanTime: string;
  firstScanTime: string;
  repoTag: { registry: string; repo: string; tag: string };
  repoDigests: string[];
  osDistro: string;
  packages: { pkgs: unknown[] }[] | null;
  vulnerabilities: unknown[] | null;
  vulnerabilitiesCount: number;
}

async function results(c: RunningConsole): Promise<ResultView[]> {
  const answer = await ok(c, "GET", "/api/v1/registry?limit=250");
  const list = answer.json as ResultView[];
  assert.equal(answer.headers.get("total-count"), String(list.length), "all results fit one page");
  return list;
}

// --- the oracle: what a selection is, from the seed and the layout -------------------------------

interface ExpectedImage {
  key: string;
  repository: string;
  tag: string;
  /** Manifest digest, config digest (the result's `id`) and layer digests, from the layout. */
  digest: string;
  configDigest: string;
  layers: string[];
  /** Odd teams are built on alpine, even ones on debian (testbed README); alpine is alpine. */
  osDistro: string;
}

/**
 * Per selected repository, the `cap` newest tags by the layout config's `created` (ties by tag
 * name, descending), keyed as results are: `<registry host>/<repo>:<tag>`.
 */
async function expectedImages(
  host: string,
  repository: RegExp,
  tag: RegExp,
  cap: number,
): Promise<Map<string, ExpectedImage>> {
  const expected = new Map<string, ExpectedImage>();
  for (const repo of seed.repositories.filter((r) => repository.test(r.name))) {
    const dated = await Promise.all(
      repo.tags
        .filter((t) => tag.test(t))
        .map(async (t) => ({ tag: t, image: await readLayoutImage(layout, `${repo.name}--${t}`) })),
    );
    dated.sort(
      (x, y) =>
        Date.parse(String(y.image.config.created)) - Date.parse(String(x.image.config.created)) ||
        (x.tag < y.tag ? 1 : -1),
    );
    for (const { tag: t, image } of dated.slice(0, cap)) {
      const team = Number(/^team-(\d+)\//.exec(repo.name)?.[1]);
      expected.set(`${host}/${repo.name}:${t}`, {
        key: `${host}/${repo.name}:${t}`,
        repository: repo.name,
        tag: t,
        digest: image.descriptor.digest,
        configDigest: image.manifest.config.digest,
        layers: image.manifest.layers.map((l) => l.digest),
        osDistro: repo.name === "alpine" || team % 2 === 1 ? "alpine" : "debian",
      });
    }
  }
  return expected;
}

/** A stored result has the full shape of a scanned image, matching the layout's image. */
function assertFullResult(result: ResultView, image: ExpectedImage | undefined, host: string): void {
  assert.ok(image, `${result._id} is an image the settings select`);
  assert.equal(result.err, "", result._id);
  assert.deepEqual(result.repoTag, { registry: host, repo: image.repository, tag: image.tag });
  assert.equal(result.id, image.configDigest, `${result._id} image id`);
  assert.deepEqual(result.repoDigests, [`${host}/${image.repository}@${image.digest}`]);
  assert.equal(result.osDistro, image.osDistro, result._id);
  assert.ok(Array.isArray(result.packages) && result.packages.length > 0, `${result._id} has packages`);
  assert.equal(result.vulnerabilitiesCount, result.vulnerabilities?.length ?? 0, result._id);
  assert.ok(Date.parse(result.scanTime) >= Date.parse(result.firstScanTime), result._id);
}

const regexLiteral = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Matches GETs of any of these blobs (layers, not configs) through any repository. */
const blobsOf = (digests: Iterable<string>) =>
  new RegExp(`/blobs/(?:${[...digests].map(regexLiteral).join("|")})$`);

function blobGets(proxy: FaultProxy, digest: string, since = 0): number {
  const suffix = `/blobs/${digest}`;
  return proxy.hits.filter((h) => h.at >= since && h.method === "GET" && h.path.endsWith(suffix)).length;
}

const allLayers = (images: Iterable<ExpectedImage>) => new Set([...images].flatMap((i) => i.layers));

// --- progress ------------------------------------------------------------------------------------

interface ProgressStep {
  id: string;
  type: string;
  discovery: boolean;
  total: number;
  scanned: number;
  title: string;
}

interface ProgressElement {
  discovery: ProgressStep;
  imageScan: ProgressStep;
  isScanOngoing: boolean;
  specScanStartTime: string;
}

/**
 * Polls GET /registry/progress until the regular scan has ended, checking every answer against the
 * spec §4.5 titles and the expected totals, and that no counter ever decreases or overshoots.
 * Returns every element seen.
 */
async function watchProgress(
  c: RunningConsole,
  expected: { registry: string; repositories: number; images: number; defenders: number; since: number },
): Promise<ProgressElement[]> {
  const seen: ProgressElement[] = [];
  for (const deadline = Date.now() + 150_000; Date.now() < deadline; await sleep(100)) {
    const progress = (await ok(c, "GET", "/api/v1/registry/progress")).json as ProgressElement[];
    if (progress.length === 0) {
      // [] before the spec's part starts and once the run is over.
      if (!(await status(c)).scanning) return seen;
      continue;
    }
    assert.equal(progress.length, 1, "one element per specification being scanned");
    const element = progress[0] as ProgressElement;
    const { discovery, imageScan } = element;
    assert.equal(element.isScanOngoing, true);
    assert.ok(Date.parse(element.specScanStartTime) >= expected.since - 1000, element.specScanStartTime);
    for (const step of [discovery, imageScan]) {
      assert.deepEqual([step.id, step.type, step.discovery], ["", "", false]);
      assert.ok(step.scanned <= step.total, JSON.stringify(step));
    }
    assert.equal(
      discovery.title,
      `Step 1/2 discovering tags in registry ${expected.registry}: Discovered tags in ${discovery.scanned}/${discovery.total} repositories with ${expected.defenders} Defenders`,
    );
    assert.equal(
      imageScan.title,
      `Step 2/2 scanning images in registry ${expected.registry}: Scanned ${imageScan.scanned}/${imageScan.total} images with ${expected.defenders} Defender`,
    );
    // Repositories are recorded all at once when the catalog has been read.
    assert.ok([0, expected.repositories].includes(discovery.total), `discovery total ${discovery.total}`);
    assert.ok(imageScan.total <= expected.images, `image total ${imageScan.total} overshoots`);
    if (discovery.total > 0 && discovery.scanned === discovery.total)
      assert.equal(
        imageScan.total,
        expected.images,
        "every selected image is counted once discovery is done",
      );
    const previous = seen.at(-1);
    if (previous) {
      for (const field of ["discovery", "imageScan"] as const) {
        for (const counter of ["total", "scanned"] as const)
          assert.ok(
            element[field][counter] >= previous[field][counter],
            `${field}.${counter} went from ${previous[field][counter]} to ${element[field][counter]}`,
          );
      }
      assert.equal(element.specScanStartTime, previous.specScanStartTime);
    }
    seen.push(element);
  }
  throw new Error("the regular scan did not end in time");
}

// --- the tests -----------------------------------------------------------------------------------

test("a regular scan of 56 repositories: patterns, exclusions and cap respected, exact progress, each layer pulled once", {
  timeout: 5 * 60_000,
}, async () => {
  const proxy = await proxyTo(registry);
  const server = await launch(path.join(tmp, "regular"));
  // team-NN/service-0M × v1..v3, minus team-07 and one repository; v3 excluded; cap 1 keeps the newer
  // of v1 and v2.
  const expected = await expectedImages(
    proxy.host,
    /^team-(?!07\/|13\/service-02$)\d\d\/service-0\d$/,
    /^v[12]$/,
    1,
  );
  assert.equal(expected.size, 56);
  const selectedRepositories = new Set([...expected.values()].map((i) => i.repository));
  assert.equal(selectedRepositories.size, 56);
  await ok(server, "POST", "/api/v1/settings/registry?scanLater=true", {
    version: "2",
    registry: `http://${proxy.host}`,
    repository: "team-*",
    excludedRepositories: ["team-07/*", "team-13/service-02"],
    tag: "v*",
    excludedTags: ["v3"],
    cap: 1,
    scanners: 3,
    os: "linux",
    credentialID: "",
    collections: ["All"],
  });
  // Blob responses slowed so both steps last long enough to be watched.
  proxy.rules = [{ match: { method: "GET", path: /\/blobs\// }, fault: { kind: "delay", ms: 50 } }];
  const since = Date.now();
  await ok(server, "POST", "/api/v1/registry/scan");
  const again = await call(server, "POST", "/api/v1/registry/scan");
  assert.equal(again.status, 400, "one regular scan at a time");
  assert.deepEqual(again.json, { err: "registry scan is already in progress" });
  const seen = await watchProgress(server, {
    registry: proxy.host,
    repositories: 56,
    images: 56,
    defenders: 3,
    since,
  });
  proxy.rules = [];
  assert.ok(
    seen.some((e) => e.discovery.total === 56 && e.discovery.scanned < 56),
    "progress was seen while tags were being discovered",
  );
  assert.ok(
    seen.some((e) => e.discovery.scanned === 56 && e.imageScan.scanned < 56),
    "progress was seen while images were being scanned",
  );

  const final = await status(server);
  assert.deepEqual(
    { ...final, scanTime: undefined, hostname: undefined },
    {
      completed: true,
      scanning: false,
      scanTime: undefined,
      hostname: undefined,
      errors: [],
      selective: false,
    },
  );
  assert.ok(Date.parse(final.scanTime) >= since);
  const [spec] = await specs(server);
  assert.equal(spec?.lastScanStatus, "completed");
  assert.equal(spec?.scannedImagesSuccessTotal, 56);

  const stored = await results(server);
  assert.deepEqual(stored.map((r) => r._id).sort(), [...expected.keys()].sort());
  for (const r of stored) assertFullResult(r, expected.get(r._id), proxy.host);

  // Shared base layers and every image's own layer: one GET each over the whole scan; no layer of an
  // unselected image (team-07, team-13/service-02, any v3 or older tag) was fetched at all.
  const layers = allLayers(expected.values());
  assert.equal(layers.size, 2 + 56, "two base layers and one own layer per image");
  for (const digest of layers) assert.equal(blobGets(proxy, digest), 1, `GETs of layer ${digest}`);
  const all = await expectedImages(proxy.host, /^team-/, /./, 3);
  const unselected = [...allLayers(all.values())].filter((d) => !layers.has(d));
  assert.equal(unselected.length, 180 - 56);
  for (const digest of unselected) assert.equal(blobGets(proxy, digest), 0, `GETs of unselected ${digest}`);
});

/**
 * Lets the first `free` GETs of these blobs through (slowed a little), then holds every later one
 * for a minute: the scan settles with pulls in flight that only a stop or a kill can end.
 */
function holdAfter(digests: Iterable<string>, free: number): FaultRule[] {
  const path = blobsOf(digests);
  return [
    { match: { method: "GET", path }, skip: free, fault: { kind: "delay", ms: 60_000 } },
    { match: { method: "GET", path }, fault: { kind: "delay", ms: 50 } },
  ];
}

/**
 * Exclusions for the even (debian-based) teams of one decade: the later tests scan alpine-based
 * images only, leaving the one large layer (debian's) to the first test.
 */
const evenTeams = (decade: number) =>
  [0, 2, 4, 6, 8].map((n) => `team-${decade}${n}/*`).filter((p) => p !== "team-00/*");

const heldPulls = (proxy: FaultProxy, digests: Set<string>, free: number) =>
  proxy.hits.filter((h) => h.method === "GET" && digests.has(h.path.split("/blobs/")[1] ?? "")).length - free;

test("POST /registry/stop mid-scan ends it at once; what was stored is whole; the next scan does the rest without pulling again", {
  timeout: 5 * 60_000,
}, async () => {
  const proxy = await proxyTo(registry);
  const server = await launch(path.join(tmp, "stop"));
  // Spec A, team-11, 13, …, 19, newest tag of each: 15 images; spec B after it, alpine:3.10.3.
  const teams = await expectedImages(proxy.host, /^team-1[13579]\//, /./, 1);
  assert.equal(teams.size, 15);
  const alpine = await expectedImages(proxy.host, /^alpine$/, /^3\.10\.3$/, 1);
  const expected = new Map([...teams, ...alpine]);
  for (const settings of [
    { repository: "team-1*", excludedRepositories: evenTeams(1), scanners: 2 },
    { repository: "alpine", tag: "3.10.3", scanners: 1 },
  ]) {
    await ok(server, "POST", "/api/v1/settings/registry?scanLater=true", {
      version: "2",
      registry: `http://${proxy.host}`,
      ...settings,
      cap: 1,
      os: "linux",
    });
  }
  // B scanned on its own first, so it has a last scan to keep while it waits behind A.
  await ok(server, "POST", "/api/v1/registry/scan/select", [
    { settings: { version: "2", registry: `http://${proxy.host}`, repository: "alpine" } },
  ]);
  assert.deepEqual((await scanEnded(server)).errors, []);
  const alpineBefore = (await specs(server))[1];
  assert.equal(alpineBefore?.lastScanStatus, "completed");
  assert.equal(alpineBefore?.scannedImagesSuccessTotal, 1);

  const layers = allLayers(teams.values());
  const free = 6;
  proxy.reset();
  proxy.rules = holdAfter(layers, free);
  const teamResults = async () => (await results(server)).filter((r) => teams.has(r._id));
  await ok(server, "POST", "/api/v1/registry/scan");
  await until("pulls held in flight and some images stored", async () =>
    heldPulls(proxy, layers, free) >= 1 && (await teamResults()).length >= 2 ? true : undefined,
  );

  const asked = Date.now();
  await ok(server, "POST", "/api/v1/registry/stop");
  const stopTook = Date.now() - asked;
  assert.ok(stopTook < 5000, `stop took ${stopTook} ms while pulls were held for a minute`);
  assert.deepEqual((await ok(server, "GET", "/api/v1/registry/progress")).json, []);
  const stopped = await status(server);
  assert.equal(stopped.scanning, false);
  assert.equal(stopped.completed, true);
  assert.deepEqual(stopped.errors, [], "a stop is not an error");
  const [spec, queued] = await specs(server);
  assert.equal(spec?.scanStatus, "stopped");
  assert.equal(spec?.lastScanStatus, "stopped");
  // B never started in the stopped run: off the queue, with its last scan's time and total.
  assert.equal(queued?.scanStatus, "stopped");
  assert.equal(queued?.lastScanTime, alpineBefore?.lastScanTime);
  assert.equal(queued?.scannedImagesSuccessTotal, 1);
  proxy.rules = [];

  const first = await results(server);
  const scannedTeams = first.filter((r) => teams.has(r._id)).length;
  assert.ok(scannedTeams >= 2 && scannedTeams < 15, `${scannedTeams} images of A stored before the stop`);
  for (const r of first) assertFullResult(r, expected.get(r._id), proxy.host);
  assert.equal(spec?.scannedImagesSuccessTotal, scannedTeams);

  const since = Date.now();
  await ok(server, "POST", "/api/v1/registry/scan");
  const done = await scanEnded(server);
  assert.deepEqual(done.errors, []);
  assert.deepEqual(
    (await specs(server)).map((s) => s.lastScanStatus),
    ["completed", "completed"],
  );
  const all = await results(server);
  assert.deepEqual(all.map((r) => r._id).sort(), [...expected.keys()].sort());
  for (const r of all) assertFullResult(r, expected.get(r._id), proxy.host);
  const before = new Map(first.map((r) => [r._id, r]));
  for (const r of all) {
    const earlier = before.get(r._id);
    const own = expected.get(r._id)?.layers.at(-1) as string;
    if (earlier) {
      // Scanned against this database already: no layer of it is pulled, its first scan time stays.
      for (const digest of expected.get(r._id)?.layers ?? [])
        assert.equal(blobGets(proxy, digest, since), 0, `${r._id} layer ${digest} pulled again`);
      assert.equal(r.firstScanTime, earlier.firstScanTime, r._id);
      assert.ok(Date.parse(r.scanTime) > Date.parse(earlier.scanTime), `${r._id} scanned again`);
    } else {
      assert.equal(blobGets(proxy, own, since), 1, `${r._id} own layer pulled once`);
    }
  }
  for (const digest of layers) assert.ok(blobGets(proxy, digest, since) <= 1, `GETs of ${digest}`);
});

test("SIGKILL mid-scan: after a restart on the same data dir settings, credentials and results remain, the run is marked interrupted, the next scan completes", {
  timeout: 5 * 60_000,
}, async () => {
  const proxy = await proxyTo(authRegistry);
  const dataDir = path.join(tmp, "crash");
  let server = await launch(dataDir);
  // Periodic scans off, so nothing starts by itself after the restart and the status stays readable.
  await ok(server, "POST", "/api/v1/settings/scan", { registryScanPeriodMs: 0 });
  await ok(server, "POST", "/api/v1/credentials", {
    _id: "team-reader",
    type: "basic",
    accountID: "scanner",
    secret: { plain: "right-password" },
  });
  await ok(server, "POST", "/api/v1/settings/registry?scanLater=true", {
    version: "2",
    registry: `http://${proxy.host}`,
    repository: "team-0*",
    excludedRepositories: evenTeams(0),
    cap: 1,
    scanners: 2,
    os: "linux",
    credentialID: "team-reader",
  });
  // team-01, 03, …, 09, newest tag: 15 images.
  const expected = await expectedImages(proxy.host, /^team-0[13579]\//, /./, 1);
  assert.equal(expected.size, 15);
  const layers = allLayers(expected.values());
  const free = 6;
  proxy.rules = holdAfter(layers, free);
  await ok(server, "POST", "/api/v1/registry/scan");
  await until("pulls held in flight and some images stored", async () =>
    heldPulls(proxy, layers, free) >= 1 && (await results(server)).length >= 2 ? true : undefined,
  );
  const beforeCrash = await results(server);
  const [specBefore] = await specs(server);
  await server.kill();
  proxy.rules = [];

  server = await launch(dataDir);
  const [spec] = await specs(server);
  assert.equal(spec?.id, specBefore?.id);
  assert.equal(spec?.credentialID, "team-reader");
  assert.equal(spec?.lastScanStatus, "failed");
  assert.equal(spec?.scanError, INTERRUPTED);
  const credentials = (await ok(server, "GET", "/api/v1/credentials")).json as {
    _id: string;
    secret: Record<string, string>;
  }[];
  assert.deepEqual(
    credentials.map((c) => [c._id, Object.keys(c.secret)]),
    [["team-reader", ["encrypted"]]],
  );
  const restarted = await status(server);
  assert.equal(restarted.scanning, false);
  assert.equal(restarted.completed, true);
  assert.deepEqual(restarted.errors, [INTERRUPTED]);
  assert.deepEqual((await ok(server, "GET", "/api/v1/registry/progress")).json, []);
  const kept = await results(server);
  assert.ok(kept.length >= beforeCrash.length, "every result the console had answered is still there");
  for (const r of kept) assertFullResult(r, expected.get(r._id), proxy.host);

  // The credential still decrypts after the restart: the authenticated registry is scanned in full.
  await ok(server, "POST", "/api/v1/registry/scan");
  const done = await scanEnded(server);
  assert.deepEqual(done.errors, []);
  assert.equal((await specs(server))[0]?.lastScanStatus, "completed");
  const all = await results(server);
  assert.deepEqual(all.map((r) => r._id).sort(), [...expected.keys()].sort());
  for (const r of all) assertFullResult(r, expected.get(r._id), proxy.host);

  // With periodic scans on, a console killed mid-scan scans again by itself once restarted (spec
  // 6.1). That rescan pulls no layer, so it is held at the image configs tag discovery reads.
  await ok(server, "POST", "/api/v1/settings/scan", { registryScanPeriodMs: 3_600_000 });
  const configs = new Set([...expected.values()].map((i) => i.configDigest));
  proxy.reset();
  proxy.rules = holdAfter(configs, 3);
  await ok(server, "POST", "/api/v1/registry/scan");
  await until("config reads held in flight", async () =>
    heldPulls(proxy, configs, 3) >= 1 ? true : undefined,
  );
  await server.kill();
  proxy.rules = [];
  const restartedAt = Date.now();
  server = await launch(dataDir);
  const resumed = await until("the scan the restart started to end", async () => {
    const s = await status(server);
    return !s.scanning && s.errors.length === 0 ? s : undefined;
  });
  assert.ok(Date.parse(resumed.scanTime) >= restartedAt, "a scan finished after the restart");
  assert.equal((await specs(server))[0]?.lastScanStatus, "completed");
  const rescanned = await results(server);
  assert.equal(rescanned.length, expected.size);
  for (const r of rescanned) assert.ok(Date.parse(r.scanTime) >= restartedAt, `${r._id} scanned again`);
  await server.stop();
});

test("failing images are recorded in the status errors while the scan goes on; a scan that could scan nothing fails", {
  timeout: 5 * 60_000,
}, async () => {
  const proxy = await proxyTo(registry);
  const server = await launch(path.join(tmp, "failures"));
  // team-01, 03, …, 09 at v1: 15 images; two of them cannot be pulled.
  const expected = await expectedImages(proxy.host, /^team-0[13579]\//, /^v1$/, 1);
  assert.equal(expected.size, 15);
  const broken = expected.get(`${proxy.host}/team-05/service-02:v1`) as ExpectedImage;
  const corrupt = expected.get(`${proxy.host}/team-09/service-01:v1`) as ExpectedImage;
  await ok(server, "POST", "/api/v1/settings/registry?scanLater=true", {
    version: "2",
    registry: `http://${proxy.host}`,
    repository: "team-0*",
    excludedRepositories: evenTeams(0),
    tag: "v1",
    cap: 1,
    scanners: 3,
    os: "linux",
  });
  // Only the images' own layers, through their own repositories: discovery (manifest, config) works.
  proxy.rules = [
    {
      match: { method: "GET", path: `/v2/team-05/service-02/blobs/${broken.layers.at(-1)}` },
      fault: { kind: "status", status: 500 },
    },
    {
      match: { method: "GET", path: `/v2/team-09/service-01/blobs/${corrupt.layers.at(-1)}` },
      fault: { kind: "corrupt", offset: 20 },
    },
  ];
  await ok(server, "POST", "/api/v1/registry/scan");
  const done = await scanEnded(server);
  assert.equal(done.completed, true);
  assert.deepEqual(done.errors.map((e) => /^Failed to scan image (\S+): ./.exec(e)?.[1]).sort(), [
    broken.key,
    corrupt.key,
  ]);
  const [spec] = await specs(server);
  assert.equal(spec?.lastScanStatus, "completed", "13 of 15 images were scanned");
  assert.equal(spec?.scannedImagesSuccessTotal, 13);
  const stored = await results(server);
  assert.deepEqual(stored.map((r) => r._id).sort(), [...expected.keys()].sort());
  for (const r of stored) {
    if (r._id === broken.key || r._id === corrupt.key) {
      assert.notEqual(r.err, "", `${r._id} is stored as failed`);
      assert.equal(r.vulnerabilitiesCount, 0);
    } else assertFullResult(r, expected.get(r._id), proxy.host);
  }

  // Only the corrupt image, and a registry nobody listens on: nothing can be scanned.
  const unreachable = "127.0.0.1:1";
  for (const settings of [
    { registry: `http://${proxy.host}`, repository: "team-09/service-01", tag: "v1" },
    { registry: `http://${unreachable}`, repository: "anything" },
  ]) {
    await ok(server, "POST", "/api/v1/settings/registry?scanLater=true", {
      version: "2",
      ...settings,
      cap: 1,
      scanners: 1,
      os: "linux",
    });
  }
  const [, onlyCorrupt, nowhere] = await specs(server);
  await ok(server, "POST", "/api/v1/registry/scan/select", [
    { settings: { version: "2", registry: `http://${proxy.host}`, repository: "team-09/service-01" } },
    { settings: { version: "2", registry: `http://${unreachable}`, repository: "anything" } },
  ]);
  const failed = await scanEnded(server);
  proxy.rules = [];
  assert.equal(failed.selective, true);
  assert.equal(failed.errors.length, 2, failed.errors.join("\n"));
  assert.ok(
    failed.errors.some((e) => e.startsWith(`Failed to scan image ${corrupt.key}: `)),
    failed.errors[0],
  );
  assert.ok(
    failed.errors.some((e) =>
      e.startsWith(`Failed to retrieve repositories info for registry ${unreachable}`),
    ),
    failed.errors.join("\n"),
  );
  const after = await specs(server);
  assert.equal(after.find((s) => s.id === onlyCorrupt?.id)?.lastScanStatus, "failed");
  assert.equal(after.find((s) => s.id === nowhere?.id)?.lastScanStatus, "failed");
  assert.equal(after[0]?.lastScanStatus, "completed", "a spec left out of the selection keeps its status");
});
