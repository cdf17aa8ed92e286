/**
 * OSV range evaluation ("Evaluation" in https://ossf.github.io/osv-schema/): each row is one
 * affected entry, one installed version, and what the schema's IsVulnerable pseudocode says about it,
 * plus the fixed version(s) reported. The schemes are the real ones (semver, go, dpkg, apk, rpm).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { schemeFor } from "../versioning/index.js";
import type { VersioningScheme } from "../versioning/scheme.js";
import type { AffectedPackage, AffectedRange, RangeEvent } from "../vulndb/types.js";
import { evaluate } from "./ranges.js";

const semver = schemeFor("semver") as VersioningScheme;

const intro = (v: string): RangeEvent => ({ introduced: v });
const fixed = (v: string): RangeEvent => ({ fixed: v });
const last = (v: string): RangeEvent => ({ last_affected: v });
const limit = (v: string): RangeEvent => ({ limit: v });
const range = (scheme: string, ...events: RangeEvent[]): AffectedRange => ({ scheme, events });
const entry = (ranges: AffectedRange[], versions?: string[]): AffectedPackage => ({
  ecosystem: "npm",
  name: "pkg",
  ranges,
  versions,
});

interface Row {
  name: string;
  entry: AffectedPackage;
  /** version → undefined (not affected) or the fixed versions reported. */
  cases: Record<string, string[] | undefined>;
  fallback?: VersioningScheme;
}

function check(rows: Row[]): void {
  for (const row of rows) {
    test(row.name, () => {
      for (const [version, expected] of Object.entries(row.cases)) {
        const verdict = evaluate(row.entry, version, schemeFor, row.fallback ?? semver);
        assert.deepEqual(
          verdict,
          { affected: expected !== undefined, fixed: expected ?? [] },
          `${row.name}: version ${version}`,
        );
      }
    });
  }
}

describe("evaluate: introduced, fixed, last_affected (OSV IsVulnerable)", () => {
  check([
    {
      name: 'introduced "0" / fixed: everything below the fix, which is reported',
      entry: entry([range("semver", intro("0"), fixed("1.0.2"))]),
      cases: {
        "0.0.1": ["1.0.2"],
        "1.0.1": ["1.0.2"],
        "1.0.2-rc.1": ["1.0.2"],
        "1.0.2": undefined,
        "2.0.0": undefined,
      },
    },
    {
      name: "introduced is inclusive, fixed exclusive",
      entry: entry([range("semver", intro("1.0.0"), fixed("1.0.2"))]),
      cases: { "0.9.9": undefined, "1.0.0-beta": undefined, "1.0.0": ["1.0.2"], "1.0.2": undefined },
    },
    {
      name: "the schema's multiple-range example: [1.0.0, 1.0.2) and [3.0.0, 3.2.5) in one event list",
      entry: entry([range("semver", intro("1.0.0"), fixed("1.0.2"), intro("3.0.0"), fixed("3.2.5"))]),
      cases: {
        "0.5.0": undefined,
        "1.0.1": ["1.0.2"],
        "2.0.0": undefined,
        "3.0.0": ["3.2.5"],
        "3.2.4": ["3.2.5"],
        "3.2.5": undefined,
      },
    },
    {
      name: "unsorted events evaluate as if sorted (the schema sorts them)",
      entry: entry([range("semver", fixed("3.2.5"), intro("3.0.0"), fixed("1.0.2"), intro("1.0.0"))]),
      cases: {
        "0.5.0": undefined,
        "1.0.1": ["1.0.2"],
        "2.0.0": undefined,
        "3.1.0": ["3.2.5"],
        "4.0.0": undefined,
      },
    },
    {
      name: "last_affected is inclusive and reports no fixed version (NSWG-ECO-101: marked <=0.3.5)",
      entry: entry([range("semver", intro("0"), last("0.3.5"))]),
      cases: { "0.3.0": [], "0.3.5": [], "0.3.6": undefined },
    },
    {
      name: "introduced alone: every version from there on, no fix",
      entry: entry([range("semver", intro("2.0.0"))]),
      cases: { "1.9.9": undefined, "2.0.0": [], "99.0.0": [] },
    },
    {
      name: "introduced and fixed at the same version: an empty interval",
      entry: entry([range("semver", intro("1.0.0"), fixed("1.0.0"))]),
      cases: { "0.1.0": undefined, "1.0.0": undefined, "1.0.1": undefined },
    },
    {
      name: "a bare version (NSWG conversion: introduced and last_affected both that version)",
      entry: entry([range("semver", intro("1.2.3"), last("1.2.3"))]),
      cases: { "1.2.2": undefined, "1.2.3": [], "1.2.4": undefined },
    },
  ]);
});

describe("evaluate: limit events (OSV BeforeLimits)", () => {
  check([
    {
      name: "a limit is an exclusive upper bound on the whole range",
      entry: entry([range("semver", intro("1.0.0"), limit("2.0.0"))]),
      cases: { "0.9.0": undefined, "1.0.0": [], "1.9.9": [], "2.0.0": undefined, "2.5.0": undefined },
    },
    {
      name: "several limits: a version below any one of them is within the range",
      entry: entry([range("semver", intro("0"), limit("1.5.0"), limit("2.0.0"))]),
      cases: { "1.0.0": [], "1.7.0": [], "2.0.0": undefined },
    },
    {
      name: 'limit "*" is infinity (the schema\'s special value), not an unreadable bound',
      entry: entry([range("semver", intro("1.0.0"), limit("*"))]),
      cases: { "0.1.0": undefined, "1.0.0": [], "500.0.0": [] },
    },
    {
      name: "a version at or above every limit is outside, even after a later introduced",
      entry: entry([range("semver", intro("0"), fixed("1.0.0"), intro("2.0.0"), limit("1.5.0"))]),
      cases: { "0.5.0": ["1.0.0"], "1.2.0": undefined, "2.5.0": undefined },
    },
    {
      name: "limit and fixed together: the fix is still reported",
      entry: entry([range("semver", intro("1.0.0"), fixed("1.4.0"), limit("2.0.0"))]),
      cases: { "1.2.0": ["1.4.0"], "1.5.0": undefined },
    },
  ]);
});

