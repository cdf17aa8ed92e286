/**
 * rpm versioning against rpm itself. Three layers:
 * - hand-written cases, and rpm's own tests/rpmvercmp.at expectations;
 * - testdata/rpm-compare.tsv, generated with rpm's Lua `rpm.vercmp` (rpmverCmp over two EVRs) by
 *   testdata/generate-oracles.ts (so the test means the same on a machine without rpm);
 * - when rpm is installed, the table and a fresh set of seeded random EVRs go to rpm again, live.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { compareEvr, type Evr, isValid, parseEvr, rpmVersioning, rpmvercmp } from "./rpm.js";
import { InvalidVersionError } from "./scheme.js";
import { hasCommand, prng, readTable, rpmCompare } from "./testdata/oracles.js";

const testdata = path.join(path.dirname(fileURLToPath(import.meta.url)), "testdata");

/** rpm tests/rpmvercmp.at: RPMVERCMP(a, b, result), every row. */
const RPMVERCMP_AT: [string, string, -1 | 0 | 1][] = [
  ["1.0", "1.0", 0],
  ["1.0", "2.0", -1],
  ["2.0", "1.0", 1],
  ["2.0.1", "2.0.1", 0],
  ["2.0", "2.0.1", -1],
  ["2.0.1", "2.0", 1],
  ["2.0.1a", "2.0.1a", 0],
  ["2.0.1a", "2.0.1", 1],
  ["2.0.1", "2.0.1a", -1],
  ["5.5p1", "5.5p1", 0],
  ["5.5p1", "5.5p2", -1],
  ["5.5p2", "5.5p1", 1],
  ["5.5p10", "5.5p10", 0],
  ["5.5p1", "5.5p10", -1],
  ["5.5p10", "5.5p1", 1],
  ["10xyz", "10.1xyz", -1],
  ["10.1xyz", "10xyz", 1],
  ["xyz10", "xyz10", 0],
  ["xyz10", "xyz10.1", -1],
  ["xyz10.1", "xyz10", 1],
  ["xyz.4", "xyz.4", 0],
  ["xyz.4", "8", -1],
  ["8", "xyz.4", 1],
  ["xyz.4", "2", -1],
  ["2", "xyz.4", 1],
  ["5.5p2", "5.6p1", -1],
  ["5.6p1", "5.5p2", 1],
  ["5.6p1", "6.5p1", -1],
  ["6.5p1", "5.6p1", 1],
  ["6.0.rc1", "6.0", 1],
  ["6.0", "6.0.rc1", -1],
  ["10b2", "10a1", 1],
  ["10a2", "10b2", -1],
  ["1.0aa", "1.0aa", 0],
  ["1.0a", "1.0aa", -1],
  ["1.0aa", "1.0a", 1],
  ["10.0001", "10.0001", 0],
  ["10.0001", "10.1", 0],
  ["10.1", "10.0001", 0],
  ["10.0001", "10.0039", -1],
  ["10.0039", "10.0001", 1],
  ["4.999.9", "5.0", -1],
  ["5.0", "4.999.9", 1],
  ["20101121", "20101121", 0],
  ["20101121", "20101122", -1],
  ["20101122", "20101121", 1],
  ["2_0", "2_0", 0],
  ["2.0", "2_0", 0],
  ["2_0", "2.0", 0],
  ["a", "a", 0],
  ["a+", "a+", 0],
  ["a+", "a_", 0],
  ["a_", "a+", 0],
  ["+a", "+a", 0],
  ["+a", "_a", 0],
  ["_a", "+a", 0],
  ["+_", "+_", 0],
  ["_+", "+_", 0],
  ["_+", "_+", 0],
  ["+", "_", 0],
  ["_", "+", 0],
  ["1.0~rc1", "1.0~rc1", 0],
  ["1.0~rc1", "1.0", -1],
  ["1.0", "1.0~rc1", 1],
  ["1.0~rc1", "1.0~rc2", -1],
  ["1.0~rc2", "1.0~rc1", 1],
  ["1.0~rc1~git123", "1.0~rc1~git123", 0],
  ["1.0~rc1~git123", "1.0~rc1", -1],
  ["1.0~rc1", "1.0~rc1~git123", 1],
  ["1.0^", "1.0^", 0],
  ["1.0^", "1.0", 1],
  ["1.0", "1.0^", -1],
  ["1.0^git1", "1.0^git1", 0],
  ["1.0^git1", "1.0", 1],
  ["1.0", "1.0^git1", -1],
  ["1.0^git1", "1.0^git2", -1],
  ["1.0^git2", "1.0^git1", 1],
  ["1.0^git1", "1.01", -1],
  ["1.01", "1.0^git1", 1],
  ["1.0^20160101", "1.0^20160101", 0],
  ["1.0^20160101", "1.0.1", -1],
  ["1.0.1", "1.0^20160101", 1],
  ["1.0^20160101^git1", "1.0^20160101^git1", 0],
  ["1.0^20160102", "1.0^20160101^git1", 1],
  ["1.0^20160101^git1", "1.0^20160102", -1],
  ["1.0~rc1^git1", "1.0~rc1^git1", 0],
  ["1.0~rc1^git1", "1.0~rc1", 1],
  ["1.0~rc1", "1.0~rc1^git1", -1],
  ["1.0^git1~pre", "1.0^git1~pre", 0],
  ["1.0^git1", "1.0^git1~pre", 1],
  ["1.0^git1~pre", "1.0^git1", -1],
];

