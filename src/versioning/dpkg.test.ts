/**
 * dpkg versioning against dpkg itself. Three layers:
 * - hand-written cases (the tricky orderings and the parse rules, with the reason for each);
 * - testdata/dpkg-compare.tsv and dpkg-validity.tsv, generated with `dpkg --compare-versions` by
 *   testdata/generate-oracles.ts (so the test means the same on a machine without dpkg);
 * - when dpkg is installed, the same tables and a fresh set of seeded random versions are put to
 *   `dpkg --compare-versions` again, live.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { compare, compareParsed, type DpkgVersion, dpkgVersioning, isValid, parse } from "./dpkg.js";
import { InvalidVersionError } from "./scheme.js";
import { dpkgCompare, dpkgValidity, hasCommand, prng, readTable } from "./testdata/oracles.js";

const testdata = path.join(path.dirname(fileURLToPath(import.meta.url)), "testdata");
const lenient = { lenient: true };

/** [a, b, order of a against b, why]. */
const ORDER: [string, string, -1 | 0 | 1, string][] = [
  ["1.0~rc1", "1.0", -1, "~ sorts before the end of the string"],
  ["1.0~", "1.0", -1, "a bare ~ too"],
  ["1.0~~", "1.0~", -1, "two tildes before one"],
  ["1.0~~a", "1.0~~", 1, "after the tildes, a letter beats the end"],
  ["1.0~rc1", "1.0~rc2", -1, "digits after the tilde"],
  ["1.0~rc1-1", "1.0-1", -1, "pre-release with a revision"],
  ["1:0.1", "2.0", 1, "the epoch wins"],
  ["2147483647:1", "2:0", 1, "the largest epoch dpkg takes"],
  ["0:1.0", "1.0", 0, "missing epoch = 0"],
  ["1.0", "1.0-0", 0, "missing revision = empty = 0"],
  ["1.0-1", "1.0-1+deb12u1", -1, "security update suffix"],
  ["2.36-9+deb12u9", "2.36-9+deb12u14", -1, "digit runs compare numerically"],
  ["2.36-9+deb12u14", "2.36-9", 1, "a longer revision with punctuation"],
  ["1.0+b1", "1.0", 1, "binNMU"],
  ["1.0-1+b1", "1.0-1", 1, "binNMU of a revision"],
  ["1.0-1~bpo12+1", "1.0-1", -1, "backports sort before the release"],
  ["1.0-1ubuntu0.1", "1.0-1", 1, "letters after the digits beat the end"],
  ["1.0-1build1", "1.0-1ubuntu1", -1, "letters compare in ASCII order"],
  ["1.0a", "1.0+", -1, "letters before non-letters"],
  ["1.0a", "1.0.", -1, "letters before non-letters (.)"],
  ["1.0+", "1.0.", -1, "non-letters in ASCII order (+ < .)"],
  ["1.0.", "1.0", 1, "a trailing dot beats the end"],
  ["1.0A", "1.0a", -1, "upper case before lower case"],
  ["1.0Z", "1.0a", -1, "all upper case before lower case"],
  ["1.01", "1.1", 0, "leading zeros do not count"],
  ["1.0001", "1.1", 0, "any number of them"],
  ["00", "0", 0, "zero is zero"],
  ["1.0.0", "1.0", 1, "one more component"],
  ["1.0-10", "1.0-9", 1, "revision numbers numerically"],
  ["10", "9", 1, "upstream numbers numerically"],
  ["1.99999999999999999999999", "1.100000000000000000000000", -1, "digit runs beyond 2^64"],
  ["1.0+dfsg-1", "1.0-1", 1, "repack suffix"],
  ["1.0~dfsg-1", "1.0-1", -1, "repack with ~"],
  ["6.1.0-18-amd64", "6.1.0-18", 1, "revision split at the last hyphen: upstream 6.1.0-18"],
  ["1.2-3-4", "1.2-3", 1, "upstream 1.2-3 against 1.2"],
  ["1:1.2:3-1", "1:1.2-1", 1, "a colon in upstream (with an epoch) is a non-letter"],
  ["20230311.1", "20230311", 1, "date versions"],
  ["1.2+git20230101.abcdef-1", "1.2-1", 1, "snapshot after the release"],
  ["7.88.1-10+deb12u5", "7.88.1-10+deb12u12", -1, "curl in bookworm"],
  ["252.22-1~deb12u1", "252.22-1", -1, "systemd backport-style revision"],
];

