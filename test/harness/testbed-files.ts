/**
 * Files from the testbed's build tree (the sources its images are made of), for unit tests that
 * want a real artefact without pulling an image: the esbuild Go binary, the official Node.js build.
 * Builds the testbed first when it has not been built on this machine.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { cacheDir } from "./paths.js";
import { ensureTestbedLayout } from "./testbed.js";

/** The absolute path of `rel` under the testbed's source tree (e.g. "noderoot/usr/local/bin/node"). */
export async function testbedFile(rel: string): Promise<string> {
  const file = path.join(cacheDir, "testbed", "src", rel);
  if (!existsSync(file)) await ensureTestbedLayout();
  if (!existsSync(file)) throw new Error(`the testbed has no ${rel} (looked in ${file})`);
  return file;
}
