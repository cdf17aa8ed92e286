import assert from "node:assert/strict";
import { createReadStream, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createGunzip } from "node:zlib";
import { PackageURL } from "packageurl-js";
import { extract as tarExtract } from "tar-stream";
import type { ExtractorFile, ExtractorResult, FileResult } from "../extractor.js";
import type { Package } from "../types.js";
import { apkExtractor, finalizeApkPurl, parseApkInstalled, splitApkLicense } from "./apk.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const shared = process.env.SHIPSHAPE_SHARED ?? path.resolve(repoRoot, "../shared");
const fixtures = path.join(shared, "fixtures");
const DB = "lib/apk/db/installed";

const file = (p: string, content: string | Buffer): ExtractorFile => {
  const buf = typeof content === "string" ? Buffer.from(content) : content;
  return { path: p, size: buf.length, mode: 0o100644, content: buf };
};

const extract = (content: string | Buffer, p = DB): ExtractorResult => {
  const r = apkExtractor.extract(file(p, content));
  assert.ok(!(r instanceof Promise));
  return r;
};

/**
 * The oracles: name, version, arch, origin and `L:` of every record, listed with awk straight from each
 * database (`/^P:/ … /^$/`), independently of the parser under test.
 */
const ORACLES: Record<string, string> = {
  "pkgdb/alpine-3.18.9": `
alpine-baselayout	3.4.3-r1	x86_64	alpine-baselayout	GPL-2.0-only
alpine-baselayout-data	3.4.3-r1	x86_64	alpine-baselayout	GPL-2.0-only
alpine-keys	2.4-r1	x86_64	alpine-keys	MIT
apk-tools	2.14.4-r0	x86_64	apk-tools	GPL-2.0-only
busybox	1.36.1-r7	x86_64	busybox	GPL-2.0-only
busybox-binsh	1.36.1-r7	x86_64	busybox	GPL-2.0-only
ca-certificates-bundle	20240226-r0	x86_64	ca-certificates	MPL-2.0 AND MIT
libc-utils	0.7.2-r5	x86_64	libc-dev	BSD-2-Clause AND BSD-3-Clause
libcrypto3	3.1.7-r0	x86_64	openssl	Apache-2.0
libssl3	3.1.7-r0	x86_64	openssl	Apache-2.0
musl	1.2.4-r2	x86_64	musl	MIT
musl-utils	1.2.4-r2	x86_64	musl	MIT AND BSD-2-Clause AND GPL-2.0-or-later
scanelf	1.3.7-r1	x86_64	pax-utils	GPL-2.0-only
ssl_client	1.36.1-r7	x86_64	busybox	GPL-2.0-only
zlib	1.2.13-r1	x86_64	zlib	Zlib`,
  "pkgdb/alpine-3.19.4": `
alpine-baselayout	3.4.3-r2	x86_64	alpine-baselayout	GPL-2.0-only
alpine-baselayout-data	3.4.3-r2	x86_64	alpine-baselayout	GPL-2.0-only
alpine-keys	2.4-r1	x86_64	alpine-keys	MIT
apk-tools	2.14.4-r0	x86_64	apk-tools	GPL-2.0-only
busybox	1.36.1-r19	x86_64	busybox	GPL-2.0-only
busybox-binsh	1.36.1-r19	x86_64	busybox	GPL-2.0-only
ca-certificates-bundle	20240226-r0	x86_64	ca-certificates	MPL-2.0 AND MIT
libc-utils	0.7.2-r5	x86_64	libc-dev	BSD-2-Clause AND BSD-3-Clause
libcrypto3	3.1.7-r0	x86_64	openssl	Apache-2.0
libssl3	3.1.7-r0	x86_64	openssl	Apache-2.0
musl	1.2.4_git20230717-r4	x86_64	musl	MIT
musl-utils	1.2.4_git20230717-r4	x86_64	musl	MIT AND BSD-2-Clause AND GPL-2.0-or-later
scanelf	1.3.7-r2	x86_64	pax-utils	GPL-2.0-only
ssl_client	1.36.1-r19	x86_64	busybox	GPL-2.0-only
zlib	1.3.1-r0	x86_64	zlib	Zlib`,
  "pkgdb/alpine-3.20.3": `
alpine-baselayout	3.6.5-r0	x86_64	alpine-baselayout	GPL-2.0-only
alpine-baselayout-data	3.6.5-r0	x86_64	alpine-baselayout	GPL-2.0-only
alpine-keys	2.4-r1	x86_64	alpine-keys	MIT
apk-tools	2.14.4-r0	x86_64	apk-tools	GPL-2.0-only
busybox	1.36.1-r29	x86_64	busybox	GPL-2.0-only
busybox-binsh	1.36.1-r29	x86_64	busybox	GPL-2.0-only
ca-certificates-bundle	20240705-r0	x86_64	ca-certificates	MPL-2.0 AND MIT
libcrypto3	3.3.2-r0	x86_64	openssl	Apache-2.0
libssl3	3.3.2-r0	x86_64	openssl	Apache-2.0
musl	1.2.5-r0	x86_64	musl	MIT
musl-utils	1.2.5-r0	x86_64	musl	MIT AND BSD-2-Clause AND GPL-2.0-or-later
scanelf	1.3.7-r2	x86_64	pax-utils	GPL-2.0-only
ssl_client	1.36.1-r29	x86_64	busybox	GPL-2.0-only
zlib	1.3.1-r1	x86_64	zlib	Zlib`,
  "rootfs/alpine-minirootfs-3.9.6-x86_64.tar.gz": `
musl	1.1.20-r5	x86_64	musl	MIT
busybox	1.29.3-r10	x86_64	busybox	GPL-2.0
alpine-baselayout	3.1.0-r3	x86_64	alpine-baselayout	GPL-2.0
alpine-keys	2.1-r1	x86_64	alpine-keys	MIT
libcrypto1.1	1.1.1g-r0	x86_64	openssl	OpenSSL
libssl1.1	1.1.1g-r0	x86_64	openssl	OpenSSL
ca-certificates-cacert	20191127-r0	x86_64	ca-certificates	MPL-2.0 GPL-2.0-or-later
libtls-standalone	2.7.4-r6	x86_64	libtls-standalone	ISC
ssl_client	1.29.3-r10	x86_64	busybox	GPL-2.0
zlib	1.2.11-r1	x86_64	zlib	zlib
apk-tools	2.10.3-r1	x86_64	apk-tools	GPL2
scanelf	1.2.3-r0	x86_64	pax-utils	GPL-2.0
musl-utils	1.1.20-r5	x86_64	musl	MIT BSD GPL2+
libc-utils	0.7.1-r0	x86_64	libc-dev	BSD`,
  "rootfs/alpine-minirootfs-3.10.3-x86_64.tar.gz": `
musl	1.1.22-r3	x86_64	musl	MIT
busybox	1.30.1-r2	x86_64	busybox	GPL-2.0
alpine-baselayout	3.1.2-r0	x86_64	alpine-baselayout	GPL-2.0-only
alpine-keys	2.1-r2	x86_64	alpine-keys	MIT
libcrypto1.1	1.1.1d-r0	x86_64	openssl	OpenSSL
libssl1.1	1.1.1d-r0	x86_64	openssl	OpenSSL
ca-certificates-cacert	20190108-r0	x86_64	ca-certificates	MPL-2.0 GPL-2.0-or-later
libtls-standalone	2.9.1-r0	x86_64	libtls-standalone	ISC
ssl_client	1.30.1-r2	x86_64	busybox	GPL-2.0
zlib	1.2.11-r1	x86_64	zlib	zlib
apk-tools	2.10.4-r2	x86_64	apk-tools	GPL2
scanelf	1.2.3-r0	x86_64	pax-utils	GPL-2.0
musl-utils	1.1.22-r3	x86_64	musl	MIT BSD GPL2+
libc-utils	0.7.1-r0	x86_64	libc-dev	BSD`,
  "rootfs/alpine-minirootfs-3.10.3-aarch64.tar.gz": `
musl	1.1.22-r3	aarch64	musl	MIT
busybox	1.30.1-r2	aarch64	busybox	GPL-2.0
alpine-baselayout	3.1.2-r0	aarch64	alpine-baselayout	GPL-2.0-only
alpine-keys	2.1-r2	aarch64	alpine-keys	MIT
libcrypto1.1	1.1.1d-r0	aarch64	openssl	OpenSSL
libssl1.1	1.1.1d-r0	aarch64	openssl	OpenSSL
ca-certificates-cacert	20190108-r0	aarch64	ca-certificates	MPL-2.0 GPL-2.0-or-later
libtls-standalone	2.9.1-r0	aarch64	libtls-standalone	ISC
ssl_client	1.30.1-r2	aarch64	busybox	GPL-2.0
zlib	1.2.11-r1	aarch64	zlib	zlib
apk-tools	2.10.4-r2	aarch64	apk-tools	GPL2
scanelf	1.2.3-r0	aarch64	pax-utils	GPL-2.0
musl-utils	1.1.22-r3	aarch64	musl	MIT BSD GPL2+
libc-utils	0.7.1-r0	aarch64	libc-dev	BSD`,
  "rootfs/alpine-minirootfs-3.11.13-x86_64.tar.gz": `
musl	1.1.24-r3	x86_64	musl	MIT
busybox	1.31.1-r11	x86_64	busybox	GPL-2.0-only
alpine-baselayout	3.2.0-r3	x86_64	alpine-baselayout	GPL-2.0-only
alpine-keys	2.1-r2	x86_64	alpine-keys	MIT
libcrypto1.1	1.1.1l-r0	x86_64	openssl	OpenSSL
libssl1.1	1.1.1l-r0	x86_64	openssl	OpenSSL
ca-certificates-cacert	20191127-r2	x86_64	ca-certificates	MPL-2.0 GPL-2.0-or-later
libtls-standalone	2.9.1-r0	x86_64	libtls-standalone	ISC
ssl_client	1.31.1-r11	x86_64	busybox	GPL-2.0-only
zlib	1.2.11-r3	x86_64	zlib	Zlib
apk-tools	2.10.8-r0	x86_64	apk-tools	GPL2
scanelf	1.2.4-r0	x86_64	pax-utils	GPL-2.0-only
musl-utils	1.1.24-r3	x86_64	musl	MIT BSD GPL2+
libc-utils	0.7.2-r0	x86_64	libc-dev	BSD`,
};

