/**
 * `shipshape image` end to end: the seeded testbed images in a real docker-registry on 127.0.0.1
 * (behind the fault proxy, which records every request), a vulnerability database built once by
 * `db update --mirror ../shared/vulndata` (the real feeds, no hand-written records), the CLI as a
 * child process.
 *
 * Expected findings are derived in this file from the feeds' own files (unzipped with `unzip`, read
 * as JSON) and the images' contents from the inventory oracles (harness/oracles.ts), never from
 * shipshape's matcher:
 * - npm: a table of every osv/npm record naming an installed package, each with its original NSWG
 *   range, checked against the record and re-evaluated by a SemVer comparison written here;
 * - Node.js runtime: vuln/core records whose `vulnerable` range holds 14.15.0 and whose `patched`
 *   range does not, by node-semver (the ranges' own syntax);
 * - Go: osv/Go records' SEMVER events for the esbuild binary's stdlib and golang.org/x/sys versions
 *   (from `go version -m`), by the same SemVer comparison;
 * - Alpine 3.10: the v3.10 secfixes of every installed origin, compared here by apk's rules for
 *   these version shapes.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import zlib from "node:zlib";
import semver from "semver";
import { matchInventory } from "../src/match/matcher.js";
import type { Finding } from "../src/match/types.js";
import type { FindingsDocument } from "../src/report/findings-json.js";
import { InventoryStore } from "../src/store/inventories.js";
import { Store } from "../src/store/store.js";
import { VulnerabilityDatabase } from "../src/vulndb/database.js";
import { enrichmentSources, feedSources } from "../src/vulndb/sources/index.js";
import { parseCsv } from "./harness/csv.js";
import { type FaultProxy, startFaultProxy } from "./harness/fault-proxy.js";
import {
  apkPackagesOfTarball,
  dpkgPackagesOfTree,
  goVersionM,
  npmInstalledPackages,
  pkgdbFixtures,
  rootfsFixtures,
  testbedSrc,
} from "./harness/oracles.js";
import { type RunningRegistry, startRegistry } from "./harness/registry.js";
import { ensureSeededStorage, type SeedContents, seedContents } from "./harness/seed.js";
import { buildMirrorDatabase, type CliRun, shipshape, vulndataDir } from "./harness/shipshape-cli.js";
import { ensureCommand } from "./harness/tools.js";

const run = promisify(execFile);

const ALPINE_310_TARBALL = path.join(rootfsFixtures, "alpine-minirootfs-3.10.3-x86_64.tar.gz");
const ALPINE_320_TARBALL = path.join(
  pkgdbFixtures,
  "alpine-3.20.3",
  "alpine-minirootfs-3.20.3-x86_64.tar.gz",
);
const BOOKWORM = path.join(testbedSrc, "bookworm");
const NODE_MODULES = path.join(testbedSrc, "app", "app", "node_modules");
const ESBUILD = path.join(NODE_MODULES, "esbuild", "bin", "esbuild");

let tmp: string;
let cacheDir: string;
/** An empty working directory, so no stray .trivyignore is picked up. */
let work: string;
let feeds: string;
let registry: RunningRegistry;
let proxy: FaultProxy;
let seed: SeedContents;

before(
  async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-image-scan-"));
    cacheDir = path.join(tmp, "cache");
    work = path.join(tmp, "work");
    feeds = path.join(tmp, "feeds");
    await fs.mkdir(work);
    const unpack = async () => {
      await ensureCommand("unzip", "unzip");
      for (const [zip, dir] of [
        ["osv/Go/all.zip", "go"],
        ["osv/npm/all.zip", "npm"],
        ["nodejs/security-wg-vuln.zip", "nodejs"],
      ] as const) {
        await fs.mkdir(path.join(feeds, dir), { recursive: true });
        await run("unzip", ["-q", "-o", path.join(vulndataDir, zip), "-d", path.join(feeds, dir)]);
      }
    };
    // allSettled: a failure must not leave the others writing into tmp while after() removes it.
    const settled = await Promise.allSettled([
      ensureSeededStorage(),
      buildMirrorDatabase(cacheDir),
      unpack(),
    ]);
    for (const s of settled) if (s.status === "rejected") throw s.reason;
    const storageDir = (settled[0] as PromiseFulfilledResult<string>).value;
    registry = await startRegistry({ storageDir, readOnly: true });
    proxy = await startFaultProxy(registry.url);
    seed = await seedContents();
  },
  { timeout: 20 * 60_000 },
);
after(async () => {
  await proxy?.stop();
  await registry?.stop();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

function scan(image: string, args: string[] = [], cwd = work): Promise<CliRun> {
  return shipshape(["image", `${proxy.host}/${image}`, "--insecure", "--cache-dir", cacheDir, ...args], {
    cwd,
    home: tmp,
  });
}

async function scanJson(
  image: string,
  args: string[] = [],
  cwd = work,
): Promise<{ run: CliRun; doc: FindingsDocument }> {
  const r = await scan(image, ["--format", "json", ...args], cwd);
  assert.ok(r.code === 0 || r.code === 3, `exit ${r.code}: ${r.stderr}`);
  return { run: r, doc: JSON.parse(r.stdout) as FindingsDocument };
}

// ---------------------------------------------------------------------------------------------
// An independent SemVer 2.0.0 comparison and OSV interval evaluation, for the npm and Go records.

function semverParts(version: string): { core: number[]; pre: string[] } {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(version);
  if (!m) throw new Error(`not a SemVer version: ${version}`);
  return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] === undefined ? [] : m[4].split(".") };
}