/** [a, b, order, why] over full EVRs. */
const ORDER: [string, string, -1 | 0 | 1, string][] = [
  ["1:1.0", "2.0", 1, "the epoch wins"],
  ["0:1.0", "1.0", 0, "missing epoch = 0"],
  ["01:1.0", "1:1.0", 0, "the epoch is a number"],
  ["1.0", "1.0-1", -1, "a missing release sorts before any release (rpmverCmp)"],
  ["1.0", "1.0-0", -1, "even release 0"],
  ["1.0-1", "1.0-1.el8", -1, "one more release segment"],
  ["1.0-1.el8_9", "1.0-1.el8_10", -1, "numeric segments in the release"],
  ["1.0-2", "1.0-10", -1, "release numbers numerically"],
  ["1.0-1.1", "1.0-1.01", 0, "leading zeros in the release"],
  ["1.0-1_1", "1.0-1.1", 0, "separators do not count"],
  ["1.1-1", "1.0-9", 1, "the version decides before the release"],
  ["1.0~rc1-1", "1.0-1", -1, "tilde pre-release"],
  ["1.0-1~rc1", "1.0-1", -1, "tilde in the release"],
  ["1.0^git1-1", "1.0-1", 1, "caret post-release"],
  ["1.0^git1-1", "1.0.1-1", -1, "caret below the next version"],
  ["1.0a", "1.0", 1, "letters left over win"],
  ["1.0.a", "1.0.1", -1, "a number is newer than letters"],
  ["1.0", "1.0.", 0, "trailing separators do not count"],
  ["1.0A", "1.0a", -1, "strcmp: upper case first"],
  ["3.10.0-1160.105.1.el7", "3.10.0-1160.el7", 1, "kernel errata"],
  ["4.18.0-513.5.1.el8_9", "4.18.0-513.11.1.el8_9", -1, "kernel errata numerically"],
  ["1:1.1.1k-12.el8_9", "1.1.1k-9.el8_7", 1, "openssl with an epoch on one side"],
  ["2.28-225.el8_8.6", "2.28-225.el8", 1, "z-stream release"],
  ["1.0.2k-24.amzn2.0.7", "1.0.2k-24.amzn2.0.10", -1, "Amazon Linux release"],
  ["0.99999999999999999999", "0.100000000000000000000", -1, "digit runs beyond 2^64"],
  ["4294967295:1", "2:1", 1, "the largest epoch"],
];