/** The licence names expected for each `L:` value met in the fixtures (written by hand). */
const LICENSES: Record<string, string[]> = {
  "GPL-2.0-only": ["GPL-2.0-only"],
  "GPL-2.0": ["GPL-2.0"],
  MIT: ["MIT"],
  "Apache-2.0": ["Apache-2.0"],
  Zlib: ["Zlib"],
  zlib: ["zlib"],
  ISC: ["ISC"],
  OpenSSL: ["OpenSSL"],
  GPL2: ["GPL2"],
  BSD: ["BSD"],
  "MPL-2.0 AND MIT": ["MPL-2.0", "MIT"],
  "BSD-2-Clause AND BSD-3-Clause": ["BSD-2-Clause", "BSD-3-Clause"],
  "MIT AND BSD-2-Clause AND GPL-2.0-or-later": ["MIT", "BSD-2-Clause", "GPL-2.0-or-later"],
  "MPL-2.0 GPL-2.0-or-later": ["MPL-2.0", "GPL-2.0-or-later"],
  "MIT BSD GPL2+": ["MIT", "BSD", "GPL2+"],
};

interface Row {
  name: string;
  version: string;
  arch: string;
  source: { name: string; version: string };
  licenses: string[];
  purl: string;
}

function expectedRows(key: string): Row[] {
  return (ORACLES[key] as string)
    .trim()
    .split("\n")
    .map((line) => {
      const [name, version, arch, origin, license] = line.split("\t") as [
        string,
        string,
        string,
        string,
        string,
      ];
      const licenses = LICENSES[license];
      assert.ok(licenses, `licence table covers ${license}`);
      return {
        name,
        version,
        arch,
        source: { name: origin, version },
        licenses,
        purl: `pkg:apk/alpine/${name}@${version}?arch=${arch}`,
      };
    });
}

