import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Advisory } from "../types.js";
import {
  DEFAULT_OSV_ECOSYSTEMS,
  defaultOsvSources,
  firstPatchedVersions,
  normalizePackageName,
  normalizeTimestamp,
  osvSource,
  osvToAdvisory,
  schemeNameForEcosystem,
} from "./osv.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const shared = process.env.SHIPSHAPE_SHARED ?? path.resolve(repoRoot, "../shared");
const osvDir = path.join(shared, "vulndata/osv");
const zipOf = (ecosystem: string) => path.join(osvDir, ecosystem, "all.zip");

async function readAll(
  ecosystem: string,
  file: string,
): Promise<{ advisories: Advisory[]; warnings: string[] }> {
  const warnings: string[] = [];
  const advisories: Advisory[] = [];
  for await (const a of osvSource(ecosystem).read([{ path: file, origin: "test" }], {
    warn: (m) => warnings.push(m),
  })) {
    advisories.push(a);
  }
  return { advisories, warnings };
}

/** The record with details cut to their start, for exact comparisons of everything else. */
function withDetailsStart(advisory: Advisory | undefined, length = 60): Advisory | undefined {
  return advisory && { ...advisory, details: advisory.details?.slice(0, length) };
}

describe("the real OSV archives", () => {
  // README counts: Go 4,291; PyPI 2,661; crates.io 1,206; AlmaLinux 5,637 unique; npm 467.
  const counts: Record<string, number> = {
    Go: 4291,
    PyPI: 2661,
    "crates.io": 1206,
    AlmaLinux: 5637,
    npm: 467,
  };
  const read = new Map<string, Map<string, Advisory>>();

  for (const [ecosystem, count] of Object.entries(counts)) {
    test(`${ecosystem}/all.zip parses completely`, { skip: !existsSync(zipOf(ecosystem)) }, async (t) => {
      const started = performance.now();
      const { advisories, warnings } = await readAll(ecosystem, zipOf(ecosystem));
      t.diagnostic(
        `${ecosystem}: ${advisories.length} records in ${Math.round(performance.now() - started)} ms`,
      );
      assert.equal(advisories.length, count);
      assert.equal(new Set(advisories.map((a) => a.id)).size, count);
      // The one defect in the data: NSWG-ECO-504's vector has "I:U/A:U", which CVSS does not define.
      assert.deepEqual(
        warnings,
        ecosystem === "npm"
          ? [
              'osv-npm NSWG-ECO-504: could not score CVSS_V3 vector "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:U/A:U"',
            ]
          : [],
      );
      for (const a of advisories) {
        assert.equal(a.source, `osv-${ecosystem}`);
        for (const affected of a.affected)
          assert.ok(affected.ecosystem.startsWith(ecosystem), affected.ecosystem);
      }
      read.set(ecosystem, new Map(advisories.map((a) => [a.id, a])));
    });
  }

  test("a Go stdlib record: imports as detail, SEMVER ranges in the go scheme, dates from commit-dates.tsv", {
    skip: !existsSync(zipOf("Go")),
  }, () => {
    const go = read.get("Go");
    assert.ok(go);
    assert.deepEqual(withDetailsStart(go.get("GO-2023-1878")), {
      id: "GO-2023-1878",
      aliases: ["CVE-2023-29406"],
      source: "osv-Go",
      summary: "Insufficient sanitization of Host header in net/http",
      details: "The HTTP/1 client does not fully validate the contents of th",
      // 0001-01-01 in the record: the first and last commit of data/osv/GO-2023-1878.json.
      published: "2023-07-11T19:19:08Z",
      modified: "2024-05-20T16:03:47Z",
      references: [
        { type: "REPORT", url: "https://go.dev/issue/60374" },
        { type: "FIX", url: "https://go.dev/cl/506996" },
        { type: "WEB", url: "https://groups.google.com/g/golang-announce/c/2q13H6LEEx0" },
      ],
      severities: [],
      affected: [
        {
          ecosystem: "Go",
          name: "stdlib",
          ranges: [
            {
              scheme: "go",
              events: [
                { introduced: "0" },
                { fixed: "1.19.11" },
                { introduced: "1.20.0-0" },
                { fixed: "1.20.6" },
              ],
            },
          ],
          detail:
            "net/http: Client.CloseIdleConnections, Client.Do, Client.Get, Client.Head, Client.Post, Client.PostForm, Get, Head, Post, PostForm, Request.Write, Request.WriteProxy, Request.write, Transport.CancelRequest, Transport.CloseIdleConnections, Transport.RoundTrip",
        },
      ],
    });
    // A record whose own `published` is set keeps it; only `modified` comes from the commit dates.
    const gin = go.get("GO-2020-0001");
    assert.equal(gin?.published, "2021-04-14T20:04:52Z");
    assert.equal(gin?.modified, "2024-05-20T16:03:47Z");
    // Withdrawn records stay, flagged.
    assert.equal(go.get("GO-2022-0617")?.withdrawn, "2024-08-21T16:25:56Z");
    assert.equal([...go.values()].filter((a) => a.withdrawn).length, 17);
  });

  test("PyPI records: PEP 503 names, PEP 440 ranges, versions, GIT ranges skipped, CVSS scored", {
    skip: !existsSync(zipOf("PyPI")),
  }, () => {
    const pypi = read.get("PyPI");
    assert.ok(pypi);
    assert.deepEqual(withDetailsStart(pypi.get("PYSEC-2020-341")), {
      id: "PYSEC-2020-341",
      aliases: ["CVE-2020-13388", "GHSA-h72c-w3q3-55qq"],
      source: "osv-PyPI",
      details: "An exploitable vulnerability exists in the configuration-loa",
      published: "2020-05-22T17:15:00Z",
      modified: "2022-01-05T02:16:25.743194Z",
      references: [
        { type: "WEB", url: "https://joel-malwarebenchmark.github.io" },
        {
          type: "ARTICLE",
          url: "https://joel-malwarebenchmark.github.io/blog/2020/04/27/cve-2020-13388-jw-util-vulnerability/",
        },
        { type: "ADVISORY", url: "https://security.netapp.com/advisory/ntap-20200528-0002/" },
        { type: "ADVISORY", url: "https://github.com/advisories/GHSA-h72c-w3q3-55qq" },
      ],
      severities: [],
      affected: [
        {
          ecosystem: "PyPI",
          name: "jw-util",
          ranges: [{ scheme: "pep440", events: [{ introduced: "0" }, { fixed: "2.3" }] }],
          versions: [
            "-class.-jw.util.version.Version-",
            ...["1.0a", "1.0dev1", "1.3.4", "1.3.5", "1.3.6", "1.3.7", "1.4", "1.4.1", "1.4.2"],
            ...[
              "1.5.1",
              "1.5.2",
              "1.5.3",
              "1.5.4",
              "1.5.5",
              "1.5a0",
              "1.5a1",
              "1.5a2",
              "1.5a3",
              "1.5a4",
              "1.5b0",
            ],
            ...["1.6", "1.7", "1.8", "1.9", "1.9.1", "1.9.2", "2", "2.0", "2.0.1", "2.0a0", "2.0a1", "2.0a2"],
            ...["2.0a3", "2.0b0", "2.1", "2.2"],
          ],
        },
      ],
    });
    const vyper = pypi.get("PYSEC-2023-131");
    assert.deepEqual(vyper?.severities, [
      {
        type: "CVSS_V3",
        vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N",
        score: 7.5,
        source: "pysec",
      },
    ]);
    assert.deepEqual(vyper?.affected[0]?.ranges, [
      { scheme: "pep440", events: [{ introduced: "0.3.1" }, { fixed: "0.3.8" }] },
    ]);
  });

  test("AlmaLinux errata: release ecosystems, rpm ranges, related CVEs as aliases, impact as vendor severity", {
    skip: !existsSync(zipOf("AlmaLinux")),
  }, () => {
    const alma = read.get("AlmaLinux");
    assert.ok(alma);
    const fixed = (name: string) => ({
      ecosystem: "AlmaLinux:8",
      name,
      ranges: [{ scheme: "rpm", events: [{ introduced: "0" }, { fixed: "2.9.7-15.el8_7.1" }] }],
    });
    assert.deepEqual(withDetailsStart(alma.get("ALSA-2023:0173")), {
      id: "ALSA-2023:0173",
      aliases: ["CVE-2022-40303", "CVE-2022-40304"],
      source: "osv-AlmaLinux",
      summary: "Moderate: libxml2 security update",
      details: "The libxml2 library is a development toolbox providing the i",
      published: "2023-01-16T00:00:00Z",
      modified: "2023-03-08T11:17:51Z",
      vendorSeverity: "moderate",
      references: [
        { type: "ADVISORY", url: "https://access.redhat.com/errata/RHSA-2023:0173" },
        { type: "REPORT", url: "https://access.redhat.com/security/cve/CVE-2022-40303" },
        { type: "REPORT", url: "https://access.redhat.com/security/cve/CVE-2022-40304" },
        { type: "REPORT", url: "https://bugzilla.redhat.com/2136266" },
        { type: "REPORT", url: "https://bugzilla.redhat.com/2136288" },
        { type: "ADVISORY", url: "https://errata.almalinux.org/8/ALSA-2023-0173.html" },
      ],
      severities: [],
      affected: [fixed("libxml2"), fixed("libxml2-devel"), fixed("python3-libxml2")],
    });
    // One erratum over three releases (stored three times upstream, once in the zip).
    const java = alma.get("ALSA-2025:10873");
    assert.deepEqual(
      [...new Set(java?.affected.map((a) => a.ecosystem))],
      ["AlmaLinux:10", "AlmaLinux:8", "AlmaLinux:9"],
    );
    assert.equal(java?.affected.length, 69);
    assert.equal(java?.vendorSeverity, "important");
    const impacts = new Map<string, number>();
    for (const a of alma.values())
      impacts.set(a.vendorSeverity ?? "-", (impacts.get(a.vendorSeverity ?? "-") ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(impacts), {
      important: 2362,
      moderate: 1889,
      low: 154,
      critical: 34,
      "-": 1198,
    });
  });

  test("npm: last_affected events and a CVSS 3.0 vector", { skip: !existsSync(zipOf("npm")) }, () => {
    const connect = read.get("npm")?.get("NSWG-ECO-3");
    assert.deepEqual(
      { ...connect, details: undefined },
      {
        id: "NSWG-ECO-3",
        aliases: ["CVE-2013-7370", "CVE-2013-7371"],
        source: "osv-npm",
        summary: "methodOverride Middleware Reflected Cross-Site Scripting",
        details: undefined,
        published: "2013-07-01T00:00:00Z",
        modified: "2016-04-29T00:00:00Z",
        references: [],
        severities: [
          {
            type: "CVSS_V3",
            vector: "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N",
            score: 6.5,
            source: "nswg",
          },
        ],
        affected: [
          {
            ecosystem: "npm",
            name: "connect",
            ranges: [{ scheme: "semver", events: [{ introduced: "0" }, { last_affected: "2.8.0" }] }],
            // database_specific.patched_versions ">=2.8.1" beside the converted "<=2.8.0".
            fixedVersions: ["2.8.1"],
          },
        ],
      },
    );
    assert.ok(connect?.details?.startsWith("Connect is a stack of middleware"));
  });

  test("npm `<=x` ranges: the fix comes from patched_versions where it names a version, never invented", {
    skip: !existsSync(zipOf("npm")),
  }, () => {
    const npm = read.get("npm");
    // [record, package, its patched_versions in the zip, fixedVersions expected]
    const rows: [string, string, string, string[] | undefined][] = [
      ["NSWG-ECO-1", "bassmaster", ">=1.5.2", ["1.5.2"]],
      ["NSWG-ECO-332", "yui", "=3.10.1 || >=3.10.3", ["3.10.1", "3.10.3"]],
      ["NSWG-ECO-450", "eslint-scope", "<=3.7.1 || >= 3.7.3", ["3.7.3"]],
      // The WG's "no fix": no lower bound, so no version.
      ["NSWG-ECO-244", "", "<0.0.0", undefined],
      // An exclusive bound names no version.
      ["NSWG-ECO-13", "hubot-scripts", "> 2.4.3", undefined],
    ];
    for (const [id, name, patched, expected] of rows) {
      const entry = npm?.get(id)?.affected.find((a) => name === "" || a.name === name);
      assert.ok(entry, id);
      assert.ok(
        entry.ranges.some((r) => r.events.some((e) => "last_affected" in e)),
        `${id}: a last_affected range`,
      );
      assert.deepEqual(entry.fixedVersions, expected, `${id} (${patched})`);
    }
    // A `<x` range already names its fix as a fixed event: nothing is added beside it.
    for (const advisory of npm?.values() ?? []) {
      for (const a of advisory.affected) {
        if (!a.ranges.some((r) => r.events.some((e) => "last_affected" in e)))
          assert.equal(a.fixedVersions, undefined, advisory.id);
      }
    }
  });

  test("firstPatchedVersions: inclusive lower bounds of each alternative", () => {
    const rows: [string, string[]][] = [
      [">=1.5.2", ["1.5.2"]],
      [">= 16.1.1", ["16.1.1"]],
      ["7.0.0", ["7.0.0"]],
      [">=5.0.3 <6.0.0 || >=6.8.6", ["5.0.3", "6.8.6"]],
      [">=v2.0.0-alpha8", ["2.0.0-alpha8"]],
      ["> 0.9.6", []],
      ["<0.0.0", []],
      ["<=0.0.0", []],
      ["*", []],
    ];
    for (const [patched, expected] of rows)
      assert.deepEqual(firstPatchedVersions(patched), expected, patched);
  });

  test("crates.io: CVSS 4.0, affected OS as detail, withdrawn advisories", {
    skip: !existsSync(zipOf("crates.io")),
  }, () => {
    const crates = read.get("crates.io");
    const cap = crates?.get("RUSTSEC-2024-0445");
    assert.deepEqual(cap?.severities, [
      {
        type: "CVSS_V4",
        vector: "CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N",
        score: 2.3,
        source: "rustsec",
      },
    ]);
    assert.deepEqual(cap?.affected, [
      {
        ecosystem: "crates.io",
        name: "cap-primitives",
        ranges: [{ scheme: "semver", events: [{ introduced: "0.0.0-0" }, { fixed: "3.4.1" }] }],
        detail: "os: windows",
      },
    ]);
    assert.equal(crates?.get("RUSTSEC-2023-0002")?.withdrawn, "2023-01-13T12:00:00Z");
    assert.equal([...(crates?.values() ?? [])].filter((a) => a.withdrawn).length, 13);
  });
});

describe("inputs other than the zip", () => {
  test("a directory of records, a single record and a list of records; Go dates absent without the TSV", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "osv-"));
    try {
      const record = (id: string, extra: object = {}) => ({
        id,
        modified: "0001-01-01T00:00:00Z",
        affected: [
          {
            package: { ecosystem: "Go", name: "example.com/m" },
            ranges: [{ type: "SEMVER", events: [{ introduced: "0" }] }],
          },
        ],
        ...extra,
      });
      mkdirSync(path.join(dir, "records/sub"), { recursive: true });
      writeFileSync(path.join(dir, "records/GO-1.json"), JSON.stringify(record("GO-1")));
      writeFileSync(path.join(dir, "records/sub/GO-2.json"), JSON.stringify(record("GO-2")));
      writeFileSync(path.join(dir, "records/notes.txt"), "not a record");
      writeFileSync(path.join(dir, "records/broken.json"), "{");
      writeFileSync(path.join(dir, "one.json"), JSON.stringify(record("GO-3")));
      writeFileSync(path.join(dir, "list.json"), JSON.stringify([record("GO-4"), record("GO-5"), 7]));
      const fromDir = await readAll("Go", path.join(dir, "records"));
      assert.equal(fromDir.advisories[0]?.affected[0]?.ranges[0]?.scheme, "go");
      assert.deepEqual(
        fromDir.advisories.map((a) => [a.id, a.modified]),
        [
          ["GO-1", undefined],
          ["GO-2", undefined],
        ],
      );
      assert.equal(fromDir.warnings.length, 1);
      assert.match(fromDir.warnings[0] ?? "", /broken\.json: invalid JSON/);
      assert.deepEqual(
        (await readAll("Go", path.join(dir, "one.json"))).advisories.map((a) => a.id),
        ["GO-3"],
      );
      const list = await readAll("Go", path.join(dir, "list.json"));
      assert.deepEqual(
        list.advisories.map((a) => a.id),
        ["GO-4", "GO-5"],
      );
      assert.deepEqual(list.warnings, ["osv-Go: record is not a JSON object; skipped"]);
      // With a commit-dates.tsv beside them, the unset dates are filled.
      writeFileSync(
        path.join(dir, "records/commit-dates.tsv"),
        "id\tfirst_commit_utc\tlast_commit_utc\nGO-1\t2022-01-01T00:00:00Z\t2023-01-01T00:00:00Z\n",
      );
      const dated = await readAll("Go", path.join(dir, "records"));
      assert.deepEqual(
        dated.advisories.map((a) => [a.id, a.published, a.modified]),
        [
          ["GO-1", "2022-01-01T00:00:00Z", "2023-01-01T00:00:00Z"],
          ["GO-2", undefined, undefined],
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a zip entry that fails its checks is skipped, the rest read", {
    skip: !existsSync(zipOf("npm")),
  }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "osv-"));
    try {
      const copy = path.join(dir, "all.zip");
      copyFileSync(zipOf("npm"), copy);
      const { readFileSync } = await import("node:fs");
      const bytes = readFileSync(copy);
      // First local header: 30 bytes, then the name and extra field, then the deflated data.
      const dataStart = 30 + bytes.readUInt16LE(26) + bytes.readUInt16LE(28);
      for (let i = 0; i < 40; i++) bytes[dataStart + 20 + i] = (bytes[dataStart + 20 + i] as number) ^ 0x5a;
      writeFileSync(copy, bytes);
      const { advisories, warnings } = await readAll("npm", copy);
      assert.equal(advisories.length, 466);
      assert.equal(warnings.filter((w) => w.includes("NSWG-ECO-1.json")).length, 1);
      assert.match(warnings.find((w) => w.includes("NSWG-ECO-1.json")) ?? "", /skipped$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("osvToAdvisory", () => {
  const convert = (record: unknown, ecosystem?: string) => {
    const warnings: string[] = [];
    const advisory = osvToAdvisory(record, { source: "osv-test", ecosystem, warn: (m) => warnings.push(m) });
    return { advisory, warnings };
  };

  test("records without an object or an id are skipped with a warning", () => {
    assert.deepEqual(convert("x").warnings, ["osv-test: record is not a JSON object; skipped"]);
    assert.deepEqual(convert({ summary: "s" }).warnings, ["osv-test: record without an id; skipped"]);
    assert.equal(convert({ id: " " }).advisory, undefined);
  });

  test("GHSA: database severity, per-package and record severities, aliases, upstream; related dropped", () => {
    const { advisory, warnings } = convert(
      {
        id: "GHSA-aaaa-bbbb-cccc",
        aliases: ["CVE-2024-0001", "CVE-2024-0001", "GHSA-aaaa-bbbb-cccc"],
        upstream: ["CVE-2024-0002"],
        related: ["CVE-2023-9999"],
        published: "2024-01-02 03:04:05+00:00",
        modified: "2024-02-01T00:00:00.123Z",
        database_specific: { severity: "MODERATE" },
        severity: [
          { type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" },
          { type: "CVSS_V2", score: "AV:N/AC:L/Au:N/C:P/I:P/A:P" },
          { type: "CVSS_V3", score: "AV:N/AC:L/Au:N/C:P/I:P/A:P" },
          { type: "CVSS_V3", score: "CVSS:3.1/AV:N" },
          { type: "CVSS_V9", score: "whatever" },
          { score: 5 },
        ],
        affected: [
          {
            package: { ecosystem: "NuGet", name: "Newtonsoft.Json" },
            severity: [
              { type: "CVSS_V4", score: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N" },
            ],
            ranges: [
              {
                type: "ECOSYSTEM",
                events: [{ introduced: "0" }, { fixed: "13.0.1" }, { bogus: "1" }, { fixed: 3 }],
              },
              { type: "GIT", repo: "https://example.com/r", events: [{ introduced: "abc" }] },
              { type: "WEIRD", events: [] },
              { type: "SEMVER", events: "nope" },
              { type: "ECOSYSTEM", events: [] },
            ],
          },
          {
            package: { ecosystem: "Maven", name: "org.example:lib" },
            ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "1" }] }],
          },
          { package: { name: "no-ecosystem" } },
        ],
      },
      "NuGet",
    );
    assert.deepEqual(advisory, {
      id: "GHSA-aaaa-bbbb-cccc",
      aliases: ["CVE-2024-0001", "CVE-2024-0002"],
      source: "osv-test",
      published: "2024-01-02T03:04:05Z",
      modified: "2024-02-01T00:00:00.123Z",
      vendorSeverity: "moderate",
      references: [],
      severities: [
        {
          type: "CVSS_V4",
          vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
          score: 9.3,
          source: "ghsa",
        },
        {
          type: "CVSS_V3",
          vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
          score: 9.8,
          source: "ghsa",
        },
        { type: "CVSS_V2", vector: "AV:N/AC:L/Au:N/C:P/I:P/A:P", score: 7.5, source: "ghsa" },
        { type: "CVSS_V3", vector: "CVSS:3.1/AV:N", source: "ghsa" },
      ],
      affected: [
        {
          ecosystem: "NuGet",
          name: "newtonsoft.json",
          ranges: [{ scheme: "nuget", events: [{ introduced: "0" }, { fixed: "13.0.1" }] }],
        },
      ],
    });
    assert.deepEqual(warnings, [
      'osv-test GHSA-aaaa-bbbb-cccc NuGet/Newtonsoft.Json: malformed range event {"bogus":"1"}; skipped',
      'osv-test GHSA-aaaa-bbbb-cccc NuGet/Newtonsoft.Json: malformed range event {"fixed":3}; skipped',
      'osv-test GHSA-aaaa-bbbb-cccc NuGet/Newtonsoft.Json: unknown range type "WEIRD"; skipped',
      "osv-test GHSA-aaaa-bbbb-cccc NuGet/Newtonsoft.Json: range without an events list; skipped",
      "osv-test GHSA-aaaa-bbbb-cccc: affected entry without package ecosystem and name; skipped",
      'osv-test GHSA-aaaa-bbbb-cccc: CVSS_V3 severity with an unusable vector "AV:N/AC:L/Au:N/C:P/I:P/A:P"; skipped',
      'osv-test GHSA-aaaa-bbbb-cccc: could not score CVSS_V3 vector "CVSS:3.1/AV:N"',
      'osv-test GHSA-aaaa-bbbb-cccc: malformed severity {"score":5}; skipped',
    ]);
  });

  test("a record affecting only other ecosystems belongs to their sources", () => {
    const record = { id: "GHSA-x", affected: [{ package: { ecosystem: "Maven", name: "a:b" } }] };
    assert.deepEqual(convert(record, "npm"), { advisory: undefined, warnings: [] });
    assert.equal(convert(record, "Maven").advisory?.affected.length, 1);
    // Release-qualified sources keep their release only.
    const alma = {
      id: "ALSA-1",
      affected: [
        { package: { ecosystem: "AlmaLinux:8", name: "p" } },
        { package: { ecosystem: "AlmaLinux:9", name: "p" } },
      ],
    };
    assert.deepEqual(
      convert(alma, "AlmaLinux:9").advisory?.affected.map((a) => a.ecosystem),
      ["AlmaLinux:9"],
    );
    assert.equal(convert(alma, "AlmaLinux").advisory?.affected.length, 2);
  });

  test("distro records: Ubuntu severities, related CVEs as aliases, apk and dpkg schemes", () => {
    const { advisory } = convert(
      {
        id: "USN-1-1",
        related: ["CVE-2024-1", "UBUNTU-CVE-2024-1"],
        severity: [{ type: "Ubuntu", score: "Medium" }],
        affected: [
          {
            package: { ecosystem: "Ubuntu:22.04:LTS", name: "openssl" },
            ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "3.0.2-0ubuntu1.15" }] }],
          },
        ],
      },
      "Ubuntu",
    );
    assert.deepEqual(advisory?.aliases, ["CVE-2024-1", "UBUNTU-CVE-2024-1"]);
    assert.equal(advisory?.vendorSeverity, "medium");
    assert.equal(advisory?.affected[0]?.ranges[0]?.scheme, "dpkg");
    assert.equal(advisory?.affected[0]?.ecosystem, "Ubuntu:22.04:LTS");
  });

  test("an ECOSYSTEM range in an ecosystem without a scheme is skipped with a warning", () => {
    const { advisory, warnings } = convert({
      id: "X-1",
      affected: [
        {
          package: { ecosystem: "Hackage", name: "aeson" },
          ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }] }],
          versions: ["1", 2],
        },
      ],
    });
    assert.deepEqual(advisory?.affected, [
      { ecosystem: "Hackage", name: "aeson", ranges: [], versions: ["1"] },
    ]);
    assert.deepEqual(warnings, [
      'osv-test X-1 Hackage/aeson: no versioning scheme for ecosystem "Hackage"; range skipped',
    ]);
  });

  test("Go imports with platforms", () => {
    const { advisory } = convert({
      id: "GO-1",
      affected: [
        {
          package: { ecosystem: "Go", name: "stdlib" },
          ecosystem_specific: {
            imports: [
              { path: "crypto/x509", goos: ["windows"], symbols: ["Certificate.Verify"] },
              { path: "os/exec", goos: ["linux", "darwin"], goarch: ["amd64"] },
              { symbols: ["no path"] },
            ],
          },
        },
      ],
    });
    assert.equal(
      advisory?.affected[0]?.detail,
      "crypto/x509 (windows): Certificate.Verify; os/exec (linux,darwin/amd64)",
    );
  });
});