/** [version, why]. */
const INVALID: [string, string][] = [
  ["", "empty"],
  ["1.0-", "empty release"],
  ["-1", "empty version"],
  [":1.0", "empty epoch"],
  ["1:", "empty version after the epoch"],
  ["1.0-1-2", "a hyphen in the version"],
  ["1.0:2", "a colon in the version"],
  ["a:1.0", "epoch not a number"],
  ["4294967296:1", "epoch above 2^32 - 1"],
  ["12345678901:1", "epoch of 11 digits"],
  ["1.0 1", "space"],
  ["1.0%{dist}", "an unexpanded macro"],
  ["1.0é", "non-ASCII"],
];

const VALID = ["0", "1.0", "1:1.0-1", "0:1.0-1.el8", "1.0~rc1^git2+x_y-1.fc39", "00:0", "a", "_", "1.0^"];

describe("rpm versioning", () => {
  test("the scheme object", () => {
    assert.equal(rpmVersioning.name, "rpm");
    assert.equal(rpmVersioning.version, 1);
    assert.match(rpmVersioning.spec, /rpmvercmp/);
  });

  test(`rpm's own tests/rpmvercmp.at: ${RPMVERCMP_AT.length} rows`, () => {
    for (const [a, b, want] of RPMVERCMP_AT) {
      assert.equal(rpmvercmp(a, b), want, `rpmvercmp(${a}, ${b})`);
      assert.equal(rpmVersioning.compare(a, b), want, `compare(${a}, ${b})`);
    }
  });

  for (const [a, b, want, why] of ORDER) {
    test(`${a} ${want < 0 ? "<" : want > 0 ? ">" : "="} ${b}: ${why}`, () => {
      assert.equal(rpmVersioning.compare(a, b), want);
      assert.equal(rpmVersioning.compare(b, a), want === 0 ? 0 : -want);
      assert.equal(compareEvr(parseEvr(a), parseEvr(b)), want);
    });
  }

  test("parseEvr splits epoch, version and release", () => {
    const cases: [string, Evr][] = [
      ["1.0", { epoch: undefined, version: "1.0", release: undefined }],
      ["1:2.0-3.el9", { epoch: 1, version: "2.0", release: "3.el9" }],
      ["0:1.0", { epoch: 0, version: "1.0", release: undefined }],
      ["007:1-2", { epoch: 7, version: "1", release: "2" }],
      ["1.0~rc1^git2-0.1", { epoch: undefined, version: "1.0~rc1^git2", release: "0.1" }],
      ["20240101", { epoch: undefined, version: "20240101", release: undefined }],
    ];
    for (const [v, want] of cases) assert.deepEqual(parseEvr(v), want, v);
  });

  test("compareEvr takes the inventory's epoch/version/release apart", () => {
    const installed: Evr = { epoch: 1, version: "1.1.1k", release: "9.el8_7" };
    assert.equal(compareEvr(installed, parseEvr("1:1.1.1k-12.el8_9")), -1);
    assert.equal(compareEvr(installed, { epoch: undefined, version: "1.1.1k", release: "9.el8_7" }), 1);
    assert.equal(compareEvr(installed, { epoch: 1, version: "1.1.1k", release: undefined }), 1);
    assert.equal(compareEvr({ epoch: 0, version: "1", release: undefined }, parseEvr("1")), 0);
  });

  test("valid and invalid EVRs", () => {
    for (const v of VALID) assert.ok(isValid(v), v);
    for (const [v, why] of INVALID) {
      assert.equal(rpmVersioning.isValid(v), false, `${JSON.stringify(v)}: ${why}`);
      assert.throws(() => rpmVersioning.compare(v, "1.0"), InvalidVersionError, why);
      assert.throws(() => rpmVersioning.compare("1.0", v), InvalidVersionError, why);
      assert.throws(() => parseEvr(v), InvalidVersionError, why);
    }
    assert.throws(
      () => rpmVersioning.compare("1.0-1-2", "1.0-1-2"),
      (e: unknown) => e instanceof InvalidVersionError && e.scheme === "rpm" && e.input === "1.0-1-2",
    );
  });

  const table = readTable(path.join(testdata, "rpm-compare.tsv"));

  test(`testdata/rpm-compare.tsv: ${table.length} pairs ordered by rpm.vercmp`, () => {
    assert.ok(table.length > 3000);
    const bad: string[] = [];
    let compared = 0;
    for (const [a = "", b = "", want = ""] of table) {
      const got = orderOf(a, b);
      if (got === "invalid") continue;
      compared++;
      if (got !== want) bad.push(`${a} vs ${b}: rpm ${want}, ours ${got}`);
    }
    assert.deepEqual(bad.slice(0, 20), []);
    assert.ok(compared > 2000, `${compared} pairs with both sides valid`);
  });

  test("rpmvercmp alone agrees with rpm on every table pair without - or : (rpm.vercmp is rpmvercmp there)", () => {
    const bad: string[] = [];
    for (const [a = "", b = "", want = ""] of table) {
      if (/[-:]/.test(a + b)) continue;
      if (String(rpmvercmp(a, b)) !== want) bad.push(`${a} vs ${b}: rpm ${want}, ours ${rpmvercmp(a, b)}`);
    }
    assert.deepEqual(bad.slice(0, 20), []);
  });

  test("a sorted list is consistent: every earlier element compares <= every later one", () => {
    const versions = [...new Set(table.flatMap(([a = "", b = ""]) => [a, b]))].filter((v) => isValid(v));
    const sorted = [...versions].sort(rpmVersioning.compare);
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length; j++) {
        if (rpmVersioning.compare(sorted[i] as string, sorted[j] as string) > 0) {
          assert.fail(`${sorted[i]} sorts before ${sorted[j]} but compares greater`);
        }
      }
    }
  });

  const live = hasCommand("rpm");
  test("live: rpm.vercmp agrees on the table and on fresh random EVRs", {
    skip: !live && "rpm not installed",
  }, () => {
    const pairs: [string, string][] = [
      ...table.map(([a = "", b = ""]) => [a, b] as [string, string]),
      ...RPMVERCMP_AT.map(([a, b]) => [a, b] as [string, string]),
      ...ORDER.map(([a, b]) => [a, b] as [string, string]),
      ...randomPairs(20000, 20260101),
    ];
    const answers = rpmCompare(pairs);
    const bad: string[] = [];
    pairs.forEach(([a, b], i) => {
      const got = orderOf(a, b);
      if (got !== "invalid" && got !== String(answers[i]))
        bad.push(`${a} vs ${b}: rpm ${answers[i]}, ours ${got}`);
      if (!/[-:]/.test(a + b) && a !== "" && b !== "" && String(rpmvercmp(a, b)) !== String(answers[i])) {
        bad.push(`rpmvercmp ${a} vs ${b}: rpm ${answers[i]}, ours ${rpmvercmp(a, b)}`);
      }
    });
    assert.deepEqual(bad.slice(0, 20), []);
  });
});

