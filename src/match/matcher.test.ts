/**
 * matchInventory against a real SQLite database written by DatabaseBuilder. The advisories have the
 * exact shapes the feed sources produce (copied from the normalised records of ../shared/vulndata
 * and of src/vulndb/sources/testdata/debian-tracker.json); ids `CVE-2099-…` and `DSA-9999-1` are
 * synthetic values in those shapes, for cases the real data does not show, so they cannot be
 * mistaken for real records. Package versions are the testbed's where an image has them.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import type { Ecosystem, ImageInventory, InventoriedPackage, OsRelease } from "../inventory/types.js";
import { DatabaseBuilder, VulnerabilityDatabase } from "../vulndb/database.js";
import type { Advisory, AffectedPackage, Severity } from "../vulndb/types.js";
import { matchInventory, osEcosystem } from "./matcher.js";
import type { Finding } from "./types.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "shipshape-matcher-"));
const opened: VulnerabilityDatabase[] = [];
after(() => {
  for (const db of opened) db.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

let dbCount = 0;
function database(advisories: Advisory[], cvss: [string, Severity[]][] = []): VulnerabilityDatabase {
  const file = path.join(tmp, `db-${++dbCount}.db`);
  const builder = new DatabaseBuilder(file);
  for (const a of advisories) builder.add(a);
  for (const [cve, severities] of cvss) builder.addCvss(cve, severities);
  builder.finish(new Date("2026-11-22T00:00:00Z"));
  const db = VulnerabilityDatabase.open(file);
  opened.push(db);
  return db;
}

const LAYER = { digest: `sha256:${"a".repeat(64)}`, index: 0 };

function pkg(
  ecosystem: Ecosystem,
  name: string,
  version: string,
  extra: Partial<InventoriedPackage> = {},
): InventoriedPackage {
  return {
    ecosystem,
    name,
    version,
    purl: `pkg:${ecosystem}/${name}@${version}`,
    location: extra.location ?? `${ecosystem}-db`,
    layer: LAYER,
    ...extra,
  };
}

const osRelease = (id: string, versionId: string | undefined, prettyName: string): OsRelease => ({
  id,
  versionId,
  prettyName,
  location: "etc/os-release",
});
const DEBIAN_12 = osRelease("debian", "12", "Debian GNU/Linux 12 (bookworm)");
const DEBIAN_11 = osRelease("debian", "11", "Debian GNU/Linux 11 (bullseye)");
const DEBIAN_10 = osRelease("debian", "10", "Debian GNU/Linux 10 (buster)");
const DEBIAN_13 = osRelease("debian", "13", "Debian GNU/Linux 13 (trixie)");
const ALPINE_310 = osRelease("alpine", "3.10.3", "Alpine Linux v3.10");
const ALPINE_320 = osRelease("alpine", "3.20.3", "Alpine Linux v3.20");
const ALMA_9 = osRelease("almalinux", "9.0", "AlmaLinux 9.0 (Emerald Puma)");
const UBUNTU_2204 = osRelease("ubuntu", "22.04", "Ubuntu 22.04.1 LTS");

const inventory = (os: OsRelease | undefined, packages: InventoriedPackage[]): ImageInventory => ({
  os,
  packages,
  warnings: [],
});

function advisory(a: Partial<Advisory> & Pick<Advisory, "id" | "source" | "affected">): Advisory {
  return { aliases: [], references: [], severities: [], ...a };
}
const dpkgFix = (ecosystem: string, name: string, fixed: string): AffectedPackage => ({
  ecosystem,
  name,
  ranges: [{ scheme: "dpkg", events: [{ introduced: "0" }, { fixed }] }],
});
const unfixed = (ecosystem: string, name: string, state: AffectedPackage["state"]): AffectedPackage => ({
  ecosystem,
  name,
  ranges: [],
  state,
});

/** One line per finding: package, id, state, fixed versions. */
const rows = (findings: Finding[]) =>
  findings.map(
    (f) => `${f.package.name}@${f.package.version} ${f.id} ${f.state} [${f.fixedVersions.join(",")}]`,
  );

