/**
 * Running the shipshape command line as a user does (a child process of the working tree's
 * src/cli/entry.ts), and building a vulnerability database from ../shared/vulndata with it.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { repoRoot, sharedDir } from "./paths.js";

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
}

/** The real feed snapshot (see its README.md). */
export const vulndataDir = path.join(sharedDir, "vulndata");

export function shipshape(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // SHIPSHAPE_DB would override --cache-dir's database location.
  delete env.SHIPSHAPE_DB;
  if (options.home) env.XDG_CACHE_HOME = options.home;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(repoRoot, "src/cli/entry.ts"), ...args],
      { cwd: options.cwd ?? repoRoot, stdio: ["ignore", "pipe", "pipe"], env },
    );
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
