import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { rubygemsVersioning as s } from "./rubygems.js";
import { InvalidVersionError } from "./scheme.js";
import { loadOracle, replayOracle } from "./testdata/oracle.js";

const sign = (n: number) => Math.sign(n);

// Vectors of RubyGems' test/rubygems/test_gem_version.rb, then the ordering rules' edge cases.
describe("rubygems: test_gem_version.rb", () => {
  const spaceship: [string, string, number][] = [
    ["1.0", "1.0.0", 0],
    ["1.0", "1.0.a", 1],
    ["1.8.2", "0.0.0", 1],
    ["1.8.2", "1.8.2.a", 1],
    ["1.8.2.b", "1.8.2.a", 1],
    ["1.8.2.a", "1.8.2", -1],
    ["1.8.2.a10", "1.8.2.a9", 1],
    ["1.2.b1", "1.2.b.1", 0],
    ["1.2", "1.3", -1],
    ["5.a", "5.0.0.rc2", -1],
    ["5.x", "5.0.0.rc2", 1],
    ["1.0", "1.0 ", 0],
    ["1.0", " 1.0 ", 0],
    ["1.0", "1.0\n", 0],
    ["1.0", "\n1.0\n", 0],
  ];
  for (const [a, b, want] of spaceship)
    test(`${JSON.stringify(a)} <=> ${JSON.stringify(b)} = ${want}`, () => {
      assert.equal(sign(s.compare(a, b)), want);
      assert.equal(sign(s.compare(b, a)), 0 - want);
    });

  test("test_semver: SemVer-style prereleases order as SemVer", () => {
    const ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"];
    for (let i = 0; i + 1 < ordered.length; i++)
      assert.equal(sign(s.compare(ordered[i] as string, ordered[i + 1] as string)), -1, `${ordered[i]}`);
  });

  for (const bad of ["junk", "1.0\n2.0", "1.0+build", "v1.0", "1..0", "1.", ".1", "1.0-", "1 0"])
    test(`test_initialize_bad: ${JSON.stringify(bad)}`, () => {
      assert.equal(s.isValid(bad), false);
      assert.throws(() => s.compare(bad, "1"), InvalidVersionError);
    });
});

describe("rubygems: ordering rules", () => {
  const cases: [string, string, number][] = [
    // A letter makes a prerelease: below the release it precedes, above the previous release.
    ["1.0.a", "1.0", -1],
    ["1.0.a", "0.9", 1],
    ["1.0.0.a", "1.0.a", 0],
    // Trailing zeros of the numeric part and of the prerelease part are canonicalised away.
    ["1.0.0", "1", 0],
    ["1.0.a.0", "1.0.a", 0],
    ["1.0.a.1.0", "1.0.a.1", 0],
    ["1.a.0.0", "1.a", 0],
    // `-` reads as `.pre.`.
    ["1.0.0-rc1", "1.0.0.pre.rc1", 0],
    ["1.0.0-rc1", "1.0.0.rc1", -1],
    ["1.0-1", "1.0.pre.1", 0],
    ["1.0-1", "1.0", -1],
    // Strings are case-sensitive and compare by byte: upper case sorts first.
    ["1.A", "1.a", -1],
    ["1.Z", "1.a", -1],
    ["1.a", "1.aa", -1],
    // Segments split at letter/digit transitions; the dots are only separators.
    ["3.2.0.beta1.1", "3.2.0.beta.1.1", 0],
    ["3.2.0.beta.1.1", "3.2.0.beta11", -1],
    ["2.0.0.p1", "2.0.0", -1],
    ["2.0.0p247", "2.0.0.1", -1],
    ["2.0.0.preview2", "2.0.0.rc1", -1],
    // Numbers of any size; leading zeros are insignificant.
    ["1.9007199254740992", "1.9007199254740993", -1],
    ["1.99999999999999999999", "1.100000000000000000000", -1],
    ["01.2", "1.2", 0],
    ["1.02", "1.002", 0],
  ];
  for (const [a, b, want] of cases)
    test(`${a} <=> ${b} = ${want}`, () => {
      assert.equal(sign(s.compare(a, b)), want);
      assert.equal(sign(s.compare(b, a)), 0 - want);
    });

  test("the empty version is invalid here (Gem::Version reads it as 0)", () => {
    assert.equal(s.isValid(""), false);
    assert.equal(s.isValid("   "), false);
  });
});

describe("rubygems: Gem::Version oracle", () => replayOracle(s, loadOracle("./rubygems-oracle.json"), [""]));