const rowOf = (p: Package): Row => ({
  name: p.name,
  version: p.version,
  arch: p.arch as string,
  source: p.source as { name: string; version: string },
  licenses: p.licenses as string[],
  purl: p.purl,
});

async function installedFromTarball(tarball: string): Promise<Buffer> {
  let found: Buffer | undefined;
  const ex = tarExtract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on("entry", (header, stream, next) => {
      const name = header.name.replace(/^\.?\/+/, "");
      if (header.type !== "file" || name !== DB) {
        stream.on("end", next);
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on("data", (c: unknown) => chunks.push(c as Buffer));
      stream.on("end", () => {
        found = Buffer.concat(chunks);
        next();
      });
    });
    ex.on("finish", resolve);
    ex.on("error", reject);
  });
  createReadStream(tarball).pipe(createGunzip()).pipe(ex);
  await done;
  assert.ok(found, `${tarball} has ${DB}`);
  return found;
}

async function fixtureDb(key: string): Promise<Buffer> {
  return key.endsWith(".tar.gz")
    ? installedFromTarball(path.join(fixtures, key))
    : readFileSync(path.join(fixtures, key, DB));
}

describe("fixtures: every package, in database order, against the awk oracle", () => {
  for (const key of Object.keys(ORACLES)) {
    test(key, async () => {
      const r = extract(await fixtureDb(key));
      assert.equal(r.warnings, undefined);
      const packages = r.packages ?? [];
      assert.deepEqual(packages.map(rowOf), expectedRows(key));
      for (const p of packages) {
        assert.equal(p.ecosystem, "apk");
        assert.equal(p.location, DB);
        assert.equal(
          p.purl,
          new PackageURL(
            "apk",
            "alpine",
            p.name,
            p.version,
            { arch: p.arch as string },
            undefined,
          ).toString(),
        );
        // libc-utils is a metapackage (dependencies only): the one package without files.
        assert.equal((p.files ?? []).length > 0, p.name !== "libc-utils", `${p.name} owns files`);
        for (const f of p.files ?? []) assert.ok(!f.startsWith("/") && !f.includes("//"), f);
      }
    });
  }

  test("alpine-3.20.3: file lists (F: directory + R: name) against awk", () => {
    const pkgs = new Map(
      (extract(readFileSync(path.join(fixtures, "pkgdb/alpine-3.20.3", DB))).packages ?? []).map((p) => [
        p.name,
        p,
      ]),
    );
    const want: Record<string, string[]> = {
      musl: ["lib/ld-musl-x86_64.so.1", "lib/libc.musl-x86_64.so.1"],
      zlib: ["lib/libz.so.1", "lib/libz.so.1.3.1"],
      "busybox-binsh": ["bin/sh"],
      scanelf: ["usr/bin/scanelf"],
      "ca-certificates-bundle": [
        "etc/ssl/cert.pem",
        "etc/ssl/certs/ca-certificates.crt",
        "etc/ssl1.1/cert.pem",
        "etc/ssl1.1/certs",
      ],
      libcrypto3: [
        "etc/ssl/ct_log_list.cnf",
        "etc/ssl/ct_log_list.cnf.dist",
        "etc/ssl/openssl.cnf",
        "etc/ssl/openssl.cnf.dist",
        "lib/libcrypto.so.3",
        "usr/lib/libcrypto.so.3",
        "usr/lib/engines-3/afalg.so",
        "usr/lib/engines-3/capi.so",
        "usr/lib/engines-3/loader_attic.so",
        "usr/lib/engines-3/padlock.so",
        "usr/lib/ossl-modules/legacy.so",
      ],
    };
    for (const [name, files] of Object.entries(want)) assert.deepEqual(pkgs.get(name)?.files, files, name);
    // R: counts per package from awk (directories F: without R: are not files).
    const counts: Record<string, number> = {
      "alpine-baselayout": 13,
      "alpine-baselayout-data": 15,
      "alpine-keys": 41,
      "apk-tools": 2,
      busybox: 7,
      "busybox-binsh": 1,
      "ca-certificates-bundle": 4,
      libcrypto3: 11,
      libssl3: 2,
      musl: 2,
      "musl-utils": 5,
      scanelf: 1,
      ssl_client: 1,
      zlib: 2,
    };
    assert.deepEqual(Object.fromEntries([...pkgs].map(([n, p]) => [n, p.files?.length])), counts);
  });

  test("the 3.20.3 tarball's database is the one copied into pkgdb/alpine-3.20.3", async () => {
    const fromTar = await installedFromTarball(
      path.join(fixtures, "pkgdb/alpine-3.20.3/alpine-minirootfs-3.20.3-x86_64.tar.gz"),
    );
    assert.deepEqual(extract(fromTar), extract(readFileSync(path.join(fixtures, "pkgdb/alpine-3.20.3", DB))));
  });

  test("CRLF line ends give the same packages", () => {
    const lf = readFileSync(path.join(fixtures, "pkgdb/alpine-3.18.9", DB), "utf8");
    assert.deepEqual(extract(lf.replaceAll("\n", "\r\n")), extract(lf));
  });

  test("truncated at any point: never throws; every package but the cut last one is exact", () => {
    const text = readFileSync(path.join(fixtures, "pkgdb/alpine-3.19.4", DB), "utf8");
    const full = new Map((extract(text).packages ?? []).map((p) => [p.name, p]));
    for (let cut = 0; cut <= text.length; cut += 37) {
      const { packages, warnings } = parseApkInstalled(text.slice(0, cut), DB);
      packages.forEach((p, i) => {
        const want = full.get(p.name) as Package;
        if (i < packages.length - 1) assert.deepEqual(p, want, `cut at ${cut}: ${p.name}`);
        else assert.equal(p.version, want.version, `cut at ${cut}: the last package's version is never cut`);
      });
      // A cut on a record boundary is indistinguishable from a complete database; any other is reported.
      if (cut > 0 && !text.slice(0, cut).endsWith("\n\n"))
        assert.ok(warnings.length > 0, `cut at ${cut} is reported`);
    }
  });
});

