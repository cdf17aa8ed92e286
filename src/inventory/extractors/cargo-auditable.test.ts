import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, test } from "node:test";
import { deflateSync } from "node:zlib";
import { writeElf } from "../../../test/harness/elf-writer.js";
import {
  APP_AUDIT,
  INSTALLED_AUDIT,
  type RustFixtures,
  rustFixtures,
} from "../../../test/harness/rust-fixtures.js";
import type { ExtractorResult } from "../extractor.js";
import type { Package } from "../types.js";
import { cargoAuditableExtractor } from "./cargo-auditable.js";

const extract = (path: string, content: Buffer): ExtractorResult =>
  cargoAuditableExtractor.extract({ path, size: content.length, mode: 0o755, content }) as ExtractorResult;

const crate = (
  name: string,
  version: string,
  location: string,
  properties?: Record<string, string>,
): Package => {
  const p: Package = { ecosystem: "cargo", name, version, purl: `pkg:cargo/${name}@${version}`, location };
  if (properties !== undefined) p.properties = properties;
  return p;
};

const APP_PACKAGES = (loc: string): Package[] => [
  crate("serde", "1.0.130", loc),
  crate("serde_json", "1.0.68", loc),
  crate("app-core", "0.3.1", loc, { cargoSource: "local" }),
  crate("smallvec", "1.6.1", loc, { cargoSource: "git" }),
  crate("internal-metrics", "2.0.0", loc, { cargoSource: "registry" }),
  crate("itoa", "0.4.8", loc),
];

const INSTALLED_PACKAGES = (loc: string): Package[] => [
  crate("aho-corasick", "0.7.18", loc),
  crate("memchr", "2.4.1", loc),
  crate("ripgrep", "13.0.0", loc, { cargoRoot: "true" }),
];

function auditableElf(section: Buffer, opts: { is64?: boolean; littleEndian?: boolean } = {}): Buffer {
  return writeElf({
    ...opts,
    sections: [
      { name: ".text", data: Buffer.alloc(256, 0xc3), addr: 0x1000, perm: "rx" },
      { name: ".dep-v0", data: section },
    ],
  });
}
const zjson = (v: unknown) => deflateSync(Buffer.from(typeof v === "string" ? v : JSON.stringify(v)));

describe("cargo-auditable: rustc-linked executables with a .dep-v0 section", () => {
  let fx: RustFixtures | string;
  before(async () => {
    fx = await rustFixtures();
  });

  test("a workspace binary: runtime crates, not the local root nor build dependencies", (t) => {
    if (typeof fx === "string") return t.skip(`no Rust compiler, binaries not built: ${fx}`);
    const content = readFileSync(fx.app);
    assert.equal(
      cargoAuditableExtractor.wants({ path: "usr/local/bin/app", size: content.length, mode: 0o100755 }),
      true,
    );
    assert.deepEqual(extract("usr/local/bin/app", content), { packages: APP_PACKAGES("usr/local/bin/app") });
  });

  test("cargo install from crates.io: the root crate is reported", (t) => {
    if (typeof fx === "string") return t.skip(`no Rust compiler, binaries not built: ${fx}`);
    assert.deepEqual(extract("root/.cargo/bin/rg", readFileSync(fx.installed)), {
      packages: INSTALLED_PACKAGES("root/.cargo/bin/rg"),
    });
  });

  test("fuzz: truncations of a real binary never throw", (t) => {
    if (typeof fx === "string") return t.skip(`no Rust compiler, binaries not built: ${fx}`);
    const content = readFileSync(fx.app);
    for (let len = 0; len < content.length; len += 997) {
      const r = extract("app", content.subarray(0, len));
      if (r.packages !== undefined) assert.deepEqual(r.packages, APP_PACKAGES("app"));
    }
  });
});

