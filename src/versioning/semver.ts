/**
 * SemVer 2.0.0 (https://semver.org/spec/v2.0.0.html) for npm, crates.io and the Node.js runtime,
 * parsed by node-semver (the parser npm itself uses).
 *
 * Accepted input is node-semver's strict (non-loose) grammar: `MAJOR.MINOR.PATCH[-PRE][+BUILD]`,
 * optionally with a leading `v` and surrounding whitespace, as npm accepts in a manifest. Loose forms
 * (`=1.2.3`, `1.2`, `01.2.3`) are invalid: npm rewrites versions to the clean form when publishing,
 * and the registry, lock files and OSV only ever carry the clean form.
 *
 * One scheme serves crates.io too: Cargo's `semver` crate orders identically (precedence per §11,
 * build metadata ignored; the crate's `Ord` additionally tie-breaks on build metadata, but crates.io
 * refuses two versions that differ only in build metadata, so no advisory can tell them apart). Cargo
 * rejects the `v` prefix, which is harmless to accept: no crate version carries one.
 *
 * Deviation from node-semver: its compare converts numeric prerelease identifiers to doubles, so
 * `1.0.0-9007199254740993` compared equal to `1.0.0-9007199254740992`. Precedence here compares them
 * as arbitrary-precision integers, as §11.4.1 requires. (Major, minor and patch above 2^53-1 are
 * rejected by node-semver and so invalid here.)
 */
import { SemVer } from "semver";
import { compareDigits, compareStrings, ParsedCache } from "./parsed-cache.js";
import { InvalidVersionError, type VersioningScheme } from "./scheme.js";

const NAME = "semver";

interface Parsed {
  major: number;
  minor: number;
  patch: number;
  /** Prerelease identifiers as written (numeric ones are runs of digits without leading zeros). */
  pre: string[];
}

const DIGITS = /^[0-9]+$/;

const cache = new ParsedCache<Parsed>((input) => {
  let v: SemVer;
  try {
    v = new SemVer(input);
  } catch {
    return null;
  }
  return { major: v.major, minor: v.minor, patch: v.patch, pre: v.prerelease.map(String) };
});

function parse(input: string): Parsed {
  const p = cache.get(input);
  if (!p) throw new InvalidVersionError(NAME, input);
  return p;
}

/** SemVer §11.4: identifiers left to right; numeric < alphanumeric; a shorter set is lower. */
export function comparePrerelease(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    const xNum = DIGITS.test(x);
    const yNum = DIGITS.test(y);
    const c = xNum && yNum ? compareDigits(x, y) : xNum ? -1 : yNum ? 1 : compareStrings(x, y);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export const semverVersioning: VersioningScheme = {
  name: NAME,
  version: 1,
  spec: "Semantic Versioning 2.0.0 (node-semver strict parsing)",
  isValid(version: string): boolean {
    return cache.get(version) !== null;
  },
  compare(a: string, b: string): number {
    const x = parse(a);
    const y = parse(b);
    if (x.major !== y.major) return x.major < y.major ? -1 : 1;
    if (x.minor !== y.minor) return x.minor < y.minor ? -1 : 1;
    if (x.patch !== y.patch) return x.patch < y.patch ? -1 : 1;
    return comparePrerelease(x.pre, y.pre);
  },
};
