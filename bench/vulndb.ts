/**
 * The vulnerability database: how long `db update` takes to build it from the offline mirror
 * (../shared/vulndata), per source and in total, how large the file is, the peak RSS of the CLI doing
 * it; and how fast `matchInventory` matches a large inventory against it.
 *
 * Build: each round runs `updateDatabase({ mirror })` in this process (into a fresh temp dir; per-source
 * time is the time between one source's `source-done` event and the previous one's, so it covers
 * reading the input, parsing and inserting; "finish" is the final flush, ANALYZE and rename) and
 * `node bin/shipshape.js db update --mirror …` as a child under GNU time (wall time and peak RSS),
 * interleaved.
 *
 * Match: inventories built from the database itself (real package names and real versions: every
 * version an advisory names for that package — introduced, fixed, last affected, listed — sorted by
 * the ecosystem's scheme; each package gets the newest of them with probability 0.65, else an older
 * one, so most packages are patched and some are not), one with an AlmaLinux 9 OS and one with an
 * Alpine 3.10 OS, each with npm, PyPI, Go, crates.io, RubyGems and Packagist packages besides. Part of
 * the OS packages are names other releases' advisories know but this release's do not (packages with
 * no advisory). Matched on a freshly opened database (what one CLI run does) `--rounds` times, then
 * `--match-runs` times on one handle. Target (from the issue): under 50 ms per 1,000 packages (median);
 * when missed, or with --match-profile, both kinds of run are profiled (V8 CPU profiler) and summarised.
 */
import { statSync } from "node:fs";
import fs from "node:fs/promises";
import { Session } from "node:inspector/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import SQLite from "better-sqlite3";
import { apkPurl } from "../src/inventory/extractors/apk.js";
import { purlOf } from "../src/inventory/extractors/purl-fallback.js";
import { rpmPurl } from "../src/inventory/rpm/package.js";
import type { Ecosystem, ImageInventory, InventoriedPackage, OsRelease } from "../src/inventory/types.js";
import { schemeForEcosystem } from "../src/versioning/index.js";
import { enrichmentSources, feedSources } from "../src/vulndb/sources/index.js";
import type { AffectedPackage } from "../src/vulndb/types.js";
import { updateDatabase } from "../src/vulndb/update.js";
import { repoRoot, sharedDir } from "../test/harness/paths.js";
import type { BenchContext, BenchModule, BenchResult } from "./lib/bench.js";
import { type Cli, prepareCli, type TimedSample, timedProcess } from "./lib/cli.js";
import { summariseProfile } from "./lib/cpu-profile.js";
import { formatBytes, formatMs, median, round } from "./lib/stats.js";
import { renderTable } from "./lib/table.js";

export const description =
  "vulnerability database: db update build time per source, file size, peak RSS; matchInventory per 1,000 packages";

export const options = {
  /** How to run the CLI: dist (bin/shipshape.js, built first when stale), tsx (src through tsx), auto. */
  cli: { type: "string", default: "auto" },
  /** Another checkout whose CLI and dist/ matcher to measure (e.g. a `git archive` of an older commit). */
  "cli-root": { type: "string", default: "" },
  /** The feed mirror to build from (laid out like ../shared/vulndata). */
  mirror: { type: "string", default: "" },
  /** Packages per synthetic inventory. */
  "match-packages": { type: "string", default: "1500" },
  /** matchInventory calls on one database handle, per inventory. */
  "match-runs": { type: "string", default: "50" },
  /** Profile the repeated match runs even when the target is met. */
  "match-profile": { type: "boolean", default: false },
} as const;

const TARGET_MS_PER_1000 = 50;
const resultsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "results");

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

// ---- the build ----------------------------------------------------------------------------------------

interface SourceTime {
  name: string;
  available: boolean;
  records: number;
  warnings: number;
  ms: number;
}

interface BuildRun {
  totalMs: number;
  finishMs: number;
  bytes: number;
  sources: SourceTime[];
}

async function buildInProcess(mirror: string, dbFile: string): Promise<BuildRun> {
  const sources: SourceTime[] = [];
  const started = performance.now();
  let last = started;
  await updateDatabase({
    dbFile,
    sources: [...feedSources],
    enrichment: [...enrichmentSources],
    mirror,
    onEvent: (e) => {
      if (e.kind !== "source-done") return;
      const now = performance.now();
      const s = e.status;
      sources.push({
        name: s.name,
        available: s.available,
        records: s.records,
        warnings: s.warnings,
        ms: now - last,
      });
      last = now;
    },
  });
  const end = performance.now();
  return { totalMs: end - started, finishMs: end - last, bytes: statSync(dbFile).size, sources };
}

