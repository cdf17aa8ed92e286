// The esbuild settings of the CLI bundle, shared by `npm run build` (scripts/bundle.mjs) and the
// test harness (test/harness/shipshape-cli.ts), so tests run what users run.
// Kept external: better-sqlite3 (a native addon) and @fastify/swagger-ui (it serves its static
// files from its own folder through __dirname). CommonJS dependencies get a `require` bound to the
// bundle's location.

/**
 * The CLI, and the layer walker thread's entry (src/inventory/layer-walkers.ts starts it) beside it,
 * sharing its chunks. Paths relative to the checkout.
 * @type {{ in: string; out: string }[]}
 */
export const entryPoints = [
  { in: "src/cli/entry.ts", out: "shipshape" },
  { in: "src/inventory/layer-walker.ts", out: "layer-walker" },
];

/** @type {import("esbuild").BuildOptions} */
export const bundleOptions = {
  entryPoints,
  bundle: true,
  platform: "node",
  format: "esm",
  // Chunks beside the entry (paths relative to import.meta.url stay the same): the cloud SDKs that
  // providers import on connect load only when such a registry is scanned.
  splitting: true,
  entryNames: "[name]",
  chunkNames: "shipshape-[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  target: "node20",
  external: ["better-sqlite3", "@fastify/swagger-ui"],
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: "warning",
};
