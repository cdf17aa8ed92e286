import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { applyPolicy } from "../match/policy.js";
import type { MatchResult } from "../match/types.js";
import { sortFindings } from "./findings-common.js";
import { alpineNoData, log4shell, NODE_APP_FINDINGS, nodeAppResult } from "./findings-fixtures.js";
import { FINDINGS_SCHEMA_VERSION, toFindingsJson } from "./findings-json.js";
import {
  alpineImage,
  alpineInventory,
  NOW,
  nodeAppImage,
  nodeAppInventory,
  shuffled,
  TOOL,
} from "./test-fixtures.js";

const DATABASE = {
  builtAt: "2024-04-30T08:00:00Z",
  schemaVersion: 1,
  sources: [{ name: "osv", records: 12 }],
};

describe("toFindingsJson", () => {
  const policy = applyPolicy(NODE_APP_FINDINGS, {
    ignores: [
      {
        id: "CVE-2021-44228",
        reason: "vendor build",
        expires: new Date("2024-06-30T00:00:00Z"),
        source: { path: ".trivyignore", line: 3 },
      },
    ],
    severities: ["critical", "high", "medium"],
    now: NOW,
  });
  const result: MatchResult = { findings: policy.kept, warnings: ["1 package versions could not be parsed"] };
  const doc = toFindingsJson(nodeAppImage, nodeAppInventory, result, {
    tool: TOOL,
    now: NOW,
    database: DATABASE,
    ignored: policy.ignored,
    policyWarnings: ["an expired rule"],
  });

  test("top level: schema version first, fields in a fixed order", () => {
    assert.equal(doc.schemaVersion, FINDINGS_SCHEMA_VERSION);
    assert.deepEqual(Object.keys(doc), [
      "schemaVersion",
      "tool",
      "createdAt",
      "image",
      "os",
      "packages",
      "database",
      "summary",
      "warnings",
      "findings",
      "ignored",
    ]);
    assert.deepEqual(doc.tool, { name: "shipshape", version: "0.1.0" });
    assert.equal(doc.createdAt, "2024-05-01T12:34:56Z");
  });

  test("image identity, OS and package counts", () => {
    assert.deepEqual(doc.image, {
      name: "127.0.0.1:5000/node-app:1.0",
      registry: "127.0.0.1:5000",
      repository: "node-app",
      tag: "1.0",
      digest: nodeAppImage.digest,
      indexDigest: nodeAppImage.indexDigest,
      platform: "linux/amd64",
      os: "linux",
      architecture: "amd64",
      created: "2024-04-30T10:00:00Z",
      purl: `pkg:oci/node-app@${nodeAppImage.digest}?arch=amd64&repository_url=127.0.0.1%3A5000%2Fnode-app&tag=1.0`,
      layers: 4,
    });
    assert.deepEqual(doc.os, {
      id: "debian",
      versionId: "12",
      codename: "bookworm",
      prettyName: "Debian GNU/Linux 12 (bookworm)",
    });
    assert.deepEqual(doc.packages, {
      count: 20,
      byEcosystem: { deb: 4, npm: 10, golang: 3, maven: 2, node: 1 },
    });
    assert.deepEqual(Object.keys(doc.packages.byEcosystem), ["deb", "npm", "golang", "maven", "node"]);
  });

  test("database passed through; summary; warnings by stage", () => {
    assert.deepEqual(doc.database, DATABASE);
    assert.deepEqual(doc.summary, {
      total: 9,
      bySeverity: { critical: 2, high: 5, medium: 2, low: 0, negligible: 0, unknown: 0 },
      ignored: 4,
      complete: false,
    });
    assert.deepEqual(doc.warnings, [
      { stage: "inventory", message: nodeAppInventory.warnings[0] },
      { stage: "match", message: "1 package versions could not be parsed" },
      { stage: "policy", message: "an expired rule" },
    ]);
  });

  test("findings as the matcher made them, in report order", () => {
    assert.deepEqual(doc.findings, sortFindings(policy.kept));
    assert.equal(doc.findings[0]?.id, "CVE-2023-45853");
  });

  test("ignored findings with kind, reason and the rule, in report order", () => {
    assert.deepEqual(
      doc.ignored.map((i) => [i.kind, i.finding.id]),
      [
        ["rule", "CVE-2021-44228"],
        ["severity", "CVE-2005-2541"],
        ["severity", "CVE-2019-1010022"],
        ["severity", "GHSA-fhjf-83wg-r2j9"],
      ],
    );
    assert.deepEqual(doc.ignored[0], {
      kind: "rule",
      reason: "ignored by .trivyignore:3 (vendor build), until 2024-06-30",
      rule: {
        id: "CVE-2021-44228",
        expires: "2024-06-30T00:00:00Z",
        reason: "vendor build",
        source: { path: ".trivyignore", line: 3 },
      },
      finding: log4shell,
    });
    assert.equal("rule" in (doc.ignored[1] as object), false);
  });

  test("plain JSON: survives a round trip unchanged except for undefined fields", () => {
    const text = JSON.stringify(doc);
    assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(JSON.parse(text))));
    assert.ok(!text.includes("undefined"));
  });

  test("deterministic: the same bytes whatever the input order", () => {
    const text = JSON.stringify(doc);
    for (const seed of [1, 2, 3]) {
      const again = toFindingsJson(
        nodeAppImage,
        { ...nodeAppInventory, packages: shuffled(nodeAppInventory.packages, seed) },
        { ...result, findings: shuffled(result.findings, seed) },
        {
          tool: TOOL,
          now: NOW,
          database: DATABASE,
          ignored: shuffled(policy.ignored, seed),
          policyWarnings: ["an expired rule"],
        },
      );
      assert.equal(JSON.stringify(again), text);
    }
  });

  test("no coverage for the OS: empty findings, complete false, the warning kept; nulls for unknowns", () => {
    const a = toFindingsJson(alpineImage, { ...alpineInventory, os: undefined }, alpineNoData, {
      tool: TOOL,
      now: NOW,
    });
    assert.deepEqual(a.findings, []);
    assert.equal(a.summary.complete, false);
    assert.equal(a.summary.total, 0);
    assert.equal(a.os, null);
    assert.equal(a.database, null);
    assert.deepEqual(a.ignored, []);
    assert.equal(a.warnings[0]?.stage, "match");
    assert.equal(a.image.variant, "v8");
    assert.equal("indexDigest" in a.image, false);
  });

  test("a clean full-coverage result is complete", () => {
    const c = toFindingsJson(nodeAppImage, { ...nodeAppInventory, warnings: [] }, nodeAppResult, {
      tool: TOOL,
      now: NOW,
    });
    assert.equal(c.summary.complete, true);
    assert.equal(c.summary.total, 13);
  });
});