async function buildChild(cli: Cli, mirror: string, dbFile: string, scratch: string): Promise<TimedSample> {
  const sample = await timedProcess(
    process.execPath,
    [...cli.argv, "db", "update", "--mirror", mirror, "--db", dbFile],
    scratch,
  );
  if (!/database .*: \d+ records from \d+ of \d+ sources/.test(sample.stderr))
    throw new Error(`db update printed no summary: ${sample.stderr.slice(-300)}`);
  return sample;
}

// ---- synthetic inventories ----------------------------------------------------------------------------

/** mulberry32: a small seeded PRNG, so every run builds the same inventories. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Every package name of an advisory ecosystem with the versions its advisories name, ascending. */
function namedVersions(db: SQLite.Database, ecosystem: string): Map<string, string[]> {
  const scheme = schemeForEcosystem(ecosystem);
  if (!scheme) throw new Error(`no versioning scheme for ${ecosystem}`);
  const byName = new Map<string, Set<string>>();
  const rows = db.prepare("SELECT name, data FROM affected WHERE ecosystem = ?").all(ecosystem) as {
    name: string;
    data: string;
  }[];
  for (const row of rows) {
    const entry = JSON.parse(row.data) as AffectedPackage;
    const set = byName.get(row.name) ?? new Set<string>();
    byName.set(row.name, set);
    for (const range of entry.ranges)
      for (const event of range.events) for (const v of Object.values(event)) if (v !== "0") set.add(v);
    for (const v of entry.versions ?? []) set.add(v);
  }
  const out = new Map<string, string[]>();
  for (const [name, set] of byName) {
    const versions = [...set].filter((v) => scheme.isValid(v)).sort((a, b) => scheme.compare(a, b));
    if (versions.length > 0) out.set(name, versions);
  }
  return out;
}

interface Pool {
  /** Advisory ecosystem the names come from. */
  ecosystem: string;
  kind: Ecosystem;
  share: number;
  /** OS packages: also names only other releases' advisories know (no advisory for this release). */
  others?: string[];
}

interface InventorySpec {
  name: string;
  os: OsRelease;
  pools: Pool[];
}

const INVENTORIES: InventorySpec[] = [
  {
    name: "almalinux-9 + languages",
    os: {
      id: "almalinux",
      versionId: "9.4",
      prettyName: "AlmaLinux 9.4 (Seafoam Ocelot)",
      location: "etc/os-release",
    },
    pools: [
      { ecosystem: "AlmaLinux:9", kind: "rpm", share: 0.4, others: ["AlmaLinux:8", "AlmaLinux:10"] },
      { ecosystem: "npm", kind: "npm", share: 0.15 },
      { ecosystem: "PyPI", kind: "pypi", share: 0.15 },
      { ecosystem: "Go", kind: "golang", share: 0.15 },
      { ecosystem: "crates.io", kind: "cargo", share: 0.08 },
      { ecosystem: "RubyGems", kind: "gem", share: 0.04 },
      { ecosystem: "Packagist", kind: "composer", share: 0.03 },
    ],
  },
  {
    name: "alpine-3.10 + languages",
    os: { id: "alpine", versionId: "3.10.3", prettyName: "Alpine Linux v3.10", location: "etc/os-release" },
    pools: [
      { ecosystem: "Alpine:v3.10", kind: "apk", share: 0.2, others: ["Alpine:v3.11", "Alpine:v3.9"] },
      { ecosystem: "npm", kind: "npm", share: 0.2 },
      { ecosystem: "PyPI", kind: "pypi", share: 0.2 },
      { ecosystem: "Go", kind: "golang", share: 0.2 },
      { ecosystem: "crates.io", kind: "cargo", share: 0.1 },
      { ecosystem: "RubyGems", kind: "gem", share: 0.05 },
      { ecosystem: "Packagist", kind: "composer", share: 0.05 },
    ],
  },
];

const layer = (index: number) => ({ digest: `sha256:${String(index).repeat(64).slice(0, 64)}`, index });

