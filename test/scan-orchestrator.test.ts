/**
 * Scan orchestration end to end (spec 4.1–4.7, 6.1–6.9): the seeded testbed storage served by a real
 * docker-registry on 127.0.0.1 behind the fault proxy (which records every request and injects
 * stalls and corruption), a real SQLite console store and layer cache, and a vulnerability database
 * built once from ../shared/vulndata by `db update --mirror`.
 *
 * Expected selections are computed in this file from the seed's own listing (seedContents) and the
 * testbed layout's image configs, with regular expressions written here, not with the patterns or
 * tag-selection modules under test.
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { RegistrySpecification } from "../src/api/schemas.js";
import type { ResolvedCredential } from "../src/registry/providers/provider.js";
import { ScanRequestError } from "../src/scan/control.js";
import { Orchestrator, SCAN_IN_PROGRESS } from "../src/scan/orchestrator.js";
import { RegistryScanScheduler } from "../src/scan/scheduler.js";
import { openConsoleStore } from "../src/store/console.js";
import type { ConsoleStore, StoredSpec } from "../src/store/console-store.js";
import { Store } from "../src/store/store.js";
import { VulnerabilityDatabase } from "../src/vulndb/database.js";
import { type FaultProxy, startFaultProxy } from "./harness/fault-proxy.js";
import { readLayoutImage } from "./harness/image-kit.js";
import { type RunningRegistry, startRegistry } from "./harness/registry.js";
import { ensureSeededStorage, type SeedContents, seedContents } from "./harness/seed.js";
import { sharedMirrorDatabase } from "./harness/shipshape-cli.js";
import { ensureTestbedLayout } from "./harness/testbed.js";

let tmp: string;
let registry: RunningRegistry;
let authRegistry: RunningRegistry;
let proxy: FaultProxy;
let seed: SeedContents;
let layout: string;
let database: VulnerabilityDatabase;
const opened: { close(): Promise<void> }[] = [];

before(
  async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-scan-orchestrator-"));
    const settled = await Promise.allSettled([ensureSeededStorage(), sharedMirrorDatabase()]);
    for (const s of settled) if (s.status === "rejected") throw s.reason;
    const storageDir = (settled[0] as PromiseFulfilledResult<string>).value;
    registry = await startRegistry({ storageDir, readOnly: true });
    authRegistry = await startRegistry({
      storageDir,
      readOnly: true,
      auth: { kind: "htpasswd", users: { scanner: "right-password" } },
    });
    proxy = await startFaultProxy(registry.url);
    seed = await seedContents();
    layout = await ensureTestbedLayout();
    database = VulnerabilityDatabase.open((settled[1] as PromiseFulfilledResult<string>).value);
  },
  { timeout: 20 * 60_000 },
);

after(async () => {
  for (const o of opened.reverse()) await o.close().catch(() => {});
  database?.close();
  await proxy?.stop();
  await registry?.stop();
  await authRegistry?.stop();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

interface Console {
  store: ConsoleStore;
  cache: Store;
  orchestrator: Orchestrator;
}

let consoles = 0;

/** A console over a SQLite file (a fresh one unless `file` is given) and a layer cache of its own. */
async function openConsole(
  options: { file?: string; credentials?: Record<string, ResolvedCredential>; parallelSpecs?: number } = {},
): Promise<Console & { file: string }> {
  const n = ++consoles;
  const file = options.file ?? path.join(tmp, `console-${n}.db`);
  const { console: store } = await openConsoleStore({ sqliteFile: file });
  const cache = await Store.openSqlite(path.join(tmp, `cache-${n}.db`));
  const orchestrator = new Orchestrator({
    store,
    cacheStore: cache,
    database: () => database,
    resolveCredential: async (id) => options.credentials?.[id],
    hostname: "console-test",
    parallelSpecs: options.parallelSpecs ?? 1,
    retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
  });
  await orchestrator.init();
  opened.push({ close: () => orchestrator.close() }, cache, store);
  return { store, cache, orchestrator, file };
}