describe("evaluate: several ranges, versions lists, unreadable bounds", () => {
  check([
    {
      name: "any one of several ranges makes a version affected",
      entry: entry([
        range("semver", intro("0"), fixed("1.0.0")),
        range("semver", intro("2.0.0"), fixed("2.1.0")),
      ]),
      cases: { "0.5.0": ["1.0.0"], "1.5.0": undefined, "2.0.5": ["2.1.0"], "2.1.0": undefined },
    },
    {
      name: "a version inside two overlapping ranges reports each range's fix",
      entry: entry([
        range("semver", intro("0"), fixed("1.5.0")),
        range("semver", intro("1.0.0"), fixed("2.0.0")),
      ]),
      cases: { "1.2.0": ["1.5.0", "2.0.0"], "1.7.0": ["2.0.0"], "2.0.0": undefined },
    },
    {
      name: "versions alone: exactly the listed versions",
      entry: entry([], ["1.2.3", "1.2.5"]),
      cases: { "1.2.3": [], "1.2.4": undefined, "1.2.5": [] },
    },
    {
      name: "versions and ranges: either one is enough (IncludedInVersions || IncludedInRanges)",
      entry: entry([range("semver", intro("0"), fixed("1.0.0"))], ["1.4.0"]),
      cases: { "0.9.0": ["1.0.0"], "1.4.0": [], "1.4.1": undefined },
    },
    {
      name: "versions compare by the scheme: build metadata does not count in SemVer",
      entry: entry([range("semver", intro("0"), fixed("0.0.1"))], ["1.4.0"]),
      cases: { "1.4.0+build.7": [], "1.4.0-rc.1": undefined },
    },
    {
      name: "a bound the scheme cannot read skips that range; the other ranges still count",
      entry: entry([
        range("semver", intro("0"), fixed("banana")),
        range("semver", intro("0"), fixed("2.0.0")),
      ]),
      cases: { "1.0.0": ["2.0.0"], "3.0.0": undefined },
    },
    {
      name: "a range with only unreadable bounds says nothing: not affected rather than a guess",
      entry: entry([range("semver", intro("yesterday"), fixed("tomorrow"))]),
      cases: { "1.0.0": undefined },
    },
    {
      name: "an installed version the scheme cannot read matches no range, only an exact versions entry",
      entry: entry([range("semver", intro("0"))], ["r1234"]),
      cases: { "not.a.version": undefined, r1234: [] },
    },
    {
      name: 'an unknown scheme name ("ecosystem") uses the fallback scheme',
      entry: entry([range("ecosystem", intro("0"), fixed("1:3.0.1-43.el9_0"))]),
      fallback: schemeFor("rpm") as VersioningScheme,
      cases: { "1:3.0.1-41.el9_0": ["1:3.0.1-43.el9_0"], "1:3.0.1-43.el9_0": undefined },
    },
  ]);
});

describe("evaluate: each ecosystem's own order (real advisory bounds)", () => {
  check([
    {
      name: "Go GO-2021-0234 (stdlib): branch 1.16 fixed in 1.16.1, not 1.15.9; a v-prefixed installed version",
      entry: entry([range("go", intro("0"), fixed("1.15.9"), intro("1.16.0-0"), fixed("1.16.1"))]),
      cases: { "v1.15.0": ["1.15.9"], "v1.15.9": undefined, "v1.16.0": ["1.16.1"], "v1.16.1": undefined },
    },
    {
      name: "Go GO-2022-0493 (golang.org/x/sys): pseudo-versions order by their timestamp",
      entry: entry([range("go", intro("0"), fixed("0.0.0-20220412211240-33da011f77ad"))]),
      cases: {
        "v0.0.0-20200501145240-bc7a7d42d5c3": ["0.0.0-20220412211240-33da011f77ad"],
        "v0.0.0-20220412211240-33da011f77ad": undefined,
        "v0.1.0": undefined,
      },
    },
    {
      name: "dpkg CVE-2022-0456 (chromium, bullseye): ~deb11u1 sorts before the unstable fix",
      entry: entry([range("dpkg", intro("0"), fixed("98.0.4758.80-1~deb11u1"))]),
      cases: {
        "97.0.4692.99-1~deb11u2": ["98.0.4758.80-1~deb11u1"],
        "98.0.4758.80-1~deb11u1": undefined,
        "98.0.4758.80-1": undefined,
      },
    },
    {
      name: "apk CVE-2019-14697 (musl, v3.10): -r3 fixes, -r2 does not",
      entry: entry([range("apk", intro("0"), fixed("1.1.22-r3"))]),
      cases: { "1.1.22-r2": ["1.1.22-r3"], "1.1.22-r3": undefined, "1.1.23-r0": undefined },
    },
    {
      name: "rpm ALSA-2022:7288 (openssl, AlmaLinux 9): the epoch counts; a missing epoch is 0",
      entry: entry([range("rpm", intro("0"), fixed("1:3.0.1-43.el9_0"))]),
      cases: {
        "1:3.0.1-41.el9_0": ["1:3.0.1-43.el9_0"],
        "1:3.0.1-43.el9_0": undefined,
        "1:3.0.7-27.el9": undefined,
        "3.0.7-27.el9": ["1:3.0.1-43.el9_0"],
      },
    },
  ]);
});
