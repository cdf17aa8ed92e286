/**
 * The shipshape CLI as the benchmarks run it: the built `bin/shipshape.js` (dist/ rebuilt first, tsc and
 * the esbuild bundle as `npm run build` does, when a source file is newer) or, failing that,
 * `src/cli/entry.ts` through tsx; and child processes timed with their peak RSS from GNU time
 * (`/usr/bin/time -f %M`). Used by vulndb and scan; bench/inventory.ts has the same logic inline (before
 * the bundle step), to be switched over to this module.
 */
import { existsSync, statSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { repoRoot } from "../../test/harness/paths.js";
import { runProcess } from "./proc.js";

export const TIME = "/usr/bin/time";

export interface Cli {
  /** node arguments before the CLI's own (`bin/shipshape.js` or `--import tsx src/cli/entry.ts`). */
  argv: string[];
  /** How it runs, for the report. */
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

/** The bundle bin/shipshape.js loads (scripts/bundle.mjs), when the checkout has one. */
const bundleOf = (root: string) =>
  existsSync(path.join(root, "scripts", "bundle.mjs"))
    ? path.join(root, "dist", "cli", "shipshape.mjs")
    : undefined;

/** Why dist/ (tsc output and the CLI bundle) is older than src/, or undefined when it is current. */
async function staleness(root: string): Promise<string | undefined> {
  const entry = path.join(root, "dist", "cli", "entry.js");
  if (!existsSync(entry)) return "dist/cli/entry.js missing";
  const bundle = bundleOf(root);
  if (bundle && !existsSync(bundle)) return `${path.relative(root, bundle)} missing`;
  const src = await newestSource(root, path.join(root, "src"));
  if (src.missing) return `${src.missing} has no compiled copy`;
  for (const built of [entry, bundle]) {
    if (built && src.mtimeMs > statSync(built).mtimeMs)
      return `${path.relative(root, src.file)} newer than ${path.relative(root, built)}`;
  }
  return undefined;
}

/**
 * The CLI to measure from `root` (this checkout by default). `mode`: "dist" (bin/shipshape.js, rebuilt
 * first when stale; an error if it stays stale), "tsx" (the sources through tsx), "auto" (dist, else tsx).
 */
export async function prepareCli(
  mode: string,
  progress: (m: string) => void,
  root: string = repoRoot,
): Promise<Cli> {
  const where = root === repoRoot ? "" : ` in ${root}`;
  const tsx: Cli = { argv: ["--import", "tsx", path.join(root, "src/cli/entry.ts")], how: "", root };
  const dist: Cli = { argv: [path.join(root, "bin/shipshape.js")], how: "", root };
  if (mode === "tsx") return { ...tsx, how: `src/cli/entry.ts${where} through tsx (--cli tsx)` };
  if (mode !== "dist" && mode !== "auto") throw new Error(`--cli must be dist, tsx or auto, not ${mode}`);
  const stale = await staleness(root);
  if (!stale) return { ...dist, how: `bin/shipshape.js${where} (dist/ current)` };
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
  // The second half of `npm run build`, run apart so that a type error does not skip it.
  if (bundleOf(root)) await runProcess("bash", ["-c", 'cd "$1" && exec node scripts/bundle.mjs', "_", root]);
  const still = await staleness(root);
  if (!still) return { ...dist, how: `bin/shipshape.js${where} (dist/ rebuilt first: ${stale}${note})` };
  if (mode === "dist") throw new Error(`dist/ still stale after the build: ${still}`);
  return {
    ...tsx,
    how: `src/cli/entry.ts${where} through tsx (dist/ stale, ${still}, and the build failed)`,
  };
}

export interface TimedSample {
  /** Wall time from spawn to exit. */
  ms: number;
  /** Peak RSS of the child (GNU time %M), kB. */
  rssKb: number;
  stderr: string;
}

/** Runs a command under GNU time (`scratch` holds time's output file); wall time, peak RSS and stderr. */
export async function timedProcess(command: string, args: string[], scratch: string): Promise<TimedSample> {
  if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed for peak RSS: apt-get install time`);
  const out = path.join(scratch, `time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const { ms, stderr } = await runProcess(TIME, ["-f", "%e %M", "-o", out, command, ...args]);
  const [, rss] = (await fs.readFile(out, "utf8")).trim().split("\n").at(-1)?.split(" ") ?? [];
  await fs.rm(out, { force: true });
  return { ms, rssKb: Number(rss), stderr };
}

/** The summary line every image command prints: "N packages in L layers (R read, C cached)". */
export function parseImageSummary(
  stderr: string,
): { packages: number; layers: number; read: number; cached: number } | undefined {
  const m = /(\d+) packages in (\d+) layers \((\d+) read, (\d+) cached\)/.exec(stderr);
  if (!m) return undefined;
  return { packages: Number(m[1]), layers: Number(m[2]), read: Number(m[3]), cached: Number(m[4]) };
}
