import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { before, describe, test } from "node:test";
import { sharedDir } from "../../../test/harness/paths.js";
import type { Advisory } from "../types.js";
import { branchEvents, branchTime, friendsOfPhpSource, joinBranches } from "./friendsofphp.js";

const ZIP = path.join(sharedDir, "vulndata/packagist/friendsofphp-security-advisories.zip");

async function readAll(p: string): Promise<{ advisories: Advisory[]; warnings: string[] }> {
  const warnings: string[] = [];
  const advisories: Advisory[] = [];
  for await (const a of friendsOfPhpSource.read([{ path: p, origin: "test" }], {
    warn: (m) => warnings.push(m),
  })) {
    advisories.push(a);
  }
  return { advisories, warnings };
}

describe("friendsofphp: branch constraints", () => {
  test("bounds to events", () => {
    assert.deepEqual(branchEvents([">=1.3.0", "<1.3.1"]).events, [
      { introduced: "1.3.0" },
      { fixed: "1.3.1" },
    ]);
    assert.deepEqual(branchEvents(["<5.20.6"]).events, [{ introduced: "0" }, { fixed: "5.20.6" }]);
    assert.deepEqual(branchEvents(["<=1.7.2"]).events, [{ introduced: "0" }, { last_affected: "1.7.2" }]);
    assert.deepEqual(branchEvents([">=2.0.0", "<=2.1.0"]).events, [
      { introduced: "2.0.0" },
      { last_affected: "2.1.0" },
    ]);
    assert.deepEqual(branchEvents([">= 2.4.4", "< 2.4.4-p9"]).events, [
      { introduced: "2.4.4" },
      { fixed: "2.4.4-p9" },
    ]);
    assert.deepEqual(branchEvents(["=1.2.3"]).events, [{ introduced: "1.2.3" }, { last_affected: "1.2.3" }]);
    assert.deepEqual(branchEvents([">=2"]).events, [{ introduced: "2" }]);
  });

  test("an exclusive lower bound is written inclusive and reported", () => {
    assert.deepEqual(branchEvents([">2.2.4", "<2.2.6"]), {
      events: [{ introduced: "2.2.4" }, { fixed: "2.2.6" }],
      approximated: "> 2.2.4 written as introduced 2.2.4",
    });
  });

  test("what cannot be one branch is an error", () => {
    assert.throws(() => branchEvents([">=1.0", ">=2.0"]), /two lower bounds/);
    assert.throws(() => branchEvents(["<1.0", "<=2.0"]), /two upper bounds/);
    assert.throws(() => branchEvents(["^1.0"]), /unsupported constraint/);
    assert.throws(() => branchEvents([">=1.0 <2.0"]), /unsupported constraint/);
    assert.throws(() => branchEvents([]), /no constraint/);
  });

  test("branches that continue one another are one range; duplicates once", () => {
    assert.deepEqual(
      joinBranches([
        [{ introduced: "2.2.0" }, { fixed: "2.3.0" }],
        [{ introduced: "2.3" }, { fixed: "2.4.0" }], // 2.3 is 2.3.0
        [{ introduced: "2.4.0" }, { fixed: "2.4.9" }],
        [{ introduced: "3.0.0" }, { fixed: "3.0.2" }],
        [{ introduced: "3.0.0" }, { fixed: "3.0.2" }],
      ]),
      [
        [{ introduced: "2.2.0" }, { fixed: "2.4.9" }],
        [{ introduced: "3.0.0" }, { fixed: "3.0.2" }],
      ],
    );
    // A last_affected end does not continue into the next branch (it is inclusive).
    assert.deepEqual(
      joinBranches([
        [{ introduced: "1.0" }, { last_affected: "1.1" }],
        [{ introduced: "1.1" }, { fixed: "1.2" }],
      ]).length,
      2,
    );
  });

  test("branch times", () => {
    assert.equal(branchTime("2018-10-02 00:01:00"), "2018-10-02T00:01:00Z");
    assert.equal(branchTime("2015-05-29 12:53:14 +1200"), "2015-05-29T00:53:14Z");
    assert.equal(branchTime("2015-07-24 0:41:41"), "2015-07-24T00:41:41Z");
    assert.equal(branchTime("2017-11-1 19:02:00"), "2017-11-01T19:02:00Z");
    assert.equal(branchTime("yesterday"), undefined);
  });
});

