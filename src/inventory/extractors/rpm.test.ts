import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { cpuClock } from "../../../test/harness/cpu-time.js";
import type { FileResult } from "../extractor.js";
import { MARINER_SQLITE, MARINER_TSV, prng, RHEL_BDB, readTsv, SLES_NDB, TESTDATA } from "../rpm/testutil.js";
import type { Package } from "../types.js";
import { detectRpmdbFormat, finalizeRpmPackage, RPMDB_PATHS, readRpmdb, rpmExtractor } from "./rpm.js";

const mariner = readFileSync(MARINER_SQLITE);
const sles = readFileSync(SLES_NDB);
const rhel = readFileSync(RHEL_BDB);
const td = (p: string) => join(TESTDATA, p);

function extract(path: string, content: Buffer) {
  const r = rpmExtractor.extract({ path, size: content.length, mode: 0o100644, content });
  assert.ok(!(r instanceof Promise));
  return { packages: r.packages ?? [], warnings: r.warnings ?? [] };
}

/** The columns rpm -qa --qf printed in the oracles, from a Package. */
function row(p: Package): Record<string, string> {
  const [version, release] = [
    p.version.replace(/^\d+:/, "").slice(0, -(String(p.release).length + 1)),
    p.release,
  ];
  return {
    name: p.name,
    epoch: p.epoch === undefined ? "" : String(p.epoch),
    version,
    release: release ?? "",
    arch: p.arch ?? "",
    sourcerpm: p.properties?.sourceRpm ?? "",
    vendor: p.vendor ?? "",
    license: p.licenses?.[0] ?? "",
    size: p.properties?.size ?? "",
    modularitylabel: p.modularityLabel ?? "",
  };
}

const pick = (r: Record<string, string>, keys: string[]) =>
  Object.fromEntries(keys.map((k) => [k, r[k] ?? ""]));
const byName = (a: { name?: string }, b: { name?: string }) =>
  (a.name ?? "") < (b.name ?? "") ? -1 : (a.name ?? "") > (b.name ?? "") ? 1 : 0;

describe("rpmExtractor.wants", () => {
  const yes = [
    "var/lib/rpm/Packages",
    "var/lib/rpm/Packages.db",
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages.db",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
  ];
  const no = [
    "/var/lib/rpm/Packages",
    "var/lib/rpm/Name",
    "var/lib/rpm/rpmdb.sqlite-wal",
    "var/lib/rpm/rpmdb.sqlite-shm",
    "var/lib/rpm/Packages.bak",
    "var/lib/rpm/Index.db",
    "var/lib/rpmrebuilddb.123/Packages",
    "usr/share/rpm/Packages",
    "opt/var/lib/rpm/Packages",
    "var/lib/rpm",
    "",
  ];
  test("exactly the six database paths", () => {
    assert.deepEqual([...RPMDB_PATHS].sort(), [...yes].sort());
    for (const path of yes) assert.equal(rpmExtractor.wants({ path, size: 1, mode: 0o644 }), true, path);
    for (const path of no) assert.equal(rpmExtractor.wants({ path, size: 1, mode: 0o644 }), false, path);
  });
  test("metadata", () => {
    assert.equal(rpmExtractor.name, "rpm");
    assert.equal(rpmExtractor.maxFileBytes, 512 * 1024 * 1024);
    assert.match(rpmExtractor.spec, /header/);
  });
});

