// Bundles the CLI into one ES module: loading ~300 modules one by one cost a third of a second at
// every start, as much as a warm scan. better-sqlite3 stays external (a native addon); CommonJS
// dependencies get a `require` bound to the bundle's location.
import { build } from "esbuild";

await build({
  entryPoints: ["src/cli/entry.ts"],
  outfile: "dist/cli/shipshape.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  external: ["better-sqlite3"],
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: "warning",
});