describe("splitApkLicense", () => {
  const cases: [string, string[]][] = [
    ["MIT", ["MIT"]],
    ["MIT AND BSD-2-Clause", ["MIT", "BSD-2-Clause"]],
    ["GPL-2.0-or-later OR MIT", ["GPL-2.0-or-later", "MIT"]],
    ["(MIT OR Apache-2.0) AND Zlib", ["MIT", "Apache-2.0", "Zlib"]],
    ["GPL-2.0-only WITH Linux-syscall-note", ["GPL-2.0-only WITH Linux-syscall-note"]],
    [
      "GPL-2.0-or-later with Autoconf-exception-2.0 and MIT",
      ["GPL-2.0-or-later WITH Autoconf-exception-2.0", "MIT"],
    ],
    ["MIT BSD GPL2+", ["MIT", "BSD", "GPL2+"]],
    ["MPL-2.0 GPL-2.0-or-later", ["MPL-2.0", "GPL-2.0-or-later"]],
    ["MPL 2.0 GPL2+", ["MPL-2.0", "GPL2+"]],
    ["LGPL-2.1+ and GPL 3", ["LGPL-2.1+", "GPL-3"]],
    ["Public Domain", ["Public Domain"]],
    ["MIT, BSD-3-Clause", ["MIT", "BSD-3-Clause"]],
    ["MIT AND MIT", ["MIT"]],
    ["custom", ["custom"]],
    ["", []],
    ["  ", []],
  ];
  for (const [value, want] of cases) {
    test(JSON.stringify(value), () => assert.deepEqual(splitApkLicense(value), want));
  }
});

