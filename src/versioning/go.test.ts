import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { goVersioning as s } from "./go.js";
import { InvalidVersionError } from "./scheme.js";
import { loadOracle, replayOracle } from "./testdata/oracle.js";

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

describe("go: module versions (go.dev/ref/mod#versions)", () => {
  test("releases and prereleases order as SemVer", () =>
    checkOrder([
      "v0.0.0",
      "v0.1.0",
      "v1.0.0-alpha",
      "v1.0.0-alpha.1",
      "v1.0.0-alpha.beta",
      "v1.0.0-beta",
      "v1.0.0-beta.2",
      "v1.0.0-beta.11",
      "v1.0.0-rc.1",
      "v1.0.0",
      "v1.0.1",
      "v1.10.0",
      "v2.0.0",
    ]));

  test("pseudo-versions sort between the releases they derive from, by commit time", () =>
    checkOrder([
      "v0.0.0-20191109021931-daa7c04131f5",
      "v0.0.0-20200501145240-bc7a7d42d5c3",
      "v1.2.3-pre",
      "v1.2.3-pre.0.20191109021931-daa7c04131f5",
      "v1.2.3-pre.0.20200501145240-bc7a7d42d5c3",
      "v1.2.3-pre.1",
      "v1.2.3",
      "v1.2.4-0.20191109021931-daa7c04131f5",
      "v1.2.4-0.20200501145240-bc7a7d42d5c3",
      "v1.2.4",
    ]));

  const equal: [string, string][] = [
    ["v1.2.3", "1.2.3"],
    ["v1", "v1.0.0"],
    ["v1.2", "v1.2.0"],
    ["v2.0.0+incompatible", "v2.0.0"],
    ["2.0.0+incompatible", "v2.0.0+incompatible"],
    ["v1.2.3-pre+meta", "v1.2.3-pre"],
    ["0.0.0-20200501145240-bc7a7d42d5c3", "v0.0.0-20200501145240-bc7a7d42d5c3"],
  ];
  for (const [a, b] of equal) test(`${a} ≡ ${b}`, () => assert.equal(s.compare(a, b), 0));

  const less: [string, string][] = [
    ["v2.0.0+incompatible", "v2.0.1+incompatible"],
    ["v1.9.9", "v2.0.0+incompatible"],
    ["v1.2.3-A", "v1.2.3-a"],
    ["v1.2.3-0", "v1.2.3-A"],
    ["v1.2.3-pre.2", "v1.2.3-pre.10"],
    ["v1.9007199254740992.0", "v1.9007199254740993.0"],
    ["v1.2.3-9007199254740992", "v1.2.3-9007199254740993"],
    ["v1.99999999999999999999.0", "v1.100000000000000000000.0"],
  ];
  for (const [a, b] of less)
    test(`${a} < ${b}`, () => {
      assert.equal(sign(s.compare(a, b)), -1);
      assert.equal(sign(s.compare(b, a)), 1);
    });
});

describe("go: toolchain versions as the inventory stores them", () => {
  test("go1.21rc1 < go1.21rc2 < go1.21.0 < go1.21.1 < go1.22rc1", () =>
    checkOrder([
      "v1.16.0",
      "v1.16.15",
      "v1.21.0-rc.1",
      "v1.21.0-rc.2",
      "v1.21.0",
      "v1.21.1",
      "v1.22.0-rc.1",
    ]));
  test("OSV's stdlib bounds without the v compare with them", () => {
    assert.equal(sign(s.compare("v1.21.0-rc.2", "1.21.0")), -1);
    assert.equal(s.compare("v1.21.0-rc.2", "1.21.0-rc.2"), 0);
  });
});

describe("go: invalid versions", () => {
  for (const v of [
    "",
    "v",
    "V1.2.3",
    "v01.2.3",
    "v1.2.3-01",
    "v1.2-pre",
    "v1.2+meta",
    "v1.2.3.4",
    "go1.21.0",
    " v1.2.3",
  ])
    test(`${JSON.stringify(v)}`, () => {
      assert.equal(s.isValid(v), false);
      assert.throws(() => s.compare(v, "v1.0.0"), InvalidVersionError);
    });
});

describe("go: x/mod/semver oracle", () => replayOracle(s, loadOracle("./go-oracle.json")));
