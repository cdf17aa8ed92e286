/**
 * apk versioning. apk-tools is not packaged for Debian, so there is no live oracle: the reference
 * is apk-tools' own test vectors (testdata/apk-vectors.tsv and apk-validity.tsv, the rows of
 * apk-tools test/unit/version.data), plus hand-written cases for each rule of src/version.c and
 * consistency checks over random valid versions.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { apkVersioning, compare, isValid } from "./apk.js";
import { InvalidVersionError } from "./scheme.js";
import { prng, readTable } from "./testdata/oracles.js";

const testdata = path.join(path.dirname(fileURLToPath(import.meta.url)), "testdata");

/** [a, b, order, why]. */
const ORDER: [string, string, -1 | 0 | 1, string][] = [
  ["1.0_alpha", "1.0_beta", -1, "suffix order: alpha < beta"],
  ["1.0_beta", "1.0_pre", -1, "beta < pre"],
  ["1.0_pre", "1.0_rc", -1, "pre < rc"],
  ["1.0_rc", "1.0", -1, "rc < no suffix"],
  ["1.0", "1.0_cvs", -1, "no suffix < cvs"],
  ["1.0_cvs", "1.0_svn", -1, "cvs < svn"],
  ["1.0_svn", "1.0_git", -1, "svn < git"],
  ["1.0_git", "1.0_hg", -1, "git < hg"],
  ["1.0_hg", "1.0_p", -1, "hg < p"],
  ["1.0_rc", "1.0_rc1", -1, "a suffix number beats none"],
  ["1.0_rc1", "1.0_rc10", -1, "suffix numbers numerically"],
  ["1.0_rc1", "1.0_rc1_p1", -1, "a further post-release suffix is newer"],
  ["1.0_rc1_alpha", "1.0_rc1", -1, "a further pre-release suffix is older"],
  ["1.0_p", "1.0_p0", -1, "_p0 beats _p"],
  ["1.0_alpha", "1.0a", -1, "a pre-release suffix is below a letter"],
  ["1.2.3a", "1.2.3_p1", 1, "a letter beats any suffix"],
  ["1.2.3a_p1", "1.2.3b", -1, "letters first"],
  ["1.0a", "1.0b", -1, "letters in order"],
  ["1.0z", "1.0.1", -1, "a letter is below one more number"],
  ["1.0", "1.0.0", -1, "one more number"],
  ["1.0.0", "1.0.0.0", -1, "and one more"],
  ["2", "10", -1, "the first number numerically"],
  ["01", "1", 0, "the first number ignores leading zeros"],
  ["1.01", "1.1", -1, "a later number with a leading zero: string sort"],
  ["1.0", "1.00", -1, "string sort: the shorter first"],
  ["1.001", "1.01", -1, "string sort: 00 < 01"],
  ["1.05", "1.5", -1, "string sort: 0 < 5"],
  ["0.0", "0.00", -1, "string sort of zeros"],
  ["8.2.0015", "8.2.002", -1, "string sort where numbers would disagree"],
  ["1.0", "1.0-r0", -1, "-r0 beats no revision"],
  ["1.0-r0", "1.0-r1", -1, "revisions numerically"],
  ["3.0.13-r10", "3.0.13-r9", 1, "revision 10 after 9"],
  ["1.0-r01", "1.0-r1", 0, "the revision ignores leading zeros"],
  ["1.0-r1", "1.0_p1", -1, "a revision is below a post-release suffix"],
  ["1.0_p1-r0", "1.0_p1", 1, "suffix then revision"],
  ["1.0~abc", "1.0", 1, "a commit hash beats the end"],
  ["1.0~abc", "1.0.1", -1, "a commit hash is below one more number"],
  ["1.0~abc-r1", "1.0-r1", 1, "a commit hash beats a revision"],
  ["1.0~abc", "1.0~abd", -1, "commit hashes by string"],
  ["1.0~abc", "1.0~ab", 1, "string sort: the longer after"],
  ["2.1.0", "2.1.0~1a2b3c", -1, "a hash after the release"],
  ["1.0_pre20240101", "1.0_pre20231231", 1, "date suffix numbers"],
  ["1.0.0_pre20191002222144-r0", "1.0.0_pre20210530193627-r0", -1, "14-digit suffix numbers (uint64)"],
  ["18446744073709551616", "0", 0, "apk's uint64_t wraps at 2^64"],
  ["18446744073709551617", "1", 0, "and keeps wrapping"],
  ["18446744073709551615", "1", 1, "2^64 - 1 is the largest"],
  ["1.36.1-r15", "1.36.1-r29", -1, "busybox in Alpine"],
];

