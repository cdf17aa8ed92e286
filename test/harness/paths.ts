import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository checkout this harness lives in (test/harness/ is two levels below it). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Read-only inputs (specs, testbed scripts, fixtures); CI lays them beside the checkout. */
export const sharedDir = process.env.SHIPSHAPE_SHARED ?? path.resolve(repoRoot, "../shared");

/** Survives between test runs on this machine, so built images and seeded storage are reused. */
export const cacheDir = process.env.SHIPSHAPE_CACHE ?? path.join(os.homedir(), ".cache", "shipshape");

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. Another process can take it before the caller
 * binds it, so callers that spawn servers should retry on "address in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("could not read the bound port"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
