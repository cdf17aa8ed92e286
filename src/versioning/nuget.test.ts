import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { nugetVersioning as s } from "./nuget.js";
import { InvalidVersionError } from "./scheme.js";

const sign = (n: number) => Math.sign(n);

function checkLess(a: string, b: string): void {
  assert.equal(sign(s.compare(a, b)), -1, `${a} < ${b}`);
  assert.equal(sign(s.compare(b, a)), 1, `${b} > ${a}`);
}

// Vectors of NuGet.Client test/NuGet.Core.Tests/NuGet.Versioning.Test (VersionComparerTests,
// NuGetVersionTest, VersionParsingTests), then the comparer's edge cases.
describe("nuget: VersionComparerTests", () => {
  const equal: [string, string][] = [
    ["1.0.0", "1.0.0"],
    ["1.0.0-BETA", "1.0.0-beta"],
    ["1.0.0-BETA+AA", "1.0.0-beta+aa"],
    ["1.0.0-BETA.X.y.5.77.0+AA", "1.0.0-beta.x.y.5.77.0+aa"],
    ["1.0.0-BETA+AA", "1.0.0-beta"],
  ];
  for (const [a, b] of equal)
    test(`VersionComparisonDefaultEqual ${a} == ${b}`, () => assert.equal(s.compare(a, b), 0));
  const less: [string, string][] = [
    ["0.0.0", "1.0.0"],
    ["1.0.0", "1.1.0"],
    ["1.0.0", "1.0.1"],
    ["1.999.9999", "2.1.1"],
    ["1.0.0-BETA", "1.0.0-beta2"],
    ["1.0.0-beta+AA", "1.0.0+aa"],
    ["1.0.0-BETA", "1.0.0-beta.1+AA"],
    ["1.0.0-BETA.X.y.5.77.0+AA", "1.0.0-beta.x.y.5.79.0+aa"],
    ["1.0.0-BETA.X.y.5.79.0+AA", "1.0.0-beta.x.y.5.790.0+abc"],
  ];
  for (const [a, b] of less) test(`VersionComparisonDefaultLess ${a} < ${b}`, () => checkLess(a, b));
});

describe("nuget: NuGetVersionTest", () => {
  const less: [string, string][] = [
    ["1.0", "1.0.1"],
    ["1.23", "1.231"],
    ["1.4.5.6", "1.45.6"],
    ["1.4.5.6", "1.4.5.60"],
    ["1.01", "1.10"],
    ["1.01-alpha", "1.10-beta"],
    ["1.01.0-RC-1", "1.10.0-rc-2"],
    ["1.01-RC-1", "1.01"],
    ["1.01", "1.2-preview"],
  ];
  for (const [a, b] of less)
    test(`SemVerLessThanAndGreaterThanOperatorsWorks ${a} < ${b}`, () => checkLess(a, b));
  const equal: [string, string][] = [
    ["1.0", "1.0.0.0"],
    ["1.23.01", "1.23.1"],
    ["1.45.6", "1.45.6.0"],
    ["1.45.6-Alpha", "1.45.6-Alpha"],
    ["1.6.2-BeTa", "1.6.02-beta"],
    ["22.3.07     ", "22.3.07"],
    ["2", "2.0.0"],
    ["2.0", "2.0.0.0"],
    ["  1.022-Beta", "1.22.0.0-Beta"],
    ["1.0.0009.01-1.1+A", "1.0.9.1-1.1"],
  ];
  for (const [a, b] of equal)
    test(`SemVerEqualsOperatorWorks ${JSON.stringify(a)} == ${b}`, () => assert.equal(s.compare(a, b), 0));

  const invalid = [
    "",
    "1beta",
    "$version$",
    "1.2Av^c",
    "1.2..",
    "1.2.3.4.5",
    "1.2.3.Beta",
    "1.2.3.4This version is full of awesomeness!!",
    "So.is.this",
    "1.34.2Alpha",
    "1.34.2Release Candidate",
    "1.4.7-",
    "1.4.7-*",
    "1.4.7+*",
    "1.4.7-AA.01^",
    "1.4.7-AA.0A^",
    "1.4.7-A^A",
    "1.4.7+AA.01^",
  ];
  for (const v of invalid)
    test(`ParseThrowsIfStringIsNotAValidSemVer ${JSON.stringify(v)}`, () => {
      assert.equal(s.isValid(v), false);
      assert.throws(() => s.compare(v, "1.0.0"), InvalidVersionError);
    });

  const valid = [
    "1.2.3-X.y.3+Meta-2",
    "1.2.3-X.yZ.3.234.243.3242342+METADATA",
    "1.2.3-X.y3+0",
    "1.2.3+0",
    "1.2.3-0",
    "3.4.0.3-RC-3",
    "1.3.42.200930-RC-2",
    "1.3.2-CTP-2-Refresh-Alpha",
    "01.42.0-alpha+metadata",
    "1.0.0+01",
  ];
  for (const v of valid) test(`valid ${v}`, () => assert.equal(s.isValid(v), true));
});