describe("cargo-auditable: synthetic ELF files", () => {
  test("64-bit little-endian and 32-bit big-endian", () => {
    for (const opts of [{}, { is64: false, littleEndian: false }]) {
      assert.deepEqual(extract("bin/app", auditableElf(zjson(APP_AUDIT), opts)), {
        packages: APP_PACKAGES("bin/app"),
      });
      assert.deepEqual(extract("bin/rg", auditableElf(zjson(INSTALLED_AUDIT), opts)), {
        packages: INSTALLED_PACKAGES("bin/rg"),
      });
    }
  });

  test("source spellings: CratesIo, {Other}; duplicates once", () => {
    const audit = {
      packages: [
        { name: "a", version: "1.0.0", source: "CratesIo" },
        { name: "b", version: "2.0.0-rc.1+build.5", source: { Other: "Sparse" } },
        { name: "a", version: "1.0.0", source: "crates.io" },
        { name: "c", version: "0.1.0" },
      ],
    };
    assert.deepEqual(extract("x", auditableElf(zjson(audit))), {
      packages: [
        crate("a", "1.0.0", "x"),
        crate("b", "2.0.0-rc.1+build.5", "x", { cargoSource: "sparse" }),
        crate("c", "0.1.0", "x", { cargoSource: "unknown" }),
      ],
    });
  });

  test("bad data is a warning", () => {
    const cases: [Buffer, string][] = [
      [Buffer.from("not zlib at all"), "zlib: incorrect header check"],
      [zjson("{nope"), "invalid JSON"],
      [zjson({ crates: [] }), "no packages array"],
      [zjson({ packages: [{ name: "x" }] }), "a package without name or version"],
      [zjson({ packages: [42] }), "a package is not an object"],
      [deflateSync(Buffer.alloc(20 << 20, 0x20)), "decompresses past 16777216 bytes"],
      [zjson(APP_AUDIT).subarray(0, 20), "zlib: unexpected end of file"],
    ];
    for (const [section, reason] of cases) {
      const r = extract("bin/x", auditableElf(section));
      assert.equal(r.packages, undefined);
      assert.equal(r.warnings?.length, 1);
      assert.ok(r.warnings?.[0]?.startsWith(`bin/x: cargo-auditable .dep-v0: ${reason}`), r.warnings?.[0]);
    }
  });

  test("a section past the end of the file is a warning", () => {
    const big = auditableElf(zjson(APP_AUDIT));
    const shoff = Number(big.readBigUInt64LE(40));
    const depHeader = shoff + 2 * 64; // sections: null, .text, .dep-v0
    big.writeBigUInt64LE(BigInt(big.length * 2), depHeader + 32);
    assert.deepEqual(extract("bin/x", big), {
      warnings: ["bin/x: cargo-auditable .dep-v0: section outside the file"],
    });
  });

  test("no .dep-v0, not ELF, empty: nothing", () => {
    assert.deepEqual(
      extract("bin/x", writeElf({ sections: [{ name: ".text", data: Buffer.alloc(8), addr: 0x1000 }] })),
      {},
    );
    assert.deepEqual(extract("bin/x", Buffer.from("#!/bin/sh\n")), {});
    assert.deepEqual(extract("bin/x", Buffer.alloc(0)), {});
  });

  test("fuzz: seeded corruptions of the section never throw", () => {
    const base = auditableElf(zjson(APP_AUDIT));
    const at = base.indexOf(zjson(APP_AUDIT));
    let rnd = 0x1234567;
    const next = () => {
      rnd ^= rnd << 13;
      rnd ^= rnd >>> 17;
      rnd ^= rnd << 5;
      return rnd >>> 0;
    };
    for (let round = 0; round < 2000; round++) {
      const copy = Buffer.from(base);
      const flips = 1 + (next() % 4);
      for (let f = 0; f < flips; f++) {
        const where = next() % 4 === 0 ? next() % copy.length : at + (next() % 64);
        copy[where] = next() & 0xff;
      }
      const r = extract("bin/x", copy);
      for (const p of r.packages ?? []) assert.equal(p.ecosystem, "cargo");
    }
  });

  test("wants: executables of 4 KiB or more", () => {
    assert.equal(cargoAuditableExtractor.wants({ path: "bin/x", size: 300_000, mode: 0o100755 }), true);
    assert.equal(cargoAuditableExtractor.wants({ path: "bin/x", size: 300_000, mode: 0o100644 }), false);
    assert.equal(cargoAuditableExtractor.wants({ path: "bin/x", size: 100, mode: 0o100755 }), false);
  });
});