/** SemVer §11: core numerically, a prerelease below its release, identifiers numeric < alphanumeric. */
function semverCompare(a: string, b: string): number {
  const [x, y] = [semverParts(a), semverParts(b)];
  for (let i = 0; i < 3; i++)
    if (x.core[i] !== y.core[i]) return (x.core[i] as number) - (y.core[i] as number);
  if (x.pre.length === 0 || y.pre.length === 0) return y.pre.length - x.pre.length;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const [p, q] = [x.pre[i], y.pre[i]];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const [pn, qn] = [/^\d+$/.test(p), /^\d+$/.test(q)];
    if (pn && qn && Number(p) !== Number(q)) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1;
    if (!pn && p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

type OsvEvent = { introduced?: string; fixed?: string; last_affected?: string; limit?: string };
interface OsvRecord {
  id: string;
  aliases?: string[];
  withdrawn?: string;
  affected: {
    package: { ecosystem: string; name: string };
    ranges?: { type: string; events: OsvEvent[] }[];
    database_specific?: { vulnerable_versions?: string; patched_versions?: string };
  }[];
  severity?: { type: string; score: string }[];
}

/**
 * The intervals an event list describes ([introduced, fixed) or [introduced, last_affected]; "0"
 * before everything), and whether `version` lies in one: undefined when not, else the interval's fix.
 */
function osvInterval(events: OsvEvent[], version: string): { fixed?: string } | undefined {
  const at = (e: OsvEvent) => (e.introduced ?? e.fixed ?? e.last_affected ?? e.limit) as string;
  if (events.some((e) => e.limit !== undefined))
    throw new Error("limit events are not expected in these feeds");
  const cmp = (a: string, b: string) =>
    a === "0" ? (b === "0" ? 0 : -1) : b === "0" ? 1 : semverCompare(a, b);
  const sorted = [...events].sort((a, b) => cmp(at(a), at(b)));
  let start: string | undefined;
  const intervals: { start: string; end?: string; inclusive?: boolean }[] = [];
  for (const e of sorted) {
    if (e.introduced !== undefined && start === undefined) start = e.introduced;
    else if (e.introduced === undefined && start !== undefined) {
      intervals.push({ start, end: at(e), inclusive: e.last_affected !== undefined });
      start = undefined;
    }
  }
  if (start !== undefined) intervals.push({ start });
  const hit = intervals.find(
    (i) =>
      cmp(version, i.start) >= 0 &&
      (i.end === undefined || (i.inclusive ? cmp(version, i.end) <= 0 : cmp(version, i.end) < 0)),
  );
  if (!hit) return undefined;
  return hit.end !== undefined && !hit.inclusive ? { fixed: hit.end } : {};
}

async function readRecords(dir: string): Promise<OsvRecord[]> {
  const names = (await fs.readdir(dir)).filter((n) => n.endsWith(".json"));
  return Promise.all(
    names.map(async (n) => JSON.parse(await fs.readFile(path.join(dir, n), "utf8")) as OsvRecord),
  );
}

/** The source record a finding came from: its GO-/NSWG- id among id and aliases. */
function recordId(f: Finding, prefix: string): string {
  const ids = [f.id, ...f.aliases].filter((a) => a.startsWith(prefix));
  assert.equal(ids.length, 1, `${f.package.name} ${f.id}: one ${prefix} record, got ${ids.join(", ")}`);
  return ids[0] as string;
}

const findingKey = (f: Finding) => `${f.package.ecosystem} ${f.package.name}@${f.package.version} ${f.id}`;

// ---------------------------------------------------------------------------------------------
// node-app:1.0's npm packages against osv/npm (NSWG-ECO records, converted 1:1 from the Node.js
// Security WG; the original range kept as database_specific.vulnerable_versions).

interface NpmRow {
  pkg: string;
  version: string;
  record: string;
  /** The WG's own range string. */
  vulnerable: string;
  /** The WG's patched_versions, where the fix comes from it (a `<=x` range names none itself). */
  patched?: string;
  /** The finding's id: the record's CVE when it has one. */
  id: string;
  fixed: string[];
  state: "fixed" | "affected";
}

const NPM_EXPECTED: NpmRow[] = [
  // "Denial of Service": <4.6.0 holds 4.5.3.
  {
    pkg: "handlebars",
    version: "4.5.3",
    record: "NSWG-ECO-519",
    vulnerable: "<4.6.0",
    id: "NSWG-ECO-519",
    fixed: ["4.6.0"],
    state: "fixed",
  },
  // "Man-in-the-Middle": <2.2.3 holds 2.2.2.
  {
    pkg: "https-proxy-agent",
    version: "2.2.2",
    record: "NSWG-ECO-505",
    vulnerable: "<2.2.3",
    id: "NSWG-ECO-505",
    fixed: ["2.2.3"],
    state: "fixed",
  },
  // "Allocation of Resources Without Limits or Throttling": >=4.17.15 <4.17.19 starts exactly at 4.17.15.
  {
    pkg: "lodash",
    version: "4.17.15",
    record: "NSWG-ECO-516",
    vulnerable: ">=4.17.15 <4.17.19",
    id: "NSWG-ECO-516",
    fixed: ["4.17.19"],
    state: "fixed",
  },
  // "Sanitization bypass using HTML Entities": <=0.3.5 (last_affected 0.3.5) holds 0.3.5; the range
  // names no fixed version, the WG's patched_versions >=0.3.6 does.
  {
    pkg: "marked",
    version: "0.3.5",
    record: "NSWG-ECO-101",
    vulnerable: "<=0.3.5",
    patched: ">=0.3.6",
    id: "NSWG-ECO-101",
    fixed: ["0.3.6"],
    state: "fixed",
  },
  // "mixin-deep prototype pollution" (CVE-2018-3719): <1.3.1 holds 1.3.0.
  {
    pkg: "mixin-deep",
    version: "1.3.0",
    record: "NSWG-ECO-369",
    vulnerable: "<1.3.1",
    id: "CVE-2018-3719",
    fixed: ["1.3.1"],
    state: "fixed",
  },
  // "Regular Expression Denial of Service" (CVE-2016-4055): <2.11.2 holds 2.11.1.
  {
    pkg: "moment",
    version: "2.11.1",
    record: "NSWG-ECO-55",
    vulnerable: "<2.11.2",
    id: "CVE-2016-4055",
    fixed: ["2.11.2"],
    state: "fixed",
  },
  // "DoS due to excessively large websocket message": <=1.1.0 (last_affected) holds 1.1.0 exactly;
  // the fix from patched_versions >=1.1.1.
  {
    pkg: "ws",
    version: "1.1.0",
    record: "NSWG-ECO-120",
    vulnerable: "<=1.1.0",
    patched: ">=1.1.1",
    id: "NSWG-ECO-120",
    fixed: ["1.1.1"],
    state: "fixed",
  },
];

/** Every other osv/npm record naming a package of node-app, and why it must not be reported. */
const NPM_ABSENT: {
  pkg: string;
  version: string;
  record: string;
  vulnerable: string;
  why: string;
  /** The range holds the version, but the package is not in the image. */
  deleted?: true;
}[] = [
  { pkg: "handlebars", version: "4.5.3", record: "NSWG-ECO-61", vulnerable: "<4.0.0", why: "fixed in 4.0.0" },
  {
    pkg: "https-proxy-agent",
    version: "2.2.2",
    record: "NSWG-ECO-388",
    vulnerable: "<=2.1.1",
    why: "2.2.2 is above 2.1.1",
  },
  {
    pkg: "lodash",
    version: "4.17.15",
    record: "NSWG-ECO-368",
    vulnerable: "<4.17.5",
    why: "fixed in 4.17.5",
  },
  {
    pkg: "lodash",
    version: "4.17.15",
    record: "NSWG-ECO-493",
    vulnerable: "<4.17.11",
    why: "fixed in 4.17.11",
  },
  {
    pkg: "marked",
    version: "0.3.5",
    record: "NSWG-ECO-22",
    vulnerable: "<=0.3.0",
    why: "0.3.5 is above 0.3.0",
  },
  {
    pkg: "marked",
    version: "0.3.5",
    record: "NSWG-ECO-23",
    vulnerable: "<=0.3.3",
    why: "0.3.5 is above 0.3.3",
  },
  {
    pkg: "marked",
    version: "0.3.5",
    record: "NSWG-ECO-24",
    vulnerable: "<=0.3.2",
    why: "0.3.5 is above 0.3.2",
  },
  { pkg: "ms", version: "2.1.3", record: "NSWG-ECO-46", vulnerable: "<=0.7.0", why: "2.1.3 is above 0.7.0" },
  {
    pkg: "uglify-js",
    version: "3.19.3",
    record: "NSWG-ECO-39",
    vulnerable: "<= 2.4.23",
    why: "3.19.3 is above 2.4.23",
  },
  { pkg: "uglify-js", version: "3.19.3", record: "NSWG-ECO-48", vulnerable: "<2.6.0", why: "fixed in 2.6.0" },
  { pkg: "ws", version: "1.1.0", record: "NSWG-ECO-67", vulnerable: "<= 1.0.0", why: "1.1.0 is above 1.0.0" },
  {
    pkg: "tree-kill",
    version: "1.2.1",
    record: "NSWG-ECO-508",
    vulnerable: "<1.2.2",
    why: "1.2.1 would be affected, but the image's last layer deletes node_modules/tree-kill (a whiteout)",
    deleted: true,
  },
];

// ---------------------------------------------------------------------------------------------

let nodeAppScan: Promise<{ run: CliRun; doc: FindingsDocument }> | undefined;
/** node-app:1.0 as JSON with --exit-code 3, scanned once and shared by the tests that read it. */
const nodeApp = () => {
  nodeAppScan ??= scanJson("node-app:1.0", ["--exit-code", "3"]);
  return nodeAppScan;
};

let alpine310Scan: Promise<{ run: CliRun; doc: FindingsDocument }> | undefined;
/** alpine:3.10.3 as JSON with --exit-code 3, scanned once. */
const alpine310 = () => {
  alpine310Scan ??= scanJson("alpine:3.10.3", ["--exit-code", "3"]);
  return alpine310Scan;
};

describe("node-app:1.0: exact findings", { timeout: 60_000 }, () => {
  test("npm: exactly the NSWG-ECO records whose ranges hold the installed versions", async () => {
    const { doc } = await nodeApp();
    const installed = await npmInstalledPackages(NODE_MODULES);
    // tree-kill is in the build tree (the layer that installed it), deleted by the image's last layer.
    assert.ok(installed.some((p) => p.name === "tree-kill" && p.version === "1.2.1"));
    const inImage = installed.filter((p) => p.name !== "tree-kill");
    const versionOf = new Map(installed.map((p) => [p.name, p.version]));

    // The tables above are the data: every record naming one of these packages is in exactly one
    // of them, with the range it states, and the independent evaluation agrees with the table.
    const records = (await readRecords(path.join(feeds, "npm"))).filter((r) =>
      r.affected.some((a) => versionOf.has(a.package.name)),
    );
    const tabled = new Map([...NPM_EXPECTED, ...NPM_ABSENT].map((row) => [row.record, row]));
    assert.deepEqual(records.map((r) => r.id).sort(), [...tabled.keys()].sort());
    for (const r of records) {
      const row = tabled.get(r.id) as NpmRow & { deleted?: true };
      const entry = r.affected.find((a) => a.package.name === row.pkg);
      assert.equal(entry?.database_specific?.vulnerable_versions, row.vulnerable, r.id);
      assert.equal(versionOf.get(row.pkg), row.version, row.pkg);
      const verdicts = (entry?.ranges ?? []).map((g) => osvInterval(g.events, row.version)).filter(Boolean);
      const expected = NPM_EXPECTED.find((e) => e.record === r.id);
      assert.equal(
        verdicts.length > 0,
        expected !== undefined || row.deleted === true,
        `${r.id} on ${row.pkg}@${row.version}`,
      );
      if (expected) {
        const fromRanges = verdicts.flatMap((v) => (v?.fixed ? [v.fixed] : []));
        // Without a fixed event, the fix is patched_versions' ">=x", as the WG wrote it.
        const patched = entry?.database_specific?.patched_versions;
        assert.equal(fromRanges.length > 0 ? undefined : patched, expected.patched, r.id);
        const fromPatched = /^>=\s*(\S+)$/.exec(patched ?? "")?.[1];
        assert.deepEqual(fromRanges.length > 0 ? fromRanges : [fromPatched], expected.fixed, r.id);
      }
    }

    const npm = doc.findings.filter((f) => f.package.ecosystem === "npm");
    assert.deepEqual(
      npm
        .map(
          (f) =>
            `${f.package.name}@${f.package.version} ${recordId(f, "NSWG-ECO-")} ${f.id} ${f.state} [${f.fixedVersions}]`,
        )
        .sort(),
      NPM_EXPECTED.map((e) => `${e.pkg}@${e.version} ${e.record} ${e.id} ${e.state} [${e.fixed}]`).sort(),
    );
    for (const f of npm) {
      assert.ok(inImage.some((p) => p.name === f.package.name));
      assert.equal(f.package.location, `app/node_modules/${f.package.name}/package.json`);
      assert.equal(f.layer.index, 2, "npm install ran in layer 2");
      assert.deepEqual(f.sources, ["osv-npm"]);
    }
    for (const row of NPM_ABSENT) {
      const reported = npm.some((f) => [f.id, ...f.aliases].includes(row.record));
      assert.ok(
        !reported,
        `${row.record} (${row.vulnerable}) on ${row.pkg}@${row.version} reported: ${row.why}`,
      );
    }
    assert.ok(
      !doc.findings.some((f) => f.package.name === "tree-kill"),
      "tree-kill was deleted by a whiteout",
    );
  });

  test("the Node.js 14.15.0 runtime: exactly the vuln/core records whose vulnerable range holds it and patched does not", async () => {
    const { doc } = await nodeApp();
    const dir = path.join(feeds, "nodejs", "vuln", "core");
    const version = "14.15.0";
    const expected = new Map<string, { fixed: string; severity: string }>();
    const otherLines: string[] = [];
    for (const file of (await fs.readdir(dir)).filter((n) => /^\d+\.json$/.test(n))) {
      const r = JSON.parse(await fs.readFile(path.join(dir, file), "utf8")) as {
        vulnerable: string;
        patched?: string;
        severity: string;
      };
      const n = Number(file.slice(0, -5));
      if (!semver.satisfies(version, r.vulnerable) || (r.patched && semver.satisfies(version, r.patched))) {
        if (n >= 69 && n <= 107) otherLines.push(`${n}: ${r.vulnerable.trim()}`);
        continue;
      }
      // The fix on the 14.x line: the lowest patched alternative on it above 14.15.0.
      const fixes = (r.patched ?? "")
        .split("||")
        .map((alt) => semver.minVersion(alt.trim()))
        .filter((m): m is semver.SemVer => m !== null && m.major === 14 && semver.gt(m, version))
        .sort(semver.compare);
      expected.set(`NSWG-CORE-${n}`, { fixed: String(fixes[0]), severity: r.severity.toLowerCase() });
    }
    // The colleague's count, verified: 69–107 except 81 and 82 (12.x only) and 101 (18.x only).
    const numbers = [...expected.keys()]
      .map((id) => Number(id.slice("NSWG-CORE-".length)))
      .sort((a, b) => a - b);
    const range = Array.from({ length: 107 - 69 + 1 }, (_, i) => 69 + i).filter(
      (n) => ![81, 82, 101].includes(n),
    );
    assert.deepEqual(numbers, range);
    assert.equal(expected.size, 36);
    assert.deepEqual(
      otherLines.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10)),
      ["81: 12.x", "82: 12.x", "101: 18.x"],
    );

    const node = doc.findings.filter((f) => f.package.ecosystem === "node");
    assert.deepEqual(
      node.map((f) => `${recordId(f, "NSWG-CORE-")} ${f.state} [${f.fixedVersions}] ${f.severity}`).sort(),
      [...expected].map(([id, e]) => `${id} fixed [${e.fixed}] ${e.severity}`).sort(),
    );
    for (const f of node) {
      assert.equal(f.package.name, "node");
      assert.equal(f.package.version, version);
      assert.equal(f.package.location, "usr/local/bin/node");
      assert.equal(f.layer.index, 1, "the official build was unpacked in layer 1");
    }
  });

  test("the esbuild binary's Go modules: exactly the osv/Go records whose SEMVER events hold stdlib and x/sys", async () => {
    const { doc } = await nodeApp();
    const info = await goVersionM(ESBUILD);
    // What `go version -m` says: go1.16 and a golang.org/x/sys pseudo-version.
    assert.equal(info.goVersion, "go1.16");
    const xsys = info.deps.find((d) => d.path === "golang.org/x/sys");
    assert.equal(xsys?.version, "v0.0.0-20200501145240-bc7a7d42d5c3");
    const xsysVersion = xsys?.version ?? "";
    const modules = [
      { name: "stdlib", version: "v1.16.0", osv: "1.16.0" },
      { name: "golang.org/x/sys", version: xsysVersion, osv: xsysVersion.slice(1) },
    ];

    const records = await readRecords(path.join(feeds, "go"));
    const expected: string[] = [];
    const withdrawnHits: string[] = [];
    for (const r of records) {
      for (const m of modules) {
        for (const entry of r.affected.filter((a) => a.package.name === m.name)) {
          const hits = (entry.ranges ?? []).map((g) => {
            assert.equal(g.type, "SEMVER");
            return osvInterval(g.events, m.osv);
          });
          const hit = hits.find(Boolean);
          if (!hit) continue;
          if (r.withdrawn) withdrawnHits.push(r.id);
          else expected.push(`${m.name}@${m.version} ${r.id} [${hit.fixed ?? ""}]`);
        }
      }
    }
    assert.equal(expected.length, 130 + 2, "130 stdlib records and 2 x/sys records");

    const go = doc.findings.filter((f) => f.package.ecosystem === "golang");
    assert.deepEqual(
      go
        .map((f) => `${f.package.name}@${f.package.version} ${recordId(f, "GO-")} [${f.fixedVersions}]`)
        .sort(),
      expected.sort(),
    );
    for (const f of go) {
      assert.equal(f.state, "fixed");
      assert.equal(f.package.location, "app/node_modules/esbuild/bin/esbuild");
      assert.equal(f.layer.index, 2);
    }
    for (const id of withdrawnHits)
      assert.ok(!go.some((f) => recordId(f, "GO-") === id), `${id} is withdrawn`);

    // Named examples of what must not appear, and why.
    const ids = new Set(go.map((f) => recordId(f, "GO-")));
    const absent: [string, string][] = [
      ["GO-2021-0069", "only the 1.14 and 1.15 branches (fixed 1.14.12, 1.15.5): another release line"],
      [
        "GO-2021-0235",
        "fixed in 1.15.7 on the 1.15 line, before 1.16.0 existed: 1.16.0 is not in any interval",
      ],
      ["GO-2022-0434", "introduced in 1.18.0-0: a newer branch"],
    ];
    for (const [id, why] of absent) {
      assert.ok(
        records.some((r) => r.id === id),
        `${id} is in the feed`,
      );
      assert.ok(!ids.has(id), `${id} reported: ${why}`);
    }
    // One record, two packages: GO-2022-0493 (CVE-2022-29526) lists both stdlib's syscall and x/sys.
    assert.deepEqual(
      go
        .filter((f) => f.id === "CVE-2022-29526")
        .map((f) => `${f.package.name} [${f.fixedVersions}]`)
        .sort(),
      ["golang.org/x/sys [0.0.0-20220412211240-33da011f77ad]", "stdlib [1.17.10]"],
    );
  });

  test("Debian 12: no data in the mirror, so a coverage warning, no deb findings, the report not complete", async () => {
    const { run: r, doc } = await nodeApp();
    const debs = await dpkgPackagesOfTree(BOOKWORM);
    const message = `no vulnerability data for Debian GNU/Linux 12 (bookworm) (Debian:12): its ${debs.length} OS packages were not checked`;
    assert.deepEqual(doc.warnings, [{ stage: "match", message }]);
    assert.match(r.stderr, new RegExp(`^warning: ${message.replace(/[()]/g, "\\$&")}$`, "m"));
    assert.equal(doc.summary.complete, false);
    assert.equal(doc.packages.byEcosystem.deb, debs.length);
    assert.deepEqual(
      doc.findings.filter((f) => f.package.ecosystem === "deb"),
      [],
    );
  });

  test("the whole set: 7 npm + 36 Node.js + 132 Go, nothing else; --exit-code 3 exits 3", async () => {
    const { run: r, doc } = await nodeApp();
    assert.equal(r.code, 3, r.stderr);
    const byEcosystem: Record<string, number> = {};
    for (const f of doc.findings)
      byEcosystem[f.package.ecosystem] = (byEcosystem[f.package.ecosystem] ?? 0) + 1;
    assert.deepEqual(byEcosystem, { npm: 7, node: 36, golang: 132 });
    assert.equal(doc.summary.total, 175);
    assert.equal(new Set(doc.findings.map(findingKey)).size, 175, "no duplicate findings");
    assert.deepEqual(doc.ignored, []);
  });
});