// ---------------------------------------------------------------------------------------------
// Real shapes

/** debian-tracker's CVE-2022-0456 (chromium), from the tracker JSON fixture: per release its own fix or state. */
const CHROMIUM_CVE_2022_0456 = advisory({
  id: "CVE-2022-0456",
  source: "debian-tracker",
  references: [{ type: "ADVISORY", url: "https://security-tracker.debian.org/tracker/CVE-2022-0456" }],
  affected: [
    dpkgFix("Debian:12", "chromium", "98.0.4758.80-1"),
    dpkgFix("Debian:11", "chromium", "98.0.4758.80-1~deb11u1"),
    unfixed("Debian:10", "chromium", "end_of_life"),
    dpkgFix("Debian:sid", "chromium", "98.0.4758.80-1"),
    unfixed("Debian:9", "chromium", "end_of_life"),
  ],
});

/** Alpine secdb's CVE-2019-14697 (musl): one fixed version per branch, keyed by origin. */
const MUSL_CVE_2019_14697 = advisory({
  id: "CVE-2019-14697",
  source: "alpine-secdb",
  affected: [
    ["v3.7", "1.1.18-r4"],
    ["v3.8", "1.1.19-r11"],
    ["v3.9", "1.1.20-r5"],
    ["v3.10", "1.1.22-r3"],
    ["v3.11", "1.1.23-r2"],
  ].map(([branch, fixed]) => ({
    ecosystem: `Alpine:${branch}`,
    name: "musl",
    ranges: [{ scheme: "apk", events: [{ introduced: "0" }, { fixed: fixed as string }] }],
  })),
});

/** osv-AlmaLinux's ALSA-2022:7288: the source rpm and its binaries, CVEs from `related`, Red Hat's impact. */
const OPENSSL_ALSA_2022_7288 = advisory({
  id: "ALSA-2022:7288",
  aliases: ["CVE-2022-3602", "CVE-2022-3786"],
  source: "osv-AlmaLinux",
  summary: "Important: openssl security update",
  vendorSeverity: "important",
  affected: ["openssl", "openssl-devel", "openssl-libs", "openssl-perl"].map((name) => ({
    ecosystem: "AlmaLinux:9",
    name,
    ranges: [{ scheme: "rpm", events: [{ introduced: "0" }, { fixed: "1:3.0.1-43.el9_0" }] }],
  })),
});

/** osv-Go's GO-2021-0234: stdlib, one range with a branch per release line. */
const STDLIB_GO_2021_0234 = advisory({
  id: "GO-2021-0234",
  aliases: ["CVE-2021-27918"],
  source: "osv-Go",
  summary: "Infinite loop when decoding inputs in encoding/xml",
  affected: [
    {
      ecosystem: "Go",
      name: "stdlib",
      ranges: [
        {
          scheme: "go",
          events: [{ introduced: "0" }, { fixed: "1.15.9" }, { introduced: "1.16.0-0" }, { fixed: "1.16.1" }],
        },
      ],
      detail: "encoding/xml: Decoder.Token",
    },
  ],
});

/** osv-Go's GO-2024-2442: withdrawn by the Go team. */
const TELEPORT_GO_2024_2442 = advisory({
  id: "GO-2024-2442",
  source: "osv-Go",
  withdrawn: "2024-01-23T12:50:23Z",
  affected: [
    {
      ecosystem: "Go",
      name: "github.com/gravitational/teleport",
      ranges: [{ scheme: "go", events: [{ introduced: "0" }] }],
    },
  ],
});

/** nodejs-core's NSWG-CORE-69 (vuln/core/69.json): one range per release line, the WG's severity. */
const NODE_NSWG_CORE_69 = advisory({
  id: "NSWG-CORE-69",
  aliases: ["CVE-2020-8277"],
  source: "nodejs-core",
  summary: "Denial of Service through DNS request",
  vendorSeverity: "high",
  affected: [
    {
      ecosystem: "Node.js",
      name: "node",
      ranges: [
        { scheme: "semver", events: [{ introduced: "12.0.0" }, { fixed: "12.19.1" }] },
        { scheme: "semver", events: [{ introduced: "14.0.0" }, { fixed: "14.15.1" }] },
        { scheme: "semver", events: [{ introduced: "15.0.0" }, { fixed: "15.2.1" }] },
      ],
    },
  ],
});

