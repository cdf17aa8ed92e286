import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, test } from "node:test";
import { cpuClock } from "../../../test/harness/cpu-time.js";
import { writeElf } from "../../../test/harness/elf-writer.js";
import { type GoFixtures, goFixtures } from "../../../test/harness/go-fixtures.js";
import { testbedFile } from "../../../test/harness/testbed-files.js";
import type { ExtractorResult } from "../extractor.js";
import type { Package } from "../types.js";
import {
  goBinaryExtractor,
  goToolchainSemver,
  isGoSemver,
  parseModinfo,
  quotedPrefix,
  shellWords,
  versionFromLdflags,
} from "./gobinary.js";

const extract = (path: string, content: Buffer): ExtractorResult =>
  goBinaryExtractor.extract({ path, size: content.length, mode: 0o755, content }) as ExtractorResult;

const golang = (
  name: string,
  version: string,
  location: string,
  properties?: Record<string, string>,
): Package => {
  const purlName = name
    .split("/")
    .map((s) => encodeURIComponent(s))
    .join("/");
  const p: Package = {
    ecosystem: "golang",
    name,
    version,
    purl: `pkg:golang/${purlName}${version === "" ? "" : `@${encodeURIComponent(version)}`}`,
    location,
  };
  if (properties !== undefined) p.properties = properties;
  return p;
};

// cmd/go/internal/modload infoStart / infoEnd, the sentinels around the module info.
const INFO_START = Buffer.from("3077af0c9274080241e1c107e6d618e6", "hex");
const INFO_END = Buffer.from("f932433186182072008242104116d8f2", "hex");
const MAGIC = Buffer.from("\xff Go buildinf:", "latin1");
const framed = (text: string) => Buffer.concat([INFO_START, Buffer.from(text), INFO_END]);

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** A Go >= 1.18 style ELF: the inline (varint) blob in .go.buildinfo. */
function inlineGoElf(
  goVersion: string,
  modinfo: Buffer,
  opts: { is64?: boolean; littleEndian?: boolean } = {},
) {
  const header = Buffer.alloc(32);
  MAGIC.copy(header);
  header[14] = opts.is64 === false ? 4 : 8;
  header[15] = 2;
  const v = Buffer.from(goVersion);
  const blob = Buffer.concat([header, varint(v.length), v, varint(modinfo.length), modinfo]);
  return writeElf({
    ...opts,
    sections: [
      { name: ".text", data: Buffer.alloc(64, 0x90), addr: 0x401000, perm: "rx" },
      { name: ".go.buildinfo", data: blob, addr: 0x500000, perm: "rw" },
    ],
  });
}

/** A Go 1.13 - 1.17 style ELF: pointers to string headers, of the given size and byte order. */
function pointerGoElf(
  goVersion: string,
  modinfo: Buffer,
  is64: boolean,
  littleEndian: boolean,
  bogus = false,
) {
  const ptr = is64 ? 8 : 4;
  const write = (buf: Buffer, off: number, v: number) => {
    if (ptr === 4) littleEndian ? buf.writeUInt32LE(v, off) : buf.writeUInt32BE(v, off);
    else littleEndian ? buf.writeBigUInt64LE(BigInt(v), off) : buf.writeBigUInt64BE(BigInt(v), off);
  };
  const rodataAddr = 0x600000;
  const dataAddr = 0x700000;
  const v = Buffer.from(goVersion);
  const rodata = Buffer.concat([v, modinfo]);
  const headers = Buffer.alloc(4 * ptr);
  write(headers, 0, rodataAddr);
  write(headers, ptr, v.length);
  write(headers, 2 * ptr, bogus ? 0x7fff0000 : rodataAddr + v.length);
  write(headers, 3 * ptr, modinfo.length);
  const blob = Buffer.alloc(32);
  MAGIC.copy(blob);
  blob[14] = ptr;
  blob[15] = littleEndian ? 0 : 1;
  write(blob, 16, dataAddr);
  write(blob, 16 + ptr, dataAddr + 2 * ptr);
  return writeElf({
    is64,
    littleEndian,
    sections: [
      { name: ".text", data: Buffer.alloc(64, 0x90), addr: 0x401000, perm: "rx" },
      { name: ".rodata", data: rodata, addr: rodataAddr },
      { name: ".go.buildinfo", data: blob, addr: 0x500000, perm: "rw" },
      { name: ".data", data: headers, addr: dataAddr, perm: "rw" },
    ],
  });
}

