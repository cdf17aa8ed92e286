import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compareVersionKeys, compileVersionPattern, VersionPatternError } from "./version-pattern.js";

interface KeyCase {
  name: string;
  pattern: string;
  tag: string;
  /** undefined = the tag does not match and is ignored. */
  want: (number | bigint)[] | undefined;
}

const keyCases: KeyCase[] = [
  // the spec's example pattern
  { name: "spec example", pattern: "*-%d.%d.%d", tag: "myimage-3.0.0", want: [3, 0, 0] },
  { name: "spec example, 2.0.1", pattern: "*-%d.%d.%d", tag: "myimage-2.0.1", want: [2, 0, 1] },
  { name: "no prefix before the dash", pattern: "*-%d.%d.%d", tag: "-1.2.3", want: [1, 2, 3] },
  { name: "missing component", pattern: "*-%d.%d.%d", tag: "myimage-3.0", want: undefined },
  { name: "extra component", pattern: "*-%d.%d.%d", tag: "myimage-3.0.0.1", want: undefined },
  { name: "a dash inside the wildcard part", pattern: "*-%d.%d.%d", tag: "my-image-1.2.3", want: [1, 2, 3] },
  { name: "suffix after the version", pattern: "*-%d.%d.%d", tag: "myimage-3.0.0-rc1", want: undefined },
  // multi-digit and leading zeros
  { name: "multi-digit", pattern: "v%d.%d", tag: "v10.123", want: [10, 123] },
  { name: "leading zeros are the same number", pattern: "v%d.%d", tag: "v01.002", want: [1, 2] },
  { name: "a wildcard before %d leaves it every digit", pattern: "*%d", tag: "build10", want: [10] },
  { name: "a wildcard after %d", pattern: "%d*", tag: "42-alpine", want: [42] },
  { name: "%d needs a digit", pattern: "v%d", tag: "v", want: undefined },
  { name: "%d takes no sign", pattern: "v%d", tag: "v-1", want: undefined },
  // literals with regular-expression metacharacters
  { name: "dot is literal", pattern: "%d.%d", tag: "1x2", want: undefined },
  { name: "plus is literal", pattern: "%d+build%d", tag: "1+build7", want: [1, 7] },
  { name: "parentheses and brackets are literal", pattern: "(%d)[%d]", tag: "(3)[4]", want: [3, 4] },
  { name: "caret and dollar are literal", pattern: "^%d$", tag: "^5$", want: [5] },
  { name: "question mark is literal", pattern: "%d?", tag: "5", want: undefined },
  { name: "backslash is literal", pattern: "%d\\%d", tag: "1\\2", want: [1, 2] },
  { name: "literals are case-insensitive", pattern: "RELEASE-%d", tag: "release-9", want: [9] },
  // dates
  { name: "date", pattern: "%Y%M%D", tag: "20240131", want: [2024, 1, 31] },
  {
    name: "date and time",
    pattern: "%Y-%M-%D_%H%m%s",
    tag: "2024-01-31_235959",
    want: [2024, 1, 31, 23, 59, 59],
  },
  { name: "date order by significance", pattern: "%D.%M.%Y", tag: "31.01.2024", want: [2024, 1, 31] },
  { name: "month out of range", pattern: "%Y%M%D", tag: "20241301", want: undefined },
  { name: "month zero", pattern: "%Y%M%D", tag: "20240001", want: undefined },
  { name: "day zero", pattern: "%Y%M%D", tag: "20240100", want: undefined },
  { name: "hour 24", pattern: "%Y%M%D%H", tag: "2024010124", want: undefined },
  { name: "minute 60", pattern: "%H%m", tag: "1260", want: undefined },
  { name: "second 60", pattern: "%m%s", tag: "0060", want: undefined },
  { name: "a year needs 4 digits", pattern: "%Y.%M", tag: "24.01", want: undefined },
  { name: "a month needs 2 digits", pattern: "%Y.%M", tag: "2024.1", want: undefined },
  // date first, then version, whatever their order in the pattern
  { name: "version then date", pattern: "%d.%d-%Y%M%D", tag: "1.2-20240105", want: [2024, 1, 5, 1, 2] },
  { name: "date then version", pattern: "%Y.%M.%D-r%d", tag: "2023.12.01-r7", want: [2023, 12, 1, 7] },
  // very long build numbers keep their precision
  {
    name: "a build number beyond 2^53",
    pattern: "b%d",
    tag: "b123456789012345678901",
    want: [123456789012345678901n],
  },
];

describe("compileVersionPattern: keys (spec 6.5)", () => {
  for (const c of keyCases) {
    test(`${c.name}: ${c.pattern} on ${c.tag}`, () => {
      assert.deepEqual(compileVersionPattern(c.pattern)(c.tag), c.want?.map(BigInt));
    });
  }
});

interface InvalidCase {
  pattern: string;
  message: RegExp;
}

const invalidCases: InvalidCase[] = [
  { pattern: "", message: /invalid versionPattern "": it is empty/ },
  { pattern: "   ", message: /it is empty/ },
  { pattern: "v%", message: /ends with a lone "%"/ },
  { pattern: "v%x", message: /"%x" at position 1 is not a token \(tokens are %d, %Y/ },
  { pattern: "%%d", message: /"%%" at position 0 is not a token/ },
  { pattern: "%y", message: /"%y" at position 0 is not a token/ },
  { pattern: "%Y-%Y", message: /"%Y" appears more than once/ },
  { pattern: "latest", message: /has no token to order tags by/ },
  { pattern: "*", message: /has no token to order tags by/ },
];

describe("compileVersionPattern: invalid patterns", () => {
  for (const c of invalidCases) {
    test(JSON.stringify(c.pattern), () => {
      assert.throws(
        () => compileVersionPattern(c.pattern),
        (err: unknown) => err instanceof VersionPatternError && c.message.test(err.message),
      );
    });
  }
});

interface CompareCase {
  a: bigint[];
  b: bigint[];
  want: -1 | 0 | 1;
}

const compareCases: CompareCase[] = [
  { a: [1n, 2n], b: [1n, 2n], want: 0 },
  { a: [1n, 2n], b: [1n, 10n], want: -1 },
  { a: [2n], b: [1n, 99n], want: 1 },
  { a: [1n], b: [1n, 0n], want: -1 },
  { a: [], b: [], want: 0 },
  { a: [123456789012345678902n], b: [123456789012345678901n], want: 1 },
];

describe("compareVersionKeys", () => {
  for (const c of compareCases) {
    test(`${c.a.join(".")} vs ${c.b.join(".")}`, () => {
      assert.equal(Math.sign(compareVersionKeys(c.a, c.b)), c.want);
      assert.equal(Math.sign(compareVersionKeys(c.b, c.a)), -c.want || 0);
    });
  }
});