describe("friendsofphp: the security-advisories snapshot", () => {
  let advisories: Advisory[];
  let warnings: string[];
  let byId: Map<string, Advisory>;
  before(async () => {
    ({ advisories, warnings } = await readAll(ZIP));
    byId = new Map(advisories.map((a) => [a.id, a]));
  });

  test("1,592 records, one advisory each, unique ids, names from `reference`", () => {
    assert.equal(advisories.length, 1592);
    assert.equal(byId.size, 1592);
    for (const a of advisories) {
      assert.equal(a.source, "friendsofphp");
      assert.equal(a.affected.length, 1);
      assert.equal(a.affected[0]?.ecosystem, "Packagist");
      // Every reference here matches its folder.
      assert.equal(a.affected[0]?.name, a.id.split("/").slice(0, 2).join("/"));
      assert.ok(a.affected[0]?.ranges.length);
      for (const r of a.affected[0]?.ranges ?? []) assert.equal(r.scheme, "composer");
    }
    assert.equal(advisories.filter((a) => a.aliases.length > 0).length, 1161);
  });

  test("the only warnings: the seven `>` lower bounds", () => {
    assert.deepEqual(warnings.sort(), [
      "amphp/artax/CVE-2016-5385.yaml: branch 1.x: > 0.7.1 written as introduced 0.7.1",
      "drupal/core/CVE-2019-6342.yaml: branch 8.7.x: > 8.7.3 written as introduced 8.7.3",
      "drupal/drupal/CVE-2019-6342.yaml: branch 8.7.x: > 8.7.3 written as introduced 8.7.3",
      "livewire/livewire/2020-09-22-1.yaml: branch 2.x: > 2.2.4 written as introduced 2.2.4",
      "silverstripe/framework/SS-2015-028-1.yaml: branch 3.3.x: > 3.2 written as introduced 3.2",
      "silverstripe/framework/SS-2016-002-1.yaml: branch 3.3.x: > 3.2 written as introduced 3.2",
      "silverstripe/framework/SS-2016-003-1.yaml: branch 3.3.x: > 3.2 written as introduced 3.2",
    ]);
  });

  test("real advisories, exactly", () => {
    assert.deepEqual(byId.get("adodb/adodb-php/CVE-2016-4855"), {
      id: "adodb/adodb-php/CVE-2016-4855",
      aliases: ["CVE-2016-4855"],
      source: "friendsofphp",
      summary: "XSS vulnerability in old test script",
      published: "2016-08-28T23:50:00Z",
      references: [{ type: "ADVISORY", url: "https://github.com/ADOdb/ADOdb/issues/274" }],
      severities: [],
      affected: [
        {
          ecosystem: "Packagist",
          name: "adodb/adodb-php",
          ranges: [{ scheme: "composer", events: [{ introduced: "0" }, { fixed: "5.20.6" }] }],
        },
      ],
    });
    const events = (id: string) => byId.get(id)?.affected[0]?.ranges.map((r) => r.events);
    assert.deepEqual(events("alterphp/easyadmin-extension-bundle/2018-10-02"), [
      [{ introduced: "1.3.0" }, { fixed: "1.3.1" }],
      [{ introduced: "1.2.0" }, { fixed: "1.2.11" }],
    ]);
    // 16 branches, 2.2.x to 4.3.x; the old ones end where the next begins and got no fix of their own.
    assert.deepEqual(events("symfony/http-kernel/CVE-2019-18887"), [
      [{ introduced: "2.2.0" }, { fixed: "2.8.52" }],
      [{ introduced: "3.0.0" }, { fixed: "3.4.35" }],
      [{ introduced: "4.0.0" }, { fixed: "4.2.12" }],
      [{ introduced: "4.3.0" }, { fixed: "4.3.8" }],
    ]);
    // Magento patch releases: "<2.4.4" and ">=2.4.4, <2.4.4-p9" are one range.
    assert.deepEqual(events("magento/product-community-edition/CVE-2024-34102"), [
      [{ introduced: "0" }, { fixed: "2.4.4-p9" }],
      [{ introduced: "2.4.5" }, { fixed: "2.4.5-p8" }],
      [{ introduced: "2.4.6" }, { fixed: "2.4.6-p6" }],
      [{ introduced: "2.4.7" }, { fixed: "2.4.7-p1" }],
    ]);
    assert.deepEqual(events("amphp/http/CVE-2024-2653"), [
      [{ introduced: "2.0.0" }, { last_affected: "2.1.0" }],
      [{ introduced: "0" }, { last_affected: "1.7.2" }],
    ]);
    // "master" and "0.7.x-dev" both say <0.7.2.
    assert.deepEqual(events("doctrine/doctrine-module/2013-05-16"), [
      [{ introduced: "0" }, { fixed: "0.7.2" }],
    ]);
    assert.deepEqual(events("composer/composer/CVE-2015-8371"), [
      [{ introduced: "0" }, { fixed: "1.0.0-beta1" }],
    ]);
    assert.deepEqual(events("livewire/livewire/2020-09-22-1"), [
      [{ introduced: "2.2.4" }, { fixed: "2.2.6" }],
    ]);
  });

  test("published: the earliest branch time, in UTC", () => {
    assert.equal(byId.get("doctrine/doctrine-module/2013-05-16")?.published, "2013-05-16T18:27:30Z");
    assert.equal(byId.get("silverstripe/framework/SS-2015-013-1")?.published, "2015-05-29T00:53:14Z");
    assert.equal(byId.get("zetacomponents/mail/CVE-2017-15806")?.published, "2017-11-01T19:02:00Z");
    assert.equal(byId.get("amphp/http/CVE-2024-2653")?.published, undefined); // time: ~
  });
});