describe("CBL-Mariner 2.0 rpmdb.sqlite against rpm 4.18's output", () => {
  const { packages, warnings } = extract("var/lib/rpm/rpmdb.sqlite", mariner);

  test("expected-packages.tsv exactly: name, epoch, version, release, arch, source rpm", () => {
    assert.deepEqual(warnings, []);
    const cols = ["name", "epoch", "version", "release", "arch", "sourcerpm"];
    const want = readTsv(MARINER_TSV).map((r) => pick(r, cols));
    const got = packages.map((p) => pick(row(p), cols));
    assert.equal(got.length, 129);
    assert.deepEqual(got.sort(byName), want.sort(byName));
  });

  test("the fuller oracle: vendor, license, size, modularity label", () => {
    const want = readTsv(td("mariner-expected.tsv"));
    assert.deepEqual(packages.map(row).sort(byName), want.sort(byName));
  });

  test("every package: purl, source, location; epoch 1 packages carry it in version and purl", () => {
    const ca = packages.find((p) => p.name === "ca-certificates-base");
    assert.deepEqual(
      { version: ca?.version, epoch: ca?.epoch, purl: ca?.purl, source: ca?.source },
      {
        version: "1:2.0.0-1.cm2",
        epoch: 1,
        purl: "pkg:rpm/microsoft/ca-certificates-base@2.0.0-1.cm2?arch=noarch&epoch=1",
        source: { name: "ca-certificates", version: "2.0.0-1.cm2" },
      },
    );
    for (const p of packages) {
      assert.equal(p.ecosystem, "rpm");
      assert.equal(p.location, "var/lib/rpm/rpmdb.sqlite");
      assert.equal(p.vendor, "Microsoft Corporation");
      assert.ok(p.purl.startsWith(`pkg:rpm/microsoft/${encodeURIComponent(p.name)}@`), p.purl);
    }
  });

  test("file lists equal rpm -ql for all 129 packages (count and SHA-256 of the sorted list)", () => {
    const lines = packages.flatMap((p) => (p.files ?? []).map((f) => `${p.name}\t/${f}`));
    lines.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)); // LC_ALL=C sort order
    const text = `${lines.join("\n")}\n`;
    const [count, sha] = readFileSync(td("mariner-files.count-sha256"), "utf8").trim().split("\t");
    assert.equal(lines.length, Number(count));
    assert.equal(createHash("sha256").update(text).digest("hex"), sha);
  });
});

describe("SLES 15.3 BCI Packages.db (NDB) against go-rpmdb's expectations", () => {
  // Oracle: knqyf263/go-rpmdb's SLE15WithNDB test case (rpm -qa inside bci-minimal:15.3), see the TSV header.
  test("all 35 packages in rpm -qa order: name, epoch, version, release, arch, source rpm, size, license, vendor", () => {
    const { packages, warnings } = extract("var/lib/rpm/Packages.db", sles);
    assert.deepEqual(warnings, []);
    const cols = ["name", "epoch", "version", "release", "arch", "sourcerpm", "size", "license", "vendor"];
    assert.deepEqual(
      packages.map((p) => pick(row(p), cols)),
      readTsv(td("sle15-bci-go-rpmdb.tsv")),
    );
    const glibc = packages.find((p) => p.name === "glibc");
    assert.equal(glibc?.purl, "pkg:rpm/suse/glibc@2.31-9.3.2?arch=x86_64");
    assert.ok(glibc?.files?.includes("lib64/libc.so.6"));
  });
});

describe("RHEL 8.8 libuuid Packages (Berkeley DB)", () => {
  test("the one package, complete, with its file list from rpm -ql", () => {
    const { packages, warnings } = extract("var/lib/rpm/Packages", rhel);
    assert.deepEqual(warnings, []);
    const files = readFileSync(td("rhel-libuuid-files.txt"), "utf8")
      .trim()
      .split("\n")
      .map((f) => f.slice(1));
    assert.deepEqual(packages, [
      {
        ecosystem: "rpm",
        name: "libuuid",
        version: "2.32.1-42.el8_8",
        purl: "pkg:rpm/redhat/libuuid@2.32.1-42.el8_8?arch=x86_64",
        location: "var/lib/rpm/Packages",
        source: { name: "util-linux", version: "2.32.1-42.el8_8" },
        arch: "x86_64",
        release: "42.el8_8",
        vendor: "Red Hat, Inc.",
        licenses: ["BSD"],
        files,
        properties: { size: "35104", sourceRpm: "util-linux-2.32.1-42.el8_8.src.rpm" },
      },
    ] satisfies Package[]);
    assert.deepEqual(row(packages[0] as Package), readTsv(td("rhel-libuuid-expected.tsv"))[0]);
  });

  test("finalised for its OS, as the analyzer does", () => {
    const [p] = extract("var/lib/rpm/Packages", rhel).packages;
    const os = { id: "rhel", versionId: "8.8", location: "etc/os-release" };
    assert.equal(
      finalizeRpmPackage(p as Package, os).purl,
      "pkg:rpm/redhat/libuuid@2.32.1-42.el8_8?arch=x86_64&distro=rhel-8.8",
    );
  });
});

