/**
 * The quick-start demo: builds the testbed images (cached), serves them from Debian's
 * docker-registry on 127.0.0.1, and runs `shipshape registry ls --digests` against it.
 * Until the console exists this is the main job on the embedded default.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { repoRoot } from "../test/harness/paths.js";
import { startRegistry } from "../test/harness/registry.js";
import { ensureSeededStorage } from "../test/harness/seed.js";

const storageDir = await ensureSeededStorage();
const registry = await startRegistry({ storageDir, readOnly: true });
process.stderr.write(`registry with the testbed images at ${registry.host}\n`);
const args = ["registry", "ls", registry.host, "--insecure", "--digests"];
process.stderr.write(`$ shipshape ${args.join(" ")}\n`);
try {
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, "bin/shipshape.js"), ...args], {
      stdio: "inherit",
    });
    child.on("error", reject);
    child.on("close", resolve);
  });
  process.exitCode = code ?? 1;
} finally {
  await registry.stop();
}
