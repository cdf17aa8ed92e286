import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cvssBaseScore, cvssSeverity, cvssTypeOf } from "./cvss.js";

describe("CVSS", () => {
  test("base scores of v2, v3.0, v3.1 and v4.0 vectors (FIRST calculators' values)", () => {
    const table: [string, number][] = [
      ["AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5],
      ["(AV:N/AC:L/Au:N/C:P/I:P/A:P)", 7.5],
      ["CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N", 6.5],
      ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8],
      ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", 7.5],
      // Temporal metrics do not change the base score.
      ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N/E:U/RL:O", 7.5],
      ["CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3],
      ["CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", 2.3],
    ];
    for (const [vector, score] of table) assert.equal(cvssBaseScore(vector), score, vector);
  });

  test("incomplete, undefined-valued and unknown vectors have no score", () => {
    for (const vector of [
      "CVSS:3.1/AV:N",
      "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:U/A:U",
      "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:X",
      "CVSS:5.0/AV:N",
      "garbage",
      "",
    ]) {
      assert.equal(cvssBaseScore(vector), undefined, vector);
    }
  });

  test("types by prefix, and severities checked against the stated type", () => {
    assert.equal(cvssTypeOf("CVSS:3.0/AV:N"), "CVSS_V3");
    assert.equal(cvssTypeOf("CVSS:4.0/AV:N"), "CVSS_V4");
    assert.equal(cvssTypeOf("CVSS:2.0/AV:N/AC:L"), "CVSS_V2");
    assert.equal(cvssTypeOf("AV:L/AC:L"), "CVSS_V2");
    assert.equal(cvssTypeOf("nope"), undefined);
    assert.deepEqual(cvssSeverity(" CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H ", "nvd"), {
      type: "CVSS_V3",
      vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
      score: 9.8,
      source: "nvd",
    });
    assert.equal(cvssSeverity("AV:N/AC:L/Au:N/C:P/I:P/A:P", "x", "CVSS_V3"), undefined);
    assert.deepEqual(cvssSeverity("CVSS:3.1/AV:N", "x"), {
      type: "CVSS_V3",
      vector: "CVSS:3.1/AV:N",
      source: "x",
    });
  });
});
