import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { before, describe, test } from "node:test";
import { sharedDir } from "../../../test/harness/paths.js";
import type { Advisory, RangeEvent } from "../types.js";
import {
  compareGemVersions,
  gemAffectedEvents,
  gemBump,
  gemCanonicalSegments,
  isGemVersion,
  rubysecSource,
} from "./rubysec.js";

const ZIP = path.join(sharedDir, "vulndata/rubysec/ruby-advisory-db.zip");

async function readAll(p: string): Promise<{ advisories: Advisory[]; warnings: string[] }> {
  const warnings: string[] = [];
  const advisories: Advisory[] = [];
  for await (const a of rubysecSource.read([{ path: p, origin: "test" }], {
    warn: (m) => warnings.push(m),
  })) {
    advisories.push(a);
  }
  return { advisories, warnings };
}

/** OSV evaluation of one event list under Gem::Version ordering. */
function inEvents(events: RangeEvent[], version: string): boolean {
  let inside = false;
  for (const e of events) {
    const [kind, bound] = Object.entries(e)[0] as [string, string];
    const c = bound === "0" ? 1 : compareGemVersions(version, bound);
    if (kind === "introduced" && c >= 0) inside = true;
    else if (kind === "fixed" && c >= 0) inside = false;
    else if (kind === "last_affected" && c > 0) inside = false;
  }
  return inside;
}

describe("rubysec: Gem::Version", () => {
  test("ordering as RubyGems orders", () => {
    const cases: [string, string, number][] = [
      ["1.0", "1.0.0", 0],
      ["1.0.0.0", "1", 0],
      ["1.10", "1.9", 1],
      ["1.0.0.rc1", "1.0.0", -1],
      ["1.0.0.rc1", "1.0.0.beta2", 1],
      ["1.0.0.rc1", "0.99", 1],
      ["2.0.0-alpha", "2.0.0.pre.alpha", 0], // "-" is read as ".pre."
      ["2.0.0-alpha", "2.0.0.beta1", 1], // "pre" sorts after "beta"
      ["5.2.4.3", "5.2.4", 1],
      ["5.3.0.rc1", "5.3.A", 1],
      ["5.3.A", "5.2.99", 1],
      ["5.3.A", "5.3", -1],
      ["1.0.A", "1.0.a", -1], // byte order: upper case first
      ["1.13.7.0.1", "1.13.7", 1],
      ["1.13.7.0.1", "1.13.7.1", -1],
      ["1.13.7.0.1", "1.13.8.rc1", -1],
      ["1.2.3.a.1", "1.2.3.a", 1],
      ["1.2.3.a.0", "1.2.3.a", 0], // trailing zeros of the prerelease part too
      ["20240101000000000000.1", "20240101000000000000", 1], // no float precision loss
    ];
    for (const [a, b, want] of cases) {
      assert.equal(Math.sign(compareGemVersions(a, b)), want, `${a} <=> ${b}`);
      assert.equal(Math.sign(compareGemVersions(b, a)), 0 - want || 0, `${b} <=> ${a}`);
    }
    assert.deepEqual(gemCanonicalSegments("1.0.0.rc.0.1"), [1n, "rc", 0n, 1n]);
    assert.deepEqual(gemCanonicalSegments("1.0.0.pre.0"), [1n, "pre"]);
  });

  test("validity", () => {
    for (const v of ["1", "1.2.3", "1.0.0.rc1", "2.0.0-alpha", "2.6.0-preview1", " 1.2 ", ""]) {
      assert.equal(isGemVersion(v), true, v);
    }
    for (const v of ["v1.0", "1..2", "1.2-", "abc", "1.2 3", ">= 1"]) assert.equal(isGemVersion(v), false, v);
  });

  test("bump, as ~> uses it", () => {
    const cases: [string, string][] = [
      ["5.2.4", "5.3"],
      ["5.2.4.3", "5.2.5"],
      ["1", "2"],
      ["1.0", "2"],
      ["0", "1"],
      ["1.0.0.rc1", "1.1"],
      ["1.0.rc.1", "2"],
    ];
    for (const [v, want] of cases) assert.equal(gemBump(v), want, v);
  });
});