const record = (lines: string[]) => `${lines.join("\n")}\n\n`;

describe("malformed databases: parse what can be parsed, warn on the rest", () => {
  const good = record([
    "C:Q1abc=",
    "P:good",
    "V:1.0-r0",
    "A:x86_64",
    "o:goodsrc",
    "L:MIT",
    "F:usr/bin",
    "R:good",
  ]);
  const also = record(["P:also", "V:2.0-r1", "A:x86_64"]);
  const cases: { name: string; text: string | Buffer; want: string[]; warning?: RegExp }[] = [
    { name: "empty", text: "", want: [] },
    { name: "blank lines only", text: "\n\n  \n", want: [] },
    {
      name: "record without P:",
      text: `${good}V:1\nA:x86_64\n\n${also}`,
      want: ["good", "also"],
      warning: /no P: \(name\)/,
    },
    {
      name: "record without V:",
      text: `${good}P:nover\nA:x86_64\n\n${also}`,
      want: ["good", "also"],
      warning: /nover: no V:/,
    },
    {
      name: "invalid version",
      text: `P:badver\nV:1 2\n\n${good}`,
      want: ["good"],
      warning: /badver: invalid V:/,
    },
    {
      name: "truncated mid-line: the cut line is dropped",
      text: `${good}P:cut\nV:1.2`,
      want: ["good"],
      warning: /ends mid-line.*\n.*cut: no V:/,
    },
    {
      name: "last record not terminated",
      text: `${good}P:last\nV:3-r0\n`,
      want: ["good", "last"],
      warning: /not terminated by a blank line/,
    },
    {
      name: "records not separated by a blank line",
      text: `P:one\nV:1-r0\nP:two\nV:2-r0\n\n`,
      want: ["one", "two"],
      warning: /one: record not terminated/,
    },
    {
      name: "binary garbage between records",
      text: Buffer.concat([Buffer.from(good), garbage(4096, 3), Buffer.from(`\n\n${also}`)]),
      want: ["good", "also"],
      warning: /malformed line/,
    },
    {
      name: "NUL-filled block",
      text: Buffer.concat([Buffer.from(good), Buffer.alloc(512), Buffer.from(`\n\n${also}`)]),
      want: ["good", "also"],
      warning: /malformed line/,
    },
    {
      name: "unknown field letters are ignored with one warning",
      text: `P:x\nV:1-r0\nX:future\nY:also\n\n`,
      want: ["x"],
      warning: /unknown field\(s\) X, Y/,
    },
    { name: "a BOM", text: `\uFEFF${good}`, want: ["good"] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = extract(c.text);
      assert.deepEqual(
        (r.packages ?? []).map((p) => p.name),
        c.want,
      );
      if (c.warning) assert.match((r.warnings ?? []).join("\n"), c.warning);
      else assert.equal(r.warnings, undefined);
    });
  }

  test("missing A: and o: — no arch qualifier, the package is its own origin", () => {
    assert.deepEqual(extract(record(["P:bare", "V:1.0-r0"])).packages, [
      {
        ecosystem: "apk",
        name: "bare",
        version: "1.0-r0",
        purl: "pkg:apk/alpine/bare@1.0-r0",
        source: { name: "bare", version: "1.0-r0" },
        location: DB,
      },
    ]);
  });

  test("R: before any F: is a file at the root; leading slashes are removed", () => {
    const r = extract(
      record(["P:root", "V:1-r0", "R:.dockerenv", "F:/usr/lib/", "R:libx.so", "F:", "R:/top"]),
    );
    assert.deepEqual(r.packages?.[0]?.files, [".dockerenv", "usr/lib/libx.so", "top"]);
  });

  test("random bytes never throw", () => {
    for (let seed = 1; seed <= 50; seed++) assert.ok(Array.isArray(extract(garbage(2048, seed)).packages));
  });
});

