import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { before, describe, test } from "node:test";
import semver from "semver";
import { sharedDir } from "../../../test/harness/paths.js";
import type { FeedInput } from "../source.js";
import type { Advisory, AffectedRange } from "../types.js";
import { type NodeCoreRecord, nodeAdvisory, nodejsSource, nodeRanges, semverSuccessor } from "./nodejs.js";

const ZIP = path.join(sharedDir, "vulndata/nodejs/security-wg-vuln.zip");

async function readAll(inputs: FeedInput[]): Promise<{ advisories: Advisory[]; warnings: string[] }> {
  const warnings: string[] = [];
  const advisories: Advisory[] = [];
  for await (const a of nodejsSource.read(inputs, { warn: (m) => warnings.push(m) })) advisories.push(a);
  return { advisories, warnings };
}

/** OSV evaluation of one SEMVER range (introduced opens; fixed, limit close; last_affected closes after). */
function inRange(range: AffectedRange, version: string): boolean {
  let inside = false;
  let limited = false;
  for (const e of range.events) {
    const [kind, bound] = Object.entries(e)[0] as [string, string];
    const c = bound === "0" ? 1 : semver.compare(version, bound);
    if (kind === "introduced" && c >= 0) inside = true;
    if (kind === "fixed" && c >= 0) inside = false;
    if (kind === "last_affected" && c > 0) inside = false;
    if (kind === "limit" && c >= 0) limited = true;
  }
  return inside && !limited;
}

const affects = (a: Advisory, version: string) =>
  a.affected[0]?.ranges.some((r) => inRange(r, version)) ?? false;

/** is-my-node-vulnerable's own rule. */
const checker = (r: NodeCoreRecord, version: string) =>
  semver.satisfies(version, r.vulnerable ?? "") && !semver.satisfies(version, r.patched ?? "");

describe("nodejs-core: range conversion", () => {
  const events = (vulnerable: string, patched: string) =>
    nodeRanges(vulnerable, patched).map((r) => r.events);

  test("each release line: introduced at the line, fixed at its lowest patched version", () => {
    assert.deepEqual(events("10.x || 12.x || 14.x || 15.x", "^10.23.1 || ^12.20.1 || ^14.15.4 || ^15.5.1"), [
      [{ introduced: "10.0.0" }, { fixed: "10.23.1" }],
      [{ introduced: "12.0.0" }, { fixed: "12.20.1" }],
      [{ introduced: "14.0.0" }, { fixed: "14.15.4" }],
      [{ introduced: "15.0.0" }, { fixed: "15.5.1" }],
    ]);
  });

  test("a line with no patched version ends with limit at the next line, not a fix", () => {
    // Record 1: 5.x was never fixed (end of life); 6.0.0 is where the 6.x alternative takes over.
    assert.deepEqual(events("8.x || 7.x || 4.x || 6.x || 5.x", "^8.1.4 || ^7.10.1 || ^4.8.4 || ^6.11.1"), [
      [{ introduced: "4.0.0" }, { fixed: "4.8.4" }],
      [{ introduced: "5.0.0" }, { limit: "6.0.0" }],
      [{ introduced: "6.0.0" }, { fixed: "6.11.1" }],
      [{ introduced: "7.0.0" }, { fixed: "7.10.1" }],
      [{ introduced: "8.0.0" }, { fixed: "8.1.4" }],
    ]);
    // Record 51: only 9.7.x regressed; 9.8.0 is outside `vulnerable`, and the 9.11.2 fix is beyond it.
    assert.deepEqual(events("9.7.x || 10.x", "^9.11.2 || ^10.4.1"), [
      [{ introduced: "9.7.0" }, { limit: "9.8.0" }],
      [{ introduced: "10.0.0" }, { fixed: "10.4.1" }],
    ]);
  });

  test("an explicit upper bound in `vulnerable` is a fix; an exact version is last_affected", () => {
    // Record 24: ">=6.0.0 <6.2.0" — 6.2.0 fixed it (V8 update), though `patched` names no 6.x.
    assert.deepEqual(events(">=6.0.0 <6.2.0 || 5.x || 4.x", "^4.4.6 || ^5.12.0"), [
      [{ introduced: "4.0.0" }, { fixed: "4.4.6" }],
      [{ introduced: "5.0.0" }, { fixed: "5.12.0" }],
      [{ introduced: "6.0.0" }, { fixed: "6.2.0" }],
    ]);
    // Record 42: only 8.5.0.
    assert.deepEqual(events("8.5.0", "^8.6.0"), [[{ introduced: "8.5.0" }, { last_affected: "8.5.0" }]]);
  });

  test("a range over several lines is cut at each line's fix", () => {
    // Record 54: "<= 10" with 6.x, 8.x and 10.x patched: 7.x and 9.x (end of life) stay affected.
    assert.deepEqual(events("<= 10", "^6.14.4 || ^8.11.4 || >= 10.9.0"), [
      [{ introduced: "0" }, { fixed: "6.14.4" }],
      [{ introduced: "7.0.0" }, { fixed: "8.11.4" }],
      [{ introduced: "9.0.0" }, { fixed: "10.9.0" }],
    ]);
    // Record 43: caret lower bounds in `vulnerable`.
    assert.deepEqual(events("^4.8.2 || ^6.10.2  || 8.x", "^4.8.5 || ^6.11.5 || ^8.8.0"), [
      [{ introduced: "4.8.2" }, { fixed: "4.8.5" }],
      [{ introduced: "6.10.2" }, { fixed: "6.11.5" }],
      [{ introduced: "8.0.0" }, { fixed: "8.8.0" }],
    ]);
  });

  test("a bare patched version is its line's fix, not a single patched release", () => {
    // Record 26 ("4.4.2") and record 69 ("15.2.1"): literally, 4.4.3+ would be vulnerable again.
    assert.deepEqual(events("5.x || 4.x", "^5.10.0 || 4.4.2"), [
      [{ introduced: "4.0.0" }, { fixed: "4.4.2" }],
      [{ introduced: "5.0.0" }, { fixed: "5.10.0" }],
    ]);
  });

  test("an exclusive lower bound starts at the least version above it", () => {
    assert.equal(semverSuccessor("1.2.3"), "1.2.4-0");
    assert.equal(semverSuccessor("1.2.3-rc.1"), "1.2.3-rc.1.0");
    assert.deepEqual(events(">1.2.3 <2.0.0", ""), [[{ introduced: "1.2.4-0" }, { fixed: "2.0.0" }]]);
    // A patched range ending inclusively: the affected part starts just above it.
    assert.deepEqual(events("1.x", "<=1.4.0"), [[{ introduced: "1.4.1-0" }, { limit: "2.0.0" }]]);
  });

  test("an unparsable range is an error for that record", () => {
    assert.throws(() => nodeAdvisory("999", { vulnerable: "not a range !!", patched: "" }), TypeError);
    assert.throws(() => nodeAdvisory("999", { patched: "^1.0.0" }), /no `vulnerable`/);
  });
});

