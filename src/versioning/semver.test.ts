import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compare as librarySemverCompare } from "semver";
import { InvalidVersionError } from "./scheme.js";
import { semverVersioning as s } from "./semver.js";

const sign = (n: number) => Math.sign(n);

function checkOrder(versions: string[]): void {
  for (let i = 0; i < versions.length; i++)
    for (let j = 0; j < versions.length; j++)
      assert.equal(
        sign(s.compare(versions[i] as string, versions[j] as string)),
        sign(i - j),
        `${versions[i]} vs ${versions[j]}`,
      );
}

describe("semver: SemVer 2.0.0 §11 precedence", () => {
  test("§11.2: major, minor, patch numerically", () =>
    checkOrder(["1.0.0", "2.0.0", "2.1.0", "2.1.1", "2.10.0", "10.0.0"]));
  test("§11.3: a prerelease is lower than its release", () => checkOrder(["1.0.0-alpha", "1.0.0"]));
  test("§11.4: the specification's example", () =>
    checkOrder([
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
    ]));
  test("§11.4.1–3: numeric < alphanumeric, ASCII order (upper case first), hyphens are alphanumeric", () =>
    checkOrder([
      "1.0.0-0",
      "1.0.0-1",
      "1.0.0-10",
      "1.0.0--",
      "1.0.0-A",
      "1.0.0-Z",
      "1.0.0-a",
      "1.0.0-a-b",
      "1.0.0-z",
    ]));
  test("§11.4.4: a larger set of identifiers wins when the rest are equal", () =>
    checkOrder(["1.0.0-a", "1.0.0-a.0", "1.0.0-a.0.0", "1.0.0-a.1"]));
  test("§10: build metadata does not count", () => {
    assert.equal(s.compare("1.0.0+build.1", "1.0.0+build.2"), 0);
    assert.equal(s.compare("1.0.0-rc.1+build.1", "1.0.0-rc.1"), 0);
    assert.equal(s.compare("1.0.0+0.3.7", "1.0.0"), 0);
    assert.equal(sign(s.compare("1.0.0-beta+exp.sha.5114f85", "1.0.0")), -1);
  });
});

// A selection of node-semver's test/fixtures/comparisons.js and equality.js (strict mode).
describe("semver: node-semver fixtures", () => {
  const greater: [string, string][] = [
    ["0.0.0", "0.0.0-foo"],
    ["0.0.1", "0.0.0"],
    ["1.0.0", "0.9.9"],
    ["0.10.0", "0.9.0"],
    ["0.99.0", "0.10.0"],
    ["2.0.0", "1.2.3"],
    ["v0.0.0", "0.0.0-foo"],
    ["v0.0.1", "0.0.0"],
    ["1.2.3", "1.2.3-asdf"],
    ["1.2.3", "1.2.3-4"],
    ["1.2.3", "1.2.3-4-foo"],
    ["1.2.3-5-foo", "1.2.3-5"],
    ["1.2.3-5", "1.2.3-4"],
    ["1.2.3-5-foo", "1.2.3-5-Foo"],
    ["3.0.0", "2.7.2+asdf"],
    ["1.2.3-a.10", "1.2.3-a.5"],
    ["1.2.3-a.b", "1.2.3-a.5"],
    ["1.2.3-a.b", "1.2.3-a"],
    ["1.2.3-a.b.c.10.d.5", "1.2.3-a.b.c.5.d.100"],
    ["1.2.3-r2", "1.2.3-r100"],
    ["1.2.3-r100", "1.2.3-R2"],
  ];
  for (const [a, b] of greater)
    test(`${a} > ${b}`, () => {
      assert.equal(sign(s.compare(a, b)), 1);
      assert.equal(sign(s.compare(b, a)), -1);
    });
  const equal: [string, string][] = [
    ["1.2.3", "v1.2.3"],
    ["1.2.3", " 1.2.3 "],
    ["1.2.3-beta.4", "v1.2.3-beta.4"],
    ["1.2.3+build", "1.2.3+otherbuild"],
    ["v1.2.3+build", "1.2.3+otherbuild"],
  ];
  for (const [a, b] of equal)
    test(`${JSON.stringify(a)} == ${JSON.stringify(b)}`, () => assert.equal(s.compare(a, b), 0));
});

describe("semver: numeric prerelease identifiers beyond 2^53 (node-semver compares them as doubles)", () => {
  test("node-semver says equal", () =>
    assert.equal(librarySemverCompare("1.0.0-9007199254740993", "1.0.0-9007199254740992"), 0));
  test("this scheme orders them", () => {
    assert.equal(sign(s.compare("1.0.0-9007199254740993", "1.0.0-9007199254740992")), 1);
    assert.equal(sign(s.compare("1.0.0-alpha.18446744073709551616", "1.0.0-alpha.18446744073709551615")), 1);
    assert.equal(sign(s.compare("1.0.0-99999999999999999999", "1.0.0-a")), -1);
  });
});

describe("semver: invalid versions (strict parsing)", () => {
  const invalid = [
    "",
    "1",
    "1.2",
    "1.2.3.4",
    "=1.2.3",
    "V1.2.3",
    "v 1.2.3",
    "01.2.3",
    "1.02.3",
    "1.2.03",
    "1.2.3-01",
    "1.2.3-",
    "1.2.3+",
    "1.2.3-a..b",
    "1.2.3-a_b",
    "1.2.3 beta",
    "9007199254740992.0.0",
    "^1.2.3",
    "1.2.x",
  ];
  for (const v of invalid)
    test(JSON.stringify(v), () => {
      assert.equal(s.isValid(v), false);
      assert.throws(() => s.compare(v, "1.0.0"), InvalidVersionError);
      assert.throws(() => s.compare("1.0.0", v), InvalidVersionError);
    });
  test("leading zeros are fine in alphanumeric identifiers and in build metadata", () => {
    assert.equal(s.isValid("1.2.3-0a"), true);
    assert.equal(s.isValid("1.2.3+001"), true);
  });
});

describe("semver: crates.io versions", () => {
  test("Cargo's usual prerelease shapes", () =>
    checkOrder([
      "0.1.0-alpha.1",
      "0.1.0-alpha.2",
      "0.1.0-beta",
      "0.1.0-rc.1",
      "0.1.0",
      "0.1.1",
      "0.2.0",
      "1.0.0",
    ]));
});