/** Deterministic pseudo-random bytes. */
function garbage(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

describe("wants", () => {
  const cases: [string, boolean][] = [
    ["lib/apk/db/installed", true],
    ["usr/lib/apk/db/installed", true],
    ["lib/apk/db/installed.old", false],
    ["lib/apk/db/triggers", false],
    ["var/lib/apk/installed", false],
    ["opt/chroot/lib/apk/db/installed", false],
  ];
  for (const [p, want] of cases) {
    test(`${p} → ${want}`, () =>
      assert.equal(apkExtractor.wants({ path: p, size: 1000, mode: 0o644 }), want));
  }
});

describe("reconcile", () => {
  const result = (p: string, content: string): FileResult => ({
    extractor: "apk",
    path: p,
    ...extract(content, p),
  });

  test("lib/apk/db wins over usr/lib/apk/db when both are regular files", () => {
    const out =
      apkExtractor.reconcile?.([
        result("lib/apk/db/installed", record(["P:a", "V:1-r0"])),
        result("usr/lib/apk/db/installed", record(["P:b", "V:1-r0"])),
      ]) ?? [];
    assert.deepEqual(
      out.flatMap((r) => (r.packages ?? []).map((p) => p.name)),
      ["a"],
    );
    assert.match(out.flatMap((r) => r.warnings ?? []).join(), /usr\/lib\/apk\/db\/installed: ignored/);
  });

  test("usrmerged (Wolfi): only usr/lib/apk/db/installed", () => {
    const input = [result("usr/lib/apk/db/installed", record(["P:b", "V:1-r0"]))];
    assert.deepEqual(apkExtractor.reconcile?.(input), input);
  });
});

describe("finalizeApkPurl", () => {
  const musl = (extract(record(["P:musl", "V:1.2.5-r0", "A:x86_64"])).packages ?? [])[0] as Package;
  test("Alpine 3.20.3 → distro=alpine-3.20", () =>
    assert.equal(
      finalizeApkPurl(musl, { id: "alpine", versionId: "3.20.3", location: "etc/os-release" }),
      "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20",
    ));
  test("no OS → unchanged", () => assert.equal(finalizeApkPurl(musl, undefined), musl.purl));
  test("the analyzer's finalize hook returns the package with its final purl", () => {
    const os = { id: "alpine", versionId: "3.10.3", location: "etc/os-release" };
    assert.deepEqual(apkExtractor.finalize(musl, os), {
      ...musl,
      purl: "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.10",
    });
    assert.equal(apkExtractor.finalize(musl, undefined), musl);
  });
  test("a deb package is not touched", () => {
    const deb: Package = { ...musl, ecosystem: "deb", purl: "pkg:deb/debian/x@1" };
    assert.equal(finalizeApkPurl(deb, { id: "debian", versionId: "12", location: "" }), "pkg:deb/debian/x@1");
  });
});

test("extractor constants", () => {
  assert.equal(apkExtractor.name, "apk");
  assert.equal(typeof apkExtractor.version, "number");
  assert.match(apkExtractor.spec, /installed/);
  assert.ok(apkExtractor.maxFileBytes >= 16 * 1024 * 1024);
});
