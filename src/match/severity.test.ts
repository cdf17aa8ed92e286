/**
 * Severity per ../shared/spec/prisma-registry-api.md §6.10: the vendor's term first, else the CVSS
 * base score of the newest CVSS version (v4.0 > v3.1 > v3.0 > v2.0), in the bands 0–3.9 low,
 * 4–6.9 medium, 7–8.9 high, 9–10 critical. shipshape keeps two levels beside the spec's four
 * (negligible for "assessed as no real impact", unknown for "neither a term nor a score"), which
 * the API folds into `low` (SPEC_BUCKET below).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Severity } from "../vulndb/types.js";
import { normalizedSeverity, preferredCvss, scoreSeverity, vendorSeverity } from "./severity.js";
import type { NormalizedSeverity } from "./types.js";

/** The spec's four normalized values, from shipshape's six. */
const SPEC_BUCKET: Record<NormalizedSeverity, string> = {
  critical: "critical",
  high: "high",
  medium: "medium",
  low: "low",
  negligible: "low",
  unknown: "low",
};

describe("vendor terms (§6.10 table)", () => {
  // Every term the spec lists, with the bucket it names.
  const SPEC_TABLE: [string, string][] = [
    ["unimportant", "low"],
    ["unassigned", "low"],
    ["negligible", "low"],
    ["not yet assigned", "low"],
    ["low", "low"],
    ["medium", "medium"],
    ["moderate", "medium"],
    ["high", "high"],
    ["important", "high"],
    ["critical", "critical"],
  ];
  for (const [term, bucket] of SPEC_TABLE) {
    test(`"${term}" → ${bucket} (no CVSS)`, () => {
      assert.equal(SPEC_BUCKET[normalizedSeverity(term, undefined)], bucket);
    });
  }

  test("shipshape's levels: Debian unimportant and Ubuntu negligible stay negligible, unassigned terms are low", () => {
    const rows: [string, NormalizedSeverity | undefined][] = [
      ["unimportant", "negligible"],
      ["negligible", "negligible"],
      ["unassigned", "low"],
      ["not yet assigned", "low"],
      ["unknown", "unknown"],
      ["important", "high"],
      ["moderate", "medium"],
    ];
    for (const [term, expected] of rows) assert.equal(vendorSeverity(term), expected, term);
  });

  test("terms are read case- and space-insensitively; unknown words and no term give undefined", () => {
    assert.equal(vendorSeverity("Important"), "high");
    assert.equal(vendorSeverity("  MODERATE "), "medium");
    assert.equal(vendorSeverity("CRITICAL"), "critical");
    assert.equal(vendorSeverity("serious"), undefined);
    assert.equal(vendorSeverity(""), undefined);
    assert.equal(vendorSeverity(undefined), undefined);
  });

  test("the vendor's term wins over CVSS, both ways (a distro rating a 9.8 low, or a 3.1 high)", () => {
    const cvss = (score: number) => ({ version: "3.1" as const, vector: "CVSS:3.1/…", score, source: "nvd" });
    assert.equal(normalizedSeverity("low", cvss(9.8)), "low");
    assert.equal(normalizedSeverity("important", cvss(3.1)), "high");
    assert.equal(normalizedSeverity("unimportant", cvss(9.8)), "negligible");
  });

  test('"unassigned" and "not yet assigned" are terms of the table: low, whatever CVSS says (no fall-back)', () => {
    const cvss = (score: number) => ({ version: "3.1" as const, vector: "CVSS:3.1/…", score, source: "nvd" });
    for (const term of ["unassigned", "not yet assigned", "Not Yet Assigned"]) {
      assert.equal(normalizedSeverity(term, cvss(9.8)), "low", term);
      assert.equal(normalizedSeverity(term, cvss(5.0)), "low", term);
      assert.equal(normalizedSeverity(term, undefined), "low", term);
    }
  });

  test("no vendor term, or one that says nothing: the CVSS score decides", () => {
    const cvss = { version: "3.1" as const, vector: "CVSS:3.1/…", score: 7.5, source: "nvd" };
    assert.equal(normalizedSeverity(undefined, cvss), "high");
    assert.equal(normalizedSeverity("serious", cvss), "high");
    assert.equal(normalizedSeverity("unknown", cvss), "high");
  });

  test("neither a term nor a score: unknown", () => {
    assert.equal(normalizedSeverity(undefined, undefined), "unknown");
    assert.equal(
      normalizedSeverity(undefined, { version: "3.1", vector: "CVSS:3.1/…", source: "x" }),
      "unknown",
    );
  });
});

