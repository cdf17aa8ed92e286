/**
 * Running the shipshape command line as a user does (a child process of the working tree's CLI),
 * and building a vulnerability database from ../shared/vulndata with it.
 *
 * The CLI is bundled from src/cli/entry.ts once per test process, with the esbuild settings of
 * scripts/bundle-options.mjs (dist/ may be stale; the bundle is built from the working tree): a run then
 * starts in about 0.3 s instead of the 1.3 s tsx needs to load ~300 modules, which matters for files
 * that run the CLI a few dozen times.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";
import { bundleOptions, entryPoints } from "../../scripts/bundle-options.mjs";
import { withLock } from "./lock.js";
import { cacheDir, repoRoot, sharedDir } from "./paths.js";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Working directory (default: the checkout). */
  cwd?: string;
  /** Replaces XDG_CACHE_HOME, so a command that leaves out --cache-dir still stays in a temp dir. */
  home?: string;
  /** Added to the environment. */
  env?: NodeJS.ProcessEnv;
}

/** The real feed snapshot (see its README.md). */
export const vulndataDir = path.join(sharedDir, "vulndata");

let bundle: Promise<string> | undefined;

/**
 * The bundle sits two levels below the checkout, as dist/cli/ does: the CLI reads ../../package.json
 * for its version, and better-sqlite3 (kept external) resolves from the checkout's node_modules.
 * `.cache/` is git-ignored.
 */
export function bundledCli(): Promise<string> {
  bundle ??= (async () => {
    const dir = path.join(repoRoot, ".cache", `cli-test-${process.pid}`);
    await fs.mkdir(dir, { recursive: true });
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    await build({
      ...bundleOptions,
      entryPoints: entryPoints.map((e) => ({ ...e, in: path.join(repoRoot, e.in) })),
      outdir: dir,
    });
    return path.join(dir, "shipshape.mjs");
  })();
  return bundle;
}

export async function shipshape(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // SHIPSHAPE_DB would override --cache-dir's database location.
  delete env.SHIPSHAPE_DB;
  if (options.home) env.XDG_CACHE_HOME = options.home;
  Object.assign(env, options.env);
  const cli = await bundledCli();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: options.cwd ?? repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** `shipshape db update --mirror ../shared/vulndata` into `cacheDir` (about 12 s); throws unless it exits 0. */
export async function buildMirrorDatabase(cacheDir: string, extra: string[] = []): Promise<CliRun> {
  const run = await shipshape(["db", "update", "--mirror", vulndataDir, "--cache-dir", cacheDir, ...extra]);
  if (run.code !== 0) throw new Error(`db update --mirror failed (exit ${run.code}):\n${run.stderr}`);
  return run;
}

let shared: Promise<string> | undefined;

/**
 * The vulnerability database built from ../shared/vulndata by this working tree's code, built once
 * per source change and shared read-only by every test file (and kept between runs under the harness
 * cache): eight files each spent 10–100 s rebuilding the same file. Keyed by the content of src/
 * (any change may touch the build) and by the name, size and mtime of every feed file. Tests of the
 * build itself keep calling buildMirrorDatabase.
 */
export function sharedMirrorDatabase(): Promise<string> {
  shared ??= (async () => {
    const key = await mirrorDatabaseKey();
    const dir = path.join(cacheDir, "vulndb", key);
    const file = path.join(dir, "db", "vuln.db");
    return withLock(`${dir}.lock`, async () => {
      if (existsSync(file)) return file;
      const building = `${dir}.building-${process.pid}`;
      await fs.rm(building, { recursive: true, force: true });
      await buildMirrorDatabase(building);
      await fs.rm(dir, { recursive: true, force: true });
      await fs.rename(building, dir);
      return file;
    });
  })();
  return shared;
}

async function mirrorDatabaseKey(): Promise<string> {
  const hash = createHash("sha256");
  const walk = async (dir: string, contents: boolean): Promise<void> => {
    const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full, contents);
      else if (contents) hash.update(`${full}\0`).update(await fs.readFile(full));
      else {
        const stat = await fs.stat(full);
        hash.update(`${full}\0${stat.size}\0${stat.mtimeMs}\0`);
      }
    }
  };
  await walk(path.join(repoRoot, "src"), true);
  await walk(vulndataDir, false);
  return hash.digest("hex").slice(0, 16);
}
