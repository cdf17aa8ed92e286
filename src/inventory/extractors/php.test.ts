import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ExtractorFile, FileResult } from "../extractor.js";
import type { Package } from "../types.js";
import { phpExtractor } from "./php.js";

function file(path: string, content: string): ExtractorFile {
  const buf = Buffer.from(content);
  return { path, size: buf.length, mode: 0o100644, content: buf };
}

async function run(f: ExtractorFile): Promise<{ packages: Package[]; warnings: string[] }> {
  assert.ok(phpExtractor.wants(f), `wants ${f.path}`);
  const r = await phpExtractor.extract(f);
  return { packages: r.packages ?? [], warnings: r.warnings ?? [] };
}

function summary(pkgs: Package[]): string[] {
  return pkgs
    .map((p) => [p.purl, ...Object.entries(p.properties ?? {}).map(([k, v]) => `${k}=${v}`)].join(" "))
    .sort();
}

const pkg = (name: string, version: string, extra: Record<string, unknown> = {}) => ({
  name,
  version,
  source: { type: "git", url: `https://github.com/${name}.git`, reference: "abc" },
  dist: {
    type: "zip",
    url: `https://api.github.com/repos/${name}/zipball/abc`,
    reference: "abc",
    shasum: "",
  },
  type: "library",
  ...extra,
});

// The layout composer 2 writes (composer.lock `_readme`, `content-hash`, …).
const LOCK = JSON.stringify({
  _readme: ["This file locks the dependencies of your project to a known state"],
  "content-hash": "x",
  packages: [
    pkg("monolog/monolog", "2.9.1", { license: ["MIT"] }),
    pkg("symfony/console", "v5.4.3", { license: "MIT" }),
    pkg("twig/twig", "v3.4.3", { license: ["BSD-3-Clause", "MIT"] }),
    { name: "acme/local", version: "dev-main", dist: { type: "path", url: "../local" } },
    { name: "broken", version: "1.0" },
    { name: "nover/sion" },
  ],
  "packages-dev": [pkg("phpunit/phpunit", "9.6.3", { license: ["BSD-3-Clause"] })],
  aliases: [],
  "minimum-stability": "stable",
  "plugin-api-version": "2.3.0",
});

const INSTALLED_V2 = JSON.stringify({
  packages: [
    {
      ...pkg("monolog/monolog", "2.9.1"),
      version_normalized: "2.9.1.0",
      "install-path": "../monolog/monolog",
    },
    {
      ...pkg("phpunit/phpunit", "9.6.3"),
      version_normalized: "9.6.3.0",
      "install-path": "../phpunit/phpunit",
    },
  ],
  dev: true,
  "dev-package-names": ["phpunit/phpunit"],
});

const INSTALLED_V1 = JSON.stringify([
  { ...pkg("guzzlehttp/guzzle", "6.5.5"), license: ["MIT"] },
  pkg("psr/log", "1.1.4"),
]);

describe("php wants", () => {
  const cases: [string, boolean][] = [
    ["var/www/html/composer.lock", true],
    ["var/www/html/vendor/composer/installed.json", true],
    ["app/lib/composer/installed.json", true], // custom vendor-dir "lib"
    ["var/www/html/vendor/acme/pkg/composer.lock", false], // shipped inside a package
    ["composer/installed.json", false],
    ["var/www/html/composer.json", false],
    ["var/www/html/vendor/composer/installed.php", false],
  ];
  for (const [path, want] of cases) {
    it(`${path} → ${want}`, () => assert.equal(phpExtractor.wants({ path, size: 1, mode: 0o100644 }), want));
  }
});

describe("php composer files", () => {
  const cases: { name: string; path: string; content: string; want: string[]; warnings?: number }[] = [
    {
      name: "composer.lock packages and packages-dev",
      path: "app/composer.lock",
      content: LOCK,
      want: [
        "pkg:composer/monolog/monolog@2.9.1",
        "pkg:composer/phpunit/phpunit@9.6.3 dev=true",
        "pkg:composer/symfony/console@v5.4.3",
        "pkg:composer/twig/twig@v3.4.3",
      ],
      warnings: 2,
    },
    {
      name: "installed.json composer 2",
      path: "app/vendor/composer/installed.json",
      content: INSTALLED_V2,
      want: ["pkg:composer/monolog/monolog@2.9.1", "pkg:composer/phpunit/phpunit@9.6.3 dev=true"],
    },
    {
      name: "installed.json composer 1",
      path: "app/vendor/composer/installed.json",
      content: INSTALLED_V1,
      want: ["pkg:composer/guzzlehttp/guzzle@6.5.5", "pkg:composer/psr/log@1.1.4"],
    },
    { name: "invalid JSON", path: "composer.lock", content: "{", want: [], warnings: 1 },
    {
      name: "packages not an array",
      path: "composer.lock",
      content: '{"packages": {}}',
      want: [],
      warnings: 1,
    },
    { name: "a string", path: "composer.lock", content: '"x"', want: [], warnings: 1 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await run(file(c.path, c.content));
      assert.deepEqual(summary(r.packages), c.want);
      assert.equal(r.warnings.length, c.warnings ?? 0, r.warnings.join("\n"));
    });
  }

  it("keeps licenses", async () => {
    const r = await run(file("app/composer.lock", LOCK));
    assert.deepEqual(r.packages.find((p) => p.name === "twig/twig")?.licenses, ["BSD-3-Clause", "MIT"]);
    assert.deepEqual(r.packages.find((p) => p.name === "symfony/console")?.licenses, ["MIT"]);
    assert.equal(r.packages[0]?.ecosystem, "composer");
  });
});

describe("php reconcile", () => {
  it("installed.json replaces the lock file of its project only", async () => {
    const files = [
      file("app/composer.lock", LOCK),
      file("app/vendor/composer/installed.json", INSTALLED_V2),
      file("other/composer.lock", LOCK),
    ];
    const rs: FileResult[] = await Promise.all(
      files.map(async (f) => ({ extractor: "php", path: f.path, ...(await phpExtractor.extract(f)) })),
    );
    const out = phpExtractor.reconcile?.(rs) ?? rs;
    const count = (path: string) => out.find((r) => r.path === path)?.packages?.length;
    assert.equal(count("app/composer.lock"), 0);
    assert.equal(count("app/vendor/composer/installed.json"), 2);
    assert.equal(count("other/composer.lock"), 4);
    assert.equal(out.find((r) => r.path === "app/composer.lock")?.warnings?.length, 2);
  });
});