/** Zeroes the section header table fields of the file header (what `sstrip`-like tools leave). */
function withoutSectionHeaders(elf: Buffer): Buffer {
  const copy = Buffer.from(elf);
  const is64 = copy[4] === 2;
  const le = copy[5] === 1;
  const w16 = (off: number) => (le ? copy.writeUInt16LE(0, off) : copy.writeUInt16BE(0, off));
  if (is64) {
    copy.fill(0, 40, 48);
    w16(58);
    w16(60);
    w16(62);
  } else {
    copy.fill(0, 32, 36);
    w16(46);
    w16(48);
    w16(50);
  }
  return copy;
}

function withoutProgramHeaders(elf: Buffer): Buffer {
  const copy = Buffer.from(elf);
  const is64 = copy[4] === 2;
  copy.writeUInt16LE(0, is64 ? 56 : 44);
  return copy;
}

const SAMPLE_MODINFO = [
  "path\texample.com/app/cmd/app",
  "mod\texample.com/app\t(devel)\t",
  "dep\tgolang.org/x/text\tv0.3.7\th1:olpwvP2KacW1ZWvsR7uQhoyTYvKAupfQrRGBFM352Gk=",
  "dep\tgithub.com/old/mod\tv1.0.0",
  "=>\tgithub.com/new/mod\tv1.1.0\th1:abc=",
  "",
  'build\t-ldflags="-s -w -X main.version=2.3.4"',
  "build\tvcs.revision=0123abcd",
  "",
].join("\n");

const SAMPLE_PACKAGES = (loc: string, goVersion: string): Package[] => [
  golang("example.com/app", "v2.3.4", loc, {
    goMainModule: "true",
    goPackagePath: "example.com/app/cmd/app",
    goVersionSource: "ldflags",
    goModVersion: "(devel)",
    "vcs.revision": "0123abcd",
  }),
  golang("golang.org/x/text", "v0.3.7", loc),
  golang("github.com/new/mod", "v1.1.0", loc, { goReplaces: "github.com/old/mod@v1.0.0" }),
  golang("stdlib", goToolchainSemver(goVersion), loc, { goToolchain: goVersion }),
];

describe("gobinary: the esbuild 0.8.57 binary of the testbed (Go 1.16, pointer format)", () => {
  let esbuild: Buffer;
  const loc = "app/node_modules/esbuild/bin/esbuild";
  const expected = [
    golang("github.com/evanw/esbuild", "", loc, {
      goMainModule: "true",
      goPackagePath: "github.com/evanw/esbuild/cmd/esbuild",
      goModVersion: "(devel)",
    }),
    golang("golang.org/x/sys", "v0.0.0-20200501145240-bc7a7d42d5c3", loc),
    golang("stdlib", "v1.16.0", loc, { goToolchain: "go1.16" }),
  ];

  before(async () => {
    esbuild = readFileSync(await testbedFile("app/app/node_modules/esbuild/bin/esbuild"));
  });

  test("exact modules and Go version", (t) => {
    assert.equal(goBinaryExtractor.wants({ path: loc, size: esbuild.length, mode: 0o100755 }), true);
    const started = performance.now();
    const result = extract(loc, esbuild);
    const ms = performance.now() - started;
    assert.deepEqual(result, { packages: expected });
    t.diagnostic(`esbuild (${(esbuild.length / 2 ** 20).toFixed(1)} MiB) extracted in ${ms.toFixed(2)} ms`);
  });

  test("section headers gone: found through the writable PT_LOAD segment", () => {
    assert.deepEqual(extract(loc, withoutSectionHeaders(esbuild)), { packages: expected });
  });

  test("fuzz: truncations and corruptions of the blob never throw, warn or extract", () => {
    const section = esbuild.indexOf(MAGIC);
    assert.ok(section > 0);
    let rnd = 0x9e3779b9;
    const next = () => {
      rnd ^= rnd << 13;
      rnd ^= rnd >>> 17;
      rnd ^= rnd << 5;
      return rnd >>> 0;
    };
    const lengths = new Set<number>([
      0,
      3,
      4,
      63,
      64,
      65,
      512,
      section,
      section + 15,
      section + 16,
      section + 31,
      section + 32,
    ]);
    while (lengths.size < 250) lengths.add(next() % esbuild.length);
    const cpuMs = cpuClock();
    for (const len of lengths) {
      const r = extract(loc, esbuild.subarray(0, len));
      assert.ok(r.packages === undefined || r.packages.length > 0);
    }
    for (let round = 0; round < 1500; round++) {
      const copy = Buffer.from(esbuild.subarray(0, Math.max(section + 64, 8 << 20)));
      for (let f = 0; f < 1 + (next() % 4); f++) copy[section + (next() % 32)] = next() & 0xff;
      if (next() % 3 === 0) copy[next() % 64] = next() & 0xff;
      const r = extract(loc, copy);
      for (const p of r.packages ?? []) assert.equal(typeof p.purl, "string");
    }
    assert.ok(cpuMs() < 30_000, "fuzzing stays fast");
  });
});