describe("alpine and team images", { timeout: 60_000 }, () => {
  /** apk's order for the shapes in these files: N.N.N[letter]-rN. */
  function apkCompare(a: string, b: string): number {
    const parse = (v: string) => {
      const m = /^(\d+(?:\.\d+)*)([a-z]?)-r(\d+)$/.exec(v);
      if (!m) throw new Error(`unexpected apk version shape ${v}`);
      return { nums: (m[1] as string).split(".").map(Number), letter: m[2] as string, rel: Number(m[3]) };
    };
    const [x, y] = [parse(a), parse(b)];
    for (let i = 0; i < Math.max(x.nums.length, y.nums.length); i++) {
      const d = (x.nums[i] ?? -1) - (y.nums[i] ?? -1);
      if (d !== 0) return d;
    }
    if (x.letter !== y.letter) return x.letter < y.letter ? -1 : 1;
    return x.rel - y.rel;
  }

  /** Per origin in alpine:3.10.3: the newest fixed version v3.10's secfixes give (none: not listed). */
  const V310_NEWEST_FIX: Record<string, string | undefined> = {
    musl: "1.1.22-r3", // CVE-2019-14697; musl and musl-utils are 1.1.22-r3
    busybox: "1.30.1-r2", // CVE-2019-5747; busybox and ssl_client are 1.30.1-r2
    openssl: "1.1.1d-r0", // CVE-2019-1547, -1549, -1563; libcrypto1.1 and libssl1.1 are 1.1.1d-r0
    "alpine-baselayout": undefined,
    "alpine-keys": undefined,
    "ca-certificates": undefined,
    "libtls-standalone": undefined,
    zlib: undefined,
    "apk-tools": undefined,
    "pax-utils": undefined,
    "libc-dev": undefined,
  };

  test("alpine:3.10.3: every package at or above v3.10's fixed versions, so zero findings and no warning", async () => {
    const secdb = [] as { pkg: { name: string; secfixes: Record<string, string[] | null> | null } }[];
    for (const repo of ["main", "community"]) {
      const doc = JSON.parse(
        await fs.readFile(path.join(vulndataDir, "alpine", "v3.10", `${repo}.json`), "utf8"),
      );
      secdb.push(...(doc.packages ?? []));
    }
    const installed = await apkPackagesOfTarball(ALPINE_310_TARBALL);
    assert.equal(installed.length, 14);
    for (const p of installed) {
      const origin = p.source?.name as string;
      assert.ok(origin in V310_NEWEST_FIX, `${p.name}'s origin ${origin} is in the table`);
      const fixes = secdb
        .filter((e) => e.pkg.name === origin)
        .flatMap((e) => Object.keys(e.pkg.secfixes ?? {}));
      const newest = [...fixes].sort(apkCompare).at(-1);
      assert.equal(newest, V310_NEWEST_FIX[origin], origin);
      for (const fix of fixes)
        assert.ok(apkCompare(p.version, fix) >= 0, `${p.name} ${p.version} is below ${fix}`);
    }

    const { run: r, doc } = await alpine310();
    assert.equal(r.code, 0, "nothing to report, so --exit-code does not apply");
    assert.deepEqual(doc.findings, []);
    assert.deepEqual(doc.warnings, []);
    assert.equal(doc.summary.complete, true);
    assert.equal(doc.packages.count, 14);
    assert.doesNotMatch(r.stderr, /^warning:/m);
  });

  test("alpine:3.20.3: no secdb v3.20 in the mirror: the warning, zero findings, summary.complete false", async () => {
    const packages = await apkPackagesOfTarball(ALPINE_320_TARBALL);
    const message = `no vulnerability data for Alpine Linux v3.20 (Alpine:v3.20): its ${packages.length} OS packages were not checked`;
    const { run: r, doc } = await scanJson("alpine:3.20.3", ["--exit-code", "3"]);
    assert.equal(r.code, 0);
    assert.deepEqual(doc.findings, []);
    assert.deepEqual(doc.warnings, [{ stage: "match", message }]);
    assert.equal(doc.summary.complete, false, "never a silently clean report");
    assert.match(r.stderr, /^warning: no vulnerability data for Alpine Linux v3\.20 /m);
    // The table says so too.
    const table = await scan("alpine:3.20.3");
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /no vulnerability data for Alpine Linux v3\.20/);
  });

  test("a team image on the alpine base and one on the debian base report what their bases report", async () => {
    const teams = seed.images.filter((i) => /^team-\d+\/service-\d+$/.test(i.repository) && i.tag === "v1");
    const team = (odd: boolean) =>
      teams.find(
        (i) => Number(/^team-(\d+)/.exec(i.repository)?.[1]) % 2 === (odd ? 1 : 0),
      ) as (typeof teams)[0];
    const [onAlpine, onDebian] = [team(true), team(false)];
    const summary = (doc: FindingsDocument) => ({
      os: doc.os,
      packages: doc.packages,
      findings: doc.findings,
      warnings: doc.warnings,
      complete: doc.summary.complete,
    });
    const [alpineTeam, alpineBase, debianTeam, debianBase] = await Promise.all([
      scanJson(`${onAlpine.repository}:${onAlpine.tag}`),
      alpine310(),
      scanJson(`${onDebian.repository}:${onDebian.tag}`),
      scanJson("debian:bookworm"),
    ]);
    assert.deepEqual(summary(alpineTeam.doc), summary(alpineBase.doc));
    assert.deepEqual(alpineTeam.doc.findings, []);
    assert.equal(alpineTeam.doc.summary.complete, true);
    assert.deepEqual(summary(debianTeam.doc), summary(debianBase.doc));
    assert.deepEqual(debianTeam.doc.findings, []);
    assert.deepEqual(
      debianTeam.doc.warnings.map((w) => w.message),
      [
        "no vulnerability data for Debian GNU/Linux 12 (bookworm) (Debian:12): its 88 OS packages were not checked",
      ],
    );
  });
});