/** nodejs-core's NSWG-CORE-101 (vuln/core/101.json): the 18.x line only. */
const NODE_NSWG_CORE_101 = advisory({
  id: "NSWG-CORE-101",
  aliases: ["CVE-2022-35255"],
  source: "nodejs-core",
  vendorSeverity: "high",
  affected: [
    {
      ecosystem: "Node.js",
      name: "node",
      ranges: [{ scheme: "semver", events: [{ introduced: "18.0.0" }, { fixed: "18.9.1" }] }],
    },
  ],
});

// ---------------------------------------------------------------------------------------------

describe("osEcosystem: the key distro feeds use for an OS release", () => {
  test("Debian by major, Alpine by v<major.minor>, AlmaLinux by major, Ubuntu by YY.MM", () => {
    assert.equal(osEcosystem(DEBIAN_12), "Debian:12");
    assert.equal(osEcosystem(osRelease("debian", "12.15", "")), "Debian:12");
    assert.equal(osEcosystem(ALPINE_310), "Alpine:v3.10");
    assert.equal(osEcosystem(ALMA_9), "AlmaLinux:9");
    assert.equal(osEcosystem(UBUNTU_2204), "Ubuntu:22.04");
    assert.equal(osEcosystem(osRelease("arch", undefined, "Arch Linux")), undefined);
    assert.equal(osEcosystem(osRelease("debian", undefined, "Debian GNU/Linux trixie/sid")), undefined);
    assert.equal(osEcosystem(undefined), undefined);
  });
});