describe("gobinary: binaries built with the Go toolchain", () => {
  let fx: GoFixtures | string;
  before(async () => {
    fx = await goFixtures();
  });
  const skipUnlessGo = (t: { skip: (m: string) => void }): GoFixtures | undefined => {
    if (typeof fx === "string") {
      t.skip(`Go toolchain unavailable, binaries not built: ${fx}`);
      return undefined;
    }
    return fx;
  };
  const helloPackages = (loc: string, goVersion: string, stamped: boolean): Package[] => [
    golang(
      "example.com/hello",
      stamped ? "v1.5.0" : "",
      loc,
      stamped
        ? {
            goMainModule: "true",
            goPackagePath: "example.com/hello",
            goVersionSource: "ldflags",
            goModVersion: "(devel)",
          }
        : { goMainModule: "true", goPackagePath: "example.com/hello", goModVersion: "(devel)" },
    ),
    golang("example.com/greet", "v1.2.3", loc),
    golang("example.com/local", "", loc, { goReplacedBy: "./local", goRequiredVersion: "v0.1.0" }),
    golang("example.com/fork", "v1.4.0", loc, { goReplaces: "example.com/old@v1.0.0" }),
    golang("stdlib", goToolchainSemver(goVersion), loc, { goToolchain: goVersion }),
  ];

  test("replaced dependencies (module and local directory) and an -ldflags -X version", (t) => {
    const f = skipUnlessGo(t);
    if (f === undefined) return;
    const loc = "usr/local/bin/hello";
    assert.deepEqual(extract(loc, readFileSync(f.hello)), {
      packages: helloPackages(loc, f.goVersion, true),
    });
  });

  test("-trimpath -ldflags=-s -w (stripped)", (t) => {
    const f = skipUnlessGo(t);
    if (f === undefined) return;
    const loc = "bin/hello-stripped";
    assert.deepEqual(extract(loc, readFileSync(f.helloStripped)), {
      packages: helloPackages(loc, f.goVersion, false),
    });
  });

  test("GOARCH=386 (ELFCLASS32) and GOARCH=s390x (big-endian)", (t) => {
    const f = skipUnlessGo(t);
    if (f === undefined) return;
    for (const [file, loc] of [
      [f.hello386, "bin/hello-386"],
      [f.helloS390x, "bin/hello-s390x"],
    ] as const) {
      assert.deepEqual(extract(loc, readFileSync(file)), {
        packages: helloPackages(loc, f.goVersion, false),
      });
    }
  });

  test("go install module@version: the main module has its real version", (t) => {
    const f = skipUnlessGo(t);
    if (f === undefined) return;
    const loc = "root/go/bin/tool";
    assert.deepEqual(extract(loc, readFileSync(f.tool)), {
      packages: [
        golang("example.com/tool", "v1.3.0", loc, {
          goMainModule: "true",
          goPackagePath: "example.com/tool",
        }),
        golang("example.com/greet", "v1.2.3", loc),
        golang("stdlib", goToolchainSemver(f.goVersion), loc, { goToolchain: f.goVersion }),
      ],
    });
  });

  test("no section headers, then no program headers either: the segment, then the whole file", (t) => {
    const f = skipUnlessGo(t);
    if (f === undefined) return;
    const loc = "bin/hello";
    const hello = readFileSync(f.hello);
    const noSections = withoutSectionHeaders(hello);
    assert.deepEqual(extract(loc, noSections), { packages: helloPackages(loc, f.goVersion, true) });
    assert.deepEqual(extract(loc, withoutProgramHeaders(noSections)), {
      packages: helloPackages(loc, f.goVersion, true),
    });
  });

  test("fuzz: truncations of a Go 1.18+ binary around its build info", (t) => {
    const f = skipUnlessGo(t);
    if (f === undefined) return;
    const hello = readFileSync(f.hello);
    const full = extract("bin/hello", hello);
    const at = hello.indexOf(MAGIC);
    let complete = 0;
    for (let len = at - 4; len < at + 1200 && len <= hello.length; len += 3) {
      const r = extract("bin/hello", hello.subarray(0, len));
      if (r.packages === undefined) continue;
      assert.deepEqual(r, full, `length ${len}: all or nothing`);
      complete++;
    }
    assert.ok(complete > 0);
  });
});

