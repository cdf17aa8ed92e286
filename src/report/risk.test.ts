import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Finding } from "../match/types.js";
import {
  glibcWontFix,
  log4shell,
  markedLong,
  mixinUnknown,
  nodeRuntime,
  tarLow,
  wsFormula,
  zlibUnfixed,
} from "./findings-fixtures.js";
import {
  cvssBand,
  type Distribution,
  distributionOf,
  findingRiskFactors,
  normalizeSeverity,
  type PrismaSeverity,
  rawSeverity,
  riskScore,
  unionRiskFactors,
} from "./risk.js";

describe("normalizeSeverity (spec 6.10 table)", () => {
  const rows: [string, number | undefined, PrismaSeverity][] = [
    ["unimportant", 9.8, "low"],
    ["unassigned", undefined, "low"],
    ["negligible", 7.5, "low"],
    ["not yet assigned", undefined, "low"],
    ["low", 10, "low"],
    ["medium", undefined, "medium"],
    ["moderate", 9.1, "medium"],
    ["high", undefined, "high"],
    ["important", 2, "high"],
    ["critical", 0, "critical"],
    ["Important", undefined, "high"],
    [" Moderate ", undefined, "medium"],
    // Outside the table: the CVSS band, low without a score.
    ["unknown", 9.8, "critical"],
    ["unknown", 7.0, "high"],
    ["", 4.0, "medium"],
    ["untriaged", undefined, "low"],
  ];
  for (const [raw, cvss, expected] of rows) {
    it(`${JSON.stringify(raw)} with CVSS ${cvss ?? "none"} → ${expected}`, () => {
      assert.equal(normalizeSeverity(raw, cvss), expected);
    });
  }
});

describe("cvssBand", () => {
  const rows: [number, PrismaSeverity][] = [
    [0, "low"],
    [3.9, "low"],
    [4.0, "medium"],
    [6.9, "medium"],
    [7.0, "high"],
    [8.9, "high"],
    [9.0, "critical"],
    [10, "critical"],
  ];
  for (const [score, expected] of rows) {
    it(`${score} → ${expected}`, () => assert.equal(cvssBand(score), expected));
  }
});

describe("rawSeverity", () => {
  const rows: [string, Finding, string][] = [
    ["Debian's urgency, although NVD scores 9.8", glibcWontFix, "unimportant"],
    ["GHSA's moderate, no CVSS", markedLong, "moderate"],
    ["Debian's low, although CVSS v2 scores 10", tarLow, "low"],
    ["no vendor term: the CVSS band", log4shell, "critical"],
    ["no vendor term: CVSS 7.5", nodeRuntime, "high"],
    ["neither vendor term nor CVSS", mixinUnknown, "unassigned"],
    ["vendor term in capitals is lowered", { ...tarLow, vendorSeverity: "Medium" }, "medium"],
  ];
  for (const [name, finding, expected] of rows) {
    it(name, () => assert.equal(rawSeverity(finding), expected));
  }
});

describe("riskScore", () => {
  const dist = (critical: number, high: number, medium: number, low: number): Distribution => ({
    critical,
    high,
    medium,
    low,
    total: critical + high + medium + low,
  });

  it("reproduces both values observed in the spec (5.1 example and 6.10)", () => {
    assert.equal(riskScore(dist(0, 2, 0, 17)), 20017);
    assert.equal(riskScore(dist(0, 2, 2, 18)), 20218);
  });

  // Each pair: the first must rank strictly above the second.
  const ordering: [string, Distribution, Distribution][] = [
    ["one critical over 99 high", dist(1, 0, 0, 0), dist(0, 99, 99, 99)],
    ["one high over 99 medium", dist(0, 1, 0, 0), dist(0, 0, 99, 99)],
    ["one medium over 99 low", dist(0, 0, 1, 0), dist(0, 0, 0, 99)],
    ["more high at equal critical", dist(1, 3, 0, 0), dist(1, 2, 50, 50)],
    ["any finding over none", dist(0, 0, 0, 1), dist(0, 0, 0, 0)],
    ["one medium over 130 low (no carry into the medium digits)", dist(0, 0, 1, 0), dist(0, 0, 0, 130)],
    ["one high over 500 medium and 500 low", dist(0, 1, 0, 0), dist(0, 0, 500, 500)],
    ["one critical over 1000 high", dist(1, 0, 0, 0), dist(0, 1000, 0, 0)],
    ["two critical over one critical with everything else", dist(2, 0, 0, 0), dist(1, 500, 500, 500)],
  ];
  for (const [name, above, below] of ordering) {
    it(name, () => assert.ok(riskScore(above) > riskScore(below)));
  }

  it("is zero for no findings", () => assert.equal(riskScore(dist(0, 0, 0, 0)), 0));
  it("counts each lower bucket up to 99", () => {
    assert.equal(riskScore(dist(2, 21, 22, 130)), 2_212_299);
    assert.equal(riskScore(dist(0, 150, 0, 0)), 990_000);
  });
});

