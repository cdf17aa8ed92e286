// Bundles the CLI into one ES module: loading ~300 modules one by one cost a third of a second at
// every start, as much as a warm scan.
import { build } from "esbuild";
import { bundleOptions } from "./bundle-options.mjs";

await build({ ...bundleOptions, outdir: "dist/cli", sourcemap: true });
