/**
 * End-to-end scan time: `shipshape image` (the built CLI, one fresh process per run: pull, inventory,
 * match against the database built from ../shared/vulndata, JSON findings) on every testbed image from a
 * loopback registry, cold (empty --cache-dir: every layer pulled and analysed) and warm (the same cache
 * dir again: manifests fetched, layers from the layer cache), against Trivy in the same run, interleaved.
 *
 * Trivy is an inventory-only baseline: no Trivy vulnerability database is available offline here, so it
 * runs with `--format cyclonedx` (scanners off, every package listed; bench/lib/trivy.ts), the fastest
 * of its modes that lists every package (bench/inventory.ts compares them). Its times leave out the
 * matching shipshape's include, so the ratios flatter Trivy.
 *
 * Then `db update` runs again (a new database file built and swapped in at the same path) and each
 * image's stored inventory (the last round's cache dir, `InventoryStore`) is matched against the new
 * database in this process: no registry request, no layer read. One untimed warm-up per image, then
 * `--rounds` timed runs; the time is split into loading the stored inventory (open the store, read and
 * gunzip the row) and opening the database and matching. With `--cli-root`, the re-match (this
 * process) still runs this checkout's matcher against the other checkout's database.
 */
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { matchInventory } from "../src/match/matcher.js";
import { RegistryClient } from "../src/registry/client.js";
import { InventoryStore } from "../src/store/inventories.js";
import { Store } from "../src/store/store.js";
import { VulnerabilityDatabase } from "../src/vulndb/database.js";
import { repoRoot, sharedDir } from "../test/harness/paths.js";
import { type RunningRegistry, startRegistry } from "../test/harness/registry.js";
import { ensureSeededStorage } from "../test/harness/seed.js";
import type { BenchContext, BenchModule, BenchResult } from "./lib/bench.js";
import { type Cli, parseImageSummary, prepareCli, type TimedSample, timedProcess } from "./lib/cli.js";
import { formatBytes, formatMs, median, round } from "./lib/stats.js";
import { renderTable } from "./lib/table.js";
import {
  type BigRegistry,
  collectImages,
  type PulledImage,
  resolveBig,
  startBigRegistry,
  sumBytes,
} from "./lib/testbed-images.js";
import { TRIVY, trivyImageArgs, trivyVersion } from "./lib/trivy.js";

export const description =
  "end-to-end shipshape image (cold/warm) vs Trivy inventory-only, and re-match of stored inventories after db update";

export const options = {
  cli: { type: "string", default: "auto" },
  /** Another checkout whose CLI to measure (e.g. a `git archive` of a commit, while the working tree does not build). */
  "cli-root": { type: "string", default: "" },
  mirror: { type: "string", default: "" },
  "no-big": { type: "boolean", default: false },
  /** Comma-separated image names (repository:tag) to measure instead of all of them. */
  only: { type: "string", default: "" },
} as const;

interface Target {
  image: PulledImage;
  host: string;
  /** --platform for both tools when the name is an index. */
  platform?: string | undefined;
}

const label = (t: Target) => `${t.image.name} ${t.image.platform}`;

interface ScanSample extends TimedSample {
  packages: number;
  findings?: number | undefined;
  /** The match stage's warnings (an OS release no source covers, …). */
  matchWarnings?: string[] | undefined;
}

function shipshapeArgs(cli: Cli, t: Target, cacheDir: string, dbFile: string, output: string): string[] {
  return [
    ...cli.argv,
    "image",
    `${t.host}/${t.image.name}`,
    "--insecure",
    "--cache-dir",
    cacheDir,
    "--db",
    dbFile,
    "--format",
    "json",
    "-o",
    output,
    ...(t.platform ? ["--platform", t.platform] : []),
  ];
}