function makePackage(kind: Ecosystem, name: string, version: string, os: OsRelease): InventoriedPackage {
  const slash = name.lastIndexOf("/");
  const [ns, base] = slash > 0 ? [name.slice(0, slash), name.slice(slash + 1)] : [undefined, name];
  switch (kind) {
    case "rpm": {
      const evr = version.replace(/^(\d+):/, "");
      const epoch = evr === version ? undefined : Number(version.split(":")[0]);
      const cut = evr.lastIndexOf("-");
      const [v, release] = cut > 0 ? [evr.slice(0, cut), evr.slice(cut + 1)] : [evr, ""];
      return {
        ecosystem: "rpm",
        name,
        version,
        epoch,
        release,
        purl: rpmPurl({
          namespace: os.id,
          name,
          version: v,
          release,
          epoch,
          distro: `${os.id}-${os.versionId}`,
        }),
        source: { name, version },
        location: "var/lib/rpm/rpmdb.sqlite",
        layer: layer(0),
      };
    }
    case "apk":
      return {
        ecosystem: "apk",
        name,
        version,
        purl: apkPurl(name, version, "x86_64"),
        source: { name },
        location: "lib/apk/db/installed",
        layer: layer(0),
      };
    case "golang": {
      const v = `v${version}`;
      return {
        ecosystem: "golang",
        name,
        version: v,
        purl: purlOf("golang", ns, base, v),
        location: "usr/local/bin/server",
        layer: layer(2),
      };
    }
    default: {
      const locations: Partial<Record<Ecosystem, string>> = {
        npm: `app/node_modules/${name}/package.json`,
        pypi: `usr/lib/python3.12/site-packages/${name}-${version}.dist-info/METADATA`,
        cargo: "usr/local/bin/agent",
        gem: `usr/local/bundle/specifications/${name}-${version}.gemspec`,
        composer: "srv/www/vendor/composer/installed.json",
      };
      return {
        ecosystem: kind,
        name,
        version,
        purl: purlOf(kind, ns, base, version),
        location: locations[kind] ?? "app",
        layer: layer(1),
      };
    }
  }
}

interface BuiltInventory {
  name: string;
  inventory: ImageInventory;
  byEcosystem: Record<string, number>;
  /** OS packages whose name no advisory of this release names. */
  withoutAdvisories: number;
}

function buildInventory(
  db: SQLite.Database,
  spec: InventorySpec,
  total: number,
  seed: number,
): BuiltInventory {
  const random = prng(seed);
  const pools = spec.pools.map((p) => ({ pool: p, names: namedVersions(db, p.ecosystem) }));
  const counts = pools.map(({ pool, names }) => Math.min(names.size, Math.round(pool.share * total)));
  // Pools too small for their share: the rest goes to the pool with the most names left.
  let deficit = total - counts.reduce((a, b) => a + b, 0);
  while (deficit > 0) {
    const roomOf = (k: number) => (pools[k]?.names.size ?? 0) - (counts[k] ?? 0);
    const i = pools.reduce((best, _, k) => (roomOf(k) > roomOf(best) ? k : best), 0);
    const room = roomOf(i);
    if (room <= 0) throw new Error(`the database has fewer than ${total} package names to sample`);
    const add = Math.min(room, deficit);
    counts[i] = (counts[i] ?? 0) + add;
    deficit -= add;
  }
  const packages: InventoriedPackage[] = [];
  const byEcosystem: Record<string, number> = {};
  let withoutAdvisories = 0;
  pools.forEach(({ pool, names }, i) => {
    const count = counts[i] ?? 0;
    const pick = (versions: string[]) =>
      random() < 0.65 || versions.length === 1
        ? (versions.at(-1) as string)
        : (versions[Math.floor(random() * (versions.length - 1))] as string);
    let own = count;
    if (pool.others) {
      // About a third of the OS packages: names other releases' advisories know, this one's do not.
      const foreign = new Map<string, string[]>();
      for (const other of pool.others)
        for (const [n, v] of namedVersions(db, other))
          if (!names.has(n) && !foreign.has(n)) foreign.set(n, v);
      const take = shuffled([...foreign], random).slice(0, Math.round(count / 3));
      for (const [n, versions] of take) packages.push(makePackage(pool.kind, n, pick(versions), spec.os));
      withoutAdvisories += take.length;
      own = count - take.length;
    }
    for (const [n, versions] of shuffled([...names], random).slice(0, own))
      packages.push(makePackage(pool.kind, n, pick(versions), spec.os));
    byEcosystem[pool.kind] = count;
  });
  return {
    name: spec.name,
    inventory: { os: spec.os, packages, warnings: [] },
    byEcosystem,
    withoutAdvisories,
  };
}