describe("Debian: by source package and source version, per release", () => {
  const db = database([
    CHROMIUM_CVE_2022_0456,
    // util-linux's binaries carry an epoch its source version does not (bookworm's bsdutils is
    // 1:2.38.1-5+deb12u3 from util-linux 2.38.1-5+deb12u3): a fix at +deb12u4 must be found by
    // the source version, where the binary's epoch would hide it.
    advisory({
      id: "CVE-2099-0201",
      source: "debian-tracker",
      affected: [dpkgFix("Debian:12", "util-linux", "2.38.1-5+deb12u4")],
    }),
    advisory({
      id: "CVE-2099-0202",
      source: "debian-tracker",
      affected: [dpkgFix("Debian:12", "util-linux", "2.38.1-5+deb12u2")],
    }),
    // debian-tracker's fixed_version "0": never affected.
    advisory({
      id: "CVE-2099-0203",
      source: "debian-tracker",
      affected: [unfixed("Debian:12", "glibc", "not_affected")],
    }),
    // Binary names are not what the tracker keys on.
    advisory({
      id: "CVE-2099-0204",
      source: "debian-tracker",
      affected: [dpkgFix("Debian:12", "bsdutils", "9:9.9-9")],
    }),
  ]);
  const bsdutils = pkg("deb", "bsdutils", "1:2.38.1-5+deb12u3", {
    source: { name: "util-linux", version: "2.38.1-5+deb12u3" },
  });
  const libc6 = pkg("deb", "libc6", "2.36-9+deb12u14", {
    source: { name: "glibc", version: "2.36-9+deb12u14" },
  });

  test("bookworm: the source package's fix at +deb12u4 applies, +deb12u2 does not; glibc not affected; no binary-name match", () => {
    const result = matchInventory(inventory(DEBIAN_12, [bsdutils, libc6]), db);
    assert.deepEqual(rows(result.findings), [
      "bsdutils@1:2.38.1-5+deb12u3 CVE-2099-0201 fixed [2.38.1-5+deb12u4]",
    ]);
    const [finding] = result.findings;
    assert.deepEqual(finding?.package.source, { name: "util-linux", version: "2.38.1-5+deb12u3" });
    assert.deepEqual(result.warnings, []);
  });

  test("CVE-2022-0456: each release is judged by its own entry", () => {
    const chromium = (version: string) =>
      pkg("deb", "chromium", version, { source: { name: "chromium", version } });
    // bookworm: fixed in 98.0.4758.80-1.
    assert.deepEqual(rows(matchInventory(inventory(DEBIAN_12, [chromium("97.0.4692.99-1")]), db).findings), [
      "chromium@97.0.4692.99-1 CVE-2022-0456 fixed [98.0.4758.80-1]",
    ]);
    // bullseye: fixed in the ~deb11u1 upload, which sorts below bookworm's 98.0.4758.80-1; a
    // bullseye image with it is clean, so the Debian:12 entry was not applied.
    assert.deepEqual(
      matchInventory(inventory(DEBIAN_11, [chromium("98.0.4758.80-1~deb11u1")]), db).findings,
      [],
    );
    // buster: end of life, no fixed version; still reported.
    assert.deepEqual(
      rows(matchInventory(inventory(DEBIAN_10, [chromium("90.0.4430.212-1~deb10u1")]), db).findings),
      ["chromium@90.0.4430.212-1~deb10u1 CVE-2022-0456 end_of_life []"],
    );
  });

  test("unfixed distro states are reported with their state and no fixed version", () => {
    const states = database([
      // debian-tracker's CVE-2099-0002 from the fixture: open in every release, for different reasons.
      advisory({
        id: "CVE-2099-0002",
        source: "debian-tracker",
        vendorSeverity: "medium",
        affected: [
          unfixed("Debian:12", "openssl", "postponed"),
          unfixed("Debian:11", "openssl", "ignored"),
          unfixed("Debian:13", "openssl", "affected"),
        ],
      }),
      advisory({
        id: "CVE-2099-0205",
        source: "debian-tracker",
        affected: [unfixed("Debian:12", "openssl", "will_not_fix")],
      }),
      advisory({
        id: "CVE-2099-0206",
        source: "debian-tracker",
        affected: [unfixed("Debian:12", "openssl", "affected")],
      }),
    ]);
    const libssl3 = (version: string) =>
      pkg("deb", "libssl3", version, { source: { name: "openssl", version } });
    assert.deepEqual(
      rows(matchInventory(inventory(DEBIAN_12, [libssl3("3.0.11-1~deb12u2")]), states).findings),
      [
        "libssl3@3.0.11-1~deb12u2 CVE-2099-0002 postponed []",
        "libssl3@3.0.11-1~deb12u2 CVE-2099-0205 will_not_fix []",
        "libssl3@3.0.11-1~deb12u2 CVE-2099-0206 affected []",
      ],
    );
    assert.deepEqual(
      rows(matchInventory(inventory(DEBIAN_11, [libssl3("1.1.1w-0+deb11u1")]), states).findings),
      ["libssl3@1.1.1w-0+deb11u1 CVE-2099-0002 ignored []"],
    );
    const [finding] = matchInventory(inventory(DEBIAN_12, [libssl3("3.0.11-1~deb12u2")]), states).findings;
    assert.equal(finding?.severity, "medium");
    assert.equal(finding?.vendorSeverity, "medium");
  });
});

