// Bundles the CLI into ES modules: loading ~300 modules one by one cost a third of a second at
// every start, as much as a warm scan. Each command's work is a chunk of its own, loaded when that
// command runs (src/cli/commands/*.ts import src/cli/actions/*.ts dynamically).
import fs from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { bundleOptions } from "./bundle-options.mjs";

const outdir = "dist/cli";
// Chunk names carry content hashes: the previous build's chunks would otherwise pile up.
for (const name of fs.existsSync(outdir) ? fs.readdirSync(outdir) : []) {
  if (/^shipshape.*\.mjs(\.map)?$/.test(name)) fs.rmSync(path.join(outdir, name));
}
await build({ ...bundleOptions, outdir, sourcemap: true });
