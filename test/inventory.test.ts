/**
 * The indexing stage end to end: real docker-registry on 127.0.0.1 serving the seeded testbed (behind
 * the fault proxy, which counts blob GETs), the real SQLite layer cache in a temp dir, every
 * extractor. Expected packages come from independent oracles (GNU tar + the apk database format,
 * dpkg-query, the app's node_modules read as JSON, `go version -m`, the node binary itself), never
 * from shipshape's own output.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { LayerError } from "../src/image/layer.js";
import type { Platform } from "../src/image/manifest.js";
import { openImage } from "../src/image/open.js";
import { type AnalysisStats, Analyzer, type AnalyzerOptions } from "../src/inventory/analyzer.js";
import type { Extractor } from "../src/inventory/extractor.js";
import { allExtractors } from "../src/inventory/extractors/index.js";
import type { ImageIdentity, ImageInventory, InventoriedPackage } from "../src/inventory/types.js";
import { DigestMismatchError } from "../src/registry/errors.js";
import { LayerCache } from "../src/store/layer-cache.js";
import { Store } from "../src/store/store.js";
import { type FaultProxy, startFaultProxy } from "./harness/fault-proxy.js";
import {
  flipByte,
  layoutBlobPath,
  ociPy,
  readLayoutImage,
  registryBlobPath,
  rewriteImage,
  saveDockerArchive,
  tarBytes,
} from "./harness/image-kit.js";
import {
  apkPackagesOfTarball,
  dpkgPackagesOfTree,
  fileFromTarball,
  goVersionM,
  npmInstalledPackages,
  type OraclePackage,
  parseOsRelease,
  pkgdbFixtures,
  rootfsFixtures,
  testbedSrc,
} from "./harness/oracles.js";
import { pushImage } from "./harness/push.js";
import { type RunningRegistry, startRegistry } from "./harness/registry.js";
import { ensureSeededStorage, type SeedContents, seedContents } from "./harness/seed.js";
import { ensureTestbedLayout } from "./harness/testbed.js";

const run = promisify(execFile);

// ------------------------------------------------------------------------------------------ fixtures

let registry: RunningRegistry;
/** In front of `registry`: every request the analyzer makes is recorded in proxy.hits. */
let proxy: FaultProxy;
let layout: string;
let seed: SeedContents;
let tmp: string;