describe("Alpine: by origin, per branch", () => {
  const db = database([
    MUSL_CVE_2019_14697,
    advisory({
      id: "CVE-2019-5747",
      source: "alpine-secdb",
      affected: [
        {
          ecosystem: "Alpine:v3.10",
          name: "busybox",
          ranges: [{ scheme: "apk", events: [{ introduced: "0" }, { fixed: "1.30.1-r2" }] }],
        },
      ],
    }),
  ]);
  const apk = (name: string, version: string, origin: string) =>
    pkg("apk", name, version, { source: { name: origin, version } });

  test("v3.10: musl-utils (origin musl) below 1.1.22-r3 is affected; ssl_client (origin busybox) below 1.30.1-r2", () => {
    const result = matchInventory(
      inventory(ALPINE_310, [
        apk("musl-utils", "1.1.22-r2", "musl"),
        apk("ssl_client", "1.30.1-r1", "busybox"),
      ]),
      db,
    );
    assert.deepEqual(rows(result.findings), [
      "musl-utils@1.1.22-r2 CVE-2019-14697 fixed [1.1.22-r3]",
      "ssl_client@1.30.1-r1 CVE-2019-5747 fixed [1.30.1-r2]",
    ]);
    assert.deepEqual(result.findings[0]?.package.source, { name: "musl", version: "1.1.22-r2" });
    assert.deepEqual(result.warnings, []);
  });

  test("v3.10 at the fixed versions (alpine:3.10.3's musl 1.1.22-r3): clean, though v3.11's fix is higher", () => {
    const result = matchInventory(
      inventory(ALPINE_310, [apk("musl", "1.1.22-r3", "musl"), apk("busybox", "1.30.1-r2", "busybox")]),
      db,
    );
    assert.deepEqual(result, { findings: [], warnings: [] });
  });

  test("v3.20, which no source covers: a coverage warning and no findings, never a silent clean", () => {
    const result = matchInventory(inventory(ALPINE_320, [apk("musl", "1.2.5-r0", "musl")]), db);
    assert.deepEqual(result.findings, []);
    assert.deepEqual(result.warnings, [
      "no vulnerability data for Alpine Linux v3.20 (Alpine:v3.20): its 1 OS packages were not checked",
    ]);
  });
});

describe("AlmaLinux: by package name and by source rpm", () => {
  const db = database([OPENSSL_ALSA_2022_7288]);
  const libs = pkg("rpm", "openssl-libs", "1:3.0.1-41.el9_0", {
    source: { name: "openssl", version: "3.0.1-41.el9_0" },
    location: "var/lib/rpm/rpmdb.sqlite",
  });

  test("openssl-libs, listed itself and via its source rpm: one finding, named by its first CVE", () => {
    const result = matchInventory(inventory(ALMA_9, [libs]), db);
    assert.deepEqual(rows(result.findings), [
      "openssl-libs@1:3.0.1-41.el9_0 CVE-2022-3602 fixed [1:3.0.1-43.el9_0]",
    ]);
    const [f] = result.findings;
    assert.deepEqual(f?.aliases, ["ALSA-2022:7288", "CVE-2022-3786"]);
    assert.equal(f?.severity, "high", "Red Hat's 'important'");
    assert.deepEqual(result.warnings, []);
  });

  test("a binary the advisory does not list is found through its source rpm", () => {
    const sourceOnly = database([
      { ...OPENSSL_ALSA_2022_7288, affected: [OPENSSL_ALSA_2022_7288.affected[0] as AffectedPackage] },
    ]);
    const fips = pkg("rpm", "openssl-fips-provider", "1:3.0.1-41.el9_0", {
      source: { name: "openssl", version: "3.0.1-41.el9_0" },
    });
    assert.deepEqual(rows(matchInventory(inventory(ALMA_9, [fips]), sourceOnly).findings), [
      "openssl-fips-provider@1:3.0.1-41.el9_0 CVE-2022-3602 fixed [1:3.0.1-43.el9_0]",
    ]);
  });

  test("at the fixed release nothing; AlmaLinux 8 is another ecosystem", () => {
    const fixedLibs = { ...libs, version: "1:3.0.1-43.el9_0", purl: "pkg:rpm/openssl-libs@1:3.0.1-43.el9_0" };
    assert.deepEqual(matchInventory(inventory(ALMA_9, [fixedLibs]), db).findings, []);
    const alma8 = matchInventory(inventory(osRelease("almalinux", "8.10", "AlmaLinux 8.10"), [libs]), db);
    assert.deepEqual(alma8.findings, []);
    assert.deepEqual(alma8.warnings, [
      "no vulnerability data for AlmaLinux 8.10 (AlmaLinux:8): its 1 OS packages were not checked",
    ]);
  });
});