describe("CVSS bands (§6.10: 0–3.9 low, 4.0–6.9 medium, 7.0–8.9 high, 9.0–10.0 critical)", () => {
  const rows: [number, NormalizedSeverity][] = [
    [0.1, "low"],
    [3.9, "low"],
    [4.0, "medium"],
    [5.3, "medium"],
    [6.9, "medium"],
    [7.0, "high"],
    [8.9, "high"],
    [9.0, "critical"],
    [10.0, "critical"],
  ];
  for (const [score, expected] of rows) {
    test(`${score.toFixed(1)} → ${expected}`, () => assert.equal(scoreSeverity(score), expected));
  }
  test("0.0 (CVSS 'None') is negligible, which the spec's low band holds", () => {
    assert.equal(scoreSeverity(0), "negligible");
    assert.equal(SPEC_BUCKET[scoreSeverity(0)], "low");
  });
});

describe("preferredCvss: v4.0 > v3.1 > v3.0 > v2.0", () => {
  const v2: Severity = { type: "CVSS_V2", vector: "AV:N/AC:L/Au:N/C:P/I:P/A:P", score: 7.5, source: "nvd" };
  const v30: Severity = {
    type: "CVSS_V3",
    vector: "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
    score: 7.5,
    source: "nswg",
  };
  const v31: Severity = {
    type: "CVSS_V3",
    vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    score: 9.8,
    source: "cna",
  };
  const v40: Severity = {
    type: "CVSS_V4",
    vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N",
    score: 6.9,
    source: "ghsa",
  };

  test("every order of the same four gives v4.0", () => {
    const orders = [
      [v2, v30, v31, v40],
      [v40, v31, v30, v2],
      [v31, v40, v2, v30],
    ];
    for (const order of orders) {
      assert.deepEqual(preferredCvss(order), {
        version: "4.0",
        vector: v40.vector,
        score: 6.9,
        source: "ghsa",
      });
    }
  });

  test("without v4.0: v3.1 over v3.0 over v2.0, the version read from the vector's prefix", () => {
    assert.equal(preferredCvss([v2, v30, v31])?.version, "3.1");
    assert.equal(preferredCvss([v31, v2])?.source, "cna");
    assert.equal(preferredCvss([v2, v30])?.version, "3.0");
    assert.equal(preferredCvss([v30, v2])?.source, "nswg");
    assert.deepEqual(preferredCvss([v2]), {
      version: "2.0",
      vector: v2.vector,
      score: 7.5,
      source: "nvd",
    });
  });

  test("within one version a scored entry beats an unscored one, else the first given stays", () => {
    const unscored = { ...v31, score: undefined, source: "first" };
    assert.equal(preferredCvss([unscored, v31])?.source, "cna");
    assert.equal(preferredCvss([v31, { ...v31, source: "second" }])?.source, "cna");
  });

  test("nothing to choose from: undefined", () => {
    assert.equal(preferredCvss([]), undefined);
  });

  test("the preferred CVSS decides the severity when there is no vendor term", () => {
    // v2.0 says 7.5 (high), v3.1 says 9.8 (critical): v3.1 wins.
    assert.equal(normalizedSeverity(undefined, preferredCvss([v2, v31])), "critical");
    // v4.0 says 6.9 (medium) over v3.1's 9.8.
    assert.equal(normalizedSeverity(undefined, preferredCvss([v31, v40])), "medium");
  });
});