describe("gobinary: synthetic ELF files", () => {
  test("inline format, 64-bit little-endian and 32-bit big-endian", () => {
    for (const opts of [{}, { is64: false, littleEndian: false }]) {
      assert.deepEqual(extract("bin/app", inlineGoElf("go1.21.4", framed(SAMPLE_MODINFO), opts)), {
        packages: SAMPLE_PACKAGES("bin/app", "go1.21.4"),
      });
    }
  });

  test("pointer format with 4- and 8-byte pointers in both byte orders", () => {
    for (const [is64, le] of [
      [true, true],
      [true, false],
      [false, true],
      [false, false],
    ] as const) {
      const elf = pointerGoElf("go1.15.2", framed(SAMPLE_MODINFO), is64, le);
      assert.deepEqual(
        extract("bin/app", elf),
        { packages: SAMPLE_PACKAGES("bin/app", "go1.15.2") },
        `${is64} ${le}`,
      );
    }
  });

  test("a pointer outside the loaded segments is a warning", () => {
    const elf = pointerGoElf("go1.15.2", framed(SAMPLE_MODINFO), true, true, true);
    assert.deepEqual(extract("bin/app", elf), {
      warnings: ["bin/app: Go build info: module info string outside the loaded segments"],
    });
  });

  test("a string longer than the section is a warning", () => {
    const elf = inlineGoElf("go1.21.4", framed(SAMPLE_MODINFO));
    const at = elf.indexOf(MAGIC) + 32 + 1 + "go1.21.4".length;
    elf[at] = 0xff;
    elf[at + 1] = 0x7f;
    assert.deepEqual(extract("bin/app", elf), {
      warnings: ["bin/app: Go build info: bad module info string"],
    });
  });

  test("no module info (GO111MODULE=off, or no framing): only stdlib", () => {
    assert.deepEqual(extract("bin/app", inlineGoElf("go1.20.1", Buffer.alloc(0))), {
      packages: [golang("stdlib", "v1.20.1", "bin/app", { goToolchain: "go1.20.1" })],
    });
  });

  test("a misaligned magic is not build info; ELF files without Go and non-ELF files give nothing", () => {
    const elf = writeElf({
      sections: [
        {
          name: ".data",
          data: Buffer.concat([Buffer.alloc(3), MAGIC, Buffer.alloc(64)]),
          addr: 0x500000,
          perm: "rw",
        },
      ],
    });
    assert.deepEqual(extract("bin/x", elf), {});
    assert.deepEqual(
      extract("bin/x", writeElf({ sections: [{ name: ".text", data: Buffer.alloc(100), addr: 0x401000 }] })),
      {},
    );
    assert.deepEqual(extract("bin/x.sh", Buffer.from("#!/bin/sh\nexit 0\n")), {});
    assert.deepEqual(extract("bin/x", Buffer.alloc(0)), {});
  });

  test("the go command itself: no main module, deps only", () => {
    const info = ["path\tcmd/go", "dep\tgolang.org/x/mod\tv0.14.0", ""].join("\n");
    assert.deepEqual(extract("usr/local/go/bin/go", inlineGoElf("go1.22.0 X:boringcrypto", framed(info))), {
      packages: [
        golang("golang.org/x/mod", "v0.14.0", "usr/local/go/bin/go"),
        golang("stdlib", "v1.22.0", "usr/local/go/bin/go", { goToolchain: "go1.22.0 X:boringcrypto" }),
      ],
    });
  });

  test("bad module info lines are warnings; the rest is kept", () => {
    const info = [
      "path\tx/cmd",
      "mod\tx\tv1.0.0\th1:x=",
      "=>\tnowhere\tv0.0.1",
      "=>\tdangling\tv0.0.2",
      "dep\t\tv1.0.0",
      "dep\tok/dep\tv0.2.0\r",
      "weird\tline",
      "build\tnoequals",
      "",
    ].join("\n");
    const r = extract("app", inlineGoElf("go1.21.0", framed(info)));
    assert.deepEqual(r.warnings, [
      "app: Go module info line 4: replacement without a module before it",
      "app: Go module info line 5: malformed dep line",
      'app: Go module info line 7: unknown line "weird"',
      "app: Go module info line 8: malformed build line",
    ]);
    assert.deepEqual(
      r.packages?.map((p) => `${p.name}@${p.version}`),
      ["x@v1.0.0", "ok/dep@v0.2.0", "stdlib@v1.21.0"],
      "a replacement of the main module means nothing and is ignored",
    );
  });
});

