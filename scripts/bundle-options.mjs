// The esbuild settings of the CLI bundle, shared by `npm run build` (scripts/bundle.mjs) and the
// test harness (test/harness/shipshape-cli.ts), so tests run what users run.
// Kept external: better-sqlite3 (a native addon) and @fastify/swagger-ui (it serves its static
// files from its own folder through __dirname). CommonJS dependencies get a `require` bound to the
// bundle's location.

/** @type {import("esbuild").BuildOptions} */
export const bundleOptions = {
  entryPoints: ["src/cli/entry.ts"],
  bundle: true,
  platform: "node",
  format: "esm",
  // Chunks beside the entry (paths relative to import.meta.url stay the same): the cloud SDKs that
  // providers import on connect load only when such a registry is scanned.
  splitting: true,
  entryNames: "shipshape",
  chunkNames: "shipshape-[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  target: "node20",
  external: ["better-sqlite3", "@fastify/swagger-ui"],
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: "warning",
};