describe("distributionOf", () => {
  it("counts each severity and the total", () => {
    assert.deepEqual(distributionOf(["high", "low", "low", "critical", "medium", "low"]), {
      critical: 1,
      high: 1,
      medium: 1,
      low: 3,
      total: 6,
    });
  });
  it("is all zeros for nothing", () => {
    assert.deepEqual(distributionOf([]), { critical: 0, high: 0, medium: 0, low: 0, total: 0 });
  });
});

describe("findingRiskFactors", () => {
  const scan2024 = new Date("2024-05-01T12:00:00Z");
  const scan2022 = new Date("2022-03-01T12:00:00Z");
  const v4DosLow: Finding = {
    ...zlibUnfixed,
    cvss: {
      version: "4.0",
      vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:L/SC:N/SI:N/SA:N",
      score: 6.9,
      source: "ghsa",
    },
  };
  const rows: [string, Finding, PrismaSeverity, Date, string[]][] = [
    [
      "log4shell scanned the year after publication",
      log4shell,
      "critical",
      scan2022,
      [
        "Critical severity",
        "Has fix",
        "Remote execution",
        "Recent vulnerability",
        "Attack complexity: low",
        "Attack vector: network",
      ],
    ],
    [
      "log4shell scanned two years later is no longer recent",
      log4shell,
      "critical",
      scan2024,
      [
        "Critical severity",
        "Has fix",
        "Remote execution",
        "Attack complexity: low",
        "Attack vector: network",
      ],
    ],
    [
      "availability-only impact: DoS - High",
      wsFormula,
      "high",
      scan2024,
      ["High severity", "Has fix", "DoS - High", "Attack complexity: low", "Attack vector: network"],
    ],
    [
      "unfixed: no Has fix",
      zlibUnfixed,
      "critical",
      scan2024,
      ["Critical severity", "Remote execution", "Attack complexity: low", "Attack vector: network"],
    ],
    [
      "CVSS v2 complete impacts count as high",
      tarLow,
      "low",
      scan2024,
      ["Remote execution", "Attack complexity: low", "Attack vector: network"],
    ],
    [
      "CVSS v4 low availability-only impact: DoS - Low",
      v4DosLow,
      "medium",
      scan2024,
      ["Medium severity", "DoS - Low", "Attack complexity: low", "Attack vector: network"],
    ],
    ["no CVSS: only severity and fix", markedLong, "medium", scan2024, ["Medium severity", "Has fix"]],
  ];
  for (const [name, finding, severity, scanTime, expected] of rows) {
    it(name, () => {
      const factors = findingRiskFactors(finding, severity, scanTime);
      // Sorted, as Go writes map keys.
      assert.deepEqual(Object.keys(factors), [...expected].sort());
      for (const value of Object.values(factors)) assert.deepEqual(value, {});
    });
  }
});

describe("unionRiskFactors", () => {
  it("holds every factor once, names sorted", () => {
    const union = unionRiskFactors([
      { "Has fix": {}, "High severity": {} },
      { "Attack vector: network": {}, "Has fix": {} },
      {},
    ]);
    assert.deepEqual(union, { "Attack vector: network": {}, "Has fix": {}, "High severity": {} });
  });
});
