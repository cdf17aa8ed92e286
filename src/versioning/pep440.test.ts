import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compare as libraryCompare } from "@renovatebot/pep440";
import { pep440Versioning as s } from "./pep440.js";
import { InvalidVersionError } from "./scheme.js";
import { loadOracle, replayOracle } from "./testdata/oracle.js";

const sign = (n: number) => Math.sign(n);

describe("pep440: PEP 440's own ordering example (§ Summary of permitted suffixes and relative ordering)", () => {
  const ordered = [
    "1.dev0",
    "1.0.dev456",
    "1.0a1",
    "1.0a2.dev456",
    "1.0a12.dev456",
    "1.0a12",
    "1.0b1.dev456",
    "1.0b2",
    "1.0b2.post345.dev456",
    "1.0b2.post345",
    "1.0rc1.dev456",
    "1.0rc1",
    "1.0",
    "1.0+abc.5",
    "1.0+abc.7",
    "1.0+5",
    "1.0.post456.dev34",
    "1.0.post456",
    "1.0.15",
    "1.1.dev1",
  ];
  for (let i = 0; i + 1 < ordered.length; i++) {
    const [a, b] = [ordered[i] as string, ordered[i + 1] as string];
    test(`${a} < ${b}`, () => {
      assert.equal(sign(s.compare(a, b)), -1);
      assert.equal(sign(s.compare(b, a)), 1);
    });
  }
  test("the whole list is totally ordered", () => {
    for (let i = 0; i < ordered.length; i++)
      for (let j = 0; j < ordered.length; j++)
        assert.equal(sign(s.compare(ordered[i] as string, ordered[j] as string)), sign(i - j), `${i} ${j}`);
  });
});

describe("pep440: normalisation (PEP 440 § Normalization)", () => {
  const equal: [string, string][] = [
    ["1.0.0a1", "1.0.0-alpha1"],
    ["1.0.0a1", "1.0.0.alpha.1"],
    ["1.0.0a1", "1.0.0_A_1"],
    ["1.1RC1", "1.1rc1"],
    ["1.0c1", "1.0rc1"],
    ["1.0pre1", "1.0rc1"],
    ["1.0preview1", "1.0rc1"],
    ["1.0a", "1.0a0"],
    ["1.0-1", "1.0.post1"],
    ["1.0-r4", "1.0.post4"],
    ["1.0.rev4", "1.0.post4"],
    ["1.0.post", "1.0.post0"],
    ["1.0-dev", "1.0.dev0"],
    ["1.0dev2", "1.0.dev2"],
    ["v1.0", "1.0"],
    ["  1.0\t", "1.0"],
    ["1.0", "1.0.0.0"],
    ["0!1.0", "1.0"],
    ["01.02", "1.2"],
    ["1.0+ubuntu-1", "1.0+ubuntu.1"],
    ["1.0+ubuntu_1", "1.0+UBUNTU.1"],
    ["1.0+01", "1.0+1"],
  ];
  for (const [a, b] of equal)
    test(`${JSON.stringify(a)} ≡ ${JSON.stringify(b)}`, () => assert.equal(s.compare(a, b), 0));
});

describe("pep440: ordering rules", () => {
  const less: [string, string][] = [
    ["1!0.1", "1!0.2"],
    ["99.0", "1!0.0"],
    ["1.0.dev0", "1.0a0"],
    ["1.0a1.dev1", "1.0a1"],
    ["1.0a1", "1.0a1.post1.dev1"],
    ["1.0a1.post1", "1.0b1"],
    ["1.0rc9", "1.0"],
    ["1.0", "1.0+0"],
    ["1.0+abc", "1.0+0"],
    ["1.0+abc", "1.0+abc.0"],
    ["1.0+abc.9", "1.0+abc.10"],
    ["1.0+zzz", "1.0.post0.dev0"],
    ["1.0.post0.dev0", "1.0.post0"],
    ["1.0.post1", "1.0.1"],
    ["1.0.1.dev1", "1.0.1"],
    ["1.9", "1.10"],
    ["1.0+0x1a", "1.0+5"],
    ["1.0+1e5", "1.0+abc"],
    ["1.9007199254740992", "1.9007199254740993"],
    ["1.99999999999999999999", "1.100000000000000000000"],
  ];
  for (const [a, b] of less)
    test(`${a} < ${b}`, () => {
      assert.equal(sign(s.compare(a, b)), -1);
      assert.equal(sign(s.compare(b, a)), 1);
    });
});

describe("pep440: validity", () => {
  for (const v of [
    "",
    "1.0.",
    "1..0",
    "a1",
    "1.0+",
    "1.0+abc..1",
    "1.0 beta",
    "1.0.post1.post2",
    "1.0-1-1",
    "=1.0",
  ])
    test(`${JSON.stringify(v)} is invalid`, () => {
      assert.equal(s.isValid(v), false);
      assert.throws(() => s.compare(v, "1.0"), InvalidVersionError);
      assert.throws(() => s.compare("1.0", v), InvalidVersionError);
    });
});

describe("pep440: @renovatebot/pep440's ordering bugs this scheme corrects", () => {
  // Each: the library's answer, and packaging's (ours).
  const cases: [string, string, number, number][] = [
    ["1.0+0x1a", "1.0+5", 1, -1],
    ["1.0+1e3", "1.0+999", 1, -1],
    ["1.0+Infinity", "1.0+5", 1, -1],
    ["1.9007199254740993", "1.9007199254740992", 0, 1],
  ];
  for (const [a, b, library, packaging] of cases)
    test(`${a} vs ${b}: library ${library}, packaging ${packaging}`, () => {
      assert.equal(sign(libraryCompare(a, b)), library);
      assert.equal(sign(s.compare(a, b)), packaging);
    });
  test("the library throws a TypeError on whitespace that packaging accepts", () => {
    assert.throws(() => libraryCompare(" 1.0", "1.0"), TypeError);
    assert.equal(s.compare(" 1.0", "1.0"), 0);
  });
});

describe("pep440: packaging oracle", () => replayOracle(s, loadOracle("./pep440-oracle.json")));
