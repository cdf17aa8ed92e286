/**
 * The quick-start demo, the whole pipeline on the embedded default: builds the testbed images
 * (cached), serves them from Debian's docker-registry on 127.0.0.1, lists the registry, builds the
 * vulnerability database from the feed snapshots in ../shared/vulndata, and scans two images.
 * Until the console exists this is the main job.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { repoRoot, sharedDir } from "../test/harness/paths.js";
import { startRegistry } from "../test/harness/registry.js";
import { ensureSeededStorage } from "../test/harness/seed.js";

function shipshape(args: string[]): Promise<number> {
  process.stderr.write(`\n$ shipshape ${args.join(" ")}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, "bin/shipshape.js"), ...args], {
      stdio: "inherit",
    });
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? 1));
  });
}

const storageDir = await ensureSeededStorage();
const registry = await startRegistry({ storageDir, readOnly: true });
process.stderr.write(`registry with the testbed images at ${registry.host}\n`);
try {
  const steps = [
    ["registry", "ls", registry.host, "--insecure", "--repo", "alpine", "debian", "node-app", "--digests"],
    ["db", "update", "--mirror", path.join(sharedDir, "vulndata")],
    ["image", `${registry.host}/node-app:1.0`, "--insecure", "--severity", "CRITICAL,HIGH"],
    ["image", `${registry.host}/alpine:3.20.3`, "--insecure"],
  ];
  for (const step of steps) {
    const code = await shipshape(step);
    if (code !== 0) {
      process.exitCode = code;
      break;
    }
  }
} finally {
  await registry.stop();
}
