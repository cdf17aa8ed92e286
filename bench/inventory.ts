/**
 * Inventory time and memory: `shipshape sbom` (the built CLI, one fresh process per run) on every
 * testbed image from a loopback registry, cold (empty cache directory) and warm (the same cache
 * again), against Trivy in the same run (cold: fresh --cache-dir; warm: the same one) and against the
 * machine's limit (curl | gzip -dc / zstd -dc | tar -t of the same layers, one after another and three
 * at a time as the Analyzer reads them). Wall time is measured around the child; peak RSS comes from
 * GNU time (`/usr/bin/time -f %M`). Process start-up is that of the command measured: node loading
 * the `sbom` command's code (src/cli/actions/sbom.ts, the chunk the CLI imports when `sbom` runs),
 * nothing read; `shipshape --version` (the CLI's own start-up, no command's code) is reported beside
 * it, and `trivy --version` (one Go binary: every command's code) is Trivy's.
 *
 * Targets (from the issue), per image: cold ≤ 1.3 × limit + start-up; cold ≤ 0.5 × Trivy cold;
 * warm ≤ 0.2 × Trivy warm; and peak RSS < 300 MB on the largest image (big:jdk when built).
 *
 * Also, unless --no-trivy-modes: Trivy's inventory modes timed cold on node-app (which mode is the
 * fastest that still lists every package); unless --profile none: one cold run of the profiled image
 * (debian:bookworm by default) under `node --cpu-prof`, summarised by self time.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { RegistryClient } from "../src/registry/client.js";
import { repoRoot } from "../test/harness/paths.js";
import { type RunningRegistry, startRegistry } from "../test/harness/registry.js";
import { ensureSeededStorage } from "../test/harness/seed.js";
import type { BenchContext, BenchModule, BenchResult } from "./lib/bench.js";
import { type ProfileSummary, summariseProfile } from "./lib/cpu-profile.js";
import { runProcess } from "./lib/proc.js";
import { formatBytes, formatMs, median, round } from "./lib/stats.js";
import { renderTable } from "./lib/table.js";
import {
  type BigRegistry,
  collectImages,
  limitPull,
  type PulledImage,
  resolveBig,
  startBigRegistry,
  sumBytes,
  uncompressedSizes,
} from "./lib/testbed-images.js";
import { TRIVY, TRIVY_MODES, type TrivyMode, trivyImageArgs, trivyVersion } from "./lib/trivy.js";

export const description =
  "inventory time and peak RSS: shipshape CLI cold/warm vs Trivy vs curl+decompress+tar -t";

export const options = {
  /** How to run the CLI: dist (bin/shipshape.js, built first when stale), tsx (src through tsx), auto. */
  cli: { type: "string", default: "auto" },
  /** Another checkout whose CLI to measure (default: this one); see prepareCli. */
  "cli-root": { type: "string", default: "" },
  /** Image to profile cold once with node --cpu-prof, or "none". */
  profile: { type: "string", default: "debian:bookworm" },
  "no-trivy-modes": { type: "boolean", default: false },
  "no-big": { type: "boolean", default: false },
  /** Comma-separated image names (repository:tag) to measure instead of all of them. */
  only: { type: "string", default: "" },
} as const;

const TARGET = { coldOverLimit: 1.3, coldOverTrivy: 0.5, warmOverTrivy: 0.2, peakRssMb: 300 };
/** Layers the Analyzer reads at once (AnalyzerOptions.concurrency default). */
const ANALYZER_CONCURRENCY = 3;
const TIME = "/usr/bin/time";

// ---- the CLI ------------------------------------------------------------------------------------------

interface Cli {
  /** node arguments before the CLI's own (`bin/shipshape.js` or `--import tsx src/cli/entry.ts`). */
  argv: string[];
  /** node arguments that load the `sbom` command's code and stop. */
  sbomStartupArgv: string[];
  how: string;
  /** The checkout it runs from. */
  root: string;
}

async function newestSource(
  root: string,
  dir: string,
): Promise<{ file: string; mtimeMs: number; missing?: string }> {
  let newest = { file: "", mtimeMs: 0 };
  let missing: string | undefined;
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts") || entry.name.endsWith(".test.ts")) continue;
    const file = path.join(entry.parentPath, entry.name);
    const { mtimeMs } = statSync(file);
    if (mtimeMs > newest.mtimeMs) newest = { file, mtimeMs };
    const built = path.join(root, "dist", path.relative(dir, file)).replace(/\.ts$/, ".js");
    if (!missing && !existsSync(built)) missing = path.relative(root, file);
  }
  return { ...newest, missing };
}