describe("nodejs-core: the security-wg snapshot (vuln/core, 171 records)", () => {
  let advisories: Advisory[];
  let warnings: string[];
  let records: Record<string, NodeCoreRecord>;
  before(async () => {
    ({ advisories, warnings } = await readAll([{ path: ZIP, origin: "mirror" }]));
    // The published index.json (the official input) is also inside the zip: compare against it.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nodejs-core-"));
    const { zipEntries } = await import("./archive.js");
    for await (const e of zipEntries(ZIP, { filter: (n) => n === "vuln/core/index.json" })) {
      fs.writeFileSync(path.join(dir, "index.json"), e.content);
    }
    records = JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8"));
    fs.rmSync(dir, { recursive: true });
  });

  test("171 records, all converted, none warned about", () => {
    assert.equal(advisories.length, 171);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      advisories.map((a) => a.id),
      Array.from({ length: 171 }, (_, i) => `NSWG-CORE-${i + 1}`),
    );
    for (const a of advisories) {
      assert.equal(a.source, "nodejs-core");
      assert.equal(a.affected.length, 1);
      assert.equal(a.affected[0]?.ecosystem, "Node.js");
      assert.equal(a.affected[0]?.name, "node");
      assert.ok(a.affected[0]?.ranges.length, a.id);
      for (const r of a.affected[0]?.ranges ?? []) assert.equal(r.scheme, "semver");
    }
  });

  test("the official index.json gives the same advisories as the per-record files", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nodejs-core-"));
    try {
      const file = path.join(dir, "index.json");
      fs.writeFileSync(file, JSON.stringify(records));
      const fromIndex = await readAll([{ path: file, origin: "index.json" }]);
      assert.deepEqual(fromIndex.advisories, advisories);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  test("ids, aliases, severity, references of real records", () => {
    const byId = new Map(advisories.map((a) => [a.id, a]));
    const r70 = byId.get("NSWG-CORE-70");
    assert.deepEqual(r70?.aliases, ["CVE-2020-8265"]);
    assert.equal(r70?.vendorSeverity, "high");
    assert.deepEqual(r70?.references, [
      { type: "ADVISORY", url: "https://nodejs.org/en/blog/vulnerability/january-2021-security-releases/" },
    ]);
    // Record 2 has no CVE and severity "unknown".
    assert.deepEqual(byId.get("NSWG-CORE-2")?.aliases, []);
    assert.equal(byId.get("NSWG-CORE-2")?.vendorSeverity, undefined);
    // Record 62: eight HTTP/2 CVEs.
    assert.equal(byId.get("NSWG-CORE-62")?.aliases.length, 8);
    // CVE-2024-27980 is in two records (141, 150): a CVE cannot be the id.
    assert.deepEqual(
      advisories.filter((a) => a.aliases.includes("CVE-2024-27980")).map((a) => a.id),
      ["NSWG-CORE-141", "NSWG-CORE-150"],
    );
    // Record 18 states a CVSS 3.0 vector and score.
    assert.deepEqual(byId.get("NSWG-CORE-18")?.severities, [
      {
        type: "CVSS_V3",
        vector: "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N",
        score: 4.8,
        source: "nodejs-core",
      },
    ]);
    assert.equal(byId.get("NSWG-CORE-98")?.affected[0]?.detail, "platforms: win32");
    assert.equal(byId.get("NSWG-CORE-99")?.affected[0]?.detail, "platforms: linux");
    assert.equal(byId.get("NSWG-CORE-70")?.affected[0]?.detail, undefined);
    assert.equal(byId.get("NSWG-CORE-53")?.published, "2018-08-16T00:00:00Z");
  });

  test("ranges agree with is-my-node-vulnerable's rule except where a bare patched version is read as its line's fix", () => {
    // Every version the data names, its neighbours, and every line start.
    const versions = new Set<string>();
    for (const r of Object.values(records)) {
      for (const m of `${r.vulnerable} ${r.patched}`.matchAll(/(\d+)\.(\d+)\.(\d+)/g)) {
        const [maj, min, pat] = [Number(m[1]), Number(m[2]), Number(m[3])];
        versions.add(`${maj}.${min}.${pat}`);
        versions.add(`${maj}.${min}.${pat + 1}`);
        if (pat > 0) versions.add(`${maj}.${min}.${pat - 1}`);
        versions.add(`${maj}.${min + 1}.0`);
      }
    }
    for (let major = 0; major <= 26; major++) versions.add(`${major}.0.0`);
    versions.add("0.10.0");
    versions.add("0.12.0");
    const disagreements: string[] = [];
    for (const a of advisories) {
      const n = a.id.replace("NSWG-CORE-", "");
      const record = records[n] as NodeCoreRecord;
      for (const v of versions) {
        if (affects(a, v) !== checker(record, v))
          disagreements.push(`${n}@${v}:${affects(a, v) ? "ours" : "checker"}`);
      }
    }
    // All of them: versions after the bare fix on its line, which the checker (literally) calls vulnerable.
    for (const d of disagreements) {
      const [n, rest] = d.split("@") as [string, string];
      const [v, who] = rest.split(":") as [string, string];
      assert.equal(who, "checker", d);
      if (n === "26") assert.ok(semver.satisfies(v, ">4.4.2 <5.0.0-0"), d);
      else if (n === "69") assert.ok(semver.satisfies(v, ">15.2.1 <16.0.0-0"), d);
      else assert.fail(`unexpected disagreement ${d}`);
    }
    assert.ok(disagreements.length > 0);
  });

  test("Node.js 14.15.0 (the testbed's runtime) is affected by 36 records", () => {
    // 14.15.0 shipped 2020-10-27 (the 14.x LTS start); the 14.x fixes after it, by record and the
    // 14.x entry of its `patched`:
    const expected: Record<string, [string, string]> = {
      69: ["CVE-2020-8277", "14.15.1"], // c-ares DNS DoS, November 2020 release
      70: ["CVE-2020-8265", "14.15.4"], // TLS use-after-free, January 2021 release
      71: ["CVE-2020-8287", "14.15.4"], // HTTP request smuggling
      72: ["CVE-2020-1971", "14.15.4"], // OpenSSL EDIPARTYNAME NULL dereference
      73: ["CVE-2021-22883", "14.16.0"],
      74: ["CVE-2021-22884", "14.16.0"],
      75: ["CVE-2021-23840", "14.16.0"],
      76: ["CVE-2021-3450", "14.16.1"],
      77: ["CVE-2021-3449", "14.16.1"],
      78: ["CVE-2020-7774", "14.16.1"],
      79: ["CVE-2021-22930", "14.17.4"],
      80: ["CVE-2021-22921", "14.17.2"], // win32 only
      83: ["CVE-2021-22918", "14.17.2"],
      84: ["CVE-2021-22931", "14.17.5"],
      85: ["CVE-2021-22940", "14.17.5"],
      86: ["CVE-2021-22939", "14.17.5"],
      87: ["CVE-2021-37701", "14.17.6"],
      88: ["CVE-2021-22959", "14.18.1"],
      89: ["CVE-2021-44531", "14.18.3"],
      90: ["CVE-2021-44532", "14.18.3"],
      91: ["CVE-2021-44533", "14.18.3"],
      92: ["CVE-2022-21824", "14.18.3"],
      93: ["CVE-2022-0778", "14.19.1"],
      94: ["CVE-2022-32215", "14.20.1"],
      95: ["CVE-2022-32214", "14.20.0"],
      96: ["CVE-2022-32212", "14.20.1"],
      97: ["CVE-2022-32213", "14.20.1"],
      98: ["CVE-2022-32223", "14.20.0"], // win32 only
      99: ["CVE-2022-32222", "14.20.0"], // linux only
      100: ["CVE-2022-35256", "14.20.1"],
      102: ["CVE-2022-43548", "14.21.1"],
      103: ["CVE-2023-23918", "14.21.3"],
      104: ["CVE-2023-23919", "14.21.3"],
      105: ["CVE-2023-23936", "14.21.3"],
      106: ["CVE-2023-24807", "14.21.3"],
      107: ["CVE-2023-23920", "14.21.3"],
    };
    const hits = advisories.filter((a) => affects(a, "14.15.0"));
    assert.deepEqual(
      hits.map((a) => a.id),
      Object.keys(expected).map((n) => `NSWG-CORE-${n}`),
    );
    for (const a of hits) {
      const [cve, fix] = expected[a.id.replace("NSWG-CORE-", "")] as [string, string];
      assert.equal(a.aliases[0], cve);
      // The fix reported for 14.15.0 is the 14.x one: the range that holds 14.15.0 ends there.
      const range = a.affected[0]?.ranges.find((r) => inRange(r, "14.15.0"));
      assert.deepEqual(range?.events, [{ introduced: "14.0.0" }, { fixed: fix }], a.id);
    }
    // Fixed before 14.15.0: CVE-2020-8201 and CVE-2020-8251 (14.11.0), CVE-2020-8252 (14.9.0).
    for (const n of [66, 67, 68]) {
      const a = advisories[n - 1] as Advisory;
      assert.equal(affects(a, "14.15.0"), false, a.id);
      assert.equal(affects(a, "14.8.0"), true, a.id);
    }
    // The next release, 14.15.1, fixes record 69 only.
    assert.equal(advisories.filter((a) => affects(a, "14.15.1")).length, 35);
  });
});

describe("nodejs-core: malformed input", () => {
  test("a bad record is warned about and skipped; the rest are read", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nodejs-core-"));
    try {
      const core = path.join(dir, "vuln", "core");
      fs.mkdirSync(core, { recursive: true });
      fs.writeFileSync(
        path.join(core, "1.json"),
        JSON.stringify({ cve: ["CVE-1"], vulnerable: "1.x", patched: "^1.2.3" }),
      );
      fs.writeFileSync(path.join(core, "2.json"), "{ not json");
      fs.writeFileSync(path.join(core, "3.json"), JSON.stringify({ vulnerable: ">>> nonsense" }));
      fs.writeFileSync(path.join(core, "4.json"), JSON.stringify([1, 2]));
      const { advisories, warnings } = await readAll([{ path: dir, origin: "checkout" }]);
      assert.deepEqual(
        advisories.map((a) => [a.id, a.affected[0]?.ranges.map((r) => r.events)]),
        [["NSWG-CORE-1", [[{ introduced: "1.0.0" }, { fixed: "1.2.3" }]]]],
      );
      assert.equal(warnings.length, 3);
      assert.match(warnings.join("\n"), /vuln\/core\/2\.json/);
      assert.match(warnings.join("\n"), /vuln\/core\/3: Invalid comparator/);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  test("a file that is neither an index nor a record fails the source", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nodejs-core-"));
    try {
      const file = path.join(dir, "index.json");
      fs.writeFileSync(file, "[]");
      await assert.rejects(readAll([{ path: file, origin: "x" }]), /not a vuln\/core index/);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});
