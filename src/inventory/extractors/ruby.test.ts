import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { ExtractorFile, FileResult } from "../extractor.js";
import type { Package } from "../types.js";
import { rubyExtractor, rubyStrings, splitGemPlatform } from "./ruby.js";

const testdata = join(import.meta.dirname, "testdata", "ruby");

function file(path: string, content: string | Buffer): ExtractorFile {
  const buf = typeof content === "string" ? Buffer.from(content) : content;
  return { path, size: buf.length, mode: 0o100644, content: buf };
}

async function run(f: ExtractorFile): Promise<{ packages: Package[]; warnings: string[] }> {
  assert.ok(rubyExtractor.wants(f), `wants ${f.path}`);
  const r = await rubyExtractor.extract(f);
  return { packages: r.packages ?? [], warnings: r.warnings ?? [] };
}

function summary(pkgs: Package[]): string[] {
  return pkgs
    .map((p) => [p.purl, ...Object.entries(p.properties ?? {}).map(([k, v]) => `${k}=${v}`)].join(" "))
    .sort();
}

describe("ruby wants", () => {
  const cases: [string, boolean][] = [
    ["usr/local/bundle/specifications/rack-2.2.3.gemspec", true],
    ["usr/local/lib/ruby/gems/3.2.0/specifications/default/uri-0.12.1.gemspec", true],
    ["app/vendor/bundle/ruby/3.2.0/specifications/nokogiri-1.13.6-x86_64-linux.gemspec", true],
    ["app/Gemfile.lock", true],
    ["app/gems.locked", true],
    ["usr/local/bundle/gems/rack-2.2.3/rack.gemspec", false], // the gem's own source gemspec
    ["usr/local/bundle/gems/foo-1.0/Gemfile.lock", false], // shipped inside a gem
    ["usr/local/bundle/bundler/gems/bar-abc/Gemfile.lock", false],
    ["app/Gemfile", false],
    ["app/specifications/x.gemspec.bak", false],
  ];
  for (const [path, want] of cases) {
    it(`${path} → ${want}`, () => assert.equal(rubyExtractor.wants({ path, size: 1, mode: 0o100644 }), want));
  }
});

describe("ruby platform suffixes", () => {
  const cases: [string, string, string | undefined][] = [
    ["1.13.6-x86_64-linux", "1.13.6", "x86_64-linux"],
    ["1.15.4-x86_64-linux-musl", "1.15.4", "x86_64-linux-musl"],
    ["1.15.4-arm64-darwin", "1.15.4", "arm64-darwin"],
    ["9.4.2.0-java", "9.4.2.0", "java"],
    ["1.0.0-x64-mingw-ucrt", "1.0.0", "x64-mingw-ucrt"],
    ["1.0.0", "1.0.0", undefined],
    ["1.0.0-rc1", "1.0.0-rc1", undefined],
    ["2.0.0.pre.beta-1", "2.0.0.pre.beta-1", undefined],
    ["1.2-javax", "1.2-javax", undefined],
  ];
  for (const [value, version, platform] of cases) {
    it(value, () => assert.deepEqual(splitGemPlatform(value), [version, platform]));
  }
});

describe("ruby string literals", () => {
  const cases: [string, string[]][] = [
    [' "rack".freeze', ["rack"]],
    [" 'rack'", ["rack"]],
    [" %q{rack}", ["rack"]],
    [" %q<minitest>.freeze", ["minitest"]],
    [' ["MIT".freeze, "Ruby".freeze]', ["MIT", "Ruby"]],
    [' "a\\"b"', ['a"b']],
    [' Gem::Version.new("1.0")', ["1.0"]],
    [" Gem::Platform::RUBY", []],
    [' "unterminated', []],
    [' "x" # "comment"', ["x"]],
  ];
  for (const [text, want] of cases) it(text, () => assert.deepEqual(rubyStrings(text), want));
});