/** Why dist/ is older than src/, or undefined when it is current. */
async function staleness(root: string): Promise<string | undefined> {
  // bin/shipshape.js runs the bundle, which `npm run build` writes after tsc's output.
  const bundle = path.join(root, "dist", "cli", "shipshape.mjs");
  if (!existsSync(bundle)) return "dist/cli/shipshape.mjs missing";
  const src = await newestSource(root, path.join(root, "src"));
  if (src.missing) return `${src.missing} has no compiled copy`;
  if (src.mtimeMs > statSync(bundle).mtimeMs) return `${path.relative(root, src.file)} newer than dist`;
  return undefined;
}

/** The chunk of the bundle holding the `sbom` command's code (esbuild names it after actions/sbom.ts). */
function sbomChunk(root: string): string {
  const dir = path.join(root, "dist", "cli");
  const name = readdirSync(dir).find((f) => /^shipshape-sbom-[A-Z0-9]+\.mjs$/.test(f));
  if (!name) throw new Error(`no shipshape-sbom-*.mjs chunk in ${dir}`);
  return path.join(dir, name);
}

const importOnly = (file: string) => ["--input-type=module", "-e", `await import(${JSON.stringify(file)});`];

/**
 * The CLI to measure, from `root` (this checkout, or `--cli-root DIR`: another checkout of shipshape,
 * e.g. `git archive COMMIT | tar -x -C DIR` with node_modules linked, to measure a commit while the
 * working tree is in flux).
 */
async function prepareCli(root: string, mode: string, progress: (m: string) => void): Promise<Cli> {
  const where = root === repoRoot ? "" : ` in ${root}`;
  const tsx: Cli = {
    argv: ["--import", "tsx", path.join(root, "src/cli/entry.ts")],
    sbomStartupArgv: ["--import", "tsx", ...importOnly(path.join(root, "src/cli/actions/sbom.ts"))],
    how: "",
    root,
  };
  const dist = (): Cli => ({
    argv: [path.join(root, "bin/shipshape.js")],
    sbomStartupArgv: importOnly(sbomChunk(root)),
    how: "",
    root,
  });
  if (mode === "tsx") return { ...tsx, how: `src/cli/entry.ts${where} through tsx (--cli tsx)` };
  if (mode !== "dist" && mode !== "auto") throw new Error(`--cli must be dist, tsx or auto, not ${mode}`);
  const stale = await staleness(root);
  if (!stale) return { ...dist(), how: `bin/shipshape.js${where} (dist/ current)` };
  progress(`dist/ is stale (${stale}): npm run build…`);
  let note = "";
  try {
    await runProcess(path.join(repoRoot, "node_modules/.bin/tsc"), [
      "-p",
      path.join(root, "tsconfig.build.json"),
    ]);
  } catch {
    // tsc still emits on type errors (noEmitOnError is off); what matters is whether dist/ is current now.
    note = "; tsc exited non-zero (type errors), output emitted anyway";
  }
  // The bundle script works relative to the checkout it bundles.
  await promisify(execFile)(process.execPath, [path.join(root, "scripts/bundle.mjs")], { cwd: root });
  const still = await staleness(root);
  if (!still) return { ...dist(), how: `bin/shipshape.js${where} (dist/ rebuilt first: ${stale}${note})` };
  if (mode === "dist") throw new Error(`dist/ still stale after the build: ${still}`);
  return {
    ...tsx,
    how: `src/cli/entry.ts${where} through tsx (dist/ stale, ${still}, and the build failed)`,
  };
}

// ---- timed child processes ----------------------------------------------------------------------------

interface Sample {
  ms: number;
  /** Peak RSS of the child (GNU time %M), kB. */
  rssKb: number;
  stderr: string;
}

