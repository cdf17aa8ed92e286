import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
const checked = new Map<string, Promise<void>>();

async function installIfMissing(command: string, debianPackage: string): Promise<void> {
  try {
    await run("sh", ["-c", 'command -v "$1"', "sh", command]);
    return;
  } catch {
    // Not on PATH: install it the way the testbed scripts do (root, Debian archive).
  }
  const install = ["install", "-y", "-qq", debianPackage];
  try {
    await run("apt-get", install);
  } catch {
    await run("apt-get", ["update", "-qq"]);
    await run("apt-get", install);
  }
}

/** Makes sure `command` is on PATH, installing `debianPackage` with apt-get once per process if not. */
export function ensureCommand(command: string, debianPackage: string): Promise<void> {
  let pending = checked.get(command);
  if (pending === undefined) {
    pending = installIfMissing(command, debianPackage);
    pending.catch(() => checked.delete(command));
    checked.set(command, pending);
  }
  return pending;
}