describe("friendsofphp: malformed input", () => {
  test("bad records are warned about and skipped; a GitHub archive's top folder is ignored", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "friendsofphp-"));
    try {
      const write = (rel: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), text);
      };
      const top = "security-advisories-master";
      write(
        `${top}/acme/lib/CVE-2099-1.yaml`,
        "title: ok\nlink: https://example.org/a\ncve: CVE-2099-1\nbranches:\n  1.x:\n    time: 2099-01-01 00:00:00\n    versions: ['>=1.0', '<1.5']\nreference: composer://acme/lib\n",
      );
      write(`${top}/acme/lib/2099-01-02.yaml`, "title: no branches\nreference: composer://acme/lib\n");
      write(`${top}/acme/lib/2099-01-03.yaml`, "title: bad\nbranches:\n  1.x:\n    versions: ['~1.0']\n");
      write(`${top}/acme/lib/2099-01-04.yaml`, "title: [unclosed\n");
      write(
        `${top}/acme/other/2099-01-05.yaml`,
        "title: odd reference\nbranches:\n  m:\n    versions: ['<2']\nreference: https://x\n",
      );
      write(`${top}/.github/workflows/ci.yaml`, "on: push\n");
      const { advisories, warnings } = await readAll(dir);
      assert.deepEqual(
        advisories.map((a) => [a.id, a.affected[0]?.name, a.affected[0]?.ranges.map((r) => r.events)]),
        [
          ["acme/lib/CVE-2099-1", "acme/lib", [[{ introduced: "1.0" }, { fixed: "1.5" }]]],
          ["acme/other/2099-01-05", "acme/other", [[{ introduced: "0" }, { fixed: "2" }]]],
        ],
      );
      assert.equal(warnings.length, 4, warnings.join("\n"));
      assert.ok(warnings.some((w) => /2099-01-02\.yaml: no branches; skipped/.test(w)));
      assert.ok(warnings.some((w) => /2099-01-03\.yaml: unsupported constraint "~1\.0"; skipped/.test(w)));
      assert.ok(warnings.some((w) => /2099-01-04\.yaml: .*skipped/.test(w)));
      assert.ok(warnings.some((w) => /reference "https:\/\/x" is not composer:\/\/vendor\/package/.test(w)));
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});