const VALID = [
  "0",
  "1.0",
  "1:1.0",
  "0:0",
  "1.0-1",
  "1.0~rc1+dfsg-1~bpo12+1",
  "1.2-3-4",
  "1:1.2:3-4",
  "2147483647:1",
  "0001:1.0",
  "1.0--1",
  "1:1:1",
];
/** [version, why] — invalid in both modes (dpkg refuses them outright). */
const INVALID: [string, string][] = [
  ["", "empty"],
  ["1.0-", "empty revision"],
  ["-1", "empty upstream"],
  [":1.0", "empty epoch"],
  ["1:", "nothing after the colon"],
  ["a:1.0", "epoch not a number"],
  ["1.0:1", "a colon without an epoch"],
  ["1.0-1:2", "a colon without an epoch (in the revision)"],
  ["-1:1.0", "negative epoch"],
  ["+1:1.0", "signed epoch (dpkg's strtol would take it: a documented divergence)"],
  ["2147483648:1", "epoch above INT_MAX"],
  ["1.0 1", "embedded space"],
  [" 1.0", "leading space (dpkg would trim it: a documented divergence)"],
  ["1.0\n", "control character"],
  ["1.0é", "non-ASCII"],
];
/** Accepted by dpkg with a warning only: invalid strictly, valid leniently. */
const WARN_ONLY = ["a", "v1.2", "~1", ".1", "1.0_1", "1.0-1_2", "1:a", "<unfixed>", "unknown"];