describe("rubysec: requirements to OSV events", () => {
  test("no patched or unaffected versions: every version", () => {
    assert.deepEqual(gemAffectedEvents([], []), [{ introduced: "0" }]);
  });

  test("plain bounds", () => {
    assert.deepEqual(gemAffectedEvents([">= 1.2.3"], []), [{ introduced: "0" }, { fixed: "1.2.3" }]);
    // gtk2 CVE-2007-6183: "> 0.16.0" patched — 0.16.0 is the last affected version.
    assert.deepEqual(gemAffectedEvents(["> 0.16.0"], []), [{ introduced: "0" }, { last_affected: "0.16.0" }]);
    assert.deepEqual(gemAffectedEvents([], ["< 2.0"]), [{ introduced: "2.0" }]);
    assert.deepEqual(gemAffectedEvents(["!= 1.5"], []), [{ introduced: "1.5" }, { last_affected: "1.5" }]);
    assert.deepEqual(gemAffectedEvents(["1.5"], []), [
      { introduced: "0" },
      { fixed: "1.5" },
      { introduced: "1.5.0.1" },
    ]);
  });

  test("~> with a minimum: the next line's prereleases are affected, from <bump>.A", () => {
    // actionpack CVE-2020-8164: unaffected < 4.0.0; patched 5.2.4.3+ on 5.2.x and 6.0.3.1+.
    const events = gemAffectedEvents(["~> 5.2.4, >= 5.2.4.3", ">= 6.0.3.1"], ["< 4.0.0"]);
    assert.deepEqual(events, [
      { introduced: "4.0.0" },
      { fixed: "5.2.4.3" },
      { introduced: "5.3.A" },
      { fixed: "6.0.3.1" },
    ]);
    const affected = (v: string) => inEvents(events, v);
    for (const v of [
      "4.0.0",
      "4.2.11.1",
      "5.2.3",
      "5.2.4",
      "5.2.4.2",
      "5.3.0.rc1",
      "5.3.0",
      "6.0.0",
      "6.0.3",
    ]) {
      assert.equal(affected(v), true, v);
    }
    for (const v of ["3.2.22", "4.0.0.rc1", "5.2.4.3", "5.2.4.4", "5.2.8.1", "6.0.3.1", "6.1.0", "7.0.0"]) {
      assert.equal(affected(v), false, v);
    }
  });

  test("several pessimistic lines and a prerelease", () => {
    // rubies/ruby CVE-2018-8779.
    const events = gemAffectedEvents(
      ["~> 2.2.10", "~> 2.3.7", "~> 2.4.4", "~> 2.5.1", "> 2.6.0-preview1"],
      [],
    );
    assert.deepEqual(events, [
      { introduced: "0" },
      { fixed: "2.2.10" },
      { introduced: "2.3.A" },
      { fixed: "2.3.7" },
      { introduced: "2.4.A" },
      { fixed: "2.4.4" },
      { introduced: "2.5.A" },
      { fixed: "2.5.1" },
      { introduced: "2.6.A" },
      { last_affected: "2.6.0-preview1" },
    ]);
    for (const v of ["2.2.9", "2.3.0", "2.3.6", "2.4.0.rc1", "2.5.0", "2.6.0-preview1"])
      assert.equal(inEvents(events, v), true, v);
    for (const v of ["2.2.10", "2.2.99", "2.3.7", "2.4.10", "2.5.1", "2.6.0-preview2", "2.6.0", "3.0.0"]) {
      assert.equal(inEvents(events, v), false, v);
    }
  });

  test("an exclusive start is written just above the version, never at it", () => {
    // bundler CVE-2020-36327: 2.2.10 was patched, 2.2.11 to 2.2.17 were not.
    const events = gemAffectedEvents(["= 2.2.10", ">= 2.2.18"], ["< 1.16.0"]);
    assert.deepEqual(events, [
      { introduced: "1.16.0" },
      { fixed: "2.2.10" },
      { introduced: "2.2.10.0.1" },
      { fixed: "2.2.18" },
    ]);
    assert.equal(inEvents(events, "2.2.10"), false);
    for (const v of ["2.2.10.1", "2.2.11", "2.2.17", "2.2.11.pre.1"])
      assert.equal(inEvents(events, v), true, v);
    // nokogiri CVE-2022-23476: unaffected <= 1.13.7, patched >= 1.13.10.
    assert.deepEqual(gemAffectedEvents([">= 1.13.10"], ["<= 1.13.7"]), [
      { introduced: "1.13.7.0.1" },
      { fixed: "1.13.10" },
    ]);
  });

  test("an invalid requirement fails the record", () => {
    assert.throws(() => gemAffectedEvents([">= v1.0"], []), /invalid requirement/);
    assert.throws(() => gemAffectedEvents(["=> 1.0"], []), /invalid requirement/);
  });
});

