import assert from "node:assert/strict";
import { test } from "node:test";
import { assemble } from "./analyzer.js";
import type { Extractor, FileResult } from "./extractor.js";
import type { Package } from "./types.js";

const pkg = (ecosystem: Package["ecosystem"], name: string, version: string, location: string): Package => ({
  ecosystem,
  name,
  version,
  location,
  purl: `pkg:${ecosystem}/${name}@${version}`,
});

const extractor = (name: string, reconcile?: Extractor["reconcile"]): Extractor => ({
  name,
  version: 1,
  spec: "test",
  maxFileBytes: 1024,
  wants: () => true,
  extract: () => ({}),
  ...(reconcile ? { reconcile } : {}),
});

type LayerSpec = { results?: FileResult[]; whiteouts?: string[]; opaqueDirs?: string[] };

function layers(...specs: LayerSpec[]) {
  return specs.map((s) => ({
    listing: {
      entries: 0,
      uncompressedBytes: 0,
      files: [],
      whiteouts: s.whiteouts ?? [],
      opaqueDirs: s.opaqueDirs ?? [],
      warnings: [],
    },
    results: new Map<string, FileResult[]>(
      [...new Set((s.results ?? []).map((r) => r.extractor))].map((e) => [
        e,
        (s.results ?? []).filter((r) => r.extractor === e),
      ]),
    ),
  }));
}
const refs = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ digest: `sha256:layer${i}`, index: i, createdBy: `step ${i}` }));
const npm = extractor("npm");
const dpkg = extractor("dpkg");
const names = (inv: ReturnType<typeof assemble>) =>
  inv.packages.map((p) => `${p.name}@${p.version}#${p.layer.index}`).sort();

test("a whiteout removes a lower layer's file and its packages", () => {
  const inv = assemble(
    layers(
      {
        results: [
          {
            extractor: "npm",
            path: "app/node_modules/a/package.json",
            packages: [pkg("npm", "a", "1.0.0", "app/node_modules/a/package.json")],
          },
          {
            extractor: "npm",
            path: "app/node_modules/b/package.json",
            packages: [pkg("npm", "b", "2.0.0", "app/node_modules/b/package.json")],
          },
        ],
      },
      { whiteouts: ["app/node_modules/b"] },
    ),
    refs(2),
    [npm],
  );
  assert.deepEqual(names(inv), ["a@1.0.0#0"]);
});

test("an opaque directory hides everything below it from lower layers, not the layer's own files", () => {
  const inv = assemble(
    layers(
      {
        results: [
          {
            extractor: "npm",
            path: "opt/x/package.json",
            packages: [pkg("npm", "x", "1.0.0", "opt/x/package.json")],
          },
        ],
      },
      {
        opaqueDirs: ["opt"],
        results: [
          {
            extractor: "npm",
            path: "opt/y/package.json",
            packages: [pkg("npm", "y", "1.0.0", "opt/y/package.json")],
          },
        ],
      },
    ),
    refs(2),
    [npm],
  );
  assert.deepEqual(names(inv), ["y@1.0.0#1"]);
});

test("the topmost copy of a file wins, and unchanged packages keep the layer that introduced them", () => {
  const status = "var/lib/dpkg/status";
  const base = [pkg("deb", "libc6", "2.36-9", status), pkg("deb", "bash", "5.2-1", status)];
  const inv = assemble(
    layers(
      { results: [{ extractor: "dpkg", path: status, packages: base }] },
      {
        results: [
          { extractor: "dpkg", path: status, packages: [...base, pkg("deb", "curl", "7.88-1", status)] },
        ],
      },
      {
        results: [
          {
            extractor: "dpkg",
            path: status,
            packages: [base[0] as Package, pkg("deb", "curl", "7.88-2", status)],
          },
        ],
      },
    ),
    refs(3),
    [dpkg],
  );
  assert.deepEqual(names(inv), ["curl@7.88-2#2", "libc6@2.36-9#0"]);
  assert.equal(inv.packages.find((p) => p.name === "libc6")?.layer.createdBy, "step 0");
});

test("language packages in files owned by OS packages are not reported twice", () => {
  const inv = assemble(
    layers({
      results: [
        {
          extractor: "dpkg",
          path: "var/lib/dpkg/info/python3-six.list",
          ownedFiles: {
            owner: "python3-six",
            paths: ["usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"],
          },
        },
        {
          extractor: "python",
          path: "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
          packages: [
            pkg("pypi", "six", "1.16.0", "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"),
          ],
        },
        {
          extractor: "python",
          path: "app/venv/six-1.15.0.dist-info/METADATA",
          packages: [pkg("pypi", "six", "1.15.0", "app/venv/six-1.15.0.dist-info/METADATA")],
        },
        {
          extractor: "apk",
          path: "lib/apk/db/installed",
          packages: [{ ...pkg("apk", "node", "18", "lib/apk/db/installed"), files: ["usr/bin/node"] }],
        },
        {
          extractor: "node-runtime",
          path: "usr/bin/node",
          packages: [pkg("node", "node", "18.0.0", "usr/bin/node")],
        },
      ],
    }),
    refs(1),
    [dpkg, extractor("python"), extractor("apk"), extractor("node-runtime")],
  );
  assert.deepEqual(names(inv), ["node@18#0", "six@1.15.0#0"]);
});

test("reconcile sees only surviving results, and Java locations attribute to their outer archive", () => {
  let seen: string[] = [];
  const java = extractor("java", (results) => {
    seen = results.map((r) => r.path);
    return results;
  });
  const inv = assemble(
    layers(
      {
        results: [
          { extractor: "java", path: "app/old.jar", packages: [pkg("maven", "old", "1", "app/old.jar")] },
        ],
      },
      {
        whiteouts: ["app/old.jar"],
        results: [
          {
            extractor: "java",
            path: "app/app.war",
            packages: [pkg("maven", "lib", "2", "app/app.war!/WEB-INF/lib/lib.jar")],
          },
        ],
      },
    ),
    refs(2),
    [java],
  );
  assert.deepEqual(seen, ["app/app.war"]);
  assert.deepEqual(names(inv), ["lib@2#1"]);
});