describe("helpers", () => {
  test("schemeNameForEcosystem", () => {
    const table: [string, string | undefined][] = [
      ["npm", "semver"],
      ["crates.io", "semver"],
      ["Go", "go"],
      ["PyPI", "pep440"],
      ["Maven", "maven"],
      ["RubyGems", "rubygems"],
      ["Packagist", "composer"],
      ["NuGet", "nuget"],
      ["Alpine:v3.18", "apk"],
      ["Debian:12", "dpkg"],
      ["Ubuntu:Pro:22.04:LTS", "dpkg"],
      ["AlmaLinux:8", "rpm"],
      ["Rocky Linux:9", "rpm"],
      ["Red Hat:enterprise_linux:9::appstream", "rpm"],
      ["openSUSE:Leap 15.5", "rpm"],
      ["SUSE:Linux Enterprise Server 15 SP5", "rpm"],
      ["Hackage", undefined],
    ];
    for (const [ecosystem, scheme] of table)
      assert.equal(schemeNameForEcosystem(ecosystem), scheme, ecosystem);
  });

  test("names and timestamps", () => {
    assert.equal(normalizePackageName("PyPI", "Zope.Interface__x"), "zope-interface-x");
    assert.equal(normalizePackageName("NuGet", "Newtonsoft.Json"), "newtonsoft.json");
    assert.equal(normalizePackageName("Packagist", "Symfony/HTTP-Kernel"), "symfony/http-kernel");
    assert.equal(normalizePackageName("Maven", "org.Example:Lib"), "org.Example:Lib");
    assert.equal(normalizeTimestamp("0001-01-01T00:00:00Z"), undefined);
    assert.equal(normalizeTimestamp("2024-10-10T17:22:00Z"), "2024-10-10T17:22:00Z");
    assert.equal(normalizeTimestamp("2021-06-01 10:00:00+02:00"), "2021-06-01T08:00:00Z");
    assert.equal(normalizeTimestamp("yesterday"), undefined);
    assert.equal(normalizeTimestamp(42), undefined);
  });

  test("one source per default ecosystem, named osv-<ecosystem>, reading the OSV bucket", () => {
    const sources = defaultOsvSources();
    assert.equal(sources.length, DEFAULT_OSV_ECOSYSTEMS.length);
    for (const e of [
      "npm",
      "PyPI",
      "Go",
      "crates.io",
      "RubyGems",
      "Packagist",
      "Maven",
      "NuGet",
      "AlmaLinux",
      "Rocky Linux",
      "Debian",
      "Ubuntu",
      "Alpine",
    ]) {
      assert.ok(DEFAULT_OSV_ECOSYSTEMS.includes(e), e);
    }
    const rocky = osvSource("Rocky Linux");
    assert.equal(rocky.name, "osv-Rocky-Linux");
    assert.equal(rocky.version, 1);
    assert.deepEqual(rocky.inputs, [
      {
        url: "https://osv-vulnerabilities.storage.googleapis.com/Rocky%20Linux/all.zip",
        mirrorPath: "osv/Rocky Linux/all.zip",
      },
    ]);
    assert.deepEqual(osvSource("PyPI").inputs, [
      {
        url: "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip",
        mirrorPath: "osv/PyPI/all.zip",
      },
    ]);
  });
});
