/**
 * Go module versions (https://go.dev/ref/mod#versions), ordered as golang.org/x/mod/semver orders
 * them: SemVer 2.0.0 with a mandatory `v`, the shorthands `vMAJOR` and `vMAJOR.MINOR` (= `.0`), and
 * build metadata (in practice only `+incompatible`) ignored for precedence.
 *
 * Pseudo-versions need no special case: `v0.0.0-20200501145240-bc7a7d42d5c3`,
 * `v1.2.4-0.20200501145240-bc7a7d42d5c3` and `v1.2.3-pre.0.20200501145240-bc7a7d42d5c3` are SemVer
 * prereleases whose identifiers order them after the base (or the prerelease) they derive from and
 * before the next release, by commit time. Written by hand (a port of x/mod/semver's parse and
 * compare, numbers of any length) because node-semver rejects the shorthands, and OSV writes Go
 * versions without the `v` (`1.2.3` ≡ `v1.2.3`), which this scheme accepts too.
 *
 * The Go toolchain itself (the `stdlib` and `toolchain` packages) is stored by the inventory as
 * `v1.21.0`, `v1.21.0-rc.2` (from `go1.21rc2`), which is this same grammar.
 */
import { compareDigits, ParsedCache } from "./parsed-cache.js";
import { InvalidVersionError, type VersioningScheme } from "./scheme.js";
// Go prerelease precedence is SemVer's (golang.org/x/mod/semver compares prereleases per §11).
import { comparePrerelease } from "./semver.js";

const NAME = "go";

interface Parsed {
  major: string;
  minor: string;
  patch: string;
  /** Dot-separated prerelease identifiers; empty for a release. */
  pre: string[];
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isIdentChar = (c: number) =>
  isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45; /* - */

/** A number without leading zeros, ending at `.`, `-`, `+` or the end. */
function readNumber(s: string, at: number): number {
  let i = at;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  if (i === at) return -1;
  if (s.charCodeAt(at) === 48 && i - at > 1) return -1;
  return i;
}

/** Dot-separated non-empty identifiers of [0-9A-Za-z-] from `at` to the end or to `stop`. */
function readIdentifiers(
  s: string,
  at: number,
  stop: number,
  numericNoLeadingZero: boolean,
): string[] | null {
  const end = stop < 0 ? s.length : stop;
  if (at >= end) return null;
  const ids = s.slice(at, end).split(".");
  for (const id of ids) {
    if (id.length === 0) return null;
    let numeric = true;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      if (!isIdentChar(c)) return null;
      if (!isDigit(c)) numeric = false;
    }
    if (numericNoLeadingZero && numeric && id.length > 1 && id.charCodeAt(0) === 48) return null;
  }
  return ids;
}

function parseGo(input: string): Parsed | null {
  const s = input.startsWith("v") ? input : `v${input}`;
  let i = 1;
  const majorEnd = readNumber(s, i);
  if (majorEnd < 0) return null;
  const major = s.slice(i, majorEnd);
  i = majorEnd;
  if (i === s.length) return { major, minor: "0", patch: "0", pre: [] };
  if (s[i] !== ".") return null;
  const minorEnd = readNumber(s, i + 1);
  if (minorEnd < 0) return null;
  const minor = s.slice(i + 1, minorEnd);
  i = minorEnd;
  if (i === s.length) return { major, minor, patch: "0", pre: [] };
  if (s[i] !== ".") return null;
  const patchEnd = readNumber(s, i + 1);
  if (patchEnd < 0) return null;
  const patch = s.slice(i + 1, patchEnd);
  i = patchEnd;
  let pre: string[] = [];
  const plus = s.indexOf("+", i);
  if (s[i] === "-") {
    const ids = readIdentifiers(s, i + 1, plus, true);
    if (!ids) return null;
    pre = ids;
    i = plus < 0 ? s.length : plus;
  }
  if (s[i] === "+") {
    if (!readIdentifiers(s, i + 1, -1, false)) return null;
    i = s.length;
  }
  if (i !== s.length) return null;
  return { major, minor, patch, pre };
}

const cache = new ParsedCache(parseGo);

function parse(input: string): Parsed {
  const p = cache.get(input);
  if (!p) throw new InvalidVersionError(NAME, input);
  return p;
}

export const goVersioning: VersioningScheme = {
  name: NAME,
  version: 1,
  spec: "Go module versions (go.dev/ref/mod#versions; golang.org/x/mod/semver)",
  isValid(version: string): boolean {
    return cache.get(version) !== null;
  },
  compare(a: string, b: string): number {
    const x = parse(a);
    const y = parse(b);
    return (
      compareDigits(x.major, y.major) ||
      compareDigits(x.minor, y.minor) ||
      compareDigits(x.patch, y.patch) ||
      comparePrerelease(x.pre, y.pre)
    );
  },
};