async function shipshapeRun(
  cli: Cli,
  t: Target,
  cacheDir: string,
  dbFile: string,
  scratch: string,
  warm: boolean,
): Promise<ScanSample> {
  const output = path.join(scratch, `findings-${process.pid}.json`);
  const sample = await timedProcess(
    process.execPath,
    shipshapeArgs(cli, t, cacheDir, dbFile, output),
    scratch,
  );
  const summary = parseImageSummary(sample.stderr);
  if (!summary) throw new Error(`shipshape image ${label(t)}: no summary line: ${sample.stderr.slice(-300)}`);
  const distinct = new Set(t.image.layers.map((l) => l.digest)).size;
  if (warm ? summary.read !== 0 : summary.cached !== 0 || summary.read !== distinct)
    throw new Error(`shipshape image ${label(t)} ${warm ? "warm" : "cold"}: ${JSON.stringify(summary)}`);
  const doc = JSON.parse(await fs.readFile(output, "utf8")) as {
    summary: { total: number };
    warnings: { stage: string; message: string }[];
  };
  await fs.rm(output, { force: true });
  const matchWarnings = doc.warnings.filter((w) => w.stage === "match").map((w) => w.message);
  return { ...sample, packages: summary.packages, findings: doc.summary.total, matchWarnings };
}

async function trivyPair(t: Target, scratch: string): Promise<[ScanSample, ScanSample]> {
  const cacheDir = await fs.mkdtemp(path.join(scratch, "trivy-cache-"));
  const output = path.join(scratch, `trivy-${process.pid}.json`);
  const args = trivyImageArgs({
    reference: `${t.host}/${t.image.name}`,
    cacheDir,
    output,
    platform: t.platform,
  });
  const one = async (): Promise<ScanSample> => {
    const s = await timedProcess(TRIVY, args, scratch);
    const doc = JSON.parse(await fs.readFile(output, "utf8")) as { components?: { purl?: string }[] };
    return { ...s, packages: (doc.components ?? []).filter((c) => c.purl).length };
  };
  try {
    const cold = await one();
    const warm = await one();
    return [cold, warm];
  } finally {
    await fs.rm(cacheDir, { recursive: true, force: true });
    await fs.rm(output, { force: true });
  }
}

async function dbUpdate(cli: Cli, mirror: string, dbFile: string, scratch: string): Promise<TimedSample> {
  const s = await timedProcess(
    process.execPath,
    [...cli.argv, "db", "update", "--mirror", mirror, "--db", dbFile],
    scratch,
  );
  if (!/database .*: \d+ records from \d+ of \d+ sources/.test(s.stderr))
    throw new Error(`db update printed no summary: ${s.stderr.slice(-300)}`);
  return s;
}

interface Rematch {
  loadMs: number;
  matchMs: number;
  totalMs: number;
  packages: number;
  findings: number;
}

/** The stored inventory of `digest` in `cacheDir`'s store, matched against `dbFile`: no pull. */
async function rematch(cacheDir: string, digest: string, dbFile: string): Promise<Rematch> {
  const started = performance.now();
  const store = await Store.openSqlite(path.join(cacheDir, "cache.db"));
  let stored: Awaited<ReturnType<InventoryStore["get"]>>;
  try {
    stored = await new InventoryStore(store).get(digest);
  } finally {
    await store.close();
  }
  if (!stored) throw new Error(`no stored inventory for ${digest} in ${cacheDir}`);
  const loaded = performance.now();
  const db = VulnerabilityDatabase.open(dbFile);
  let findings: number;
  try {
    findings = matchInventory(stored.inventory, db).findings.length;
  } finally {
    db.close();
  }
  const done = performance.now();
  return {
    loadMs: loaded - started,
    matchMs: done - loaded,
    totalMs: done - started,
    packages: stored.inventory.packages.length,
    findings,
  };
}