describe("dpkg versioning", () => {
  test("the scheme object", () => {
    assert.equal(dpkgVersioning.name, "dpkg");
    assert.equal(dpkgVersioning.version, 1);
    assert.match(dpkgVersioning.spec, /deb-version/);
  });

  for (const [a, b, want, why] of ORDER) {
    test(`${a} ${want < 0 ? "<" : want > 0 ? ">" : "="} ${b}: ${why}`, () => {
      assert.equal(dpkgVersioning.compare(a, b), want);
      assert.equal(dpkgVersioning.compare(b, a), want === 0 ? 0 : -want);
      assert.equal(compareParsed(parse(a), parse(b)), want);
    });
  }

  test("parse splits epoch, upstream and revision", () => {
    const cases: [string, DpkgVersion][] = [
      ["1.0", { epoch: 0, upstream: "1.0", revision: "" }],
      ["1:2.0-3", { epoch: 1, upstream: "2.0", revision: "3" }],
      ["0:1.0", { epoch: 0, upstream: "1.0", revision: "" }],
      ["1.2-3-4", { epoch: 0, upstream: "1.2-3", revision: "4" }],
      ["1:1.2:3-4-5", { epoch: 1, upstream: "1.2:3-4", revision: "5" }],
      ["007:1", { epoch: 7, upstream: "1", revision: "" }],
      ["2.36-9+deb12u14", { epoch: 0, upstream: "2.36", revision: "9+deb12u14" }],
    ];
    for (const [v, want] of cases) assert.deepEqual(parse(v), want, v);
    assert.deepEqual(parse("v1.2-x_y", lenient), { epoch: 0, upstream: "v1.2", revision: "x_y" });
  });

  test("valid versions", () => {
    for (const v of VALID) {
      assert.ok(dpkgVersioning.isValid(v), v);
      assert.ok(isValid(v, lenient), v);
    }
  });

  test("invalid versions: isValid false, compare and parse throw InvalidVersionError", () => {
    for (const [v, why] of INVALID) {
      assert.equal(dpkgVersioning.isValid(v), false, `${JSON.stringify(v)}: ${why}`);
      assert.equal(isValid(v, lenient), false, `${JSON.stringify(v)} (lenient): ${why}`);
      assert.throws(() => dpkgVersioning.compare(v, "1.0"), InvalidVersionError, why);
      assert.throws(() => dpkgVersioning.compare("1.0", v), InvalidVersionError, why);
      assert.throws(() => parse(v, lenient), InvalidVersionError, why);
    }
    assert.throws(
      () => dpkgVersioning.compare("1.0", "1.0-"),
      (e: unknown) => e instanceof InvalidVersionError && e.scheme === "dpkg" && e.input === "1.0-",
    );
  });

  test("warning-level versions: refused strictly (feed sentinels never compare), ordered leniently", () => {
    for (const v of WARN_ONLY) {
      assert.equal(dpkgVersioning.isValid(v), false, v);
      assert.ok(isValid(v, lenient), v);
      assert.throws(() => dpkgVersioning.compare(v, "1.0"), InvalidVersionError);
    }
    assert.equal(compare("a", "1.0", lenient), 1); // a letter beats a digit run's start (order 97 > 0)
    assert.equal(compare("~1", "1", lenient), -1);
    assert.equal(compare("1.0_1", "1.0+1", lenient), 1); // '_' (95) after '+' (43) in ASCII
  });

  test("equal strings compare 0 after validation", () => {
    assert.equal(dpkgVersioning.compare("1:2.3-4", "1:2.3-4"), 0);
    assert.throws(() => dpkgVersioning.compare("1.0-", "1.0-"), InvalidVersionError);
  });

  const compareTable = readTable(path.join(testdata, "dpkg-compare.tsv"));
  const validityTable = readTable(path.join(testdata, "dpkg-validity.tsv"));

  test(`testdata/dpkg-compare.tsv: ${compareTable.length} pairs ordered by dpkg --compare-versions`, () => {
    assert.ok(compareTable.length > 2500);
    const bad: string[] = [];
    for (const [a = "", b = "", want = ""] of compareTable) {
      const got = orderOf(a, b);
      if (got !== want) bad.push(`${a} vs ${b}: dpkg ${want}, ours ${got}`);
      if (want !== "error" && orderOf(b, a) !== String(-Number(want) || 0))
        bad.push(`${b} vs ${a}: not antisymmetric`);
    }
    assert.deepEqual(bad.slice(0, 20), []);
  });

  test(`testdata/dpkg-validity.tsv: ${validityTable.length} versions judged by dpkg`, () => {
    assert.ok(validityTable.length > 1000);
    const bad: string[] = [];
    for (const [v = "", want = ""] of validityTable) {
      const got = validityOf(v);
      if (got !== want) bad.push(`${JSON.stringify(v)}: dpkg ${want}, ours ${got}`);
    }
    assert.deepEqual(bad.slice(0, 20), []);
  });

  test("a sorted list is consistent: every earlier element compares <= every later one", () => {
    const versions = [...new Set(compareTable.flatMap(([a = "", b = ""]) => [a, b]))].filter((v) =>
      isValid(v),
    );
    const sorted = [...versions].sort(dpkgVersioning.compare);
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length; j++) {
        if (dpkgVersioning.compare(sorted[i] as string, sorted[j] as string) > 0) {
          assert.fail(`${sorted[i]} sorts before ${sorted[j]} but compares greater`);
        }
      }
    }
  });

  const live = hasCommand("dpkg");
  test("live: dpkg --compare-versions agrees on the tables and on fresh random versions", {
    skip: !live && "dpkg not installed",
  }, async () => {
    // One dpkg process per comparison: every 4th table pair (the table itself is checked above),
    // the hand-written cases and a fresh set of seeded random versions.
    const pairs: [string, string][] = [
      ...compareTable.filter((_, i) => i % 4 === 0).map(([a = "", b = ""]) => [a, b] as [string, string]),
      ...ORDER.map(([a, b]) => [a, b] as [string, string]),
      ...randomPairs(600, 20260101),
    ];
    const answers = await dpkgCompare(pairs);
    const bad: string[] = [];
    pairs.forEach(([a, b], i) => {
      const got = orderOf(a, b);
      if (got !== String(answers[i])) bad.push(`${a} vs ${b}: dpkg ${answers[i]}, ours ${got}`);
    });
    assert.deepEqual(bad.slice(0, 20), []);
    const versions = [
      ...validityTable.filter((_, i) => i % 4 === 0).map(([v = ""]) => v),
      ...VALID,
      ...WARN_ONLY,
      // less the documented divergences: dpkg trims blanks, takes "+1:" and only warns about non-ASCII
      ...INVALID.map(([v]) => v).filter((v) => /^[!-~][ -~]*$/.test(v) && !v.startsWith("+")),
    ];
    const verdicts = await dpkgValidity(versions);
    const badValidity = versions.filter((v, i) => validityOf(v) !== verdicts[i]);
    assert.deepEqual(badValidity.slice(0, 20), []);
  });
});

/** Our answer in the tables' terms: -1, 0, 1, or error when the lenient mode refuses a side. */
function orderOf(a: string, b: string): string {
  if (!isValid(a, lenient) || !isValid(b, lenient)) return "error";
  const r = compare(a, b, lenient);
  if (isValid(a) && isValid(b)) assert.equal(dpkgVersioning.compare(a, b), r);
  else assert.throws(() => dpkgVersioning.compare(a, b), InvalidVersionError);
  return String(r);
}

function validityOf(v: string): string {
  return isValid(v) ? "ok" : isValid(v, lenient) ? "warn" : "error";
}

/** Versions built from the characters that matter to dpkg, seeded. */
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
    "~",
    "~",
    "+",
    ".",
    ".",
    "-",
    ":",
    "_",
    "b1",
  ];
  const gen = () => {
    let s = ["0", "1", "2", "a", "~"][rnd(5)] as string;
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
