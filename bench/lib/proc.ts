/** Child processes for the benchmarks: run, time, capture stdout, fail loudly. */
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";

export interface ProcResult {
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, in milliseconds. */
  ms: number;
}

/** Runs a command to completion; a non-zero exit or a signal is an error naming the command and its stderr. */
export function runProcess(command: string, args: string[], input?: string): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const ms = performance.now() - started;
      if (code === 0) {
        resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), ms });
        return;
      }
      const stderr = Buffer.concat(err).toString().trim().split("\n").slice(-10).join("\n");
      reject(
        new Error(
          `${command} ${args.slice(0, 6).join(" ")}… failed (${signal ?? `exit ${code}`}): ${stderr}`,
        ),
      );
    });
    if (input !== undefined && child.stdin) child.stdin.end(input);
  });
}

/** A command's first line of output, or undefined when it cannot run. */
export async function versionOf(
  command: string,
  args: string[] = ["--version"],
): Promise<string | undefined> {
  try {
    return (await runProcess(command, args)).stdout.split("\n")[0]?.trim();
  } catch {
    return undefined;
  }
}
