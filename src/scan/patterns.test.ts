import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compileExclusions, matchesPattern, selectByPatterns } from "./patterns.js";

interface MatchCase {
  pattern: string | undefined;
  value: string;
  want: boolean;
}

const matchCases: MatchCase[] = [
  // empty and `*` = everything
  { pattern: undefined, value: "library/alpine", want: true },
  { pattern: "", value: "library/alpine", want: true },
  { pattern: "   ", value: "library/alpine", want: true },
  { pattern: "*", value: "library/alpine", want: true },
  { pattern: "*", value: "", want: true },
  // no wildcard = exact, case-insensitive
  { pattern: "library/alpine", value: "library/alpine", want: true },
  { pattern: "library/alpine", value: "library/alpine-extra", want: false },
  { pattern: "library/alpine", value: "x/library/alpine", want: false },
  { pattern: "Library/Alpine", value: "library/alpine", want: true },
  { pattern: "latest", value: "LATEST", want: true },
  // prefix, suffix, contains (the spec's examples)
  { pattern: "onescience*", value: "onescience/api", want: true },
  { pattern: "onescience*", value: "onesciencex", want: true },
  { pattern: "onescience*", value: "team/onescience", want: false },
  { pattern: "company-sandbox/*", value: "company-sandbox/app/worker", want: true },
  { pattern: "company-sandbox/*", value: "company-sandbox", want: false },
  { pattern: "library*", value: "library/nginx", want: true },
  { pattern: "*-debug", value: "1.2-debug", want: true },
  { pattern: "*-debug", value: "1.2-debug-2", want: false },
  { pattern: "*nginx*", value: "team/nginx-proxy", want: true },
  { pattern: "*nginx*", value: "nginx", want: true },
  { pattern: "*nginx*", value: "team/apache", want: false },
  // wildcard in the middle and several wildcards
  { pattern: "team/*/api", value: "team/billing/api", want: true },
  { pattern: "team/*/api", value: "team/billing/api/v2", want: false },
  { pattern: "a*b*c", value: "aXXbYYc", want: true },
  { pattern: "a*b*c", value: "acb", want: false },
  { pattern: "**", value: "anything", want: true },
  // regular-expression metacharacters are literal
  { pattern: "1.2", value: "1x2", want: false },
  { pattern: "1.2*", value: "1.2.3", want: true },
  { pattern: "v(1)", value: "v(1)", want: true },
  { pattern: "v+", value: "vv", want: false },
  { pattern: "[ab]", value: "a", want: false },
  { pattern: "^x$", value: "^x$", want: true },
  // comma-separated list: any element
  { pattern: "library/alpine,library/nginx", value: "library/nginx", want: true },
  { pattern: "library/alpine, team/*", value: "team/api", want: true },
  { pattern: "library/alpine,library/nginx", value: "library/redis", want: false },
  { pattern: ",,", value: "x", want: true },
  // leading `-` = NOT
  { pattern: "-*test*", value: "team/api", want: true },
  { pattern: "-*test*", value: "team/api-test", want: false },
  { pattern: "team/*, -team/legacy*", value: "team/api", want: true },
  { pattern: "team/*, -team/legacy*", value: "team/legacy-api", want: false },
  { pattern: "team/*, -team/legacy*", value: "other/api", want: false },
  { pattern: "-", value: "x", want: true },
  { pattern: "- nginx", value: "nginx", want: false },
];

describe("matchesPattern (spec 6.6)", () => {
  for (const c of matchCases) {
    test(`${JSON.stringify(c.pattern)} ${c.want ? "matches" : "does not match"} ${JSON.stringify(c.value)}`, () => {
      assert.equal(matchesPattern(c.pattern, c.value), c.want);
    });
  }
});

interface ExclusionCase {
  name: string;
  excluded: string[] | undefined;
  value: string;
  want: boolean;
}

const exclusionCases: ExclusionCase[] = [
  { name: "no list excludes nothing", excluded: undefined, value: "a", want: false },
  { name: "an empty list excludes nothing", excluded: [], value: "a", want: false },
  { name: "blank entries exclude nothing", excluded: ["", " "], value: "a", want: false },
  { name: "exact entry", excluded: ["library/alpine"], value: "library/alpine", want: true },
  { name: "exact entry, other name", excluded: ["library/alpine"], value: "library/nginx", want: false },
  { name: "wildcard entry", excluded: ["*-rc*"], value: "2.0-rc1", want: true },
  { name: "`*` excludes everything", excluded: ["*"], value: "anything", want: true },
  { name: "comma list inside an entry", excluded: ["a,b"], value: "b", want: true },
  { name: "a leading `-` is literal here", excluded: ["-x"], value: "y", want: false },
  { name: "case-insensitive", excluded: ["DEBUG"], value: "debug", want: true },
];

describe("compileExclusions", () => {
  for (const c of exclusionCases) {
    test(c.name, () => {
      assert.equal(compileExclusions(c.excluded)(c.value), c.want);
    });
  }
});

interface SelectCase {
  name: string;
  values: string[];
  include: string | undefined;
  excluded: string[] | undefined;
  want: string[];
}

const repositories = ["bulk/repo-001", "bulk/repo-002", "library/alpine", "library/nginx", "team/api"];

const selectCases: SelectCase[] = [
  { name: "everything", values: repositories, include: "", excluded: [], want: repositories },
  {
    name: "one organisation",
    values: repositories,
    include: "library/*",
    excluded: undefined,
    want: ["library/alpine", "library/nginx"],
  },
  {
    name: "include then exclude",
    values: repositories,
    include: "*",
    excluded: ["bulk/*", "library/nginx"],
    want: ["library/alpine", "team/api"],
  },
  {
    name: "an exclusion wins over an exact include",
    values: repositories,
    include: "team/api",
    excluded: ["team/*"],
    want: [],
  },
  {
    name: "order is kept",
    values: ["z", "a", "m"],
    include: "*",
    excluded: ["m"],
    want: ["z", "a"],
  },
];

describe("selectByPatterns", () => {
  for (const c of selectCases) {
    test(c.name, () => {
      assert.deepEqual(selectByPatterns(c.values, c.include, c.excluded), c.want);
    });
  }
});