// ---- matching -----------------------------------------------------------------------------------------

type MatcherModule = typeof import("../src/match/matcher.js");
type DatabaseModule = typeof import("../src/vulndb/database.js");

/** The matcher and database the CLI runs: dist/ when the CLI is the built one, else src/ through tsx. */
interface MatchImpl {
  matchInventory: MatcherModule["matchInventory"];
  VulnerabilityDatabase: DatabaseModule["VulnerabilityDatabase"];
  how: string;
}

async function matchImpl(cli: Cli): Promise<MatchImpl> {
  const dist = cli.argv[0]?.endsWith(path.join("bin", "shipshape.js")) === true;
  const from = (rel: string) =>
    pathToFileURL(path.join(cli.root, dist ? "dist" : "src", `${rel}${dist ? ".js" : ".ts"}`)).href;
  const matcher = (await import(from("match/matcher"))) as MatcherModule;
  const database = (await import(from("vulndb/database"))) as DatabaseModule;
  return {
    matchInventory: matcher.matchInventory,
    VulnerabilityDatabase: database.VulnerabilityDatabase,
    how: dist ? "dist/ (tsc output of the sources the CLI bundle is built from)" : "src/ through tsx",
  };
}

interface MatchFigures {
  inventory: string;
  packages: number;
  byEcosystem: Record<string, number>;
  withoutAdvisories: number;
  findings: number;
  affectedPackages: number;
  warnings: string[];
  freshMs: number[];
  repeatedMs: number[];
}

function timeMatch(
  impl: MatchImpl,
  inv: ImageInventory,
  db: ReturnType<MatchImpl["VulnerabilityDatabase"]["open"]>,
): { ms: number; findings: number; affected: number; warnings: string[] } {
  const started = performance.now();
  const result = impl.matchInventory(inv, db);
  const ms = performance.now() - started;
  return {
    ms,
    findings: result.findings.length,
    affected: new Set(result.findings.map((f) => `${f.package.purl}\0${f.package.location}`)).size,
    warnings: result.warnings,
  };
}

interface MatchProfile {
  /** "fresh": each match on a newly opened database; "repeated": all on one handle. */
  kind: "fresh" | "repeated";
  file: string;
  summary: Awaited<ReturnType<typeof summariseProfile>>;
}

async function profileMatches(
  impl: MatchImpl,
  inventories: BuiltInventory[],
  dbFile: string,
  runs: number,
  root: string,
  kind: MatchProfile["kind"],
): Promise<MatchProfile> {
  const shared = kind === "repeated" ? impl.VulnerabilityDatabase.open(dbFile) : undefined;
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 200 });
    await session.post("Profiler.start");
    for (let r = 0; r < runs; r++) {
      for (const inv of inventories) {
        const db = shared ?? impl.VulnerabilityDatabase.open(dbFile);
        impl.matchInventory(inv.inventory, db);
        if (!shared) db.close();
      }
    }
    const { profile } = await session.post("Profiler.stop");
    const file = path.join(resultsDir, `vulndb-match-${kind}.cpuprofile`);
    await fs.mkdir(resultsDir, { recursive: true });
    await fs.writeFile(file, JSON.stringify(profile));
    return { kind, file, summary: await summariseProfile(file, root) };
  } finally {
    session.disconnect();
    shared?.close();
  }
}