describe("databases built by rpm 4.18 from test packages (testdata/make-fixtures.sh)", () => {
  const expected = readTsv(td("built/expected.tsv")).filter((r) => r.name !== "gpg-pubkey");
  const files = readTsv(td("built/files.tsv"));
  const sources: [string, string][] = [
    ["built/rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite"],
    ["built-le/Packages", "var/lib/rpm/Packages"],
    ["built-be/Packages", "var/lib/rpm/Packages"],
    ["built-chksum/Packages", "usr/lib/sysimage/rpm/Packages"],
  ];
  for (const [file, path] of sources) {
    test(`${file}: rpm -qa and rpm -ql agree; gpg-pubkey skipped`, () => {
      const { packages, warnings } = extract(path, readFileSync(td(file)));
      assert.deepEqual(warnings, []);
      assert.deepEqual(packages.map(row).sort(byName), [...expected].sort(byName));
      const got = packages.flatMap((p) => (p.files ?? []).map((f) => ({ name: p.name, file: `/${f}` })));
      const key = (r: Record<string, string>) => `${r.name}\t${r.file}`;
      assert.deepEqual(got.map(key).sort(), files.map(key).sort());
    });
  }

  test("epoch 3, explicit epoch 0, modularity label, no vendor, odd file names", () => {
    const { packages } = extract("var/lib/rpm/rpmdb.sqlite", readFileSync(td("built/rpmdb.sqlite")));
    const get = (n: string) => packages.find((p) => p.name === n) as Package;
    assert.equal(get("shipshape-epoch").version, "3:1.2.3-4.el9");
    assert.equal(get("shipshape-epoch").purl, "pkg:rpm/shipshape-epoch@1.2.3-4.el9?arch=noarch&epoch=3");
    assert.equal(get("shipshape-zero-epoch").epoch, 0);
    assert.equal(get("shipshape-zero-epoch").version, "2.0-1.module+el8.4.0+1234+abcdef12");
    assert.equal(get("shipshape-zero-epoch").modularityLabel, "shipshape:2.0:8040020210101:abcd1234");
    assert.equal(get("shipshape-nofiles").vendor, undefined);
    assert.equal(get("shipshape-nofiles").files, undefined);
    assert.equal(get("shipshape-odd-files").purl, "pkg:rpm/fedora/shipshape-odd-files@5-7.fc40?arch=x86_64");
    const odd = get("shipshape-odd-files").files ?? [];
    for (const f of [
      "etc/ship shape.conf",
      "etc/shipshape-odd.state",
      "usr/share/shipshape-odd/ünïcødé.txt",
    ]) {
      assert.ok(odd.includes(f), f);
    }
    assert.equal(odd.length, 605);
  });

  test("big-endian BDB with 12 real CBL-Mariner headers on 512-byte pages", () => {
    const { packages, warnings } = extract("var/lib/rpm/Packages", readFileSync(td("mariner-be/Packages")));
    assert.deepEqual(warnings, []);
    assert.deepEqual(packages.map(row).sort(byName), readTsv(td("mariner-be/expected.tsv")).sort(byName));
  });

  test("BDB with headers stored on the hash page (H_KEYDATA)", () => {
    const { packages, warnings } = extract("var/lib/rpm/Packages", readFileSync(td("inline/Packages")));
    assert.deepEqual(warnings, []);
    const cols = ["name", "version", "release", "arch"];
    const want = readFileSync(td("inline/expected.tsv"), "utf8")
      .trim()
      .split("\n")
      .map((l) => Object.fromEntries(l.split("\t").map((v, i) => [cols[i], v])));
    assert.deepEqual(packages.map((p) => pick(row(p), cols)).sort(byName), want.sort(byName));
  });
});