describe("CLI output formats and policy flags (node-app:1.0)", { timeout: 60_000 }, () => {
  test("--format sarif, cyclonedx and csv carry the same findings as json", async () => {
    const { doc } = await nodeApp();
    const keys = doc.findings.map(findingKey).sort();
    const ids = [...new Set(doc.findings.map((f) => f.id))].sort();
    const [sarifRun, cdxRun, csvRun] = await Promise.all([
      scan("node-app:1.0", ["--format", "sarif"]),
      scan("node-app:1.0", ["--format", "cyclonedx"]),
      scan("node-app:1.0", ["--format", "csv"]),
    ]);
    for (const r of [sarifRun, cdxRun, csvRun])
      assert.equal(r.code, 0, `findings without --exit-code exit 0: ${r.stderr}`);

    const sarif = JSON.parse(sarifRun.stdout) as {
      version: string;
      runs: {
        tool: { driver: { name: string; rules: { id: string }[] } };
        results: { ruleId: string; message: { text: string } }[];
        invocations: { toolExecutionNotifications: { message: { text: string } }[] }[];
      }[];
    };
    assert.equal(sarif.version, "2.1.0");
    const [sr] = sarif.runs;
    assert.equal(sr?.tool.driver.name, "shipshape");
    assert.equal(sr?.results.length, doc.findings.length);
    assert.deepEqual([...new Set(sr?.results.map((x) => x.ruleId))].sort(), ids);
    assert.deepEqual(sr?.tool.driver.rules.map((x) => x.id).sort(), ids);
    assert.deepEqual(
      sr?.invocations[0]?.toolExecutionNotifications.map((n) => n.message.text),
      doc.warnings.map((w) => w.message),
    );

    const cdx = JSON.parse(cdxRun.stdout) as {
      bomFormat: string;
      specVersion: string;
      components: { "bom-ref": string; purl?: string }[];
      vulnerabilities: { id: string; affects: { ref: string; versions: { version: string }[] }[] }[];
    };
    assert.equal(cdx.bomFormat, "CycloneDX");
    assert.equal(cdx.specVersion, "1.6");
    const purlOf = new Map(cdx.components.map((c) => [c["bom-ref"], c.purl]));
    assert.deepEqual(cdx.vulnerabilities.map((v) => v.id).sort(), ids);
    const affects = cdx.vulnerabilities.flatMap((v) => v.affects.map((a) => `${purlOf.get(a.ref)} ${v.id}`));
    assert.deepEqual(affects.sort(), doc.findings.map((f) => `${f.package.purl} ${f.id}`).sort());

    // RFC 4180, CRLF rows; fields quoted when they hold a comma, quote or line break.
    const rows = parseCsv(csvRun.stdout);
    const [header, ...data] = rows;
    assert.deepEqual(header?.slice(0, 7), [
      "image",
      "digest",
      "package",
      "version",
      "ecosystem",
      "id",
      "severity",
    ]);
    const col = (name: string) => header?.indexOf(name) as number;
    assert.deepEqual(
      data
        .map((r) => `${r[col("ecosystem")]} ${r[col("package")]}@${r[col("version")]} ${r[col("id")]}`)
        .sort(),
      keys,
    );
    for (const r of data) assert.equal(r[col("digest")], doc.image.digest);
  });

  test("--severity HIGH,CRITICAL keeps exactly the high and critical findings", async () => {
    const { doc: all } = await nodeApp();
    const { doc } = await scanJson("node-app:1.0", ["--severity", "HIGH,CRITICAL"]);
    const wanted = all.findings.filter((f) => f.severity === "high" || f.severity === "critical");
    assert.deepEqual(doc.findings.map(findingKey).sort(), wanted.map(findingKey).sort());
    assert.equal(doc.ignored.length, all.findings.length - wanted.length);
    assert.ok(doc.ignored.every((i) => i.kind === "severity"));

    // Why some are in and some out, from the data:
    const tsv = zlib
      .gunzipSync(await fs.readFile(path.join(vulndataDir, "cve/cvss-v3.tsv.gz")))
      .toString("utf8");
    const tsvRows = (cve: string) => tsv.split("\n").filter((l) => l.startsWith(`${cve}\t`));
    const find = (name: string, id: string) =>
      all.findings.find((f) => f.package.name === name && f.id === id);
    // stdlib's CVE-2024-24790: no score in the Go record; CISA's ADP scores it 9.8 (cve-cvss).
    assert.match(tsvRows("CVE-2024-24790").join("\n"), /\tadp:CISA-ADP\t3\.1\t9\.8\tCRITICAL\t/);
    assert.equal(find("stdlib", "CVE-2024-24790")?.severity, "critical");
    // node's CVE-2021-22883: vuln/core/73.json says "critical".
    assert.equal(find("node", "CVE-2021-22883")?.severity, "critical");
    // ws's NSWG-ECO-120: CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H, base score 7.5.
    const ws = find("ws", "NSWG-ECO-120");
    assert.equal(ws?.cvss?.vector, "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H");
    assert.equal(ws?.severity, "high");
    // lodash's NSWG-ECO-516: CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:L, 6.3: medium, left out.
    assert.equal(find("lodash", "NSWG-ECO-516")?.severity, "medium");
    // stdlib's CVE-2021-27918: no score in the record and none in cve-cvss: unknown, left out.
    assert.deepEqual(tsvRows("CVE-2021-27918"), []);
    assert.equal(find("stdlib", "CVE-2021-27918")?.severity, "unknown");
    const kept = new Set(doc.findings.map(findingKey));
    for (const [name, id, expected] of [
      ["stdlib", "CVE-2024-24790", true],
      ["node", "CVE-2021-22883", true],
      ["ws", "NSWG-ECO-120", true],
      ["lodash", "NSWG-ECO-516", false],
      ["stdlib", "CVE-2021-27918", false],
    ] as const) {
      assert.equal(kept.has(findingKey(find(name, id) as Finding)), expected, `${name} ${id}`);
    }
  });

  test("--ignore-unfixed drops nothing: every finding states a fix (the two `<=x` npm records through patched_versions)", async () => {
    const { doc: all } = await nodeApp();
    assert.ok(all.findings.every((f) => f.state === "fixed" && f.fixedVersions.length > 0));
    const { doc } = await scanJson("node-app:1.0", ["--ignore-unfixed"]);
    assert.deepEqual(doc.ignored, []);
    assert.deepEqual(doc.findings, all.findings);
  });

  test(".trivyignore in the working directory: a rule until 2999 applies, one that expired in 2020 does not and warns", async () => {
    const { doc: all } = await nodeApp();
    const cwd = path.join(tmp, "with-ignorefile");
    await fs.mkdir(cwd, { recursive: true });
    await fs.writeFile(
      path.join(cwd, ".trivyignore"),
      [
        "# lodash: upgrade planned, accepted until then",
        "NSWG-ECO-516 exp:2999-12-31",
        "# the syscall bug, by its Go id (an alias of CVE-2022-29526, found in stdlib and x/sys)",
        "GO-2022-0493",
        "# an exception that ran out",
        "CVE-2021-22883 exp:2020-01-01",
        "",
      ].join("\n"),
    );
    const { run: r, doc } = await scanJson("node-app:1.0", [], cwd);
    assert.deepEqual(
      doc.ignored
        .map((i) => `${i.kind} ${i.finding.package.name} ${i.finding.id} line ${i.rule?.source.line}`)
        .sort(),
      [
        "rule golang.org/x/sys CVE-2022-29526 line 4",
        "rule lodash NSWG-ECO-516 line 2",
        "rule stdlib CVE-2022-29526 line 4",
      ],
    );
    assert.equal(
      doc.ignored.find((i) => i.finding.id === "NSWG-ECO-516")?.rule?.expires,
      "2999-12-31T00:00:00Z",
    );
    assert.equal(doc.findings.length, all.findings.length - 3);
    assert.ok(
      doc.findings.some((f) => f.id === "CVE-2021-22883"),
      "the expired rule ignores nothing",
    );
    const expired =
      ".trivyignore:6: the ignore rule for CVE-2021-22883 expired on 2020-01-01 and no longer applies (1 finding no longer ignored)";
    assert.deepEqual(
      doc.warnings.filter((w) => w.stage === "policy").map((w) => w.message),
      [expired],
    );
    assert.match(r.stderr, new RegExp(`^warning: ${expired.replace(/[.()]/g, "\\$&")}$`, "m"));
    // The same file named with --ignorefile from another directory.
    const named = await scanJson("node-app:1.0", ["--ignorefile", path.join(cwd, ".trivyignore")]);
    assert.deepEqual(named.doc.findings.map(findingKey), doc.findings.map(findingKey));
  });

  test("--exit-code 3: 3 while findings remain (above), 0 when the filters drop them all", async () => {
    const { doc: all } = await nodeApp();
    // No finding is negligible.
    assert.equal(all.summary.bySeverity.negligible, 0);
    const { run: r, doc } = await scanJson("node-app:1.0", ["--severity", "NEGLIGIBLE", "--exit-code", "3"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(doc.findings, []);
    assert.equal(doc.summary.ignored, all.findings.length);
    const bad = await scan("node-app:1.0", ["--exit-code", "300"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--exit-code must be 0-255/);
  });

  test("no database: exit 1 saying to run `shipshape db update`, before anything is pulled", async () => {
    const hits = proxy.hits.length;
    const r = await shipshape(
      ["image", `${proxy.host}/node-app:1.0`, "--insecure", "--cache-dir", path.join(tmp, "no-db")],
      { cwd: work, home: tmp },
    );
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /^shipshape: no vulnerability database at .*no-db\/db\/vuln\.db; run `shipshape db update`/m,
    );
    assert.equal(proxy.hits.length, hits, "the registry was not contacted");
  });
});

describe("walker threads in the bundled CLI", { timeout: 90_000 }, () => {
  test("node-app-zstd with its two large layers walked on threads: the same report as on the main thread", async () => {
    const report = async (threads: string) => {
      const r = await shipshape(
        [
          "image",
          `${proxy.host}/node-app-zstd:1.0`,
          "--insecure",
          "--cache-dir",
          cacheDir,
          "--no-cache",
          "--format",
          "json",
        ],
        { cwd: work, home: tmp, env: { SHIPSHAPE_WALKER_THREADS: threads } },
      );
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as { findings: unknown[]; summary: unknown };
      return { stderr: r.stderr, findings: doc.findings, summary: doc.summary };
    };
    const [main, threaded] = [await report("0"), await report("2")];
    assert.match(main.stderr, /^\d+ packages in 4 layers \(4 read, 0 cached\)$/m);
    // The base and Node.js layers are 8 MiB and more; the app layer (4.5 MB) and the last stay on the main thread.
    assert.match(threaded.stderr, /^\d+ packages in 4 layers \(4 read, 0 cached\), 2 on walker threads$/m);
    assert.equal(threaded.findings.length, 175);
    assert.deepEqual(threaded.findings, main.findings);
    assert.deepEqual(threaded.summary, main.summary);
  });
});

describe("re-matching a stored inventory after a database update pulls nothing", { timeout: 90_000 }, () => {
  test("without nodejs-core the Node.js findings go, everything else stays, and no blob is requested", async () => {
    const { doc } = await nodeApp();
    const store = await Store.openSqlite(path.join(cacheDir, "cache.db"));
    try {
      const stored = await new InventoryStore(store).get(doc.image.digest);
      assert.ok(stored, "the scan stored node-app's inventory under its digest");
      assert.equal(stored.inventory.packages.length, doc.packages.count);
      proxy.reset();

      const current = VulnerabilityDatabase.open(path.join(cacheDir, "db", "vuln.db"));
      let before: Finding[];
      try {
        before = matchInventory(stored.inventory, current).findings;
      } finally {
        current.close();
      }
      const normal = (fs: Finding[]) =>
        JSON.parse(JSON.stringify([...fs].sort((a, b) => (findingKey(a) < findingKey(b) ? -1 : 1))));
      assert.deepEqual(
        normal(before),
        normal(doc.findings),
        "the stored inventory gives the scan's findings",
      );

      // Rebuild from every source but nodejs-core (into its own file: other tests keep the full one).
      const without = [...feedSources, ...enrichmentSources]
        .map((s) => s.name)
        .filter((n) => n !== "nodejs-core");
      const rebuilt = path.join(tmp, "without-nodejs-core.db");
      await buildMirrorDatabase(cacheDir, ["--only", without.join(","), "--db", rebuilt]);
      const db = VulnerabilityDatabase.open(rebuilt);
      let after: Finding[];
      try {
        assert.ok(!db.sources().some((s) => s.name === "nodejs-core"));
        after = matchInventory(stored.inventory, db).findings;
      } finally {
        db.close();
      }
      assert.deepEqual(
        normal(after),
        normal(before.filter((f) => f.package.ecosystem !== "node")),
        "exactly the 36 Node.js runtime findings are gone",
      );
      assert.equal(before.length - after.length, 36);
      assert.deepEqual(
        proxy.hits.filter((h) => h.path.includes("/blobs/")),
        [],
        "no blob requested",
      );
      assert.deepEqual(proxy.hits, [], "nothing at all reached the registry");
    } finally {
      await store.close();
    }
  });
});