// ---- the run ------------------------------------------------------------------------------------------

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const mirror = path.resolve(String(ctx.options.mirror || path.join(sharedDir, "vulndata")));
  if (!existsSync(mirror)) throw new Error(`--mirror ${mirror} does not exist`);
  const cliRoot = path.resolve(String(ctx.options["cli-root"] || repoRoot));
  const cli = await prepareCli(String(ctx.options.cli ?? "auto"), ctx.progress, cliRoot);
  ctx.progress(`CLI: ${cli.how}`);
  ctx.progress("seeded storage (built once, minutes the first time)…");
  const registry: RunningRegistry = await startRegistry({
    storageDir: await ensureSeededStorage(),
    readOnly: true,
  });
  let big: BigRegistry | undefined;
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-bench-scan-"));
  try {
    const client = new RegistryClient({ registry: registry.url, insecure: true });
    let images: PulledImage[];
    try {
      images = await collectImages(client, registry.url);
    } finally {
      await client.close();
    }
    const names = images.map((i) => i.name);
    const pending = images.map((image) => ({ image, host: registry.host }));
    if (!ctx.options["no-big"]) {
      big = await startBigRegistry(ctx.progress);
      if (big) pending.push({ image: await resolveBig(big), host: big.registry.host });
      else ctx.progress("big:jdk not built (build-images.sh CACHE --big); left out");
    }
    const only = String(ctx.options.only ?? "")
      .split(",")
      .filter(Boolean);
    const chosen = only.length > 0 ? pending.filter((p) => only.includes(p.image.name)) : pending;
    if (chosen.length === 0) throw new Error(`--only ${only.join(",")}: no such image`);
    const targets: Target[] = chosen.map(({ image, host }) => ({
      image,
      host,
      platform: names.filter((n) => n === image.name).length > 1 ? image.platform : undefined,
    }));
    return await measure(ctx, cli, mirror, targets, scratch);
  } finally {
    await big?.registry.stop();
    await registry.stop();
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

const METHODS = ["shipshape-cold", "shipshape-warm", "trivy-cold", "trivy-warm"] as const;
type MethodId = (typeof METHODS)[number];

async function measure(
  ctx: BenchContext,
  cli: Cli,
  mirror: string,
  targets: Target[],
  scratch: string,
): Promise<BenchResult> {
  const dbFile = path.join(scratch, "db", "vuln.db");
  ctx.progress("db update --mirror (the database every scan uses)…");
  const firstUpdate = await dbUpdate(cli, mirror, dbFile, scratch);
  // Untimed warm-up of both executables (page cache, dist modules).
  await timedProcess(process.execPath, [...cli.argv, "--version"], scratch);
  await timedProcess(TRIVY, ["--version"], scratch);

  const samples = new Map<string, ScanSample[]>();
  const push = (t: Target, id: MethodId, s: ScanSample) => {
    const key = `${label(t)}\0${id}`;
    samples.set(key, [...(samples.get(key) ?? []), s]);
  };
  /** The last round's shipshape cache dir per image: its store holds the inventory to re-match. */
  const kept = new Map<string, string>();
  for (let r = 0; r < ctx.rounds; r++) {
    for (const t of targets) {
      const groups: (() => Promise<void>)[] = [
        async () => {
          const previous = kept.get(label(t));
          if (previous) await fs.rm(previous, { recursive: true, force: true });
          const cacheDir = await fs.mkdtemp(path.join(scratch, "shipshape-cache-"));
          kept.set(label(t), cacheDir);
          push(t, "shipshape-cold", await shipshapeRun(cli, t, cacheDir, dbFile, scratch, false));
          push(t, "shipshape-warm", await shipshapeRun(cli, t, cacheDir, dbFile, scratch, true));
        },
        async () => {
          const [cold, warm] = await trivyPair(t, scratch);
          push(t, "trivy-cold", cold);
          push(t, "trivy-warm", warm);
        },
      ];
      for (const g of r % 2 === 0 ? groups : groups.reverse()) await g();
      const last = (id: MethodId) => formatMs(samples.get(`${label(t)}\0${id}`)?.at(-1)?.ms ?? Number.NaN);
      ctx.progress(
        `round ${r + 1}/${ctx.rounds} ${label(t)}: shipshape ${last("shipshape-cold")} / ${last("shipshape-warm")}, ` +
          `Trivy ${last("trivy-cold")} / ${last("trivy-warm")}`,
      );
    }
  }

  ctx.progress("db update again (a new database swapped in), then re-matching the stored inventories…");
  const secondUpdate = await dbUpdate(cli, mirror, dbFile, scratch);
  const rematches = new Map<string, Rematch[]>();
  for (const t of targets) {
    const cacheDir = kept.get(label(t)) as string;
    await rematch(cacheDir, t.image.digest, dbFile);
    const list: Rematch[] = [];
    for (let r = 0; r < ctx.rounds; r++) list.push(await rematch(cacheDir, t.image.digest, dbFile));
    rematches.set(label(t), list);
  }
  const trivy = await trivyVersion();
  return report(ctx, cli, trivy, mirror, targets, samples, rematches, [firstUpdate, secondUpdate]);
}

// ---- the report ---------------------------------------------------------------------------------------

function report(
  ctx: BenchContext,
  cli: Cli,
  trivy: string,
  mirror: string,
  targets: Target[],
  samples: Map<string, ScanSample[]>,
  rematches: Map<string, Rematch[]>,
  updates: TimedSample[],
): BenchResult {
  const of = (t: Target, id: MethodId) => samples.get(`${label(t)}\0${id}`) ?? [];
  const med = (t: Target, id: MethodId) => median(of(t, id).map((s) => s.ms));
  const rss = (t: Target, id: MethodId) => Math.max(...of(t, id).map((s) => s.rssKb)) / 1024;
  const rows = targets.map((t) => {
    const cold = med(t, "shipshape-cold");
    const warm = med(t, "shipshape-warm");
    const trivyCold = med(t, "trivy-cold");
    const trivyWarm = med(t, "trivy-warm");
    const re = rematches.get(label(t)) ?? [];
    const rematchMs = median(re.map((x) => x.totalMs));
    return {
      image: t.image.name,
      platform: t.image.platform,
      layers: t.image.layers.length,
      compressedBytes: sumBytes(t.image.layers),
      packages: of(t, "shipshape-cold")[0]?.packages ?? 0,
      trivyPackages: of(t, "trivy-cold")[0]?.packages ?? 0,
      findings: of(t, "shipshape-cold")[0]?.findings ?? 0,
      matchWarnings: of(t, "shipshape-cold")[0]?.matchWarnings ?? [],
      shipshapeColdMs: round(cold),
      shipshapeWarmMs: round(warm),
      trivyColdMs: round(trivyCold),
      trivyWarmMs: round(trivyWarm),
      coldOverTrivy: round(cold / trivyCold, 2),
      warmOverTrivy: round(warm / trivyWarm, 2),
      shipshapeColdRssMb: round(rss(t, "shipshape-cold")),
      shipshapeWarmRssMb: round(rss(t, "shipshape-warm")),
      trivyColdRssMb: round(rss(t, "trivy-cold")),
      trivyWarmRssMb: round(rss(t, "trivy-warm")),
      rematch: {
        loadMs: round(median(re.map((x) => x.loadMs)), 2),
        matchMs: round(median(re.map((x) => x.matchMs)), 2),
        totalMs: round(rematchMs, 2),
        findings: re[0]?.findings ?? 0,
        overWarmScan: round(rematchMs / warm, 3),
        runsMs: re.map((x) => round(x.totalMs, 2)),
      },
      runsMs: Object.fromEntries(METHODS.map((id) => [id, of(t, id).map((s) => round(s.ms))])),
    };
  });

  const scanTable = renderTable(
    [
      "image",
      "platform",
      "layers",
      "compressed",
      "packages",
      "Trivy pkgs",
      "findings",
      "shipshape cold",
      "warm",
      "Trivy cold",
      "warm",
      "cold ratio",
      "warm ratio",
      "RSS ship cold/warm",
      "RSS Trivy cold/warm",
    ],
    rows.map((r) => [
      r.image,
      r.platform,
      String(r.layers),
      formatBytes(r.compressedBytes),
      String(r.packages),
      String(r.trivyPackages),
      String(r.findings),
      formatMs(r.shipshapeColdMs),
      formatMs(r.shipshapeWarmMs),
      formatMs(r.trivyColdMs),
      formatMs(r.trivyWarmMs),
      r.coldOverTrivy.toFixed(2),
      r.warmOverTrivy.toFixed(2),
      `${r.shipshapeColdRssMb.toFixed(0)} / ${r.shipshapeWarmRssMb.toFixed(0)} MB`,
      `${r.trivyColdRssMb.toFixed(0)} / ${r.trivyWarmRssMb.toFixed(0)} MB`,
    ]),
    ["left", "left", ...Array<"right">(13).fill("right")],
  );
  const rematchTable = renderTable(
    [
      "image",
      "platform",
      "packages",
      "findings",
      "load inventory",
      "open db + match",
      "total",
      "/ warm scan",
    ],
    rows.map((r) => [
      r.image,
      r.platform,
      String(r.packages),
      String(r.rematch.findings),
      formatMs(r.rematch.loadMs),
      formatMs(r.rematch.matchMs),
      formatMs(r.rematch.totalMs),
      r.rematch.overWarmScan.toFixed(3),
    ]),
    ["left", "left", "right", "right", "right", "right", "right", "right"],
  );
  const changed = rows.filter((r) => r.rematch.findings !== r.findings);
  const uncovered = rows
    .filter((r) => r.matchWarnings.length > 0)
    .map((r) => `  ${r.image} ${r.platform}: ${r.matchWarnings.join("; ")}`);

  const text = [
    `CLI: node ${cli.how}; database from ${mirror}; Trivy ${trivy}.`,
    "Trivy is an INVENTORY-ONLY baseline: no Trivy vulnerability database is available offline, so it runs with " +
      "--format cyclonedx (scanners off, packages listed, JARs skipped) and does no matching; shipshape's times include matching.",
    `Median wall time of ${ctx.rounds} rounds, one fresh process per run (cold = empty cache dir, warm = the same dir again); ratio = shipshape / Trivy:`,
    scanTable,
    ...(uncovered.length > 0 ? ["Match warnings (shipshape's own, first cold run):", ...uncovered] : []),
    "",
    `db update --mirror (child, GNU time): ${updates.map((u) => `${formatMs(u.ms)} (${(u.rssKb / 1024).toFixed(0)} MB)`).join(", then ")}.`,
    `Re-match after the second db update: each image's stored inventory (InventoryStore in the last round's cache dir) ` +
      `matched in this process against the new database, no pull; median of ${ctx.rounds} after one warm-up:`,
    rematchTable,
    ...(changed.length > 0
      ? [`Findings differ from the CLI's for: ${changed.map((r) => `${r.image} ${r.platform}`).join(", ")}.`]
      : ["Findings equal the CLI's for every image (same feeds in both databases)."]),
  ].join("\n");

  return {
    text,
    json: {
      cli: cli.how,
      mirror,
      trivy: {
        version: trivy,
        inventoryOnly: true,
        args: trivyImageArgs({ reference: "REF", cacheDir: "DIR", output: "FILE" }),
      },
      dbUpdates: updates.map((u) => ({ ms: round(u.ms), peakRssMb: round(u.rssKb / 1024) })),
      images: rows,
      loadAverageAfter: os.loadavg().map((l) => round(l, 2)),
    },
    missed: [],
  };
}

({ description, options, run }) satisfies BenchModule;
