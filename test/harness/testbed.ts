import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { withLock } from "./lock.js";
import { cacheDir, sharedDir } from "./paths.js";

const testbedCache = path.join(cacheDir, "testbed");
let layout: Promise<string> | undefined;

function runBuildScript(): Promise<void> {
  const script = path.join(sharedDir, "testbed", "build-images.sh");
  return new Promise((resolve, reject) => {
    // stdout only lists "name digest" per image built; progress and errors come on stderr.
    const child = spawn("bash", [script, testbedCache], { stdio: ["ignore", "ignore", "pipe"] });
    const tail: string[] = [];
    createInterface({ input: child.stderr }).on("line", (line) => {
      process.stderr.write(`harness/testbed: ${line}\n`);
      tail.push(line);
      if (tail.length > 20) tail.shift();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${script} failed (${signal ?? `exit ${code}`}):\n${tail.join("\n")}`));
    });
  });
}

/**
 * Builds (or finds already built) the testbed images and returns their OCI image layout directory.
 * The script is idempotent and fast once everything is built (a few milliseconds); the first build
 * takes minutes, so concurrent test processes wait on a lock instead of building side by side.
 */
export function ensureTestbedLayout(): Promise<string> {
  layout ??= withLock(path.join(cacheDir, "testbed.lock"), runBuildScript).then(
    () => path.join(testbedCache, "layout"),
    (err: unknown) => {
      layout = undefined;
      throw err;
    },
  );
  return layout;
}