describe("rubysec: the ruby-advisory-db snapshot", () => {
  let advisories: Advisory[];
  let warnings: string[];
  let byId: Map<string, Advisory>;
  before(async () => {
    ({ advisories, warnings } = await readAll(ZIP));
    byId = new Map(advisories.map((a) => [a.id, a]));
  });

  test("1,381 records: 1,234 gems and 147 interpreters, one advisory each, unique ids", () => {
    assert.equal(advisories.length, 1381);
    assert.equal(byId.size, 1381);
    assert.equal(advisories.filter((a) => a.affected[0]?.ecosystem === "RubyGems").length, 1234);
    const rubies = advisories.filter((a) => a.affected[0]?.ecosystem === "Ruby");
    assert.equal(rubies.length, 147);
    assert.deepEqual([...new Set(rubies.map((a) => a.affected[0]?.name))].sort(), [
      "jruby",
      "mruby",
      "mrubyc",
      "rbx",
      "ruby",
    ]);
    // The same CVE under 11 gems stays 11 advisories.
    assert.equal(advisories.filter((a) => a.aliases.includes("CVE-2019-15224")).length, 11);
  });

  test("the only warnings: two records whose own lists leave no version affected", () => {
    // ckeditor: unaffected "< 5.1.2" and patched ">= 5.1.2"; cron_parser: unaffected "< 1.0.12" and "> 0.1.4".
    assert.deepEqual(warnings.sort(), [
      "gems/ckeditor/CVE-2021-32808.yml: patched and unaffected versions cover every version",
      "gems/cron_parser/CVE-2019-15224.yml: patched and unaffected versions cover every version",
    ]);
    assert.deepEqual(byId.get("gems/ckeditor/CVE-2021-32808")?.affected[0]?.ranges, []);
  });

  test("actionpack CVE-2020-8164, whole", () => {
    const a = byId.get("gems/actionpack/CVE-2020-8164");
    assert.ok(a);
    assert.match(a.details ?? "", /^There is a strong parameters bypass vector in ActionPack\./);
    assert.deepEqual(
      { ...a, details: undefined },
      {
        id: "gems/actionpack/CVE-2020-8164",
        aliases: ["CVE-2020-8164", "GHSA-8727-m6gj-mc37"],
        source: "rubysec",
        summary: "Possible Strong Parameters Bypass in ActionPack",
        details: undefined,
        published: "2020-05-18T00:00:00Z",
        references: [
          {
            type: "ADVISORY",
            url: "https://groups.google.com/forum/#!topic/rubyonrails-security/f6ioe4sdpbY",
          },
        ],
        severities: [{ type: "CVSS_V3", vector: "", score: 7.5, source: "rubysec" }],
        affected: [
          {
            ecosystem: "RubyGems",
            name: "actionpack",
            ranges: [
              {
                scheme: "rubygems",
                events: [
                  { introduced: "4.0.0" },
                  { fixed: "5.2.4.3" },
                  { introduced: "5.3.A" },
                  { fixed: "6.0.3.1" },
                ],
              },
            ],
            detail: undefined,
          },
        ],
      },
    );
  });

  test("events of real advisories", () => {
    const events = (id: string) => byId.get(id)?.affected[0]?.ranges[0]?.events;
    // The hijacked rest-client releases 1.6.10 to 1.6.13: unaffected <= 1.6.9 and >= 1.6.14.
    assert.deepEqual(events("gems/rest-client/CVE-2019-15224"), [
      { introduced: "1.6.9.0.1" },
      { fixed: "1.6.14" },
    ]);
    assert.deepEqual(events("gems/nokogiri/CVE-2022-23476"), [
      { introduced: "1.13.7.0.1" },
      { fixed: "1.13.10" },
    ]);
    assert.deepEqual(events("gems/rack/CVE-2018-16470"), [{ introduced: "2.0.3.0.1" }, { fixed: "2.0.6" }]);
    assert.deepEqual(events("gems/cocoapods-downloader/CVE-2022-24440"), [
      { introduced: "0" },
      { fixed: "1.6.0" },
      { introduced: "1.6.2" },
      { fixed: "1.6.3" },
    ]);
    assert.deepEqual(events("gems/gtk2/CVE-2007-6183"), [{ introduced: "0" }, { last_affected: "0.16.0" }]);
    // Only Ruby 4.0.x before 4.0.5 (unaffected "< 4.0").
    assert.deepEqual(events("rubies/ruby/CVE-2026-46727"), [{ introduced: "4.0" }, { fixed: "4.0.5" }]);
    // sinatra: 2.0.0-alpha (= 2.0.0.pre.alpha) sorts after 2.0.0.beta1 and is itself unaffected.
    assert.deepEqual(events("gems/sinatra/CVE-2018-11627"), [
      { introduced: "2.0.0.beta1" },
      { fixed: "2.0.0-alpha" },
      { introduced: "2.0.0-alpha.0.1" },
      { fixed: "2.0.2" },
    ]);
  });

  test("ids, aliases, severities, platform", () => {
    const gtk = byId.get("gems/gtk2/CVE-2007-6183");
    assert.deepEqual(gtk?.aliases, ["CVE-2007-6183", "GHSA-xgj6-pgrm-x4r2", "OSVDB-40774"]);
    assert.deepEqual(
      byId.get("gems/rest-client/CVE-2019-15224")?.severities.map((s) => [s.type, s.score]),
      [
        ["CVSS_V2", 7.5],
        ["CVSS_V3", 9.8],
      ],
    );
    assert.equal(byId.get("gems/nokogiri/CVE-2021-41098")?.affected[0]?.detail, "platform: jruby");
    // resolv's CVE-2025-24294 is filed under the gem and under ruby itself.
    assert.deepEqual(
      advisories
        .filter((a) => a.aliases.includes("CVE-2025-24294"))
        .map((a) => a.id)
        .sort(),
      ["gems/resolv/CVE-2025-24294", "rubies/ruby/CVE-2025-24294"],
    );
    const ruby = byId.get("rubies/ruby/CVE-2026-46727");
    assert.match(ruby?.details ?? "", /Notes:\n- "Ruby 3\.4 series and earlier are not affected\."/);
    // The advisory url, then the related urls it does not repeat.
    assert.equal(ruby?.references.length, 6);
  });

  test("every range agrees with RubyGems' own Gem::Requirement (needs ruby; skipped without)", (t) => {
    if (spawnSync("ruby", ["-e", "require 'rubygems'"]).status !== 0) {
      t.skip("ruby is not installed");
      return;
    }
    // Per record: the versions its requirements name, their neighbours, prereleases and bumps.
    const records: { id: string; reqs: string[]; versions: string[] }[] = [];
    for (const a of advisories) {
      const file = a.id;
      const reqs = requirementsOf.get(file) ?? [];
      const versions = new Set<string>(["0", "0.0.1", "99"]);
      for (const r of reqs) {
        for (const c of r.split(",")) {
          const v = c.trim().replace(/^(~>|>=|<=|!=|=|>|<)\s*/, "");
          for (const s of ["", ".0.1", ".1", ".rc1", ".a", ".A", "-pre", ".1.rc1"]) versions.add(v + s);
          const b = gemBump(v);
          for (const s of ["", ".0.rc1", ".A", ".0.0.1", ".0.RC1"]) versions.add(b + s);
        }
      }
      records.push({ id: file, reqs, versions: [...versions].filter(isGemVersion) });
    }
    const script = `
      require "json"; require "rubygems"
      out = {}
      JSON.parse($stdin.read).each do |r|
        reqs = r["reqs"].map { |s| Gem::Requirement.new(*s.split(/,\\s*/)) }
        out[r["id"]] = r["versions"].map { |v| reqs.any? { |q| q.satisfied_by?(Gem::Version.new(v)) } ? "0" : "1" }.join
      end
      puts JSON.generate(out)`;
    const res = spawnSync("ruby", ["-e", script], { input: JSON.stringify(records), maxBuffer: 1 << 28 });
    assert.equal(res.status, 0, res.stderr.toString());
    const oracle = JSON.parse(res.stdout.toString()) as Record<string, string>;
    let checks = 0;
    const mismatches: string[] = [];
    for (const r of records) {
      const events = byId.get(r.id)?.affected[0]?.ranges[0]?.events ?? [];
      r.versions.forEach((v, i) => {
        checks++;
        const ours = inEvents(events, v) ? "1" : "0";
        if (ours !== oracle[r.id]?.[i]) mismatches.push(`${r.id} ${v}: ours ${ours}`);
      });
    }
    assert.deepEqual(mismatches, []);
    assert.ok(checks > 30_000, `${checks} checks`);
  });
});