async function timed(command: string, args: string[], scratch: string): Promise<Sample> {
  const out = path.join(scratch, `time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const { ms, stderr } = await runProcess(TIME, ["-f", "%e %M", "-o", out, command, ...args]);
  const [, rss] = (await fs.readFile(out, "utf8")).trim().split("\n").at(-1)?.split(" ") ?? [];
  await fs.rm(out, { force: true });
  return { ms, rssKb: Number(rss), stderr };
}

interface Target {
  image: PulledImage;
  host: string;
  /** --platform for both tools when the name is an index. */
  platform?: string | undefined;
  uncompressed: number;
}

const label = (t: Target) => `${t.image.name} ${t.image.platform}`;

function shipshapeArgs(cli: Cli, t: Target, cacheDir: string): string[] {
  return [
    ...cli.argv,
    "sbom",
    `${t.host}/${t.image.name}`,
    "--insecure",
    "--format",
    "cyclonedx",
    "-o",
    "/dev/null",
    "--cache-dir",
    cacheDir,
    ...(t.platform ? ["--platform", t.platform] : []),
  ];
}

/** The CLI's summary line, "N packages in L layers (R read, C cached)", checked against what the run should do. */
function checkShipshape(sample: Sample, t: Target, warm: boolean): void {
  const m = /(\d+) packages in (\d+) layers \((\d+) read, (\d+) cached\)/.exec(sample.stderr);
  if (!m)
    throw new Error(`shipshape sbom ${label(t)}: no summary line in stderr: ${sample.stderr.slice(-300)}`);
  const [read, cached] = [Number(m[3]), Number(m[4])];
  const distinct = new Set(t.image.layers.map((l) => l.digest)).size;
  if (warm ? read !== 0 : cached !== 0 || read !== distinct) {
    throw new Error(`shipshape sbom ${label(t)} ${warm ? "warm" : "cold"}: ${m[0]}`);
  }
}

const METHODS = [
  "shipshape-cold",
  "shipshape-warm",
  "trivy-cold",
  "trivy-warm",
  "limit-seq",
  "limit-par",
] as const;
type MethodId = (typeof METHODS)[number];

async function shipshapePair(cli: Cli, t: Target, scratch: string): Promise<[Sample, Sample]> {
  const cacheDir = await fs.mkdtemp(path.join(scratch, "shipshape-cache-"));
  try {
    const cold = await timed(process.execPath, shipshapeArgs(cli, t, cacheDir), scratch);
    checkShipshape(cold, t, false);
    const warm = await timed(process.execPath, shipshapeArgs(cli, t, cacheDir), scratch);
    checkShipshape(warm, t, true);
    return [cold, warm];
  } finally {
    await fs.rm(cacheDir, { recursive: true, force: true });
  }
}

async function trivyPair(t: Target, scratch: string): Promise<[Sample, Sample]> {
  const cacheDir = await fs.mkdtemp(path.join(scratch, "trivy-cache-"));
  const args = trivyImageArgs({
    reference: `${t.host}/${t.image.name}`,
    cacheDir,
    output: "/dev/null",
    platform: t.platform,
  });
  try {
    const cold = await timed(TRIVY, args, scratch);
    const warm = await timed(TRIVY, args, scratch);
    return [cold, warm];
  } finally {
    await fs.rm(cacheDir, { recursive: true, force: true });
  }
}

const limitSample = async (t: Target, parallel: number): Promise<Sample> => ({
  ms: await limitPull(t.image.layers, { parallel, walk: true }),
  rssKb: Number.NaN,
  stderr: "",
});

/** Trivy's packages in its output: CycloneDX components with a purl, or JSON Results[].Packages. */
async function trivyPackageCount(file: string): Promise<number> {
  const doc = JSON.parse(await fs.readFile(file, "utf8")) as {
    components?: { purl?: string }[];
    Results?: { Packages?: unknown[] }[];
  };
  if (doc.components) return doc.components.filter((c) => c.purl).length;
  return (doc.Results ?? []).reduce((n, r) => n + (r.Packages?.length ?? 0), 0);
}

// ---- the run ------------------------------------------------------------------------------------------

export async function run(ctx: BenchContext): Promise<BenchResult> {
  if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed for peak RSS: apt-get install time`);
  const cliRoot = path.resolve(String(ctx.options["cli-root"] || repoRoot));
  const cli = await prepareCli(cliRoot, String(ctx.options.cli ?? "auto"), ctx.progress);
  ctx.progress(`CLI: ${cli.how}`);
  ctx.progress("seeded storage (built once, minutes the first time)…");
  const registry: RunningRegistry = await startRegistry({
    storageDir: await ensureSeededStorage(),
    readOnly: true,
  });
  let big: BigRegistry | undefined;
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-bench-inventory-"));
  try {
    const client = new RegistryClient({ registry: registry.url, insecure: true });
    let images: PulledImage[];
    try {
      images = await collectImages(client, registry.url);
    } finally {
      await client.close();
    }
    const names = images.map((i) => i.name);
    const pending: { image: PulledImage; host: string }[] = images.map((image) => ({
      image,
      host: registry.host,
    }));
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
    ctx.progress("uncompressed sizes (untimed warm-up: every layer pulled once)…");
    const layers = new Map(chosen.flatMap((p) => p.image.layers.map((l) => [l.digest, l])));
    const sizes = await uncompressedSizes([...layers.values()]);
    const targets: Target[] = chosen.map(({ image, host }) => ({
      image,
      host,
      platform: names.filter((n) => n === image.name).length > 1 ? image.platform : undefined,
      uncompressed: image.layers.reduce((n, l) => n + (sizes.get(l.digest) ?? 0), 0),
    }));
    return await measure(ctx, cli, targets, scratch);
  } finally {
    await big?.registry.stop();
    await registry.stop();
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

async function measure(
  ctx: BenchContext,
  cli: Cli,
  targets: Target[],
  scratch: string,
): Promise<BenchResult> {
  const versionArgs = [...cli.argv, "--version"];
  await timed(process.execPath, versionArgs, scratch);
  await timed(process.execPath, cli.sbomStartupArgv, scratch);
  await timed(TRIVY, ["--version"], scratch);

  const samples = new Map<string, Sample[]>();
  const push = (t: Target, id: MethodId, s: Sample) => {
    const key = `${label(t)}\0${id}`;
    samples.set(key, [...(samples.get(key) ?? []), s]);
  };
  const startup = { shipshape: [] as Sample[], sbom: [] as Sample[], trivy: [] as Sample[] };
  const modeTarget = targets.find((t) => t.image.name === "node-app:1.0");
  const modes = (ctx.options["no-trivy-modes"] ? [] : Object.keys(TRIVY_MODES)) as TrivyMode[];
  const modeSamples = new Map<TrivyMode, { sample: Sample; packages: number }[]>();

  for (let r = 0; r < ctx.rounds; r++) {
    const forward = r % 2 === 0;
    startup.shipshape.push(await timed(process.execPath, versionArgs, scratch));
    startup.sbom.push(await timed(process.execPath, cli.sbomStartupArgv, scratch));
    startup.trivy.push(await timed(TRIVY, ["--version"], scratch));
    for (const t of targets) {
      const groups: (() => Promise<void>)[] = [
        async () => {
          const [cold, warm] = await shipshapePair(cli, t, scratch);
          push(t, "shipshape-cold", cold);
          push(t, "shipshape-warm", warm);
        },
        async () => {
          const [cold, warm] = await trivyPair(t, scratch);
          push(t, "trivy-cold", cold);
          push(t, "trivy-warm", warm);
        },
        async () => {
          push(t, "limit-seq", await limitSample(t, 1));
          push(t, "limit-par", await limitSample(t, ANALYZER_CONCURRENCY));
        },
      ];
      for (const g of forward ? groups : groups.reverse()) await g();
      const last = (id: MethodId) => formatMs(samples.get(`${label(t)}\0${id}`)?.at(-1)?.ms ?? Number.NaN);
      ctx.progress(
        `round ${r + 1}/${ctx.rounds} ${label(t)}: shipshape ${last("shipshape-cold")} / ${last("shipshape-warm")}, ` +
          `Trivy ${last("trivy-cold")} / ${last("trivy-warm")}, limit ${last("limit-seq")} / ${last("limit-par")}`,
      );
    }
    if (modeTarget) {
      for (const mode of forward ? modes : [...modes].reverse()) {
        const cacheDir = await fs.mkdtemp(path.join(scratch, "trivy-mode-"));
        const output = path.join(scratch, `mode-${mode}.json`);
        const args = trivyImageArgs({
          reference: `${modeTarget.host}/${modeTarget.image.name}`,
          cacheDir,
          output,
          mode,
        });
        const sample = await timed(TRIVY, args, scratch);
        const packages = await trivyPackageCount(output);
        modeSamples.set(mode, [...(modeSamples.get(mode) ?? []), { sample, packages }]);
        await fs.rm(cacheDir, { recursive: true, force: true });
      }
    }
  }

  let profile: { image: string; ms: number; summary: ProfileSummary } | undefined;
  const profiled = String(ctx.options.profile ?? "none");
  if (profiled !== "none") {
    const t = targets.find((x) => x.image.name === profiled);
    if (!t) throw new Error(`--profile ${profiled}: not a measured image (${targets.map(label).join(", ")})`);
    ctx.progress(`profiling ${label(t)} cold with --cpu-prof…`);
    const dir = await fs.mkdtemp(path.join(scratch, "cpu-prof-"));
    const cacheDir = await fs.mkdtemp(path.join(scratch, "shipshape-cache-"));
    const s = await timed(
      process.execPath,
      ["--cpu-prof", "--cpu-prof-dir", dir, ...shipshapeArgs(cli, t, cacheDir)],
      scratch,
    );
    checkShipshape(s, t, false);
    const file = (await fs.readdir(dir)).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error("node --cpu-prof wrote no profile");
    const keep = path.join(path.dirname(fileURLToPath(import.meta.url)), "results", "inventory.cpuprofile");
    await fs.mkdir(path.dirname(keep), { recursive: true });
    await fs.copyFile(path.join(dir, file), keep);
    profile = { image: label(t), ms: s.ms, summary: await summariseProfile(keep, cli.root) };
  }

  const trivy = await trivyVersion();
  return report(ctx, cli, trivy, targets, samples, startup, modeSamples, modeTarget, profile);
}

// ---- the report ---------------------------------------------------------------------------------------

function report(
  ctx: BenchContext,
  cli: Cli,
  trivy: string,
  targets: Target[],
  samples: Map<string, Sample[]>,
  startup: { shipshape: Sample[]; sbom: Sample[]; trivy: Sample[] },
  modeSamples: Map<TrivyMode, { sample: Sample; packages: number }[]>,
  modeTarget: Target | undefined,
  profile: { image: string; ms: number; summary: ProfileSummary } | undefined,
): BenchResult {
  const of = (t: Target, id: MethodId) => samples.get(`${label(t)}\0${id}`) ?? [];
  const med = (t: Target, id: MethodId) => median(of(t, id).map((s) => s.ms));
  const rss = (t: Target, id: MethodId) => Math.max(...of(t, id).map((s) => s.rssKb)) / 1024;
  const versionMs = median(startup.shipshape.map((s) => s.ms));
  // The target's start-up is the measured command's: node with the sbom command's code loaded.
  const startupMs = median(startup.sbom.map((s) => s.ms));
  const trivyStartupMs = median(startup.trivy.map((s) => s.ms));
  const largest = targets.reduce((a, b) => (b.uncompressed > a.uncompressed ? b : a));
  const missed: string[] = [];
  const verdict = (ok: boolean) => (ok ? "met" : "MISSED");

  const rows = targets.map((t) => {
    const limit = Math.min(med(t, "limit-seq"), med(t, "limit-par"));
    const cold = med(t, "shipshape-cold");
    const warm = med(t, "shipshape-warm");
    const trivyCold = med(t, "trivy-cold");
    const trivyWarm = med(t, "trivy-warm");
    const budget = TARGET.coldOverLimit * limit + startupMs;
    const r = {
      image: t.image.name,
      platform: t.image.platform,
      layers: t.image.layers.length,
      compressedBytes: sumBytes(t.image.layers),
      uncompressedBytes: t.uncompressed,
      limitSeqMs: round(med(t, "limit-seq")),
      limitParMs: round(med(t, "limit-par")),
      limitMs: round(limit),
      shipshapeColdMs: round(cold),
      shipshapeWarmMs: round(warm),
      shipshapeColdRssMb: round(rss(t, "shipshape-cold")),
      shipshapeWarmRssMb: round(rss(t, "shipshape-warm")),
      trivyColdMs: round(trivyCold),
      trivyWarmMs: round(trivyWarm),
      trivyColdRssMb: round(rss(t, "trivy-cold")),
      trivyWarmRssMb: round(rss(t, "trivy-warm")),
      coldBudgetMs: round(budget),
      coldOverLimit: round(cold / limit, 2),
      coldOverBudget: round(cold / budget, 2),
      coldOverTrivy: round(cold / trivyCold, 3),
      warmOverTrivy: round(warm / trivyWarm, 3),
      met: {
        coldVsLimit: cold <= budget,
        coldVsTrivy: cold / trivyCold <= TARGET.coldOverTrivy,
        warmVsTrivy: warm / trivyWarm <= TARGET.warmOverTrivy,
      },
      runsMs: Object.fromEntries(METHODS.map((id) => [id, of(t, id).map((s) => round(s.ms))])),
    };
    const name = label(t);
    if (!r.met.coldVsLimit)
      missed.push(
        `${name}: cold ${formatMs(cold)} > ${TARGET.coldOverLimit} × limit ${formatMs(limit)} + start-up ${formatMs(startupMs)} = ${formatMs(budget)}`,
      );
    if (!r.met.coldVsTrivy)
      missed.push(
        `${name}: cold ${formatMs(cold)} = ${r.coldOverTrivy.toFixed(2)} × Trivy cold ${formatMs(trivyCold)} > ${TARGET.coldOverTrivy}`,
      );
    if (!r.met.warmVsTrivy)
      missed.push(
        `${name}: warm ${formatMs(warm)} = ${r.warmOverTrivy.toFixed(2)} × Trivy warm ${formatMs(trivyWarm)} > ${TARGET.warmOverTrivy}`,
      );
    return r;
  });
  const largestRss = Math.max(rss(largest, "shipshape-cold"), rss(largest, "shipshape-warm"));
  const rssMet = largestRss < TARGET.peakRssMb;
  if (!rssMet)
    missed.push(`${label(largest)}: peak RSS ${largestRss.toFixed(0)} MB ≥ ${TARGET.peakRssMb} MB`);

  const timeTable = renderTable(
    [
      "image",
      "platform",
      "layers",
      "compressed",
      "uncompr.",
      "limit seq",
      `limit ×${ANALYZER_CONCURRENCY}`,
      "shipshape cold",
      "warm",
      "Trivy cold",
      "warm",
      "RSS ship cold/warm",
      "RSS Trivy cold/warm",
    ],
    rows.map((r) => [
      r.image,
      r.platform,
      String(r.layers),
      formatBytes(r.compressedBytes),
      formatBytes(r.uncompressedBytes),
      formatMs(r.limitSeqMs),
      formatMs(r.limitParMs),
      formatMs(r.shipshapeColdMs),
      formatMs(r.shipshapeWarmMs),
      formatMs(r.trivyColdMs),
      formatMs(r.trivyWarmMs),
      `${r.shipshapeColdRssMb.toFixed(0)} / ${r.shipshapeWarmRssMb.toFixed(0)} MB`,
      `${r.trivyColdRssMb.toFixed(0)} / ${r.trivyWarmRssMb.toFixed(0)} MB`,
    ]),
    [
      "left",
      "left",
      "right",
      "right",
      "right",
      "right",
      "right",
      "right",
      "right",
      "right",
      "right",
      "right",
      "right",
    ],
  );
  const ratioTable = renderTable(
    [
      "image",
      "platform",
      "cold / limit",
      `cold ≤ ${TARGET.coldOverLimit}×limit+start-up`,
      "cold / Trivy cold",
      `≤ ${TARGET.coldOverTrivy}`,
      "warm / Trivy warm",
      `≤ ${TARGET.warmOverTrivy}`,
    ],
    rows.map((r) => [
      r.image,
      r.platform,
      r.coldOverLimit.toFixed(2),
      `${formatMs(r.shipshapeColdMs)} vs ${formatMs(r.coldBudgetMs)}: ${verdict(r.met.coldVsLimit)}`,
      r.coldOverTrivy.toFixed(2),
      verdict(r.met.coldVsTrivy),
      r.warmOverTrivy.toFixed(2),
      verdict(r.met.warmVsTrivy),
    ]),
    ["left", "left", "right", "left", "right", "left", "right", "left"],
  );

  const modeRows = [...modeSamples].map(([mode, list]) => ({
    mode,
    args: TRIVY_MODES[mode].join(" "),
    medianMs: round(median(list.map((x) => x.sample.ms))),
    peakRssMb: round(Math.max(...list.map((x) => x.sample.rssKb)) / 1024),
    packages: [...new Set(list.map((x) => x.packages))].join("/"),
    runsMs: list.map((x) => round(x.sample.ms)),
  }));
  const modeTable = renderTable(
    ["Trivy mode", "arguments", "cold median", "peak RSS", "packages listed", "runs (ms)"],
    modeRows.map((m) => [
      m.mode,
      m.args,
      formatMs(m.medianMs),
      `${m.peakRssMb.toFixed(0)} MB`,
      m.packages,
      m.runsMs.map((x) => x.toFixed(0)).join(" "),
    ]),
    ["left", "left", "right", "right", "right", "left"],
  );

  const profileText: string[] = [];
  if (profile) {
    const s = profile.summary;
    const top = s.functions.slice(0, 25);
    profileText.push(
      "",
      `CPU profile of one cold run of ${profile.image} (node --cpu-prof, main thread only; ${formatMs(profile.ms)} wall, ` +
        `${formatMs(s.profiledMs)} profiled, ${s.samples} samples; bench/results/inventory.cpuprofile):`,
      renderTable(
        ["self", "total", "function"],
        top.map((f) => [formatMs(f.selfMs), formatMs(f.totalMs), f.function]),
        ["right", "right", "left"],
      ),
      "",
      "Self time by file:",
      renderTable(
        ["self", "file"],
        s.files.slice(0, 15).map((f) => [formatMs(f.selfMs), f.file]),
        ["right", "left"],
      ),
    );
  }

  const text = [
    `CLI: node ${cli.how}; Trivy ${trivy} (--format cyclonedx, scanners off, JARs skipped).`,
    `Start-up (median of ${ctx.rounds}): shipshape sbom's code loaded ${formatMs(startupMs)} ` +
      `(peak RSS ${(Math.max(...startup.sbom.map((s) => s.rssKb)) / 1024).toFixed(0)} MB), ` +
      `shipshape --version ${formatMs(versionMs)}, ` +
      `trivy --version ${formatMs(trivyStartupMs)} (${(Math.max(...startup.trivy.map((s) => s.rssKb)) / 1024).toFixed(0)} MB).`,
    `Limit: curl | gzip -dc or zstd -dc | tar -t of each layer, one after another and ${ANALYZER_CONCURRENCY} at a time; the faster counts.`,
    `Median wall time of ${ctx.rounds} rounds (each a fresh process; cold = empty cache dir, warm = the same dir again):`,
    timeTable,
    "",
    "Targets:",
    ratioTable,
    `Peak RSS on the largest image (${label(largest)}, ${formatBytes(largest.uncompressed)} uncompressed): ` +
      `${largestRss.toFixed(0)} MB, target < ${TARGET.peakRssMb} MB: ${verdict(rssMet)}`,
    ...(modeTarget && modeRows.length > 0
      ? ["", `Trivy modes, cold on ${label(modeTarget)} (fresh --cache-dir each):`, modeTable]
      : []),
    ...profileText,
  ].join("\n");

  return {
    text,
    json: {
      cli: cli.how,
      trivy: { version: trivy, args: trivyImageArgs({ reference: "REF", cacheDir: "DIR", output: "FILE" }) },
      targets: TARGET,
      analyzerConcurrency: ANALYZER_CONCURRENCY,
      startup: {
        shipshapeMs: round(startupMs),
        shipshapeVersionMs: round(versionMs),
        trivyMs: round(trivyStartupMs),
        shipshapeRunsMs: startup.sbom.map((s) => round(s.ms)),
        shipshapeVersionRunsMs: startup.shipshape.map((s) => round(s.ms)),
        trivyRunsMs: startup.trivy.map((s) => round(s.ms)),
      },
      images: rows,
      largest: { image: label(largest), peakRssMb: round(largestRss), met: rssMet },
      trivyModes: modeTarget ? { image: label(modeTarget), modes: modeRows } : undefined,
      profile: profile
        ? {
            image: profile.image,
            wallMs: round(profile.ms),
            profiledMs: round(profile.summary.profiledMs),
            functions: profile.summary.functions.slice(0, 60).map((f) => ({
              ...f,
              selfMs: round(f.selfMs),
              totalMs: round(f.totalMs),
            })),
            files: profile.summary.files.slice(0, 30).map((f) => ({ ...f, selfMs: round(f.selfMs) })),
          }
        : undefined,
      loadAverageAfter: os.loadavg().map((l) => round(l, 2)),
    },
    missed,
  };
}

({ description, options, run }) satisfies BenchModule;