/** [version, why]. */
const INVALID: [string, string][] = [
  ["", "empty"],
  ["a", "no leading number"],
  ["v1.0", "no leading number"],
  [".1", "no leading number"],
  ["1.0A", "upper case"],
  ["1.0ab", "two letters"],
  ["1.0a1", "a number after a letter"],
  ["1.0a.1", "a number after a letter"],
  ["1.0.a", "a dot without a number"],
  ["1..0", "an empty number"],
  ["1.0_foo", "an unknown suffix"],
  ["1.0_", "an empty suffix"],
  ["1.0_1", "a number without a suffix"],
  ["1.0_alpha.1", "a dot after a suffix"],
  ["1.0-1", "a revision without r"],
  ["1.0-r", "a revision without a number"],
  ["1.0-r1-r2", "two revisions"],
  ["1.0-r1_p1", "a suffix after the revision"],
  ["1.0-r1~abc", "a hash after the revision"],
  ["1.0~", "an empty hash"],
  ["1.0~ABC", "an upper-case hash"],
  ["1.0~abc~def", "two hashes"],
  ["1.0~abc_p1", "a suffix after the hash"],
  ["1.0 ", "a space"],
  ["1.0+1", "a plus"],
  ["1:1.0", "an epoch (apk has none)"],
];

describe("apk versioning", () => {
  test("the scheme object", () => {
    assert.equal(apkVersioning.name, "apk");
    assert.equal(apkVersioning.version, 1);
    assert.match(apkVersioning.spec, /apk-tools/);
  });

  for (const [a, b, want, why] of ORDER) {
    test(`${a} ${want < 0 ? "<" : want > 0 ? ">" : "="} ${b}: ${why}`, () => {
      assert.equal(apkVersioning.compare(a, b), want);
      assert.equal(apkVersioning.compare(b, a), want === 0 ? 0 : -want);
    });
  }

  test("invalid versions: isValid false, compare throws InvalidVersionError", () => {
    for (const [v, why] of INVALID) {
      assert.equal(apkVersioning.isValid(v), false, `${JSON.stringify(v)}: ${why}`);
      assert.throws(() => apkVersioning.compare(v, "1.0"), InvalidVersionError, why);
      assert.throws(() => apkVersioning.compare("1.0", v), InvalidVersionError, why);
      assert.throws(() => apkVersioning.compare(v, v), InvalidVersionError, why);
    }
  });

  test("an invalid tail is never ignored, even when the head already decides", () => {
    assert.throws(() => compare("2.0_foo", "1.0"), InvalidVersionError);
    assert.throws(() => compare("1.0", "2.0-1"), InvalidVersionError);
    assert.throws(
      () => compare("1.0-r1", "1.1-r"),
      (e: unknown) => e instanceof InvalidVersionError && e.scheme === "apk" && e.input === "1.1-r",
    );
  });

  const vectors = readTable(path.join(testdata, "apk-vectors.tsv"));
  const validity = readTable(path.join(testdata, "apk-validity.tsv"));

  test(`apk-tools' own comparison vectors: ${vectors.length} rows`, () => {
    assert.ok(vectors.length > 700);
    const bad: string[] = [];
    let refused = 0;
    for (const [a = "", b = "", want = ""] of vectors) {
      if (!isValid(a) || !isValid(b)) {
        // "23_foo > 4_beta" and "1.0 < 1.0bc": apk compares invalid versions anyway; we refuse them.
        refused++;
        assert.throws(() => compare(a, b), InvalidVersionError);
        continue;
      }
      const got = compare(a, b);
      if (String(got) !== want) bad.push(`${a} vs ${b}: apk ${want}, ours ${got}`);
      if (compare(b, a) !== -got) bad.push(`${b} vs ${a}: not antisymmetric`);
    }
    assert.deepEqual(bad, []);
    assert.equal(refused, 2);
  });

  test(`apk-tools' own validity vectors: ${validity.length} rows`, () => {
    assert.ok(validity.length > 30);
    for (const [v = "", want = ""] of validity) assert.equal(isValid(v), want === "valid", JSON.stringify(v));
  });

  test("consistency over random valid versions: antisymmetric, transitive, sorted lists agree", () => {
    const versions = randomVersions(1500, 42);
    assert.ok(versions.length > 1000, `${versions.length} valid`);
    const sorted = [...versions].sort(compare);
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length; j++) {
        const x = sorted[i] as string;
        const y = sorted[j] as string;
        const r = compare(x, y);
        if (r > 0) assert.fail(`${x} sorts before ${y} but compares greater`);
        if (compare(y, x) !== -r) assert.fail(`${x} vs ${y}: not antisymmetric`);
      }
    }
  });
});

/** Valid apk versions built from every token kind, seeded. */
function randomVersions(count: number, seed: number): string[] {
  const rnd = prng(seed);
  const pick = (xs: string[]) => xs[rnd(xs.length)] as string;
  const numbers = ["0", "1", "2", "9", "10", "01", "00", "001", "123", "20240101"];
  const suffixes = ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"];
  const out = new Set<string>();
  while (out.size < count) {
    let s = pick(numbers);
    for (let n = rnd(4); n > 0; n--) s += `.${pick(numbers)}`;
    if (rnd(4) === 0) s += pick(["a", "b", "z"]);
    for (let n = rnd(3); n > 0; n--) s += `_${pick(suffixes)}${rnd(2) ? pick(numbers) : ""}`;
    if (rnd(5) === 0) s += `~${pick(["0", "abc", "1a2b", "ff", "0f"])}`;
    if (rnd(2)) s += `-r${pick(numbers)}`;
    assert.ok(isValid(s), s);
    out.add(s);
  }
  return [...out];
}