/** The raw requirement lists of every record, read straight from the zip for the oracle test. */
const requirementsOf = new Map<string, string[]>();
before(async () => {
  const { zipEntries } = await import("./archive.js");
  const { parse } = await import("yaml");
  for await (const e of zipEntries(ZIP, { filter: (n) => n.endsWith(".yml") })) {
    const y = parse(e.content.toString("utf8"), { schema: "failsafe" }) as Record<string, unknown>;
    const list = (v: unknown) => (Array.isArray(v) ? (v as string[]) : []);
    requirementsOf.set(e.name.replace(/\.yml$/, ""), [
      ...list(y.patched_versions),
      ...list(y.unaffected_versions),
    ]);
  }
});

describe("rubysec: malformed input", () => {
  test("bad records are warned about and skipped; scalars stay strings", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rubysec-"));
    try {
      const write = (rel: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), text);
      };
      // Unquoted 1.10 must not become the number 1.1.
      write(
        "gems/good/CVE-2099-0001.yml",
        "gem: good\ncve: 2099-0001\ntitle: t\ndate: 2099-01-01\ncvss_v3: 5.0\npatched_versions:\n  - 1.10\n",
      );
      write("gems/broken/CVE-2099-0002.yml", "gem: broken\npatched_versions: [unclosed\n");
      write("gems/badreq/CVE-2099-0003.yml", "gem: badreq\npatched_versions:\n  - '>= one'\n");
      write("gems/noname/CVE-2099-0004.yml", "title: no gem\n");
      write("gems/scalar/CVE-2099-0005.yml", "just a string\n");
      write("gems/badscore/CVE-2099-0006.yml", "gem: badscore\ncvss_v3: high\n");
      write("README.md", "not a record\n");
      const { advisories, warnings } = await readAll(dir);
      assert.deepEqual(
        advisories.map((a) => [a.id, a.affected[0]?.ranges[0]?.events, a.severities]),
        [
          ["gems/badscore/CVE-2099-0006", [{ introduced: "0" }], []],
          [
            "gems/good/CVE-2099-0001",
            // A bare version is `= 1.10`: only 1.10 itself is patched.
            [{ introduced: "0" }, { fixed: "1.10" }, { introduced: "1.10.0.1" }],
            [{ type: "CVSS_V3", vector: "", score: 5, source: "rubysec" }],
          ],
        ],
      );
      assert.equal(warnings.length, 5, warnings.join("\n"));
      for (const gem of ["broken", "badreq", "noname", "scalar"]) {
        assert.ok(
          warnings.some((w) => w.includes(`gems/${gem}/`) && w.endsWith("skipped")),
          gem,
        );
      }
      assert.ok(warnings.some((w) => /cvss_v3 "high" is not a CVSS score/.test(w)));
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});