let specNumber = 0;

async function addSpec(store: ConsoleStore, spec: Partial<RegistrySpecification>): Promise<StoredSpec> {
  const stored: StoredSpec = {
    version: "2",
    registry: `http://${proxy.host}`,
    cap: 5,
    scanners: 2,
    collections: ["All"],
    ...spec,
    id: `spec-${++specNumber}`,
  };
  await store.appendSpec(stored);
  return stored;
}

async function runToEnd(orchestrator: Orchestrator, specIds?: string[]) {
  await orchestrator.startRegularScan(specIds ? { specIds } : {});
  const run = await orchestrator.waitForRegularScan();
  assert.ok(run, "the scan ran");
  return run;
}

const layerPath = (digest: string) => new RegExp(`/blobs/${digest}$`);

/** Newest first by the image config's `created`, as the testbed wrote it (the registry has no push time). */
async function createdOf(repository: string, tag: string): Promise<number> {
  const image = await readLayoutImage(layout, `${repository}--${tag}`);
  return Date.parse(String(image.config.created));
}

describe("regular scan", () => {
  test("a pattern and cap selection: exact progress totals, one result per selected image, spec status", {
    timeout: 5 * 60_000,
  }, async () => {
    const { store, orchestrator } = await openConsole();
    const spec = await addSpec(store, {
      repository: "team-0*",
      excludedRepositories: ["team-01/*"],
      tag: "v*",
      excludedTags: ["v3"],
      cap: 1,
    });
    // The oracle: repositories team-02..team-09, tags v1/v2, the newer one per repository.
    const repos = seed.repositories.filter((r) => /^team-0[2-9]\//.test(r.name));
    const expected = new Map<string, string>();
    for (const repo of repos) {
      const tags = repo.tags.filter((t) => t === "v1" || t === "v2");
      const times = await Promise.all(tags.map((t) => createdOf(repo.name, t)));
      // Newest first; equal times by tag name, descending.
      const newest = tags
        .map((tag, i) => ({ tag, time: times[i] as number }))
        .sort((x, y) => y.time - x.time || (x.tag < y.tag ? 1 : -1))[0]?.tag as string;
      expected.set(`${proxy.host}/${repo.name}:${newest}`, newest);
    }
    assert.equal(repos.length, 24);

    // Slow image pulls so the scan can be watched mid-way.
    proxy.rules = [{ match: { method: "GET", path: /\/blobs\// }, fault: { kind: "delay", ms: 150 } }];
    await orchestrator.startRegularScan();
    await assert.rejects(orchestrator.startRegularScan(), (e: unknown) => {
      assert.ok(e instanceof ScanRequestError);
      assert.equal(e.message, SCAN_IN_PROGRESS);
      return true;
    });
    assert.equal((await orchestrator.status()).completed, false);
    assert.equal((await orchestrator.status()).scanning, true);
    // Watched until discovery is over and images are being scanned; asserted once the run has ended,
    // so a failed assertion cannot leave this scan running into the next test.
    let midScan: Awaited<ReturnType<Orchestrator["regularProgress"]>> | undefined;
    for (let i = 0; i < 400 && orchestrator.isRegularScanRunning() && !midScan; i++) {
      const progress = await orchestrator.regularProgress();
      const element = progress[0];
      const discovered =
        element && element.discovery.total > 0 && element.discovery.scanned === element.discovery.total;
      if (discovered && element.imageScan.scanned < element.imageScan.total) midScan = progress;
      else await sleep(25);
    }
    const run = await orchestrator.waitForRegularScan();
    proxy.reset();
    assert.ok(midScan, "progress was observed while images were being scanned");
    {
      const progress = midScan;
      const element = progress[0];
      assert.ok(element);
      assert.equal(progress.length, 1);
      assert.equal(element.discovery.total, 24);
      assert.equal(element.discovery.scanned, 24);
      assert.equal(element.imageScan.total, 24);
      assert.equal(
        element.discovery.title,
        `Step 1/2 discovering tags in registry ${proxy.host}: Discovered tags in 24/24 repositories with 2 Defenders`,
      );
      assert.match(
        element.imageScan.title,
        new RegExp(
          `^Step 2/2 scanning images in registry ${proxy.host}: Scanned \\d+/24 images with 2 Defender$`,
        ),
      );
      assert.equal(element.isScanOngoing, true);
    }
    assert.equal(run?.state, "completed");
    assert.deepEqual(await orchestrator.regularProgress(), [], "idle progress is []");

    const { total, results } = await store.queryResults({ limit: 1000 });
    assert.equal(total, 24);
    assert.deepEqual(results.map((r) => r.id).sort(), [...expected.keys()].sort());
    for (const r of results) {
      assert.equal(r.result.err, "");
      assert.equal(r.specId, spec.id);
      // An inventory was taken: every testbed service image has OS packages and a known distro.
      assert.ok(Array.isArray(r.result.packages) && r.result.packages.length > 0, `${r.id} has packages`);
      assert.notEqual(r.result.osDistro, "", r.id);
    }
    const status = await orchestrator.status();
    assert.deepEqual(
      { ...status, scanTime: undefined },
      {
        completed: true,
        scanning: false,
        scanTime: undefined,
        errors: [],
        hostname: "console-test",
        selective: false,
      },
    );
    assert.equal(status.scanTime, run?.finishedAt);
    const after = await store.getSpec(spec.id);
    assert.equal(after?.lastScanStatus, "completed");
    assert.equal(after?.scanStatus, "completed");
    assert.equal(after?.scannedImagesSuccessTotal, 24);
    assert.equal(after?.scanError, "");
  });

  test("several specs: each digest scanned once, each shared layer pulled once, results under every key", {
    timeout: 5 * 60_000,
  }, async () => {
    const { store, orchestrator } = await openConsole({ parallelSpecs: 2 });
    await addSpec(store, { repository: "bulk/*", scanners: 4 });
    await addSpec(store, { repository: "many-tags/alpine", cap: 5 });
    await addSpec(store, { repository: "alpine", scanners: 1 });
    await addSpec(store, { repository: "team-01/*", cap: 0, scanners: 3 });
    proxy.reset();
    const run = await runToEnd(orchestrator);
    assert.equal(run.state, "completed");
    const { results } = await store.queryResults({ limit: 1000 });
    // 80 bulk + 5 of many-tags + alpine's 2 + team-01's 3 × 3.
    assert.equal(results.length, 80 + 5 + 2 + 9);
    const bulkAlpine = (await readLayoutImage(layout, "alpine--3.10.3")).descriptor.digest;
    const bulk = results.filter(
      (r) => r.repository.startsWith("bulk/") || r.repository === "many-tags/alpine",
    );
    assert.equal(bulk.length, 85);
    for (const r of bulk) assert.equal(r.digest, bulkAlpine, r.id);

    // Every layer of every scanned image was fetched exactly once across the whole run.
    const sources = [
      "alpine--3.10.3",
      "alpine--3.20.3",
      ...["v1", "v2", "v3"].flatMap((t) => ["01", "02", "03"].map((s) => `team-01/service-${s}--${t}`)),
    ];
    const layers = new Set<string>();
    for (const source of sources) {
      for (const layer of (await readLayoutImage(layout, source)).manifest.layers) layers.add(layer.digest);
    }
    const layerGets = (digest: string) =>
      proxy.hits.filter((h) => h.method === "GET" && layerPath(digest).test(h.path)).length;
    for (const digest of layers) assert.equal(layerGets(digest), 1, `GETs of layer ${digest}`);
    for (const spec of await store.listSpecs()) assert.equal(spec.lastScanStatus, "completed", spec.id);

    // A second scan against the same database build pulls no layer at all.
    proxy.reset();
    const again = await runToEnd(orchestrator);
    assert.equal(again.state, "completed");
    for (const digest of layers) assert.equal(layerGets(digest), 0, `GETs of layer ${digest} on the rescan`);
    const rescanned = await store.queryResults({ limit: 1000 });
    assert.equal(rescanned.total, 96);
    for (const r of rescanned.results)
      assert.ok(r.scanTime >= again.startedAt, `${r.id} got a fresh scanTime`);
  });

  test("a corrupt image among good ones is retried, recorded failed, and the scan goes on", {
    timeout: 5 * 60_000,
  }, async () => {
    const { store, orchestrator } = await openConsole();
    const spec = await addSpec(store, { repository: "alpine" });
    const corrupt = (await readLayoutImage(layout, "alpine--3.20.3")).manifest.layers[0]?.digest as string;
    proxy.reset();
    proxy.rules = [
      { match: { method: "GET", path: layerPath(corrupt) }, fault: { kind: "corrupt", offset: 100 } },
    ];
    const run = await runToEnd(orchestrator);
    proxy.rules = [];
    assert.equal(run.state, "completed", "one image scanned: the run is not failed");
    const good = await store.getResult(`${proxy.host}/alpine:3.10.3`);
    assert.equal(good?.result.err, "");
    assert.equal(good?.result.osDistro, "alpine");
    const bad = await store.getResult(`${proxy.host}/alpine:3.20.3`);
    assert.ok(bad, "the failed image has a result");
    assert.notEqual(bad.result.err, "");
    assert.equal(bad.vulnerabilitiesCount, 0);
    const [image] = await store.listImages(run.id, spec.id, ["failed"]);
    assert.equal(image?.imageKey, `${proxy.host}/alpine:3.20.3`);
    assert.equal(image?.attempts, 3);
    const status = await orchestrator.status();
    assert.equal(status.completed, true);
    assert.equal(status.errors.length, 1);
    assert.match(
      status.errors[0] as string,
      new RegExp(`^Failed to scan image ${proxy.host}/alpine:3\\.20\\.3: `),
    );
    const after = await store.getSpec(spec.id);
    assert.equal(after?.lastScanStatus, "completed");
    assert.equal(after?.scannedImagesSuccessTotal, 1);
    assert.equal(after?.scanError, status.errors[0]);
  });

  test("a spec failing authentication is reported and the next spec is still scanned", {
    timeout: 5 * 60_000,
  }, async () => {
    const { store, orchestrator } = await openConsole({
      credentials: {
        wrong: { _id: "wrong", type: "basic", accountID: "scanner", secret: { plain: "wrong-password" } },
      },
    });
    const bad = await addSpec(store, {
      registry: `http://${authRegistry.host}`,
      credentialID: "wrong",
      repository: "alpine",
    });
    const good = await addSpec(store, { repository: "alpine", tag: "3.10.3" });
    const run = await runToEnd(orchestrator);
    assert.equal(run.state, "completed");
    const status = await orchestrator.status();
    assert.equal(status.completed, true);
    assert.equal(status.errors.length, 1);
    assert.match(
      status.errors[0] as string,
      new RegExp(`Failed to retrieve repositories info for registry ${authRegistry.host}`),
    );
    assert.equal((await store.getSpec(bad.id))?.lastScanStatus, "failed");
    assert.equal((await store.getSpec(bad.id))?.scanError, status.errors[0]);
    assert.equal((await store.getSpec(good.id))?.lastScanStatus, "completed");

    // Alone, the failing spec makes the run fail: nothing could be scanned.
    const alone = await runToEnd(orchestrator, [bad.id]);
    assert.equal(alone.state, "failed");
    const selective = await orchestrator.status();
    assert.equal(selective.selective, true);
    assert.equal(selective.completed, true);
    assert.equal(selective.errors.length, 1);
  });

  test("stop ends a scan with a large image mid-pull within a second, leaving it consistent", {
    timeout: 5 * 60_000,
  }, async () => {
    const { store, orchestrator } = await openConsole();
    const spec = await addSpec(store, { repository: "node-app" });
    const big = (await readLayoutImage(layout, "node-app--1.0")).manifest.layers.toSorted(
      (a, b) => b.size - a.size,
    )[0];
    assert.ok(big && big.size > 1_000_000, "node-app has a layer of over 1 MB");
    proxy.reset();
    proxy.rules = [
      {
        match: { method: "GET", path: layerPath(big.digest) },
        fault: { kind: "stall", ms: 60_000, afterBytes: 64 * 1024 },
      },
    ];
    await orchestrator.startRegularScan();
    for (let i = 0; i < 400 && !proxy.hits.some((h) => h.faulted === "stall"); i++) {
      await sleep(25);
    }
    assert.ok(
      proxy.hits.some((h) => h.faulted === "stall"),
      "a layer pull is in flight",
    );
    const started = Date.now();
    await orchestrator.stop();
    const elapsed = Date.now() - started;
    proxy.rules = [];
    assert.ok(elapsed < 1000, `stop took ${elapsed} ms`);
    assert.equal(orchestrator.isRegularScanRunning(), false);
    const run = await store.latestRun("regular");
    assert.equal(run?.state, "stopped");
    const images = await store.listImages(run?.id as number, spec.id);
    assert.ok(images.length > 0);
    for (const image of images) assert.equal(image.state, "cancelled", image.imageKey);
    assert.equal((await store.getSpec(spec.id))?.lastScanStatus, "stopped");
    assert.equal((await store.queryResults({})).total, 0, "no half-scanned result");
    assert.deepEqual((await orchestrator.status()).errors, []);
    // The next scan starts normally and completes.
    const next = await runToEnd(orchestrator);
    assert.equal(next.state, "completed");
    assert.equal((await store.queryResults({})).total, 1);
  });

  test("a stop that comes while the scan is still starting stops it before any specification starts", {
    timeout: 5 * 60_000,
  }, async () => {
    const { store, orchestrator } = await openConsole();
    const spec = await addSpec(store, { repository: "alpine", tag: "3.10.3" });
    proxy.reset();
    const starting = orchestrator.startRegularScan();
    await orchestrator.stop();
    await starting;
    const run = await orchestrator.waitForRegularScan();
    assert.equal(run?.state, "stopped");
    assert.equal(proxy.hits.length, 0, "nothing was asked of the registry");
    assert.deepEqual(await store.listImages(run?.id as number, spec.id), [], "no image was queued");
  });

  test("a run left running by a crash is marked interrupted; the next scan starts normally", {
    timeout: 5 * 60_000,
  }, async () => {
    const first = await openConsole();
    const spec = await addSpec(first.store, { repository: "alpine", tag: "3.10.3" });
    // What a process killed mid-scan leaves behind.
    const crashed = await first.store.createRun({
      kind: "regular",
      state: "running",
      specIds: [spec.id],
      selective: false,
      hostname: "console-test",
      startedAt: new Date(Date.now() - 60_000).toISOString(),
    });
    await first.store.updateSpecStatus(spec.id, { scanStatus: "scanning" });
    await first.store.putImages([
      {
        runId: crashed.id,
        specId: spec.id,
        imageKey: `${proxy.host}/alpine:3.10.3`,
        registry: proxy.host,
        repository: "alpine",
        tag: "3.10.3",
        state: "scanning",
        attempts: 1,
        updatedAt: new Date().toISOString(),
      },
    ]);
    const restarted = await openConsole({ file: first.file });
    assert.equal((await restarted.store.getRun(crashed.id))?.state, "interrupted");
    const status = await restarted.orchestrator.status();
    assert.equal(status.completed, true);
    assert.equal(status.scanning, false);
    assert.deepEqual(status.errors, ["Registry scan was interrupted by a console restart"]);
    assert.equal((await restarted.store.getSpec(spec.id))?.lastScanStatus, "failed");
    const run = await runToEnd(restarted.orchestrator);
    assert.equal(run.state, "completed");
    assert.equal((await restarted.orchestrator.status()).errors.length, 0);
    assert.equal((await restarted.store.getSpec(spec.id))?.lastScanStatus, "completed");
  });

  test("rescanImage scans one image of a spec's scope as a selective regular run", {
    timeout: 5 * 60_000,
  }, async () => {
    const { store, orchestrator } = await openConsole();
    const spec = await addSpec(store, { repository: "debian" });
    await orchestrator.rescanImage({ registry: proxy.host, repo: "debian", tag: "bookworm" });
    const run = await orchestrator.waitForRegularScan();
    assert.equal(run?.state, "completed");
    assert.equal(run?.selective, true);
    assert.deepEqual(run?.specIds, [spec.id]);
    assert.equal((await store.queryResults({})).total, 1);
    await assert.rejects(
      orchestrator.rescanImage({ registry: proxy.host, repo: "alpine", tag: "3.10.3" }),
      ScanRequestError,
    );
  });
});

describe("on-demand scan (spec 6.9)", () => {
  test("runs beside the regular scan; its final progress is answered once", {
    timeout: 5 * 60_000,
  }, async () => {
    const { store, orchestrator } = await openConsole();
    await addSpec(store, { repository: "alpine*", tag: "3.*" });
    const target = { registry: proxy.host, repo: "alpine", tag: "3.10.3" };
    assert.deepEqual(await orchestrator.onDemandProgress(target), []);
    // A slow regular scan is running meanwhile; the on-demand scan does not wait for it.
    proxy.rules = [
      { match: { method: "GET", path: /alpine-multi\/blobs\// }, fault: { kind: "delay", ms: 2000 } },
    ];
    await orchestrator.startRegularScan();
    await orchestrator.startOnDemandScan(target);
    let final: Awaited<ReturnType<Orchestrator["onDemandProgress"]>> = [];
    for (let i = 0; i < 600; i++) {
      const progress = await orchestrator.onDemandProgress(target);
      assert.equal(progress.length, 1);
      if (!progress[0]?.isScanOngoing) {
        final = progress;
        break;
      }
      await sleep(20);
    }
    assert.equal(orchestrator.isRegularScanRunning(), true, "the regular scan is still running");
    assert.deepEqual(
      final.map((p) => ({ ...p, specScanStartTime: "" })),
      [
        {
          discovery: {
            id: "",
            type: "",
            discovery: false,
            total: 1,
            scanned: 1,
            title: "Step 1/2 discovering tags in repository: alpine, tag: 3.10.3",
          },
          imageScan: {
            id: "",
            type: "",
            discovery: false,
            total: 1,
            scanned: 1,
            title: "Step 2/2 scanning images in repository: alpine, tag: 3.10.3",
          },
          isScanOngoing: false,
          specScanStartTime: "",
        },
      ],
    );
    assert.deepEqual(await orchestrator.onDemandProgress(target), [], "answered once");
    assert.deepEqual(await orchestrator.onDemandProgress({ repo: "alpine", tag: "3.10.3" }), []);
    const result = await store.getResult(`${proxy.host}/alpine:3.10.3`);
    assert.equal(result?.result.err, "");
    assert.equal((await store.latestRun("onDemand"))?.state, "completed");

    // Stop leaves on-demand scans alone; a new on-demand scan of the image re-arms its progress.
    await orchestrator.stop();
    await orchestrator.startOnDemandScan(target);
    assert.equal((await orchestrator.onDemandProgress(target)).length, 1);
    await orchestrator.waitForOnDemandScans();
    assert.equal((await orchestrator.onDemandProgress(target))[0]?.isScanOngoing, false);
    assert.deepEqual(await orchestrator.onDemandProgress(target), []);
    proxy.rules = [];
  });

  const outOfScope: [string, { registry?: string; repo: string; tag?: string; digest?: string }][] = [
    ["another registry", { registry: "127.0.0.1:1", repo: "alpine", tag: "3.10.3" }],
    ["no registry (Docker Hub)", { repo: "alpine", tag: "3.10.3" }],
    ["a repository outside the pattern", { registry: "", repo: "debian", tag: "bookworm" }],
    ["an excluded repository", { registry: "", repo: "alpine-arm64", tag: "3.10.3" }],
    ["a tag outside the pattern", { registry: "", repo: "alpine", tag: "latest" }],
    ["an excluded tag", { registry: "", repo: "alpine", tag: "3.20.3" }],
    ["no repo", { registry: "", repo: "", tag: "3.10.3" }],
    ["neither tag nor digest", { registry: "", repo: "alpine" }],
  ];
  for (const [name, target] of outOfScope) {
    test(`out of scope or incomplete: ${name} → ScanRequestError`, async () => {
      const { store, orchestrator } = await openConsole();
      await addSpec(store, {
        repository: "alpine*",
        excludedRepositories: ["*arm64"],
        tag: "3.*",
        excludedTags: ["3.20.3"],
      });
      const withRegistry = { ...target, registry: target.registry === "" ? proxy.host : target.registry };
      await assert.rejects(orchestrator.startOnDemandScan(withRegistry), ScanRequestError);
      assert.equal(await store.latestRun("onDemand"), undefined);
    });
  }
});

describe("scheduler (spec 4.7, 6.3)", () => {
  test("a short period starts regular scans, and a completed one purges results past retention", {
    timeout: 5 * 60_000,
  }, async () => {
    const { store, orchestrator } = await openConsole();
    await addSpec(store, { repository: "alpine", tag: "3.10.3" });
    const stale = {
      id: `${proxy.host}/gone:1`,
      imageId: "sha256:0",
      digest: "sha256:0",
      registry: proxy.host,
      repository: "gone",
      tag: "1",
      specId: "spec-0",
      scanTime: new Date(Date.now() - 40 * 86_400_000).toISOString(),
      firstScanTime: new Date(Date.now() - 40 * 86_400_000).toISOString(),
      vulnerabilityRiskScore: 0,
      vulnerabilitiesCount: 0,
      databaseBuiltAt: "",
      result: {},
    };
    await store.upsertResult(stale);
    await store.putScanSettings({
      ...(await store.getScanSettings()),
      registryScanPeriodMs: 300,
      registryScanRetentionDays: 30,
    });
    const scheduler = new RegistryScanScheduler({ store, scans: orchestrator });
    const finished: string[] = [];
    orchestrator.onRegularScanFinished((run) => {
      finished.push(run.state);
    });
    await scheduler.start();
    try {
      for (let i = 0; i < 600 && finished.length < 2; i++) await sleep(20);
      assert.deepEqual(finished.slice(0, 2), ["completed", "completed"]);
      assert.equal(await store.getResult(stale.id), undefined, "purged after 30 days");
      assert.ok(await store.getResult(`${proxy.host}/alpine:3.10.3`));
      // Period 0 turns periodic scanning off.
      await store.putScanSettings({ ...(await store.getScanSettings()), registryScanPeriodMs: 0 });
      await scheduler.reschedule();
      assert.equal(scheduler.nextDueAt(), undefined);
      await orchestrator.waitForRegularScan();
      const count = finished.length;
      await sleep(700);
      assert.equal(finished.length, count, "no scan after the period was set to 0");
    } finally {
      scheduler.stop();
    }
  });
});