describe("Ubuntu: OSV keys LTS releases with a :LTS suffix", () => {
  // osv-Ubuntu's shape: ecosystem "Ubuntu:22.04:LTS" (the OSV schema makes the suffix mandatory for LTS releases).
  const db = database([
    advisory({
      id: "UBUNTU-CVE-2022-3602",
      aliases: ["CVE-2022-3602"],
      source: "osv-Ubuntu",
      vendorSeverity: "high",
      affected: [
        {
          ecosystem: "Ubuntu:22.04:LTS",
          name: "openssl",
          ranges: [{ scheme: "dpkg", events: [{ introduced: "0" }, { fixed: "3.0.2-0ubuntu1.7" }] }],
        },
      ],
    }),
  ]);

  test("a 22.04 image is covered and matched by the :LTS entries", () => {
    const libssl3 = pkg("deb", "libssl3", "3.0.2-0ubuntu1.6", {
      source: { name: "openssl", version: "3.0.2-0ubuntu1.6" },
    });
    const result = matchInventory(inventory(UBUNTU_2204, [libssl3]), db);
    assert.deepEqual(rows(result.findings), [
      "libssl3@3.0.2-0ubuntu1.6 CVE-2022-3602 fixed [3.0.2-0ubuntu1.7]",
    ]);
    assert.deepEqual(result.warnings, []);
  });
});

describe("language ecosystems and runtimes", () => {
  const db = database([STDLIB_GO_2021_0234, TELEPORT_GO_2024_2442, NODE_NSWG_CORE_69, NODE_NSWG_CORE_101]);
  const stdlib = (version: string) => pkg("golang", "stdlib", version, { location: "app/bin/esbuild" });
  const node = (version: string) => pkg("node", "node", version, { location: "usr/local/bin/node" });

  test("Go stdlib v1.16.0 (esbuild's toolchain): the 1.16 branch's fix 1.16.1", () => {
    const result = matchInventory(inventory(undefined, [stdlib("v1.16.0")]), db);
    assert.deepEqual(rows(result.findings), ["stdlib@v1.16.0 CVE-2021-27918 fixed [1.16.1]"]);
    assert.deepEqual(result.findings[0]?.aliases, ["GO-2021-0234"]);
    assert.equal(
      result.findings[0]?.severity,
      "unknown",
      "the Go record has no score and no CVSS was enriched",
    );
    assert.deepEqual(
      matchInventory(inventory(undefined, [stdlib("v1.15.0")]), db).findings.map((f) => f.fixedVersions),
      [["1.15.9"]],
    );
    assert.deepEqual(matchInventory(inventory(undefined, [stdlib("v1.16.1")]), db).findings, []);
  });

  test("a withdrawn record matches nothing", () => {
    const teleport = pkg("golang", "github.com/gravitational/teleport", "v14.3.0");
    assert.deepEqual(matchInventory(inventory(undefined, [teleport]), db), { findings: [], warnings: [] });
  });

  test("the Node.js runtime 14.15.0: NSWG-CORE-69 (fixed 14.15.1, WG severity high), not the 18.x-only NSWG-CORE-101", () => {
    const result = matchInventory(inventory(DEBIAN_12, [node("14.15.0")]), db);
    assert.deepEqual(rows(result.findings), ["node@14.15.0 CVE-2020-8277 fixed [14.15.1]"]);
    assert.equal(result.findings[0]?.severity, "high");
    assert.deepEqual(result.findings[0]?.sources, ["nodejs-core"]);
    // The runtime is not an OS package: a Debian image without deb packages gets no coverage warning.
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(rows(matchInventory(inventory(undefined, [node("18.9.0")]), db).findings), [
      "node@18.9.0 CVE-2022-35255 fixed [18.9.1]",
    ]);
    assert.deepEqual(matchInventory(inventory(undefined, [node("16.0.0")]), db).findings, []);
  });

  test("a version its ecosystem cannot parse is counted in a warning, not silently passed", () => {
    const result = matchInventory(inventory(undefined, [stdlib("not-a-version"), stdlib("v1.16.0")]), db);
    assert.equal(result.findings.length, 1);
    assert.deepEqual(result.warnings, [
      "1 package versions could not be parsed by their ecosystem's rules and were not checked",
    ]);
  });
});

