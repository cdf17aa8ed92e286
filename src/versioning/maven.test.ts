import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { mavenCanonical, mavenVersioning as s } from "./maven.js";
import { InvalidVersionError } from "./scheme.js";
import { loadOracle, replayOracle } from "./testdata/oracle.js";

const sign = (n: number) => Math.sign(n);

function checkOrder(versions: string[]): void {
  for (let i = 0; i < versions.length; i++)
    for (let j = i + 1; j < versions.length; j++) {
      const [lo, hi] = [versions[i] as string, versions[j] as string];
      assert.equal(sign(s.compare(lo, hi)), -1, `${lo} < ${hi}`);
      assert.equal(sign(s.compare(hi, lo)), 1, `${hi} > ${lo}`);
    }
}

// Vectors of maven-artifact's ComparableVersionTest (Maven 3.9.x; testMng7714 is Maven 4 only).
describe("maven: ComparableVersionTest", () => {
  test("testVersionsQualifier", () =>
    checkOrder([
      "1-alpha2snapshot",
      "1-alpha2",
      "1-alpha-123",
      "1-beta-2",
      "1-beta123",
      "1-m2",
      "1-m11",
      "1-rc",
      "1-cr2",
      "1-rc123",
      "1-SNAPSHOT",
      "1",
      "1-sp",
      "1-sp2",
      "1-sp123",
      "1-abc",
      "1-def",
      "1-pom-1",
      "1-1-snapshot",
      "1-1",
      "1-2",
      "1-123",
    ]));
  test("testVersionsNumber (MNG-7644 order)", () =>
    checkOrder([
      "2.0",
      "2.0.a",
      "2-1",
      "2.0.2",
      "2.0.123",
      "2.1.0",
      "2.1-a",
      "2.1b",
      "2.1-c",
      "2.1-1",
      "2.1.0.1",
      "2.2",
      "2.123",
      "11.a2",
      "11.a11",
      "11.b2",
      "11.b11",
      "11.m2",
      "11.m11",
      "11",
      "11.a",
      "11b",
      "11c",
      "11m",
    ]));

  const equal: [string, string][] = [
    ["1", "1"],
    ["1", "1.0"],
    ["1", "1.0.0"],
    ["1.0", "1.0.0"],
    ["1", "1-0"],
    ["1", "1.0-0"],
    ["1.0", "1.0-0"],
    ["1a", "1-a"],
    ["1a", "1.0-a"],
    ["1a", "1.0.0-a"],
    ["1.0a", "1-a"],
    ["1.0.0a", "1-a"],
    ["1x", "1-x"],
    ["1x", "1.0-x"],
    ["1x", "1.0.0-x"],
    ["1.0x", "1-x"],
    ["1.0.0x", "1-x"],
    ["1cr", "1rc"],
    ["1a1", "1-alpha-1"],
    ["1b2", "1-beta-2"],
    ["1m3", "1-milestone-3"],
    ["1X", "1x"],
    ["1A", "1a"],
    ["1B", "1b"],
    ["1M", "1m"],
    ["1Cr", "1Rc"],
    ["1cR", "1rC"],
    ["1m3", "1Milestone3"],
    ["1m3", "1MileStone3"],
    ["1m3", "1MILESTONE3"],
    // testVersionsHaveSameOrderButAreNotEqual
    ["1ga", "1"],
    ["1release", "1"],
    ["1final", "1"],
    ["1Ga", "1"],
    ["1GA", "1"],
    ["1RELEASE", "1"],
    ["1RELeaSE", "1"],
    ["1Final", "1"],
    ["1FinaL", "1"],
    ["1FINAL", "1"],
    // testLocaleIndependent
    ["1-abcdefghijklmnopqrstuvwxyz", "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ"],
  ];
  for (const [a, b] of equal)
    test(`testVersionsEqual ${a} == ${b}`, () => {
      assert.equal(s.compare(a, b), 0);
      assert.equal(s.compare(b, a), 0);
    });

  const ordered: [string, string][] = [
    ["1", "2"],
    ["1.5", "2"],
    ["1", "2.5"],
    ["1.0", "1.1"],
    ["1.1", "1.2"],
    ["1.0.0", "1.1"],
    ["1.0.1", "1.1"],
    ["1.1", "1.2.0"],
    ["1.0-alpha-1", "1.0"],
    ["1.0-alpha-1", "1.0-alpha-2"],
    ["1.0-alpha-1", "1.0-beta-1"],
    ["1.0-beta-1", "1.0-SNAPSHOT"],
    ["1.0-SNAPSHOT", "1.0"],
    ["1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"],
    ["1.0", "1.0-1"],
    ["1.0-1", "1.0-2"],
    ["1.0.0", "1.0-1"],
    ["2.0-1", "2.0.1"],
    ["2.0.1-klm", "2.0.1-lmn"],
    ["2.0.1", "2.0.1-xyz"],
    ["2.0.1", "2.0.1-123"],
    ["2.0.1-xyz", "2.0.1-123"],
    // testLeadingZeroes
    ["0.7", "2"],
    ["0.2", "1.0.7"],
    // testMng5568
    ["6.1.0rc3", "6.1.0"],
    ["6.1.0rc3", "6.1H.5-beta"],
    ["6.1.0", "6.1H.5-beta"],
    // testMng6572
    ["20190126.230843", "1234567890.12345"],
    ["1234567890.12345", "123456789012345.1H.5-beta"],
    ["20190126.230843", "123456789012345.1H.5-beta"],
    ["123456789012345.1H.5-beta", "12345678901234567890.1H.5-beta"],
    ["1234567890.12345", "12345678901234567890.1H.5-beta"],
    ["20190126.230843", "12345678901234567890.1H.5-beta"],
    // testMng6964
    ["1-0.alpha", "1"],
    ["1-0.beta", "1"],
    ["1-0.alpha", "1-0.beta"],
  ];
  for (const [a, b] of ordered)
    test(`testVersionComparing ${a} < ${b}`, () => {
      assert.equal(sign(s.compare(a, b)), -1);
      assert.equal(sign(s.compare(b, a)), 1);
    });

  test("testVersionEqualWithLeadingZeroes / testVersionZeroEqualWithLeadingZeroes", () => {
    for (const digit of ["1", "0"]) {
      const arr = Array.from({ length: 19 }, (_, i) => "0".repeat(18 - i) + digit);
      for (const a of arr) for (const b of arr) assert.equal(s.compare(a, b), 0, `${a} == ${b}`);
    }
  });

  test("testMng7644: 1.0.0.X1 < 1.0.0-X2 and 2.0.X == 2-X == 2.0.0.X", () => {
    for (const x of ["abc", "alpha", "a", "beta", "b", "def", "milestone", "m", "RC"]) {
      assert.equal(sign(s.compare(`1.0.0.${x}1`, `1.0.0-${x}2`)), -1, x);
      assert.equal(s.compare(`2-${x}`, `2.0.${x}`), 0, x);
      assert.equal(s.compare(`2-${x}`, `2.0.0.${x}`), 0, x);
      assert.equal(s.compare(`2.0.${x}`, `2.0.0.${x}`), 0, x);
    }
  });

  test("Maven 3 keeps 1.0.final-redhat > 1.0-sp1-redhat (MNG-7714 is fixed in Maven 4 only)", () => {
    assert.equal(sign(s.compare("1.0.final-redhat", "1.0-sp1-redhat")), 1);
  });

  const canonical: [string, string][] = [
    ["1.0.0", "1"],
    ["1.0.0.RC1", "1-rc-1"],
    ["1-0.alpha", "1-alpha"],
    ["1.0.final-redhat", "1-redhat"],
    ["1.0-sp1-redhat", "1-sp-1-redhat"],
    ["2.0.a", "2-a"],
    ["0.2", "0.2"],
    ["0.x", "x"],
    ["1.x", "1-x"],
    ["1a1", "1-alpha-1"],
    ["5.3.0.RELEASE", "5.3"],
    ["1.2.7", "1.2.7"],
    ["1.2-SNAPSHOT", "1.2-snapshot"],
  ];
  for (const [v, want] of canonical)
    test(`canonical(${v}) = ${want}`, () => assert.equal(mavenCanonical(v), want));
});

describe("maven: real-world versions", () => {
  test("jackson-databind micro patches", () => checkOrder(["2.13.4", "2.13.4.1", "2.13.4.2", "2.13.5"]));
  test("Spring release trains", () => checkOrder(["5.3.0.M1", "5.3.0.RC1", "5.3.0", "5.3.1"]));
  test("unknown qualifiers sort after the release and sp: 5.3.0 < 5.3.0.SP1 < 5.3.0.BUILD-SNAPSHOT", () =>
    checkOrder(["5.3.0", "5.3.0.SP1", "5.3.0.BUILD-SNAPSHOT", "5.3.1"]));
  test("5.3.0.RELEASE == 5.3.0", () => assert.equal(s.compare("5.3.0.RELEASE", "5.3.0"), 0));
  test("Guava flavours: 31.1-android < 31.1-jre < 32.0.0-android", () =>
    checkOrder(["31.1-android", "31.1-jre", "32.0.0-android"]));
  test("empty is invalid", () => {
    assert.equal(s.isValid(""), false);
    assert.throws(() => s.compare("", "1"), InvalidVersionError);
  });
});

describe("maven: maven-artifact oracle", () => replayOracle(s, loadOracle("./maven-oracle.json")));
