/**
 * `shipshape console` as a user runs it: a child process of the bundled CLI (see shipshape-cli.ts)
 * with its own data directory, on a free port on 127.0.0.1, over HTTPS with the self-signed
 * certificate it generates (or plain HTTP). `start` waits until GET /api/v1/_ping answers;
 * `kill` sends SIGKILL (a crash), `stop` SIGTERM (a clean shutdown).
 *
 * A vulnerability database built once per test process from ../shared/vulndata is copied into the
 * data directory before the first start (`prebuiltDatabase`), so the console does not spend ~10 s
 * building it; leave it out to exercise the console's own first-start `db update`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, fetch } from "undici";
import { freePort } from "./paths.js";
import { bundledCli, vulndataDir } from "./shipshape-cli.js";

export interface ConsoleOptions {
  dataDir: string;
  adminPassword?: string;
  /** Plain HTTP instead of HTTPS. */
  http?: boolean;
  /** A built vulnerability database file to copy in before the start (when none is there). */
  prebuiltDatabase?: string;
  /** Extra flags after `console`. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** How long to wait for /_ping (default 60 s: a first start may build the database). */
  startTimeoutMs?: number;
  /** The CLI to run (default: the working tree bundled for tests; the demo runs bin/shipshape.js). */
  cli?: string;
  /** Sees everything the process writes, as it comes. */
  onOutput?: (chunk: string) => void;
}

export interface RunningConsole {
  /** `https://127.0.0.1:PORT` (or http://). */
  url: string;
  port: number;
  /** Trusts the console's self-signed certificate; pass it as `dispatcher` to undici's fetch. */
  dispatcher: Agent;
  /** PEM of the certificate the console serves (undefined over HTTP). */
  cert: string | undefined;
  /** Everything the process wrote so far (pino JSON lines and the first-start messages). */
  output(): string;
  process: ChildProcess;
  /** SIGTERM, then wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, as a crash; resolves when the process is gone. */
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Where the console keeps its vulnerability database under a data directory (db/vuln.db). */
export function consoleDatabaseFile(dataDir: string): string {
  return path.join(dataDir, "db", "vuln.db");
}

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  await fs.mkdir(options.dataDir, { recursive: true });
  if (options.prebuiltDatabase) {
    const target = consoleDatabaseFile(options.dataDir);
    const present = await fs.stat(target).then(
      () => true,
      () => false,
    );
    if (!present) {
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.copyFile(options.prebuiltDatabase, target);
    }
  }
  const cli = options.cli ?? (await bundledCli());
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SHIPSHAPE_ADMIN_PASSWORD: options.adminPassword ?? "console-test-pw",
    SHIPSHAPE_LOG_LEVEL: process.env.SHIPSHAPE_LOG_LEVEL ?? "info",
    ...options.env,
  };
  delete env.SHIPSHAPE_DB;
  const args = [
    cli,
    "console",
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--data-dir",
    options.dataDir,
    "--vulndb-mirror",
    vulndataDir,
    ...(options.http ? ["--http"] : []),
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env });
  running.add(child);
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk;
    options.onOutput?.(chunk.toString());
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => {
      running.delete(child);
      resolve(code);
    });
  });
  const scheme = options.http ? "http" : "https";
  const url = `${scheme}://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  let cert: string | undefined;
  let dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`shipshape console exited (${child.exitCode ?? child.signalCode}):\n${output}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`shipshape console did not answer /_ping within the timeout:\n${output}`);
    }
    const ok = await fetch(`${url}/api/v1/_ping`, { dispatcher }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await sleep(100);
  }
  if (!options.http) {
    // The certificate the console generated on its first start: pin it instead of skipping checks.
    cert = await fs.readFile(path.join(options.dataDir, "tls", "console.crt"), "utf8").catch(() => undefined);
    if (cert) {
      await dispatcher.close();
      dispatcher = new Agent({ connect: { ca: cert } });
    }
  }
  return {
    url,
    port,
    dispatcher,
    cert,
    output: () => output,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const code = await exited;
      await dispatcher.close();
      return code;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
      await dispatcher.close();
    },
  };
}