/** osv-npm NSWG-ECO-332 (yui) as osv.ts converts it: `>=3.0.0 <=3.9.1 || =3.10.2`, patched `=3.10.1 || >=3.10.3`. */
const YUI_NSWG_ECO_332 = advisory({
  id: "NSWG-ECO-332",
  source: "osv-npm",
  aliases: ["CVE-2013-4939", "CVE-2013-4940", "CVE-2013-4941", "CVE-2013-4942"],
  affected: [
    {
      ecosystem: "npm",
      name: "yui",
      ranges: [
        { scheme: "semver", events: [{ introduced: "3.0.0" }, { last_affected: "3.9.1" }] },
        { scheme: "semver", events: [{ introduced: "3.10.2" }, { last_affected: "3.10.2" }] },
      ],
      fixedVersions: ["3.10.1", "3.10.3"],
    },
  ],
});
/** osv-npm NSWG-ECO-13 (hubot-scripts): `<= 2.4.3`, patched `> 2.4.3`, which names no version. */
const HUBOT_NSWG_ECO_13 = advisory({
  id: "NSWG-ECO-13",
  source: "osv-npm",
  aliases: ["CVE-2013-7378"],
  affected: [
    {
      ecosystem: "npm",
      name: "hubot-scripts",
      ranges: [{ scheme: "semver", events: [{ introduced: "0" }, { last_affected: "2.4.3" }] }],
    },
  ],
});

describe("npm ranges ending in last_affected: the fix the record states beside them", () => {
  const db = database([YUI_NSWG_ECO_332, HUBOT_NSWG_ECO_13]);
  const npm = (name: string, version: string) => pkg("npm", name, version);
  const cases: [string, string, string[]][] = [
    // The first stated fix above the installed version: 3.10.1 for the 3.0–3.9.1 line…
    ["yui", "3.5.0", ["yui@3.5.0 CVE-2013-4939 fixed [3.10.1]"]],
    // …and 3.10.3 for 3.10.2, where 3.10.1 is below the installed version.
    ["yui", "3.10.2", ["yui@3.10.2 CVE-2013-4939 fixed [3.10.3]"]],
    // Between the ranges, and above them: not affected, whatever fixedVersions says.
    ["yui", "3.10.1", []],
    ["yui", "3.10.3", []],
    // No stated version ("> 2.4.3" names none): affected, no invented fix.
    ["hubot-scripts", "2.4.3", ["hubot-scripts@2.4.3 CVE-2013-7378 affected []"]],
    ["hubot-scripts", "2.4.4", []],
  ];
  for (const [name, version, expected] of cases) {
    test(`${name}@${version}`, () => {
      assert.deepEqual(
        rows(matchInventory(inventory(undefined, [npm(name, version)]), db).findings),
        expected,
      );
    });
  }

  test("matching again on the same handle (rows cached from the second lookup on) changes nothing", () => {
    const inv = inventory(undefined, [
      npm("yui", "3.5.0"),
      npm("yui", "3.10.2"),
      npm("hubot-scripts", "1.0.0"),
    ]);
    const first = matchInventory(inv, db);
    assert.equal(first.findings.length, 3);
    for (let i = 0; i < 3; i++) assert.deepEqual(matchInventory(inv, db), first);
  });
});