describe("gobinary: parts", () => {
  test("parseModinfo: quoted build settings", () => {
    const { info, problems } = parseModinfo(
      "go1.22.1",
      [
        'build\t-ldflags="-X \\"main.version=1.0.0\\" -s"',
        "build\t-tags=netgo,osusergo",
        'build\t"key with space"="a\\tb"',
        "build\tDefaultGODEBUG=httplaxcontentlength=1,httpmuxgo121=1",
        "build\tempty=",
        "build\t`raw`=`v`",
      ].join("\n"),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(info.settings, [
      { key: "-ldflags", value: '-X "main.version=1.0.0" -s' },
      { key: "-tags", value: "netgo,osusergo" },
      { key: "key with space", value: "a\tb" },
      { key: "DefaultGODEBUG", value: "httplaxcontentlength=1,httpmuxgo121=1" },
      { key: "empty", value: "" },
      { key: "raw", value: "v" },
    ]);
  });

  test("quotedPrefix follows strconv.Unquote", () => {
    const cases: [string, { value: string; length: number } | undefined][] = [
      ['"abc"rest', { value: "abc", length: 5 }],
      ['"a\\x41\\101\\u00e9\\U0001F600\\n"', { value: "aAAé😀\n", length: 29 }],
      ['"\\xff"', { value: "\ufffd", length: 6 }],
      ["`raw \\n`", { value: "raw \\n", length: 8 }],
      ['"unterminated', undefined],
      ['"bad \\q"', undefined],
      ['"\\400"', undefined],
      ["plain", undefined],
    ];
    for (const [input, want] of cases) assert.deepEqual(quotedPrefix(input), want, input);
  });

  test("versionFromLdflags: Trivy's -X rules", () => {
    const cases: [string, string, string][] = [
      ["github.com/foo/bar", "-s -w -X main.version=1.2.3", "v1.2.3"],
      ["github.com/foo/bar", "-X=main.version=v1.2.3", "v1.2.3"],
      ["github.com/foo/bar", "-X 'main.version=1.2.3'", "v1.2.3"],
      ["github.com/foo/bar", '-X "main.Version=1.2.3-rc.1"', "v1.2.3-rc.1"],
      ["github.com/foo/bar", "-Xmain.ver=0.9.0", "v0.9.0"],
      [
        "github.com/aquasecurity/trivy",
        "-X github.com/aquasecurity/trivy/pkg/version/app.ver=0.50.1",
        "v0.50.1",
      ],
      ["github.com/foo/bar", "-X main.version=dev", ""],
      ["github.com/foo/bar", "-X main.commit=1.2.3", ""],
      ["github.com/foo/bar", "-X main.version=1.0.0 -X common.version=2.0.0", ""],
      [
        "github.com/foo/bar",
        "-X main.version=1.0.0 -X github.com/foo/bar/cmd/bar/app.version=2.0.0",
        "v2.0.0",
      ],
      ["github.com/foo/bar", "-X main.version=1.0.0 -X github.com/other/pkg.version=3.0.0", "v1.0.0"],
      ["github.com/foo/bar", "-X github.com/other/pkg.version=3.0.0", "v3.0.0"],
      ["github.com/foo/bar", "-X main.version=1.0.0 -X version.Version=1.0.0", "v1.0.0"],
      ["github.com/foo/bar", "-extldflags '-static' -X main.version=4.5.6", "v4.5.6"],
      ["github.com/foo/bar", "-X 'main.version=1.0.0", ""],
      ["github.com/foo/bar", "-X main.version=1.2", "v1.2.0"],
      ["github.com/foo/bar", "-X main.version=v3", "v3.0.0"],
      ["github.com/foo/bar", "", ""],
    ];
    for (const [main, flags, want] of cases) assert.equal(versionFromLdflags(main, flags), want, flags);
  });

  test("the main module: pseudo-versions yield to -ldflags, real versions do not", () => {
    const mk = (version: string) =>
      extract(
        "a",
        inlineGoElf(
          "go1.21.0",
          framed(`mod\tex.com/a\t${version}\t\nbuild\t-ldflags="-X main.version=9.9.9"\n`),
        ),
      ).packages?.[0]?.version;
    assert.equal(mk("v0.0.0-20240101000000-abcdefabcdef"), "v9.9.9");
    assert.equal(mk("v1.2.3"), "v1.2.3");
    assert.equal(mk("(devel)"), "v9.9.9");
    assert.equal(mk(""), "v9.9.9");
  });

  test("goToolchainSemver", () => {
    const cases: [string, string][] = [
      ["go1.21.4", "v1.21.4"],
      ["go1.16", "v1.16.0"],
      ["go1.21rc2", "v1.21.0-rc.2"],
      ["go1.19beta1", "v1.19.0-beta.1"],
      ["go1.9.2rc2", "v1.9.2-rc.2"],
      ["go1.22.3 X:boringcrypto", "v1.22.3"],
      ["go1.20.10-1 X:strictfipsruntime", "v1.20.10"],
      ["go1", "v1.0.0"],
      ["devel go1.23-2a5e0a9 Tue Jan 2 2024", ""],
      ["", ""],
    ];
    for (const [input, want] of cases) assert.equal(goToolchainSemver(input), want, input);
  });

  test("isGoSemver and shellWords", () => {
    for (const v of [
      "v1",
      "v1.2",
      "v1.2.3",
      "v1.2.3-rc.1",
      "v1.2.3+incompatible",
      "v0.0.0-20200501145240-bc7a7d42d5c3",
    ]) {
      assert.ok(isGoSemver(v), v);
    }
    for (const v of ["1.2.3", "v1.2.3.4", "v01.2.3", "v1.2-rc1", "v1.2.3-01", "vx"])
      assert.ok(!isGoSemver(v), v);
    assert.deepEqual(shellWords(`-X 'a=b c' -X "d=\\"e\\"" f\\ g`), ["-X", "a=b c", "-X", 'd="e"', "f g"]);
    assert.equal(shellWords("'open"), undefined);
  });

  test("wants: executables of a plausible size only", () => {
    const cases: [number, number, boolean][] = [
      [0o100755, 2 << 20, true],
      [0o100700, 2 << 20, true],
      [0o100644, 2 << 20, false],
      [0o100755, 1024, false],
      [0o100711, 300 << 10, true],
    ];
    for (const [mode, size, want] of cases) {
      assert.equal(
        goBinaryExtractor.wants({ path: "usr/bin/x", size, mode }),
        want,
        `${mode.toString(8)} ${size}`,
      );
    }
    assert.equal(goBinaryExtractor.name, "gobinary");
    assert.equal(goBinaryExtractor.version, 1);
  });
});