describe("ruby gemspecs", () => {
  it("real rack gemspec (Debian rubygems-integration)", async () => {
    const path = "usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec";
    const r = await run(file(path, readFileSync(join(testdata, "rack-2.2.22.gemspec"))));
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.packages, [
      {
        ecosystem: "gem",
        name: "rack",
        version: "2.2.22",
        purl: "pkg:gem/rack@2.2.22",
        licenses: ["MIT"],
        location: path,
      },
    ]);
  });

  it("real default gem with two stub lines", async () => {
    const path = "usr/lib/ruby/gems/3.1.0/specifications/default/bigdecimal-3.1.1.gemspec";
    const r = await run(file(path, readFileSync(join(testdata, "bigdecimal-3.1.1.gemspec"))));
    assert.deepEqual(summary(r.packages), ["pkg:gem/bigdecimal@3.1.1"]);
    assert.deepEqual(r.packages[0]?.licenses, ["Ruby"]);
  });

  const cases: {
    name: string;
    text: string;
    want: string[];
    licenses?: string[];
    arch?: string;
    warn?: boolean;
  }[] = [
    {
      name: "platform gem, other variable name, license singular, %q strings",
      text: [
        "# -*- encoding: utf-8 -*-",
        "# stub: nokogiri 1.13.6 x86_64-linux lib",
        "Gem::Specification.new do |spec|",
        "  spec.name = %q{nokogiri}",
        '  spec.version = "1.13.6"',
        '  spec.platform = "x86_64-linux".freeze',
        "  spec.license = 'MIT'",
        '  spec.name_suffix = "ignored"',
        "end",
      ].join("\n"),
      want: ["pkg:gem/nokogiri@1.13.6?platform=x86_64-linux"],
      licenses: ["MIT"],
      arch: "x86_64-linux",
    },
    {
      name: "only the stub header",
      text: "# stub: json 2.6.3 ruby lib\n",
      want: ["pkg:gem/json@2.6.3"],
    },
    {
      name: "stub header with platform, no spec body",
      text: "# stub: ffi 1.15.5 x86_64-linux lib\n",
      want: ["pkg:gem/ffi@1.15.5?platform=x86_64-linux"],
    },
    {
      name: "comparison is not an assignment",
      text: 'Gem::Specification.new do |s|\n  s.name == "x"\n  s.name = "y"\n  s.version = "1"\nend\n',
      want: ["pkg:gem/y@1"],
    },
    { name: "garbage", text: "\u0000\u0001 not ruby", want: [], warn: true },
    {
      name: "no version",
      text: 'Gem::Specification.new do |s|\n  s.name = "a"\nend\n',
      want: [],
      warn: true,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await run(file("usr/local/bundle/specifications/x.gemspec", c.text));
      assert.deepEqual(summary(r.packages), c.want);
      if (c.licenses) assert.deepEqual(r.packages[0]?.licenses, c.licenses);
      if (c.arch) assert.equal(r.packages[0]?.arch, c.arch);
      assert.equal(r.warnings.length > 0, c.warn ?? false);
    });
  }

  const defaults = "/usr/lib/ruby/gems/3.1.0/specifications/default";
  it("every default gemspec on this machine yields its file name", {
    skip: !existsSync(defaults),
  }, async () => {
    for (const name of readdirSync(defaults).filter((n) => n.endsWith(".gemspec"))) {
      const r = await run(
        file(`usr/lib/ruby/gems/3.1.0/specifications/default/${name}`, readFileSync(join(defaults, name))),
      );
      assert.deepEqual(r.warnings, [], name);
      const p = r.packages[0] as Package;
      const expected = p.arch ? `${p.name}-${p.version}-${p.arch}.gemspec` : `${p.name}-${p.version}.gemspec`;
      assert.equal(expected, name);
    }
  });
});

const LOCK_WITH_PLATFORMS = `GIT
  remote: https://github.com/rails/rails.git
  revision: abc
  branch: main
  specs:
    actionpack (7.1.0.alpha)
      rack (~> 2.0)

PATH
  remote: .
  specs:
    myapp (0.1.0)

GEM
  remote: https://rubygems.org/
  specs:
    nokogiri (1.13.6-x86_64-linux)
      racc (~> 1.4)
    nokogiri (1.13.6-aarch64-linux)
      racc (~> 1.4)
    racc (1.6.0)
    rack (2.2.3)
    weird line without version

PLATFORMS
  aarch64-linux
  x86_64-linux

DEPENDENCIES
  actionpack!
  myapp!
  nokogiri

CHECKSUMS
  nokogiri (1.13.6-x86_64-linux) sha256=abc
  rack (2.2.3) sha256=def

BUNDLED WITH
   2.5.3
`;

describe("ruby Gemfile.lock", () => {
  const cases: { name: string; content: string; want: string[]; warnings?: number }[] = [
    {
      name: "real bundler 2.3 output with a PATH gem",
      content: readFileSync(join(testdata, "Gemfile.lock"), "utf8"),
      want: [
        "pkg:gem/minitest@5.15.0",
        "pkg:gem/power_assert@2.0.1",
        "pkg:gem/rack@2.2.22",
        "pkg:gem/rake@13.0.6",
      ],
    },
    {
      name: "GIT, PATH, platforms, CHECKSUMS, CRLF",
      content: LOCK_WITH_PLATFORMS.replaceAll("\n", "\r\n"),
      want: [
        "pkg:gem/actionpack@7.1.0.alpha source=git",
        "pkg:gem/nokogiri@1.13.6?platform=aarch64-linux",
        "pkg:gem/nokogiri@1.13.6?platform=x86_64-linux",
        "pkg:gem/racc@1.6.0",
        "pkg:gem/rack@2.2.3",
      ],
      warnings: 1,
    },
    { name: "empty", content: "", want: [] },
    { name: "not a lock file", content: "    foo (1.0)\n  bar\n", want: [], warnings: 1 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await run(file("app/Gemfile.lock", c.content));
      assert.deepEqual(summary(r.packages), c.want);
      assert.equal(r.warnings.length, c.warnings ?? 0, r.warnings.join("\n"));
      for (const p of r.packages) assert.equal(p.location, "app/Gemfile.lock");
    });
  }
});

describe("ruby reconcile", () => {
  it("installed gems replace lock entries of the same name", async () => {
    const files = [
      file("app/Gemfile.lock", LOCK_WITH_PLATFORMS),
      file("usr/local/bundle/specifications/rack-2.2.8.gemspec", "# stub: rack 2.2.8 ruby lib\n"),
      file(
        "usr/local/bundle/specifications/nokogiri-1.13.6-x86_64-linux.gemspec",
        "# stub: nokogiri 1.13.6 x86_64-linux lib\n",
      ),
    ];
    const rs: FileResult[] = await Promise.all(
      files.map(async (f) => ({ extractor: "ruby", path: f.path, ...(await rubyExtractor.extract(f)) })),
    );
    const out = rubyExtractor.reconcile?.(rs) ?? rs;
    const got = out.flatMap((r) => (r.packages ?? []).map((p) => `${r.path.split("/")[0]} ${p.purl}`)).sort();
    assert.deepEqual(got, [
      "app pkg:gem/actionpack@7.1.0.alpha",
      "app pkg:gem/racc@1.6.0",
      "usr pkg:gem/nokogiri@1.13.6?platform=x86_64-linux",
      "usr pkg:gem/rack@2.2.8",
    ]);
  });
});