describe("one CVE from two sources: one finding", () => {
  // The tracker's CVE entry says postponed, the DSA fixes it; the DSA carries a CVSS v3.1 score, the
  // enrichment only v2.0 for the CVE.
  const tracker = advisory({
    id: "CVE-2099-0301",
    source: "debian-tracker",
    vendorSeverity: "low",
    references: [{ type: "ADVISORY", url: "https://security-tracker.debian.org/tracker/CVE-2099-0301" }],
    affected: [unfixed("Debian:12", "openssl", "postponed")],
  });
  const dsa = advisory({
    id: "DSA-9999-1",
    aliases: ["CVE-2099-0301"],
    source: "osv-Debian",
    severities: [
      {
        type: "CVSS_V3",
        vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        score: 9.8,
        source: "osv-Debian",
      },
    ],
    references: [{ type: "ADVISORY", url: "https://www.debian.org/security/2099/dsa-9999" }],
    affected: [dpkgFix("Debian:12", "openssl", "3.0.11-1~deb12u3")],
  });
  const enrichment: [string, Severity[]][] = [
    ["CVE-2099-0301", [{ type: "CVSS_V2", vector: "AV:N/AC:L/Au:N/C:P/I:P/A:P", score: 7.5, source: "nvd" }]],
  ];
  const libssl3 = pkg("deb", "libssl3", "3.0.11-1~deb12u2", {
    source: { name: "openssl", version: "3.0.11-1~deb12u2" },
  });

  for (const [order, advisories] of [
    ["tracker first", [tracker, dsa]],
    ["DSA first", [dsa, tracker]],
  ] as const) {
    test(`${order}: the CVE id, the DSA as alias, the fix beats postponed, the vendor term, the newest CVSS`, () => {
      const result = matchInventory(inventory(DEBIAN_12, [libssl3]), database([...advisories], enrichment));
      assert.equal(result.findings.length, 1);
      const [f] = result.findings as [Finding];
      assert.equal(f.id, "CVE-2099-0301");
      assert.deepEqual(f.aliases, ["DSA-9999-1"]);
      assert.deepEqual([...f.sources].sort(), ["debian-tracker", "osv-Debian"]);
      assert.equal(f.state, "fixed");
      assert.deepEqual(f.fixedVersions, ["3.0.11-1~deb12u3"]);
      assert.equal(f.vendorSeverity, "low");
      assert.equal(f.severity, "low", "the vendor's term over CVSS");
      assert.equal(f.cvss?.version, "3.1", "v3.1 from the DSA over the enrichment's v2.0");
      assert.equal(f.cvss?.score, 9.8);
      assert.deepEqual([...f.links].sort(), [
        "https://security-tracker.debian.org/tracker/CVE-2099-0301",
        "https://www.debian.org/security/2099/dsa-9999",
      ]);
    });
  }

  test("an advisory without scores borrows the CVE's CVSS from the enrichment source", () => {
    const result = matchInventory(
      inventory(DEBIAN_12, [libssl3]),
      database([{ ...tracker, vendorSeverity: undefined }], enrichment),
    );
    assert.equal(result.findings[0]?.cvss?.version, "2.0");
    assert.equal(result.findings[0]?.severity, "high", "7.5 without a vendor term");
  });
});

describe("coverage warnings", () => {
  const db = database([CHROMIUM_CVE_2022_0456, MUSL_CVE_2019_14697, NODE_NSWG_CORE_69]);
  const chromium = pkg("deb", "chromium", "97.0.4692.99-1", {
    source: { name: "chromium", version: "97.0.4692.99-1" },
  });

  test("an OS release no source covers: named with its key and package count; its packages unmatched", () => {
    const result = matchInventory(inventory(DEBIAN_13, [chromium, pkg("deb", "bash", "5.2.37-1")]), db);
    assert.deepEqual(result.findings, [], "Debian:12's entry is not applied to trixie");
    assert.deepEqual(result.warnings, [
      "no vulnerability data for Debian GNU/Linux 13 (trixie) (Debian:13): its 2 OS packages were not checked",
    ]);
  });

  test("an unknown OS with OS packages: a warning; language packages are still matched", () => {
    const result = matchInventory(inventory(undefined, [chromium, pkg("node", "node", "14.15.0")]), db);
    assert.deepEqual(rows(result.findings), ["node@14.15.0 CVE-2020-8277 fixed [14.15.1]"]);
    assert.deepEqual(result.warnings, ["the operating system is unknown: 1 OS packages were not checked"]);
  });

  test("a distribution shipshape has no key for: a warning naming its id", () => {
    const result = matchInventory(
      inventory(osRelease("arch", undefined, "Arch Linux"), [pkg("rpm", "x", "1-1")]),
      db,
    );
    assert.deepEqual(result.warnings, [
      "no vulnerability data for Arch Linux (arch): its 1 OS packages were not checked",
    ]);
  });

  test("a covered release, or an image without OS packages: no warning", () => {
    assert.deepEqual(matchInventory(inventory(DEBIAN_12, [chromium]), db).warnings, []);
    assert.deepEqual(
      matchInventory(inventory(DEBIAN_13, [pkg("npm", "lodash", "4.17.21")]), db).warnings,
      [],
    );
  });
});