/** Our answer in the table's terms, or "invalid" when we refuse a side (rpm orders anything). */
function orderOf(a: string, b: string): string {
  if (!isValid(a) || !isValid(b)) {
    assert.throws(() => rpmVersioning.compare(a, b), InvalidVersionError);
    return "invalid";
  }
  const r = rpmVersioning.compare(a, b);
  assert.equal(compareEvr(parseEvr(a), parseEvr(b)), r);
  return String(r);
}

/** EVRs built from the characters that matter to rpm, seeded. */
function randomPairs(count: number, seed: number): [string, string][] {
  const rnd = prng(seed);
  const tokens = [
    "0",
    "1",
    "9",
    "01",
    "10",
    "00",
    "a",
    "Z",
    "rc",
    "git",
    "~",
    "~",
    "^",
    "^",
    "+",
    ".",
    ".",
    "_",
    "-",
  ];
  const gen = () => {
    let s = ["0", "1", "2", "a", "~", "^", "."][rnd(7)] as string;
    for (let n = rnd(7); n > 0; n--) s += tokens[rnd(tokens.length)];
    return rnd(4) === 0 ? `${rnd(3)}:${s}` : s;
  };
  const out: [string, string][] = [];
  for (let i = 0; i < count; i++) {
    const a = gen();
    out.push([a, rnd(6) === 0 ? a : gen()]);
  }
  return out;
}