describe("format detection and damaged input", () => {
  test("the format comes from the content, not the name", () => {
    assert.equal(detectRpmdbFormat(mariner), "sqlite");
    assert.equal(detectRpmdbFormat(sles), "ndb");
    assert.equal(detectRpmdbFormat(rhel), "bdb");
    assert.equal(detectRpmdbFormat(Buffer.from("nothing")), undefined);
    const r = extract("var/lib/rpm/Packages", mariner);
    assert.equal(r.packages.length, 129);
    assert.equal(readRpmdb(sles, "x").format, "ndb");
  });

  test("not a database", () => {
    for (const content of [Buffer.alloc(0), Buffer.from("#!/bin/sh\n"), Buffer.alloc(8192)]) {
      const r = extract("var/lib/rpm/Packages", content);
      assert.deepEqual(r.packages, []);
      assert.match(r.warnings[0] ?? "", /^var\/lib\/rpm\/Packages: not an rpm database/);
    }
  });

  test("a header whose data was altered fails its digest and is skipped (as rpm does)", () => {
    const b = Buffer.from(rhel);
    const at = b.indexOf("Universally unique ID library", 0, "latin1"); // the SUMMARY, in an overflow page
    assert.ok(at > 0);
    b[at] = "u".charCodeAt(0);
    const r = extract("var/lib/rpm/Packages", b);
    assert.deepEqual(r.packages, []);
    assert.match(r.warnings[0] ?? "", /header #1 \(libuuid\) fails its SHA256HEADER digest/);
    assert.equal(readRpmdb(b, "x", { verifyDigests: false }).packages.length, 1);
  });

  test("many damaged headers: warnings are capped", () => {
    const b = Buffer.from(sles);
    // break the Adler-32 of every blob
    for (let o = 32; o < 4096; o += 16) {
      const blk = b.readUInt32LE(o + 8);
      if (blk) b[blk * 16 + 40] = (b[blk * 16 + 40] as number) ^ 0xff;
    }
    const r = readRpmdb(b, "x");
    assert.equal(r.packages.length, 0);
    assert.ok(r.warnings.length <= 51);
  });

  // Deterministic fuzzing of all three formats: every damaged database must come back quickly, without
  // throwing, and every package it still reports must be one the intact database reports.
  const corpora: [string, Buffer][] = [
    ["bdb", rhel],
    ["bdb-be-512", readFileSync(td("mariner-be/Packages"))],
    ["ndb", sles],
    ["sqlite", mariner],
  ];
  for (const [name, original] of corpora) {
    test(`fuzz ${name}: 100 truncations and 150 byte corruptions`, () => {
      const intact = new Set(readRpmdb(original, "x").packages.map((p) => JSON.stringify(p)));
      const rnd = prng(name.length * 7919);
      const cpuMs = cpuClock();
      const check = (buf: Buffer, what: string) => {
        const t = performance.now();
        const r = readRpmdb(buf, "x");
        assert.ok(performance.now() - t < 5000, `${what} took too long`);
        for (const p of r.packages)
          assert.ok(intact.has(JSON.stringify(p)), `${what}: invented ${p.name} ${p.version}`);
        return r;
      };
      for (let i = 0; i < 100; i++) {
        const n = Math.floor(rnd() * original.length);
        const r = check(original.subarray(0, n), `truncated at ${n}`);
        assert.ok(
          r.warnings.length > 0 || r.packages.length < intact.size || name === "sqlite",
          `silent truncation at ${n}`,
        );
      }
      for (let i = 0; i < 150; i++) {
        const b = Buffer.from(original);
        const flips = 1 + Math.floor(rnd() * 8);
        const where: number[] = [];
        for (let f = 0; f < flips; f++) {
          const pos = Math.floor(rnd() * b.length);
          where.push(pos);
          b[pos] = Math.floor(rnd() * 256);
        }
        check(b, `bytes changed at ${where.join(",")}`);
      }
      assert.ok(cpuMs() < 60_000, "fuzzing stays fast");
    });
  }
});

describe("the analyzer's finalize and inferOs hooks", () => {
  test("inferOs from the release package; finalize through it", () => {
    const m = extract("var/lib/rpm/rpmdb.sqlite", mariner).packages;
    const os = rpmExtractor.inferOs(m);
    assert.deepEqual(os, { id: "mariner", versionId: "2.0", location: "var/lib/rpm/rpmdb.sqlite" });
    const bash = m.find((p) => p.name === "bash") as Package;
    assert.equal(
      rpmExtractor.finalize(bash, os).purl,
      "pkg:rpm/mariner/bash@5.1.8-1.cm2?arch=x86_64&distro=mariner-2.0",
    );
    const s = extract("var/lib/rpm/Packages.db", sles).packages;
    assert.deepEqual(rpmExtractor.inferOs(s), {
      id: "sles",
      versionId: "15.3",
      location: "var/lib/rpm/Packages.db",
    });
    assert.equal(rpmExtractor.inferOs(extract("var/lib/rpm/Packages", rhel).packages), undefined);
  });
  test("finalize without an OS keeps the provisional purl", () => {
    const [p] = extract("var/lib/rpm/Packages", rhel).packages;
    assert.equal(rpmExtractor.finalize(p as Package, undefined), p);
  });
});

describe("reconcile", () => {
  const pkg = (name: string, location: string): Package => ({
    ecosystem: "rpm",
    name,
    version: "1-1",
    purl: `pkg:rpm/${name}@1-1`,
    location,
  });
  const result = (path: string, n: number): FileResult => ({
    extractor: "rpm",
    path,
    packages: Array.from({ length: n }, (_, i) => pkg(`p${i}`, path)),
    warnings: [],
  });
  const reconcile = (r: FileResult[]) => rpmExtractor.reconcile(r);

  test("one database: unchanged", () => {
    const rs = [result("var/lib/rpm/Packages", 3)];
    assert.deepEqual(reconcile(rs), rs);
  });

  test("a leftover Berkeley DB next to the sqlite database rpm migrated to", () => {
    const out = reconcile([result("var/lib/rpm/Packages", 3), result("var/lib/rpm/rpmdb.sqlite", 4)]);
    assert.equal(out.find((r) => r.path.endsWith("rpmdb.sqlite"))?.packages?.length, 4);
    const old = out.find((r) => r.path.endsWith("Packages"));
    assert.deepEqual(old?.packages, []);
    assert.match(
      old?.warnings?.[0] ?? "",
      /ignored \(3 packages\); the image's rpm database is var\/lib\/rpm\/rpmdb\.sqlite/,
    );
  });

  test("the same format in both locations: usr/lib/sysimage/rpm wins; empty results are left alone", () => {
    const out = reconcile([
      result("var/lib/rpm/Packages.db", 2),
      result("usr/lib/sysimage/rpm/Packages.db", 2),
      result("var/lib/rpm/Packages", 0),
    ]);
    assert.deepEqual(
      out.map((r) => [r.path, r.packages?.length, r.warnings?.length]),
      [
        ["var/lib/rpm/Packages.db", 0, 1],
        ["usr/lib/sysimage/rpm/Packages.db", 2, 0],
        ["var/lib/rpm/Packages", 0, 0],
      ],
    );
  });
});