before(
  async () => {
    const storageDir = await ensureSeededStorage();
    layout = await ensureTestbedLayout();
    seed = await seedContents();
    registry = await startRegistry({ storageDir, readOnly: true });
    proxy = await startFaultProxy(registry.url);
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-inventory-"));
  },
  { timeout: 20 * 60_000 },
);
after(async () => {
  await proxy?.stop();
  await registry?.stop();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

const ALPINE_X86 = path.join(rootfsFixtures, "alpine-minirootfs-3.10.3-x86_64.tar.gz");
const ALPINE_ARM = path.join(rootfsFixtures, "alpine-minirootfs-3.10.3-aarch64.tar.gz");
const ALPINE_320 = path.join(pkgdbFixtures, "alpine-3.20.3", "alpine-minirootfs-3.20.3-x86_64.tar.gz");
const BOOKWORM = path.join(testbedSrc, "bookworm");
const APP = path.join(testbedSrc, "app", "app");
const ESBUILD = "app/node_modules/esbuild/bin/esbuild";
const NODE_BIN = path.join(testbedSrc, "noderoot", "usr", "local", "bin", "node");
const NODE_RUNTIME_REGISTERED = allExtractors.some((e) => e.name === "node-runtime");

async function openStore(name: string): Promise<Store> {
  return Store.openSqlite(path.join(tmp, `${name}.db`));
}

interface Analysed {
  identity: ImageIdentity;
  inventory: ImageInventory;
  stats: AnalysisStats;
  /** Layer digests fetched from the registry during the analysis, in request order. */
  layerGets: string[];
}

const blobDigest = (p: string) => /\/blobs\/(sha\d+:[0-9a-f]+)/.exec(p)?.[1];

/** Opens `reference` (through the proxy for registry references) and analyses it with `analyzer`. */
async function analyse(
  reference: string,
  analyzer: Analyzer,
  options: { platform?: Platform } = {},
): Promise<Analysed> {
  const from = proxy.hits.length;
  const source = await openImage(reference, { insecure: true, platform: options.platform });
  try {
    const { inventory, stats } = await analyzer.analyze(source);
    const layers = new Set(source.layers.map((l) => l.digest));
    const layerGets = proxy.hits
      .slice(from)
      .filter((h) => h.method === "GET")
      .map((h) => blobDigest(h.path))
      .filter((d): d is string => d !== undefined && layers.has(d));
    return { identity: source.identity, inventory, stats, layerGets };
  } finally {
    await source.close();
  }
}

const reg = (repository: string, tag: string) => `${proxy.host}/${repository}:${tag}`;
/**
 * Where layers are walked: on the main thread, or each on a walker thread whatever its size. The
 * suites run in both find the same inventories and the same errors.
 */
const WALK_MODES = [
  { name: "main thread", key: "main", options: {} },
  // As many threads as layers read at once (the default concurrency): none is walked on the main thread.
  { name: "walker thread", key: "walker", options: { walkerThreads: 3, walkerMinLayerBytes: 0 } },
] as const satisfies { name: string; key: string; options: Partial<AnalyzerOptions> }[];
type WalkMode = (typeof WALK_MODES)[number];

const analyzer = (
  cache?: LayerCache,
  extractors: Extractor[] = [...allExtractors],
  mode: WalkMode = WALK_MODES[0],
) => new Analyzer({ extractors, cache, ...mode.options });

/** One line per package: what the oracles can state independently. */
function row(p: {
  ecosystem: string;
  name: string;
  version: string;
  arch?: string | undefined;
  source?: { name: string; version?: string | undefined } | undefined;
  location: string;
  layer: number;
}): string {
  const source = p.source ? ` src=${p.source.name}@${p.source.version ?? ""}` : "";
  return `${p.ecosystem} ${p.name}@${p.version}${p.arch ? ` arch=${p.arch}` : ""}${source} in ${p.location} #${p.layer}`;
}

const rows = (packages: InventoriedPackage[]) =>
  packages.map((p) => row({ ...p, layer: p.layer.index })).sort();

const expectedRows = (
  ecosystem: string,
  packages: OraclePackage[],
  location: string | ((p: OraclePackage) => string),
  layer: number,
) =>
  packages.map((p) =>
    row({ ...p, ecosystem, location: typeof location === "string" ? location : location(p), layer }),
  );

const sorted = (lines: string[]) => [...lines].sort();

// ------------------------------------------------------------------------------------------ oracles

async function alpineExpected(tarball: string, layer = 0): Promise<string[]> {
  return expectedRows("apk", await apkPackagesOfTarball(tarball), "lib/apk/db/installed", layer);
}

async function debianExpected(layer = 0): Promise<string[]> {
  const packages = await dpkgPackagesOfTree(BOOKWORM);
  assert.equal(packages.length, 88, "the testbed's bookworm minbase has 88 packages");
  return expectedRows("deb", packages, "var/lib/dpkg/status", layer);
}

/**
 * node-app's language packages: node_modules minus tree-kill (the whiteout layer deletes it), and the
 * esbuild executable's Go build info from `go version -m`, written the way the gobinary extractor
 * documents (Trivy's rules): the main module's "(devel)" as an empty version, the toolchain as the
 * `stdlib` module with Go's "v" prefix in SemVer form ("go1.16" → "v1.16.0").
 */
async function nodeAppLanguageExpected(): Promise<string[]> {
  const npm = (await npmInstalledPackages(path.join(APP, "node_modules"))).filter(
    (p) => p.name !== "tree-kill",
  );
  assert.equal(npm.length, 25);
  const go = await goVersionM(path.join(APP, "node_modules/esbuild/bin/esbuild"));
  const semver = /^go(\d+)\.(\d+)(?:\.(\d+))?$/.exec(go.goVersion);
  assert.ok(semver, `toolchain ${go.goVersion} has the plain goX.Y[.Z] form`);
  const goPackages: OraclePackage[] = [
    { name: go.main.path, version: go.main.version === "(devel)" ? "" : go.main.version },
    ...go.deps.map((d) => ({ name: d.path, version: d.version })),
    { name: "stdlib", version: `v${semver[1]}.${semver[2]}.${semver[3] ?? 0}` },
  ];
  return [
    ...expectedRows("npm", npm, (p) => `app/node_modules/${p.name}/package.json`, 2),
    ...expectedRows("golang", goPackages, ESBUILD, 2),
  ];
}

/** ID and VERSION_ID of the image's os-release, read from the tree or tarball it was built from. */
async function osOf(file: string, tarball?: string): Promise<{ id: string; versionId: string }> {
  const text = tarball ? await fileFromTarball(tarball, file) : await fs.readFile(file, "utf8");
  const fields = parseOsRelease(text);
  return { id: fields.ID as string, versionId: fields.VERSION_ID as string };
}

const osFacts = (inv: ImageInventory) => ({ id: inv.os?.id, versionId: inv.os?.versionId });

/** Each package's layer ref agrees with the image: digest and created_by of the layer at its index. */
function assertLayerRefs(a: Analysed): void {
  for (const p of a.inventory.packages) {
    const layer = a.identity.layers[p.layer.index];
    assert.ok(layer, `${p.name}: layer ${p.layer.index} exists`);
    assert.equal(p.layer.digest, layer.digest, `${p.name}: layer digest`);
    assert.equal(p.layer.createdBy, layer.createdBy, `${p.name}: created_by`);
  }
}

/** An inventory with layer digests replaced by layer indexes: equal for differently compressed copies. */
const withoutLayerDigests = (inv: ImageInventory) => ({
  ...inv,
  packages: inv.packages.map((p) => ({ ...p, layer: { ...p.layer, digest: `#${p.layer.index}` } })),
});

const bump = (name: string, extractors: readonly Extractor[] = allExtractors): Extractor[] =>
  extractors.map((e) => (e.name === name ? { ...e, version: e.version + 1 } : e));

// ------------------------------------------------------------------------------ 1. exact inventories

for (const mode of WALK_MODES)
  describe(`every testbed image is inventoried exactly (${mode.name})`, { timeout: 60_000 }, () => {
    const here = () => analyzer(undefined, undefined, mode);

    test("alpine:3.10.3: the minirootfs's 14 apk packages in layer 0, Alpine 3.10.3", async () => {
      const a = await analyse(reg("alpine", "3.10.3"), here());
      const expected = await alpineExpected(ALPINE_X86);
      assert.equal(expected.length, 14);
      assert.deepEqual(rows(a.inventory.packages), sorted(expected));
      assert.deepEqual(osFacts(a.inventory), await osOf("etc/os-release", ALPINE_X86));
      assert.equal(a.identity.layers[0]?.createdBy, "ADD alpine-minirootfs-3.10.3-x86_64.tar.gz /");
      assertLayerRefs(a);
      assert.deepEqual(a.inventory.warnings, []);
    });

    test("alpine-multi:3.10.3: amd64 by default, arm64 (aarch64 packages) when asked", async () => {
      const amd = await analyse(reg("alpine-multi", "3.10.3"), here());
      const multi = seed.images.find((i) => i.repository === "alpine-multi");
      assert.equal(amd.identity.indexDigest, multi?.digest);
      assert.equal(amd.identity.architecture, "amd64");
      assert.deepEqual(rows(amd.inventory.packages), sorted(await alpineExpected(ALPINE_X86)));

      const arm = await analyse(reg("alpine-multi", "3.10.3"), here(), {
        platform: { os: "linux", architecture: "arm64" },
      });
      assert.equal(arm.identity.indexDigest, multi?.digest);
      assert.deepEqual([arm.identity.architecture, arm.identity.variant], ["arm64", "v8"]);
      assert.notEqual(arm.identity.digest, amd.identity.digest);
      const expected = await alpineExpected(ALPINE_ARM);
      assert.ok(expected.every((r) => r.includes(" arch=aarch64 ")));
      assert.deepEqual(rows(arm.inventory.packages), sorted(expected));
      assert.deepEqual(osFacts(arm.inventory), await osOf("etc/os-release", ALPINE_ARM));
      assertLayerRefs(arm);
    });

    test("alpine:3.20.3: its apk packages, Alpine 3.20.3", async () => {
      const a = await analyse(reg("alpine", "3.20.3"), here());
      assert.deepEqual(rows(a.inventory.packages), sorted(await alpineExpected(ALPINE_320)));
      assert.deepEqual(osFacts(a.inventory), await osOf("etc/os-release", ALPINE_320));
    });

    test("debian:bookworm: dpkg-query's 88 packages with their source packages, layer 0", async () => {
      const a = await analyse(reg("debian", "bookworm"), here());
      assert.deepEqual(rows(a.inventory.packages), sorted(await debianExpected()));
      // os-release says VERSION_ID="12"; the point release comes from etc/debian_version, as the
      // os-release extractor documents (and Trivy reports).
      const osRelease = await osOf(path.join(BOOKWORM, "usr/lib/os-release"));
      const pointRelease = (await fs.readFile(path.join(BOOKWORM, "etc/debian_version"), "utf8")).trim();
      assert.equal(pointRelease.split(".")[0], osRelease.versionId);
      assert.deepEqual(osFacts(a.inventory), { id: osRelease.id, versionId: pointRelease });
      assert.equal(a.inventory.os?.versionCodename, "bookworm");
      for (const p of a.inventory.packages)
        assert.equal(p.layer.createdBy, "debootstrap --variant=minbase bookworm");
      assertLayerRefs(a);
    });

    let nodeApp: Analysed;
    test("node-app:1.0: deb in layer 0, npm and the esbuild Go modules in layer 2, tree-kill whited out", async () => {
      nodeApp = await analyse(reg("node-app", "1.0"), here());
      const inventory = nodeApp.inventory;
      const expected = [...(await debianExpected(0)), ...(await nodeAppLanguageExpected())];
      const nonRuntime = inventory.packages.filter((p) => p.ecosystem !== "node");
      assert.deepEqual(rows(nonRuntime), sorted(expected));
      assert.ok(!inventory.packages.some((p) => p.name === "tree-kill"), "tree-kill was deleted by layer 3");
      assert.deepEqual(
        nodeApp.identity.layers.map((l) => l.createdBy),
        [
          "debootstrap --variant=minbase bookworm",
          "COPY node-v14.15.0-linux-x64 /usr/local",
          "COPY app /app (npm install)",
          "RUN rm -rf /app/node_modules/tree-kill",
        ],
      );
      for (const p of inventory.packages.filter((q) => q.ecosystem === "npm"))
        assert.equal(p.layer.createdBy, "COPY app /app (npm install)");
      assertLayerRefs(nodeApp);
      assert.equal(inventory.os?.id, "debian");
      assert.deepEqual(inventory.warnings, []);
    });

    test("node-app:1.0: the Node.js 14.15.0 runtime in /usr/local, layer 1", {
      todo: NODE_RUNTIME_REGISTERED ? false : "the node-runtime extractor is not in allExtractors yet",
    }, async () => {
      const a = nodeApp ?? (await analyse(reg("node-app", "1.0"), here()));
      const { stdout } = await run(NODE_BIN, ["--version"]);
      const version = stdout.trim().replace(/^v/, "");
      assert.equal(version, "14.15.0");
      assert.deepEqual(rows(a.inventory.packages.filter((p) => p.ecosystem === "node")), [
        row({ ecosystem: "node", name: "node", version, location: "usr/local/bin/node", layer: 1 }),
      ]);
      const node = a.inventory.packages.find((p) => p.ecosystem === "node");
      assert.equal(node?.layer.createdBy, "COPY node-v14.15.0-linux-x64 /usr/local");
    });

    test("node-app-zstd:1.0 gives the same inventory as node-app:1.0", async () => {
      const zstd = await analyse(reg("node-app-zstd", "1.0"), here());
      assert.ok(zstd.identity.layers.every((l) => l.mediaType.endsWith("+zstd")));
      const gzip = nodeApp ?? (await analyse(reg("node-app", "1.0"), here()));
      assert.deepEqual(
        zstd.identity.layers.map((l) => l.diffId),
        gzip.identity.layers.map((l) => l.diffId),
      );
      assert.deepEqual(withoutLayerDigests(zstd.inventory), withoutLayerDigests(gzip.inventory));
      assertLayerRefs(zstd);
    });

    test("team images: an odd team on the alpine base, an even one on debian; nothing in their own layer", async () => {
      const odd = await analyse(reg("team-07/service-02", "v3"), here());
      assert.equal(odd.identity.layers.length, 2);
      assert.deepEqual(rows(odd.inventory.packages), sorted(await alpineExpected(ALPINE_X86)));
      assert.equal(odd.inventory.os?.id, "alpine");
      const even = await analyse(reg("team-12/service-03", "v2"), here());
      assert.deepEqual(rows(even.inventory.packages), sorted(await debianExpected()));
      assert.equal(even.inventory.os?.id, "debian");
      assert.equal(even.identity.layers[1]?.createdBy, "COPY service-id /etc/service-id");
      assertLayerRefs(odd);
      assertLayerRefs(even);
    });
    test("each pulled layer was walked where this suite says", async () => {
      const a = await analyse(reg("node-app", "1.0"), here());
      assert.equal(a.stats.layersPulled, 4);
      assert.equal(a.stats.layersOnWalkerThreads, mode.key === "walker" ? 4 : 0);
    });
  });

// ------------------------------------------------------------------------------------- 2. the cache

describe("layer cache", { timeout: 60_000 }, () => {
  let store: Store;
  let first: Analysed;
  const nodeAppLayers = () => first.identity.layers.map((l) => l.digest);
  before(async () => {
    store = await openStore("cache");
  });
  after(() => store?.close());

  test("node-app after debian:bookworm pulls only its own 3 layers (the base blob is shared)", async () => {
    const cache = new LayerCache(store);
    const debian = await analyse(reg("debian", "bookworm"), analyzer(cache));
    assert.deepEqual([debian.stats.layersPulled, debian.stats.layersCached], [1, 0]);
    assert.deepEqual(
      debian.layerGets,
      debian.identity.layers.map((l) => l.digest),
    );

    first = await analyse(reg("node-app", "1.0"), analyzer(cache));
    assert.deepEqual([first.stats.layersPulled, first.stats.layersCached], [3, 1]);
    assert.equal(first.identity.layers[0]?.digest, debian.identity.layers[0]?.digest);
    assert.deepEqual(sorted(first.layerGets), sorted(nodeAppLayers().slice(1)));
    // The cached base gives the same packages as a pull.
    assert.deepEqual(
      rows(first.inventory.packages.filter((p) => p.ecosystem === "deb")),
      sorted(await debianExpected()),
    );
  });

  test("node-app-zstd after node-app: the same diff_ids in other blobs, each read, the same inventory", async () => {
    // Layers are cached by blob digest (verified as the blob streams); a diff_id from the config is
    // not checked against the content, so it cannot name a cache entry.
    const zstd = await analyse(reg("node-app-zstd", "1.0"), analyzer(new LayerCache(store)));
    assert.deepEqual(
      zstd.identity.layers.map((l) => l.diffId),
      first.identity.layers.map((l) => l.diffId),
    );
    assert.deepEqual([zstd.stats.layersPulled, zstd.stats.layersCached], [4, 0]);
    assert.deepEqual(sorted(zstd.layerGets), sorted(zstd.identity.layers.map((l) => l.digest)));
    assert.deepEqual(withoutLayerDigests(zstd.inventory), withoutLayerDigests(first.inventory));
  });

  test("a second analysis, even from the reopened store, pulls 0 layers and gives the same inventory", async () => {
    await store.close();
    store = await openStore("cache");
    const again = await analyse(reg("node-app", "1.0"), analyzer(new LayerCache(store)));
    assert.equal(again.stats.layersPulled, 0);
    assert.equal(again.stats.layersCached, 4);
    assert.equal(again.stats.bytesPulled, 0);
    assert.deepEqual(again.layerGets, []);
    assert.deepEqual(again.inventory, first.inventory);
  });

  // The cache keeps one version per extractor and layer: later tests keep npm at its bumped version.
  const npmBumped = bump("npm");
  test("an npm version bump pulls node-app's app layer again, and nothing of debian:bookworm", async () => {
    const cache = new LayerCache(store);
    const bumped = npmBumped;
    const app = await analyse(reg("node-app", "1.0"), analyzer(cache, bumped));
    assert.deepEqual([app.stats.layersPulled, app.stats.layersCached], [1, 3]);
    assert.deepEqual(app.layerGets, [nodeAppLayers()[2]]);
    assert.deepEqual(app.inventory, first.inventory);
    const debian = await analyse(reg("debian", "bookworm"), analyzer(cache, bumped));
    assert.deepEqual([debian.stats.layersPulled, debian.layerGets], [0, []]);
    // Now cached at the new version too: nothing more to pull.
    const again = await analyse(reg("node-app", "1.0"), analyzer(cache, bumped));
    assert.deepEqual([again.stats.layersPulled, again.layerGets], [0, []]);
  });

  test("a dpkg version bump pulls only the base layer; a new extractor wanting nothing pulls nothing", async () => {
    const cache = new LayerCache(store);
    const bumped = bump("dpkg", npmBumped);
    const dpkg = await analyse(reg("node-app", "1.0"), analyzer(cache, bumped));
    assert.deepEqual(dpkg.layerGets, [nodeAppLayers()[0]]);
    assert.deepEqual(dpkg.inventory, first.inventory);

    let calls = 0;
    const nothing: Extractor = {
      name: "test-wants-nothing",
      version: 1,
      spec: "test",
      maxFileBytes: 1024,
      wants: () => false,
      extract: () => {
        calls++;
        return {};
      },
    };
    const none = await analyse(reg("node-app", "1.0"), analyzer(cache, [...bumped, nothing]));
    assert.deepEqual([none.stats.layersPulled, none.layerGets, calls], [0, [], 0]);
    assert.deepEqual(none.inventory, first.inventory);
    const bumpedNothing = bump(nothing.name, [...bumped, nothing]);
    const again = await analyse(reg("node-app", "1.0"), analyzer(cache, bumpedNothing));
    assert.deepEqual([again.stats.layersPulled, again.layerGets], [0, []]);
  });

  test("60 team images sharing 2 base layers: 62 layers pulled, each blob fetched once", async () => {
    const teams = seed.images.filter((i) => /^team-\d+\/service-\d+$/.test(i.repository) && i.tag === "v1");
    assert.equal(teams.length, 60);
    const teamStore = await openStore("teams");
    after(() => teamStore.close());
    const one = analyzer(new LayerCache(teamStore));
    let pulled = 0;
    const gets: string[] = [];
    const bases = new Set<string>();
    for (const image of teams) {
      const a = await analyse(reg(image.repository, image.tag), one);
      assert.equal(a.stats.layersPulled + a.stats.layersCached, 2, image.repository);
      pulled += a.stats.layersPulled;
      gets.push(...a.layerGets);
      bases.add(a.identity.layers[0]?.digest as string);
      const team = Number(/^team-(\d+)/.exec(image.repository)?.[1]);
      assert.equal(a.inventory.os?.id, team % 2 ? "alpine" : "debian", image.repository);
      assert.equal(a.inventory.packages.length, team % 2 ? 14 : 88, image.repository);
    }
    assert.equal(bases.size, 2);
    assert.equal(pulled, 62);
    assert.equal(gets.length, 62);
    assert.equal(new Set(gets).size, 62);
  });

  test("concurrent analyses sharing base layers fetch each blob once and account for every layer", async () => {
    const images = seed.images.filter(
      (i) => /^team-0[1-4]\/service-\d+$/.test(i.repository) && i.tag === "v2",
    );
    assert.equal(images.length, 12);
    const store2 = await openStore("concurrent");
    try {
      const shared = analyzer(new LayerCache(store2));
      const from = proxy.hits.length;
      const results = await Promise.all(images.map((i) => analyse(reg(i.repository, i.tag), shared)));
      for (const a of results) {
        assert.equal(
          a.stats.layersPulled + a.stats.layersCached,
          2,
          `${a.identity.name}: ${JSON.stringify(a.stats)}`,
        );
        assert.equal(a.inventory.packages.length > 0, true);
      }
      const layerGets = proxy.hits
        .slice(from)
        .filter(
          (h) =>
            h.method === "GET" &&
            results.some((a) => a.identity.layers.some((l) => h.path.endsWith(l.digest))),
        );
      assert.equal(layerGets.length, 12 + 2);
      assert.equal(
        results.reduce((n, a) => n + a.stats.layersPulled, 0),
        14,
      );
    } finally {
      await store2.close();
    }
  });
});

// -------------------------------------------------------------------------------- 3. hostile input

/** The error `fn` rejects with (failing the test when it resolves). */
async function failure(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  assert.fail("expected a rejection");
}

const apkDb = (...packages: [name: string, version: string][]) =>
  packages.map(([name, version]) => `P:${name}\nV:${version}\nA:x86_64\no:${name}\n`).join("\n");

for (const mode of WALK_MODES)
  describe(`hostile images in a registry: clear errors, nothing lost, nothing cached (${mode.name})`, {
    timeout: 60_000,
  }, () => {
    let hostile: RunningRegistry;
    let storage: string;
    let dir: string;
    let store: Store;
    let cache: LayerCache;
    let shared: Analyzer;
    /** Layout image name → its config's diff_ids and manifest layer digests. */
    const images = new Map<string, { diffIds: string[]; layers: string[] }>();
    const ALPINE_BASE = () => `blob:${layout}:alpine--3.10.3:0#ADD alpine-minirootfs-3.10.3-x86_64.tar.gz /`;
    const ref = (name: string) => `${hostile.host}/hostile/${name}:1`;

    /** A tar layer file from entries; each file gets a unique marker so no two layers share a blob. */
    async function layerFile(name: string, entries: Parameters<typeof tarBytes>[0]): Promise<string> {
      const file = path.join(dir, `${name}.tar`);
      await fs.writeFile(
        file,
        await tarBytes([...entries, { name: `etc/test-layer-${name}`, content: name }]),
      );
      return file;
    }

    before(async () => {
      dir = path.join(tmp, `hostile-${mode.key}`);
      storage = path.join(tmp, `hostile-storage-${mode.key}`);
      await fs.mkdir(dir, { recursive: true });
      const L = path.join(dir, "layout");
      const npmPackage = (name: string) => ({
        name: `app/node_modules/${name}/package.json`,
        content: JSON.stringify({ name, version: "1.0.0" }),
      });
      // Pseudo-random text, so the deflate stream has a body worth corrupting.
      let x = 1;
      const noise = Array.from({ length: 20_000 }, () => {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        return x.toString(36);
      }).join(" ");
      const build: [string, string[]][] = [
        ["corrupt-gzip-header", [ALPINE_BASE(), `tar:${await layerFile("cgh", [npmPackage("cgh")])}`]],
        [
          "corrupt-deflate",
          [`tar:${await layerFile("cd", [npmPackage("cd"), { name: "noise", content: noise }])}`],
        ],
        [
          "truncate-me",
          [`tar:${await layerFile("tr", [npmPackage("tr"), { name: "noise", content: noise }])}`],
        ],
        ["not-a-tar", [`tar:${path.join(dir, "junk.txt")}:none`]],
        [
          "traversal",
          [
            `tar:${await layerFile("trav", [
              { name: "../../etc/evil", content: "escapes" },
              { name: "app/../../../usr/bin/evil", content: "escapes too" },
              { name: "lib/apk/db/installed", content: apkDb(["inside", "1.0-r0"]) },
              { name: "/usr/lib/os-release", content: "ID=alpine\nVERSION_ID=3.10.3\n" },
              { name: "lib/apk/db/linked", type: "link", linkname: "../../../../etc/shadow" },
            ])}`,
          ],
        ],
        [
          "fails-first",
          [
            `tar:${path.join(dir, "junk-first.txt")}:none`,
            ...(await Promise.all(
              ["ff1", "ff2", "ff3", "ff4"].map(async (n) => `tar:${await layerFile(n, [npmPackage(n)])}`),
            )),
          ],
        ],
        [
          "victim",
          [
            `tar:${await layerFile("victim", [{ name: "lib/apk/db/installed", content: apkDb(["victim", "2.0-r0"]) }])}`,
          ],
        ],
        [
          "impostor",
          [
            `tar:${await layerFile("impostor", [{ name: "lib/apk/db/installed", content: apkDb(["impostor", "6.6.6-r0"]) }])}`,
          ],
        ],
        [
          "whiteout-db",
          [
            ALPINE_BASE(),
            `tar:${await layerFile("wh", [{ name: "lib/apk/db/.wh.installed", content: "" }])}#RUN rm lib/apk/db/installed`,
          ],
        ],
        [
          "opaque-db",
          [
            ALPINE_BASE(),
            `tar:${await layerFile("opq", [
              { name: "lib/apk/db/.wh..wh..opq", content: "" },
              { name: "lib/apk/db/installed", content: apkDb(["replacement", "1.2.3-r4"]) },
            ])}#RUN replace the apk database`,
          ],
        ],
      ];
      await fs.writeFile(
        path.join(dir, "junk.txt"),
        "this is a plain text file, not a tar archive\n".repeat(100),
      );
      await fs.writeFile(path.join(dir, "junk-first.txt"), "neither is this one\n".repeat(100));
      for (const [name, layers] of build) await ociPy("image", L, name, ...layers);
      await rewriteImage(L, "truncate-me", "truncated-gzip", {
        layer: (_, bytes) => bytes.subarray(0, Math.floor(bytes.length / 2)),
      });
      // The impostor's config claims its layer is the victim's (not yet analysed) layer.
      const victim = await readLayoutImage(L, "victim");
      await rewriteImage(L, "impostor", "diff-id-impostor", {
        config: (c) => {
          c.rootfs.diff_ids = [victim.config.rootfs.diff_ids[0] as string];
        },
      });
      hostile = await startRegistry({ storageDir: storage });
      const names = [...build.map(([n]) => n), "truncated-gzip", "diff-id-impostor"];
      for (const name of names) {
        await pushImage(L, name, { url: hostile.url }, { repository: `hostile/${name}`, tag: "1" });
        const image = await readLayoutImage(L, name);
        images.set(name, {
          diffIds: image.config.rootfs.diff_ids,
          layers: image.manifest.layers.map((l) => l.digest),
        });
      }
      // After the push, so the registry serves bytes other than those announced.
      const gzipHeader = images.get("corrupt-gzip-header")?.layers[1] as string;
      await flipByte(registryBlobPath(storage, gzipHeader), 5); // MTIME: gunzip does not mind
      const deflate = images.get("corrupt-deflate")?.layers[0] as string;
      const size = (await fs.stat(registryBlobPath(storage, deflate))).size;
      await flipByte(registryBlobPath(storage, deflate), Math.floor(size / 2));

      store = await openStore(`hostile-${mode.key}`);
      cache = new LayerCache(store);
      shared = analyzer(cache, undefined, mode);
    });
    after(async () => {
      await store?.close();
      await hostile?.stop();
      await fs.rm(storage, { recursive: true, force: true });
    });

    /** Nothing at all is cached for these layer blobs: no listing, no extractor results. */
    async function assertNotCached(digests: string[]): Promise<void> {
      for (const digest of digests) {
        assert.equal(await cache.listing(digest), undefined, `no listing for ${digest}`);
        const results = await store.db
          .selectFrom("layer_results")
          .select("extractor")
          .where("digest", "=", digest)
          .execute();
        assert.deepEqual(results, [], `no results for ${digest}`);
      }
    }

    // The blob is not the one the manifest names, yet decompresses to the announced content (only the
    // gzip header's MTIME differs). Runtimes refuse such a blob by its digest; so must the scanner.
    test("a blob that is not its digest but decompresses intact (gzip MTIME flipped): DigestMismatchError", async () => {
      const { layers } = images.get("corrupt-gzip-header") as { layers: string[] };
      for (let attempt = 1; attempt <= 2; attempt++) {
        const err = await failure(() => analyse(ref("corrupt-gzip-header"), shared));
        assert.ok(err instanceof DigestMismatchError, `attempt ${attempt}: ${err.stack}`);
        assert.equal(err.expected, layers[1]);
        assert.match(err.message, new RegExp(`${layers[1]}.*content digest mismatch`));
        await assertNotCached([layers[1] as string]);
      }
      // The same blob in an OCI layout.
      const L = path.join(dir, "mtime-layout");
      await ociPy("image", L, "img", `tar:${path.join(dir, "cgh.tar")}`);
      const blob = (await readLayoutImage(L, "img")).manifest.layers[0]?.digest as string;
      assert.equal(blob, layers[1]);
      await flipByte(layoutBlobPath(L, blob), 5);
      const err = await failure(() => analyse(`oci:${L}:img`, shared));
      assert.ok(err instanceof DigestMismatchError, err.stack);
      assert.equal(err.expected, blob);
      await assertNotCached([layers[1] as string]);
    });

    test("a corrupt deflate stream: a DigestMismatchError or LayerError naming the layer", async () => {
      const { layers } = images.get("corrupt-deflate") as { layers: string[] };
      const err = await failure(() => analyse(ref("corrupt-deflate"), shared));
      assert.ok(err instanceof DigestMismatchError || err instanceof LayerError, err.stack);
      assert.ok(err.message.includes(layers[0] as string), err.message);
      await assertNotCached(layers);
    });

    test("a truncated gzip layer (its digest matching the truncated bytes): LayerError", async () => {
      const { layers } = images.get("truncated-gzip") as { layers: string[] };
      const err = await failure(() => analyse(ref("truncated-gzip"), shared));
      assert.ok(err instanceof LayerError, err.stack);
      assert.equal(err.digest, layers[0]);
      assert.match(err.message, /^layer sha256:[0-9a-f]{64}: (corrupt compressed data|truncated)/);
      await assertNotCached(layers);
    });

    test("a layer that is not a tar archive: LayerError saying so", async () => {
      const { layers } = images.get("not-a-tar") as { layers: string[] };
      const err = await failure(() => analyse(ref("not-a-tar"), shared));
      assert.ok(err instanceof LayerError, err.stack);
      assert.equal(err.digest, layers[0]);
      assert.match(err.message, /not a tar archive/);
      await assertNotCached(layers);
    });

    test("a failing layer ends the analysis: layers in flight finish and are cached, no new one starts", async () => {
      const { layers } = images.get("fails-first") as { layers: string[] };
      // Through a proxy that holds back layers 1 and 2, so layer 0 fails while they are being read.
      const slow = await startFaultProxy(hostile.url, {
        rules: [1, 2].map((i) => ({
          match: { method: "GET", path: layers[i] as string },
          fault: { kind: "delay", ms: 1500 },
        })),
      });
      try {
        const events: string[] = [];
        const watched = new Analyzer({
          extractors: [...allExtractors],
          cache,
          concurrency: 3,
          ...mode.options,
          onLayer: (e) => events.push(`${e.index} ${e.state}`),
        });
        const source = await openImage(`${slow.host}/hostile/fails-first:1`, { insecure: true });
        const err = await failure(() => watched.analyze(source).finally(() => source.close()));
        assert.ok(err instanceof LayerError, err.stack);
        assert.equal(err.digest, layers[0]);
        // Settled before the rejection: the layers in flight were read to the end and cached.
        assert.ok(await cache.listing(layers[1] as string), "layer 1 cached");
        assert.ok(await cache.listing(layers[2] as string), "layer 2 cached");
        await new Promise((resolve) => setTimeout(resolve, 600));
        assert.deepEqual(events.filter((e) => e.endsWith("pulling")).sort(), [
          "0 pulling",
          "1 pulling",
          "2 pulling",
        ]);
        await assertNotCached([layers[0] as string, layers[3] as string, layers[4] as string]);
      } finally {
        await slow.stop();
      }
    });

    test("entries escaping the root are skipped with a warning; the rest is inventoried", async () => {
      const a = await analyse(ref("traversal"), shared);
      const digest = images.get("traversal")?.layers[0];
      assert.deepEqual(rows(a.inventory.packages), [
        row({
          ecosystem: "apk",
          name: "inside",
          version: "1.0-r0",
          arch: "x86_64",
          source: { name: "inside", version: "1.0-r0" },
          location: "lib/apk/db/installed",
          layer: 0,
        }),
      ]);
      assert.equal(a.inventory.os?.id, "alpine", "the absolute /usr/lib/os-release is read inside the root");
      for (const name of ["../../etc/evil", "app/../../../usr/bin/evil"]) {
        assert.ok(
          a.inventory.warnings.some((w) => w.includes(digest as string) && w.includes(JSON.stringify(name))),
          `a warning names ${name}: ${a.inventory.warnings.join("; ")}`,
        );
      }
      // Cached with its warnings: the second analysis reads nothing and says the same.
      const again = await analyse(ref("traversal"), shared);
      assert.equal(again.stats.layersPulled, 0);
      assert.deepEqual(again.inventory, a.inventory);
    });

    test("a config claiming another layer's diff_id: its own bytes are inventoried, and poison nothing", async () => {
      const impostor = images.get("diff-id-impostor") as { layers: string[]; diffIds: string[] };
      const victim = images.get("victim") as { layers: string[]; diffIds: string[] };
      assert.equal(impostor.diffIds[0], victim.diffIds[0]);
      assert.notEqual(impostor.layers[0], victim.layers[0]);
      const a = await analyse(ref("diff-id-impostor"), shared);
      assert.equal(a.stats.layersPulled, 1);
      assert.deepEqual(
        a.inventory.packages.map((p) => `${p.name}@${p.version}`),
        ["impostor@6.6.6-r0"],
      );
      // The layer the impostor claimed to be is analysed from its own blob, not from the impostor's.
      const v = await analyse(ref("victim"), shared);
      assert.equal(v.stats.layersPulled, 1);
      assert.deepEqual(
        v.inventory.packages.map((p) => `${p.name}@${p.version}`),
        ["victim@2.0-r0"],
      );
    });

    test("a whiteout deleting the apk database removes every apk package; the OS stays known", async () => {
      const a = await analyse(ref("whiteout-db"), shared);
      assert.deepEqual(a.inventory.packages, []);
      assert.deepEqual(osFacts(a.inventory), await osOf("etc/os-release", ALPINE_X86));
    });

    test("an opaque directory replaces the lower layer's apk database with the upper one", async () => {
      const a = await analyse(ref("opaque-db"), shared);
      assert.deepEqual(rows(a.inventory.packages), [
        row({
          ecosystem: "apk",
          name: "replacement",
          version: "1.2.3-r4",
          arch: "x86_64",
          source: { name: "replacement", version: "1.2.3-r4" },
          location: "lib/apk/db/installed",
          layer: 1,
        }),
      ]);
      assert.equal(a.inventory.packages[0]?.layer.createdBy, "RUN replace the apk database");
    });

    test("after all of that, the same analyzer and cache inventory a good image exactly", async () => {
      const a = await analyse(reg("debian", "bookworm"), shared);
      assert.deepEqual(rows(a.inventory.packages), sorted(await debianExpected()));
      const failed = ["corrupt-deflate", "truncated-gzip", "not-a-tar", "fails-first"].map(
        (n) => images.get(n)?.layers[0] as string,
      );
      await assertNotCached(failed);
    });
  });

// ------------------------------------------------------------------------------- 4. image sources

describe("image sources: registry, OCI layout and docker save archives agree", { timeout: 60_000 }, () => {
  let dir: string;
  before(async () => {
    dir = path.join(tmp, "sources");
    await fs.mkdir(dir, { recursive: true });
  });

  /** What must not depend on where the image came from. */
  const facts = (a: Analysed) => ({
    os: a.inventory.os,
    packages: a.inventory.packages
      .map((p) => `${row({ ...p, layer: p.layer.index })} by ${p.layer.createdBy} purl=${p.purl}`)
      .sort(),
    warnings: a.inventory.warnings,
    diffIds: a.identity.layers.map((l) => l.diffId),
  });

  test("node-app:1.0 from the registry, the layout, a classic and an OCI-style docker save archive", async () => {
    const legacy = path.join(dir, "node-app-legacy.tar");
    const ociStyle = path.join(dir, "node-app-oci.tar");
    await saveDockerArchive(layout, "node-app--1.0", legacy, {
      format: "legacy",
      repoTag: "node-app:1.0",
      workDir: dir,
    });
    await saveDockerArchive(layout, "node-app--1.0", ociStyle, {
      format: "oci",
      repoTag: "node-app:1.0",
      workDir: dir,
    });
    const fromRegistry = await analyse(reg("node-app", "1.0"), analyzer());
    const fromLayout = await analyse(`oci:${layout}:node-app--1.0`, analyzer());
    const fromLegacy = await analyse(legacy, analyzer());
    const fromOciArchive = await analyse(`docker-archive:${ociStyle}`, analyzer());

    const expected = facts(fromRegistry);
    assert.equal(expected.packages.filter((p) => p.startsWith("deb ")).length, 88);
    assert.ok(expected.packages.some((p) => p.startsWith("npm lodash@4.17.15 ")));
    assert.deepEqual(facts(fromLayout), expected, "OCI layout");
    assert.deepEqual(facts(fromLegacy), expected, "docker save (classic)");
    assert.deepEqual(facts(fromOciArchive), expected, "docker save (OCI-style)");
    assert.equal(fromLayout.identity.digest, fromRegistry.identity.digest);
    // The image id is the config digest wherever the image came from (an archive has no manifest digest).
    const configDigest = (await readLayoutImage(layout, "node-app--1.0")).manifest.config.digest;
    for (const a of [fromRegistry, fromLayout, fromLegacy, fromOciArchive]) {
      assert.equal(a.identity.configDigest, configDigest, a.identity.name);
    }
    assert.deepEqual([fromLegacy.identity.repository, fromLegacy.identity.tag], ["node-app", "1.0"]);
    for (const a of [fromLayout, fromLegacy, fromOciArchive]) assertLayerRefs(a);
  });

  test("a corrupt blob in an OCI layout (a byte of its deflate stream): an error naming it, nothing cached", async () => {
    const L = path.join(dir, "layout");
    await ociPy("image", L, "small", `tar:${ALPINE_X86}`);
    const image = await readLayoutImage(L, "small");
    const digest = image.manifest.layers[0]?.digest as string;
    await flipByte(layoutBlobPath(L, digest), Math.floor((image.manifest.layers[0]?.size as number) / 2));
    const store = await openStore("layout-corrupt");
    try {
      const cache = new LayerCache(store);
      const err = await failure(() => analyse(`oci:${L}:small`, analyzer(cache)));
      assert.ok(err instanceof DigestMismatchError || err instanceof LayerError, err.stack);
      assert.ok(err.message.includes(digest), err.message);
      assert.equal(await cache.listing(digest), undefined);
    } finally {
      await store.close();
    }
  });

  test("a classic docker save archive with a changed byte in a layer.tar: refused by its digest (the diff_id)", async () => {
    const archive = path.join(dir, "alpine-legacy.tar");
    await saveDockerArchive(layout, "alpine--3.10.3", archive, {
      format: "legacy",
      repoTag: "alpine:3.10.3",
      workDir: dir,
    });
    const good = await analyse(archive, analyzer());
    assert.deepEqual(rows(good.inventory.packages), sorted(await alpineExpected(ALPINE_X86)));
    // Flip a byte of the apk database's content inside layer.tar.
    const bytes = await fs.readFile(archive);
    const at = bytes.indexOf("P:musl\n");
    assert.ok(at > 0);
    await flipByte(archive, at + 2);
    const err = await failure(() => analyse(archive, analyzer()));
    assert.ok(err instanceof DigestMismatchError, err.stack);
    assert.equal(err.expected, good.identity.layers[0]?.diffId);
  });

  test("docker save archives whose configs lack diff_ids are refused, and never share a cache entry", async () => {
    const L = path.join(dir, "no-diff-ids");
    const store = await openStore("no-diff-ids");
    try {
      const cache = new LayerCache(store);
      const inventories: string[][] = [];
      for (const name of ["first", "second"]) {
        const file = path.join(dir, `${name}.tar`);
        await fs.writeFile(
          file,
          await tarBytes([{ name: "lib/apk/db/installed", content: apkDb([name, "1.0-r0"]) }]),
        );
        await ociPy("image", L, name, `tar:${file}`);
        for (const [variant, edit] of [
          ["missing", (c: { rootfs: { diff_ids: string[] } }) => (c.rootfs.diff_ids = [])],
          ["empty", (c: { rootfs: { diff_ids: string[] } }) => (c.rootfs.diff_ids = [""])],
        ] as const) {
          await rewriteImage(L, name, `${name}-${variant}`, { config: edit });
          const archive = path.join(dir, `${name}-${variant}.tar`);
          await saveDockerArchive(L, `${name}-${variant}`, archive, {
            format: "legacy",
            repoTag: `${name}:1`,
            workDir: dir,
          });
          const result = await analyse(archive, analyzer(cache)).then(
            (a) => a.inventory.packages.map((p) => p.name),
            (err: Error) => {
              assert.match(err.message, /diff_id/, err.stack);
              return undefined;
            },
          );
          // Refusing is right; reporting another image's packages never is.
          if (result) inventories.push(result);
          if (result) assert.deepEqual(result, [name], `${name}-${variant}`);
        }
      }
      const listings = await store.db.selectFrom("layer_listings").select("digest").execute();
      for (const { digest } of listings) assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    } finally {
      await store.close();
    }
  });
});