// ---- the run ------------------------------------------------------------------------------------------

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const mirror = path.resolve(String(ctx.options.mirror || path.join(sharedDir, "vulndata")));
  const packagesPerInventory = Number(ctx.options["match-packages"]);
  const matchRuns = Number(ctx.options["match-runs"]);
  if (!Number.isInteger(packagesPerInventory) || packagesPerInventory < 1000)
    throw new Error("--match-packages must be an integer ≥ 1000");
  if (!Number.isInteger(matchRuns) || matchRuns < 1)
    throw new Error("--match-runs must be a positive integer");
  const cliRoot = path.resolve(String(ctx.options["cli-root"] || repoRoot));
  const cli = await prepareCli(String(ctx.options.cli ?? "auto"), ctx.progress, cliRoot);
  ctx.progress(`CLI: ${cli.how}; mirror ${mirror}`);
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-bench-vulndb-"));
  try {
    const builds: BuildRun[] = [];
    const children: TimedSample[] = [];
    const dbFile = path.join(scratch, "kept", "vuln.db");
    for (let r = 0; r < ctx.rounds; r++) {
      const steps = [
        async () => {
          const dir = await fs.mkdtemp(path.join(scratch, "build-"));
          const b = await buildInProcess(mirror, path.join(dir, "vuln.db"));
          builds.push(b);
          await fs.mkdir(path.dirname(dbFile), { recursive: true });
          await fs.rename(path.join(dir, "vuln.db"), dbFile);
          await fs.rm(dir, { recursive: true, force: true });
        },
        async () => {
          const dir = await fs.mkdtemp(path.join(scratch, "child-"));
          children.push(await buildChild(cli, mirror, path.join(dir, "vuln.db"), scratch));
          await fs.rm(dir, { recursive: true, force: true });
        },
      ];
      for (const step of r % 2 === 0 ? steps : steps.reverse()) await step();
      ctx.progress(
        `round ${r + 1}/${ctx.rounds}: in-process build ${formatMs(builds.at(-1)?.totalMs ?? Number.NaN)}, ` +
          `CLI ${formatMs(children.at(-1)?.ms ?? Number.NaN)} (${((children.at(-1)?.rssKb ?? 0) / 1024).toFixed(0)} MB)`,
      );
    }

    ctx.progress(
      `building ${INVENTORIES.length} inventories of ${packagesPerInventory} packages from the database…`,
    );
    const raw = new SQLite(dbFile, { readonly: true });
    let inventories: BuiltInventory[];
    try {
      inventories = INVENTORIES.map((spec, i) => buildInventory(raw, spec, packagesPerInventory, 1000 + i));
    } finally {
      raw.close();
    }

    const impl = await matchImpl(cli);
    ctx.progress(`matching with ${impl.how}`);
    const figures: MatchFigures[] = inventories.map((inv) => ({
      inventory: inv.name,
      packages: inv.inventory.packages.length,
      byEcosystem: inv.byEcosystem,
      withoutAdvisories: inv.withoutAdvisories,
      findings: 0,
      affectedPackages: 0,
      warnings: [],
      freshMs: [],
      repeatedMs: [],
    }));
    // First match on a freshly opened database (empty advisory cache), as one CLI run does it.
    for (let r = 0; r < Math.max(ctx.rounds, 5); r++) {
      for (const [i, inv] of inventories.entries()) {
        const db = impl.VulnerabilityDatabase.open(dbFile);
        try {
          const m = timeMatch(impl, inv.inventory, db);
          const f = figures[i] as MatchFigures;
          f.freshMs.push(m.ms);
          f.findings = m.findings;
          f.affectedPackages = m.affected;
          f.warnings = m.warnings;
        } finally {
          db.close();
        }
      }
    }
    // Repeated on one handle, interleaved between the inventories.
    const db = impl.VulnerabilityDatabase.open(dbFile);
    try {
      for (let r = 0; r < matchRuns; r++)
        for (const [i, inv] of inventories.entries())
          figures[i]?.repeatedMs.push(timeMatch(impl, inv.inventory, db).ms);
    } finally {
      db.close();
    }
    ctx.progress(
      figures
        .map(
          (f) =>
            `${f.inventory}: fresh ${formatMs(median(f.freshMs))}, repeated ${formatMs(median(f.repeatedMs))}`,
        )
        .join("; "),
    );

    const per1000 = (ms: number, f: MatchFigures) => (ms * 1000) / f.packages;
    const matchMissed = figures.some(
      (f) =>
        per1000(median(f.freshMs), f) >= TARGET_MS_PER_1000 ||
        per1000(median(f.repeatedMs), f) >= TARGET_MS_PER_1000,
    );
    const profiles: MatchProfile[] = [];
    if (matchMissed || ctx.options["match-profile"]) {
      ctx.progress("profiling the repeated match runs…");
      const runs = Math.min(matchRuns, 20);
      for (const kind of ["fresh", "repeated"] as const)
        profiles.push(await profileMatches(impl, inventories, dbFile, runs, cli.root, kind));
    }
    return report(ctx, cli, impl.how, mirror, builds, children, figures, matchRuns, profiles);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

// ---- the report ---------------------------------------------------------------------------------------

function report(
  ctx: BenchContext,
  cli: Cli,
  matchHow: string,
  mirror: string,
  builds: BuildRun[],
  children: TimedSample[],
  figures: MatchFigures[],
  matchRuns: number,
  profiles: MatchProfile[],
): BenchResult {
  const missed: string[] = [];
  const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
  const names = builds[0]?.sources.map((s) => s.name) ?? [];
  const sourceRows = names.map((name) => {
    const runs = builds.map((b) => b.sources.find((s) => s.name === name) as SourceTime);
    const ms = median(runs.map((s) => s.ms));
    const first = runs[0] as SourceTime;
    return {
      name,
      available: first.available,
      records: first.records,
      warnings: first.warnings,
      medianMs: round(ms),
      recordsPerSecond: first.available ? Math.round(first.records / (ms / 1000)) : 0,
      runsMs: runs.map((s) => round(s.ms)),
    };
  });
  const available = sourceRows.filter((s) => s.available);
  const unavailable = sourceRows.filter((s) => !s.available).map((s) => s.name);
  const totalMs = median(builds.map((b) => b.totalMs));
  const finishMs = median(builds.map((b) => b.finishMs));
  const records = available.reduce((n, s) => n + s.records, 0);
  const bytes = builds.at(-1)?.bytes ?? 0;
  const childMs = median(children.map((c) => c.ms));
  const childRssMb = Math.max(...children.map((c) => c.rssKb)) / 1024;

  const buildTable = renderTable(
    ["source", "records", "warnings", "time", "records/s", "runs (ms)"],
    [
      ...available.map((s) => [
        s.name,
        String(s.records),
        String(s.warnings),
        formatMs(s.medianMs),
        s.recordsPerSecond.toLocaleString("en-US"),
        s.runsMs.map((x) => x.toFixed(0)).join(" "),
      ]),
      [
        "finish (flush, ANALYZE, rename)",
        "",
        "",
        formatMs(finishMs),
        "",
        builds.map((b) => b.finishMs.toFixed(0)).join(" "),
      ],
      [
        "total (in-process updateDatabase)",
        String(records),
        "",
        formatMs(totalMs),
        Math.round(records / (totalMs / 1000)).toLocaleString("en-US"),
        builds.map((b) => b.totalMs.toFixed(0)).join(" "),
      ],
      [
        "CLI db update (child, GNU time)",
        "",
        "",
        formatMs(childMs),
        "",
        children.map((c) => c.ms.toFixed(0)).join(" "),
      ],
    ],
    ["left", "right", "right", "right", "right", "left"],
  );

  const matchRows = figures.map((f) => {
    const fresh = median(f.freshMs);
    const med = median(f.repeatedMs);
    const p95 = percentile(f.repeatedMs, 95);
    const per = (ms: number) => (ms * 1000) / f.packages;
    const met = per(fresh) < TARGET_MS_PER_1000 && per(med) < TARGET_MS_PER_1000;
    if (per(fresh) >= TARGET_MS_PER_1000)
      missed.push(
        `match ${f.inventory}: first match on a fresh handle ${per(fresh).toFixed(1)} ms per 1,000 packages ≥ ${TARGET_MS_PER_1000} ms`,
      );
    if (per(med) >= TARGET_MS_PER_1000)
      missed.push(
        `match ${f.inventory}: repeated median ${per(med).toFixed(1)} ms per 1,000 packages ≥ ${TARGET_MS_PER_1000} ms`,
      );
    return {
      inventory: f.inventory,
      packages: f.packages,
      byEcosystem: f.byEcosystem,
      osPackagesWithoutAdvisories: f.withoutAdvisories,
      affectedPackages: f.affectedPackages,
      findings: f.findings,
      warnings: f.warnings,
      freshMedianMs: round(fresh, 2),
      repeatedMedianMs: round(med, 2),
      repeatedP95Ms: round(p95, 2),
      freshPer1000Ms: round(per(fresh), 2),
      repeatedMedianPer1000Ms: round(per(med), 2),
      repeatedP95Per1000Ms: round(per(p95), 2),
      met,
      freshRunsMs: f.freshMs.map((x) => round(x, 2)),
      repeatedRunsMs: f.repeatedMs.map((x) => round(x, 2)),
    };
  });
  const matchTable = renderTable(
    [
      "inventory",
      "packages",
      "affected",
      "findings",
      "fresh handle",
      "/1,000",
      "repeated median",
      "/1,000",
      "p95",
      "/1,000",
      `< ${TARGET_MS_PER_1000} ms/1,000`,
    ],
    matchRows.map((m) => [
      m.inventory,
      String(m.packages),
      String(m.affectedPackages),
      String(m.findings),
      formatMs(m.freshMedianMs),
      formatMs(m.freshPer1000Ms),
      formatMs(m.repeatedMedianMs),
      formatMs(m.repeatedMedianPer1000Ms),
      formatMs(m.repeatedP95Ms),
      formatMs(m.repeatedP95Per1000Ms),
      verdict(m.met),
    ]),
    ["left", "right", "right", "right", "right", "right", "right", "right", "right", "right", "left"],
  );
  const mix = figures
    .map(
      (f) =>
        `  ${f.inventory}: ${Object.entries(f.byEcosystem)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")} (of the OS packages ${f.withoutAdvisories} have no advisory for this release)`,
    )
    .join("\n");

  const profileText: string[] = [];
  for (const profile of profiles) {
    const s = profile.summary;
    const what =
      profile.kind === "fresh"
        ? "matches each on a freshly opened database"
        : "repeated matches on one handle";
    profileText.push(
      "",
      `CPU profile of ${what} (V8 sampling profiler, ${formatMs(s.profiledMs)} profiled, ${s.samples} samples; ` +
        `${path.relative(process.cwd(), profile.file)}):`,
      renderTable(
        ["self", "total", "function"],
        s.functions.slice(0, 20).map((f) => [formatMs(f.selfMs), formatMs(f.totalMs), f.function]),
        ["right", "right", "left"],
      ),
      "",
      "Self time by file:",
      renderTable(
        ["self", "file"],
        s.files.slice(0, 10).map((f) => [formatMs(f.selfMs), f.file]),
        ["right", "left"],
      ),
    );
  }

  const text = [
    `Mirror: ${mirror}; CLI: node ${cli.how}.`,
    `Build: median of ${ctx.rounds} rounds, updateDatabase in this process (per source: from the previous source-done event to its own) and the CLI as a child, interleaved:`,
    buildTable,
    `Unavailable in the mirror (not timed, no data): ${unavailable.join(", ") || "none"}.`,
    `Database file: ${formatBytes(bytes)} (${records.toLocaleString("en-US")} records from ${available.length} sources). ` +
      `Peak RSS of \`shipshape db update --mirror\`: ${childRssMb.toFixed(0)} MB (max of ${children.length} runs).`,
    "",
    `Match (matchInventory from ${matchHow}) on synthetic inventories from the database's own names and versions; first match on a freshly ` +
      `opened database (median of ${figures[0]?.freshMs.length ?? 0}) and ${matchRuns} repeated runs on one handle (median, p95):`,
    mix,
    matchTable,
    ...profileText,
  ].join("\n");

  return {
    text,
    json: {
      cli: cli.how,
      mirror,
      build: {
        sources: sourceRows,
        unavailable,
        finishMedianMs: round(finishMs),
        totalMedianMs: round(totalMs),
        records,
        fileBytes: bytes,
        cli: {
          medianMs: round(childMs),
          peakRssMb: round(childRssMb),
          runsMs: children.map((c) => round(c.ms)),
          rssMb: children.map((c) => round(c.rssKb / 1024)),
        },
      },
      match: {
        modules: matchHow,
        targetMsPer1000: TARGET_MS_PER_1000,
        runs: matchRuns,
        inventories: matchRows,
        profiles: profiles.map((profile) => ({
          kind: profile.kind,
          file: path.relative(process.cwd(), profile.file),
          profiledMs: round(profile.summary.profiledMs),
          functions: profile.summary.functions
            .slice(0, 40)
            .map((f) => ({ ...f, selfMs: round(f.selfMs), totalMs: round(f.totalMs) })),
          files: profile.summary.files.slice(0, 20).map((f) => ({ ...f, selfMs: round(f.selfMs) })),
        })),
      },
      loadAverageAfter: os.loadavg().map((l) => round(l, 2)),
    },
    missed,
  };
}

({ description, options, run }) satisfies BenchModule;
