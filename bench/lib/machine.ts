/** What the figures were measured on: printed with every run and stored with every JSON result. */
import { execFile } from "node:child_process";
import os from "node:os";
import { promisify } from "node:util";
import { versionOf } from "./proc.js";

const run = promisify(execFile);

export interface MachineInfo {
  nproc: number;
  cpu: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine skews figures. */
  loadAverage: number[];
  tools: Record<string, string | undefined>;
  git: { commit?: string | undefined; dirty?: boolean | undefined };
}

async function git(args: string[]): Promise<string | undefined> {
  try {
    return (await run("git", args)).stdout.trim();
  } catch {
    return undefined;
  }
}

export async function machineInfo(): Promise<MachineInfo> {
  const [curl, registry, gzip, zstd, commit, status] = await Promise.all([
    versionOf("curl"),
    versionOf("docker-registry"),
    versionOf("gzip"),
    versionOf("zstd", ["-V"]),
    git(["rev-parse", "--short", "HEAD"]),
    git(["status", "--porcelain", "--untracked-files=no"]),
  ]);
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
    tools: { curl, "docker-registry": registry, gzip, zstd },
    git: { commit, dirty: status === undefined ? undefined : status.length > 0 },
  };
}

export function describeMachine(m: MachineInfo): string {
  const tools = Object.entries(m.tools)
    .map(([name, version]) => `  ${name}: ${version ?? "not found"}`)
    .join("\n");
  return [
    `machine: nproc ${m.nproc}, ${m.cpu}, ${m.memoryGiB} GiB, ${m.kernel}`,
    `node ${m.node}; load average ${m.loadAverage.join(" ")}; git ${m.git.commit ?? "?"}${m.git.dirty ? " (dirty)" : ""}`,
    tools,
  ].join("\n");
}