describe("nuget: comparer rules", () => {
  test("the fourth part orders, and .0 equals its absence", () => {
    checkLess("1.0.0", "1.0.0.1");
    checkLess("1.0.0.1", "1.0.1");
    checkLess("1.0.0.1-beta", "1.0.0.1");
    checkLess("1.0.0-beta", "1.0.0.1-alpha");
    assert.equal(s.compare("1.0.0.0-beta", "1.0.0-beta"), 0);
  });
  test("prerelease labels: numeric < alphanumeric, numbers numerically, fewer labels first", () => {
    checkLess("1.0.0-1", "1.0.0-a");
    checkLess("1.0.0-2", "1.0.0-10");
    checkLess("1.0.0-alpha", "1.0.0-alpha.1");
    checkLess("1.0.0-alpha.1", "1.0.0-alpha.beta");
    checkLess("1.0.0-beta.2", "1.0.0-beta.11");
    checkLess("1.0.0-rc.1", "1.0.0");
  });
  test("labels compare case-insensitively (OrdinalIgnoreCase)", () => {
    assert.equal(s.compare("1.0.0-RC.1", "1.0.0-rc.1"), 0);
    checkLess("1.0.0-Alpha", "1.0.0-beta");
    checkLess("1.0.0-ALPHA", "1.0.0-alpha-2");
  });
  test("Int32.TryParse decides what is numeric: -1 is a number, 2147483648 a string", () => {
    checkLess("1.0.0--1", "1.0.0-0");
    checkLess("1.0.0-2147483647", "1.0.0-2147483648");
    checkLess("1.0.0-2147483648", "1.0.0-a");
  });
  test("metadata never orders", () => {
    assert.equal(s.compare("1.0.0+a", "1.0.0+b"), 0);
    assert.equal(s.compare("1.0.0-rc+z", "1.0.0-rc"), 0);
  });
  test("leading zeros: allowed in the numbers and metadata, not in numeric labels", () => {
    assert.equal(s.compare("01.002.0003", "1.2.3"), 0);
    assert.equal(s.isValid("1.0.0-01"), false);
    assert.equal(s.isValid("1.0.0-beta.01"), false);
    assert.equal(s.isValid("1.0.0-0a"), true);
  });
  test("numbers beyond Int32 are invalid", () => {
    assert.equal(s.isValid("2147483647.0.0"), true);
    assert.equal(s.isValid("2147483648.0.0"), false);
  });
  for (const v of [
    "1.0.0-",
    "1.0.0+",
    "1.0.0-beta+",
    "1.0.0-.a",
    "1.0.0-a..b",
    "-1.0.0",
    "v1.0.0",
    "1.0.0.0.0",
    ".1",
    "1.",
  ])
    test(`invalid ${JSON.stringify(v)}`, () => assert.equal(s.isValid(v), false));
});
