import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { composerNormalize, phpVersionCompare, composerVersioning as s } from "./composer.js";
import { InvalidVersionError } from "./scheme.js";
import { loadOracle, replayOracle } from "./testdata/oracle.js";

const sign = (n: number) => Math.sign(n);
const table = loadOracle("./composer-oracle.json") as ReturnType<typeof loadOracle> & {
  normalized: (string | null)[];
};

// composer/semver tests/VersionParserTest.php successfulNormalizedVersions (as of 3.x).
describe("composer: VersionParser::normalize", () => {
  const cases: [string, string | null][] = [
    ["1.0.0", "1.0.0.0"],
    ["1.2.3.4", "1.2.3.4"],
    ["1.0.0RC1dev", "1.0.0.0-RC1-dev"],
    ["1.0.0-rC15-dev", "1.0.0.0-RC15-dev"],
    ["1.0.0.RC.15-dev", "1.0.0.0-RC15-dev"],
    ["1.0.0-rc1", "1.0.0.0-RC1"],
    ["1.0.0.pl3-dev", "1.0.0.0-patch3-dev"],
    ["1.0-dev", "1.0.0.0-dev"],
    ["0", "0.0.0.0"],
    ["10.4.13-beta", "10.4.13.0-beta"],
    ["10.4.13beta2", "10.4.13.0-beta2"],
    ["10.4.13beta.2", "10.4.13.0-beta2"],
    ["10.4.13-b", "10.4.13.0-beta"],
    ["10.4.13-b5", "10.4.13.0-beta5"],
    ["v1.0.0", "1.0.0.0"],
    ["2010.01", "2010.01.0.0"],
    ["2010.01.02", "2010.01.02.0"],
    ["2010.1.555", "2010.1.555.0"],
    ["v20100102", "20100102"],
    ["2010-01-02", "2010.01.02"],
    ["2010-01-02.5", "2010.01.02.5"],
    ["20100102-203040", "20100102.203040"],
    ["20100102203040-10", "20100102203040.10"],
    ["20100102-203040-p1", "20100102.203040-patch1"],
    ["dev-master", "dev-master"],
    ["1.x-dev", "1.9999999.9999999.9999999-dev"],
    ["dev-feature/foo", "dev-feature/foo"],
    ["DEV-FOOBAR", "dev-FOOBAR"],
    ["dev-master as 1.0.0", "dev-master"],
    ["1.0.0-beta.5+foo", "1.0.0.0-beta5"],
    ["1.0.0+foo", "1.0.0.0"],
    ["1.0.0-alpha.3.1+foo", "1.0.0.0-alpha3.1"],
    ["1.0.0-alpha-2.1-3+foo", "1.0.0.0-alpha2.1-3"],
    ["1.0.0+foo as 2.0", "1.0.0.0"],
    // failingNormalizedVersions
    ["", null],
    ["a", null],
    ["1.0.0-meh", null],
    ["1.0.0.0.0", null],
    ["feature-foo", null],
    ["1.0.0+foo bar", null],
    ["1.0.0-0.3.7", null],
  ];
  for (const [input, want] of cases)
    test(`${JSON.stringify(input)} → ${JSON.stringify(want)}`, () =>
      assert.equal(composerNormalize(input), want));

  test("every oracle input normalises as composer/semver does", () => {
    const wrong = table.versions.filter((v, i) => composerNormalize(v) !== table.normalized[i]);
    assert.deepEqual(wrong, []);
  });
});

describe("composer: stability order", () => {
  test("dev < alpha < beta < RC < stable < patch, then the next version", () => {
    const ordered = [
      "1.0.0-dev",
      "1.0.0-alpha",
      "1.0.0-alpha1",
      "1.0.0-alpha2",
      "1.0.0-alpha10",
      "1.0.0-beta1-dev",
      "1.0.0-beta1",
      "1.0.0-beta2",
      "1.0.0-RC1",
      "1.0.0-RC10",
      "1.0.0",
      "1.0.0-patch1",
      "1.0.0-patch2",
      "1.0.0.1-dev",
      "1.0.0.1",
      "1.0.1-dev",
      "1.0.1",
      "2.x-dev",
      "10.0.0",
    ];
    for (let i = 0; i < ordered.length; i++)
      for (let j = 0; j < ordered.length; j++)
        assert.equal(
          sign(s.compare(ordered[i] as string, ordered[j] as string)),
          sign(i - j),
          `${ordered[i]} vs ${ordered[j]}`,
        );
  });
  const equal: [string, string][] = [
    ["1.0.0", "v1.0.0"],
    ["1.0.0", "1.0"],
    ["1.0.0", "1"],
    ["1.0.0", "1.0.0.0"],
    ["1.0.0", "1.0.0+build"],
    ["1.0.0", "1.0.0-stable"],
    ["1.0.0-rc1", "1.0.0RC1"],
    ["1.0.0-rc.1", "1.0.0-RC1"],
    ["1.0.0-b2", "1.0.0-beta2"],
    ["1.0.0-p1", "1.0.0-patch1"],
    ["1.0.0-pl1", "1.0.0-patch1"],
    ["01.02.03", "1.2.3"],
  ];
  for (const [a, b] of equal) test(`${a} == ${b}`, () => assert.equal(s.compare(a, b), 0));
  test("a stability without a number sorts before the same stability with one (even 0)", () =>
    assert.equal(sign(s.compare("1.0.0-beta", "1.0.0-beta0")), -1));
  test("numbers are compared as PHP longs: beyond 2^63-1 they saturate", () => {
    assert.equal(s.compare("1.9223372036854775807", "1.99999999999999999999"), 0);
    assert.equal(sign(s.compare("1.9007199254740992", "1.9007199254740993")), -1);
  });
});

describe("composer: dev branches and invalid versions", () => {
  for (const v of ["dev-master", "master", "dev-feature/foo", "", "1.0.0-meh", "feature-foo", "1.2.3.4.5"])
    test(`${JSON.stringify(v)} is not comparable`, () => {
      assert.equal(s.isValid(v), false);
      assert.throws(() => s.compare(v, "1.0.0"), InvalidVersionError);
      assert.throws(() => s.compare("1.0.0", v), InvalidVersionError);
    });
});

// PHP's own tests (ext/standard/tests/versioning/version_compare.phpt) expect these.
describe("composer: version_compare", () => {
  const cases: [string, string, number][] = [
    ["1", "1.0", -1],
    ["1.0", "1.0.0", -1],
    ["1.0.0-dev", "1.0.0", -1],
    ["1.0.0-alpha", "1.0.0-a", 0],
    ["1.0.0-beta", "1.0.0-b", 0],
    ["1.0.0-RC", "1.0.0-rc", 0],
    ["1.0.0-pl", "1.0.0-p", 0],
    ["1.0.0", "1.0.0-pl", -1],
    ["1.0.0-foo", "1.0.0-dev", -1],
    ["1.0rc1", "1.0", -1],
    ["1.0.0.0-beta1.2", "1.0.0.0-beta2", -1],
    ["5.2.0-dev", "5.2.0RC1", -1],
    ["", "1", -1],
    ["", "", 0],
  ];
  for (const [a, b, want] of cases)
    test(`version_compare(${JSON.stringify(a)}, ${JSON.stringify(b)}) = ${want}`, () =>
      assert.equal(phpVersionCompare(a, b), want));
});

describe("composer: composer/semver + PHP oracle", () => replayOracle(s, table));
