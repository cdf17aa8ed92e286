/**
 * RubyGems version order: a port of `Gem::Version` (rubygems/version.rb), checked against the
 * RubyGems that ships with Ruby.
 *
 * - Valid: `[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`, surrounding whitespace
 *   allowed; every `-` is read as `.pre.` (`1.0-1` ≡ `1.0.pre.1`).
 * - Segments are the runs of digits (numbers, any size) and of letters (strings, case-sensitive);
 *   dots only separate. A version with a letter is a prerelease: strings sort below numbers at the
 *   same position, so `1.0.a` < `1.0` < `1.0.1`.
 * - Canonical segments drop trailing zeros of the numeric part and of the part from the first string
 *   on (`1.0.0` ≡ `1`, `1.0.a.0` ≡ `1.a`); missing segments compare as 0.
 *
 * Written by hand: no JavaScript implementation of Gem::Version is maintained on npm.
 * Difference: `Gem::Version.new("")` is version 0; here an empty (or blank) string is invalid.
 */
import { compareDigits, compareStrings, ParsedCache } from "./parsed-cache.js";
import { InvalidVersionError, type VersioningScheme } from "./scheme.js";

const NAME = "rubygems";

// Ruby's \s is [ \t\r\n\f\v]; the atomic group of VERSION_PATTERN needs no equivalent here (no
// backtracking into a segment can let the rest match).
const ANCHORED =
  /^[ \t\r\n\f\v]*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)[ \t\r\n\f\v]*$/;

/** A segment: a string (letters) or a number (digits, `{ n }`). */
type Segment = string | { n: string };

interface Parsed {
  /** The version as Gem::Version keeps it: stripped, `-` replaced by `.pre.`. */
  text: string;
  canonical: Segment[];
}

const isZero = (s: Segment) => typeof s !== "string" && /^0+$/.test(s.n);

function dropTrailingZeros(segments: Segment[]): Segment[] {
  let end = segments.length;
  while (end > 0 && isZero(segments[end - 1] as Segment)) end--;
  return segments.slice(0, end);
}

function parseGem(input: string): Parsed | null {
  const m = ANCHORED.exec(input);
  if (!m) return null;
  const text = (m[1] as string).replaceAll("-", ".pre.");
  const segments: Segment[] = (text.match(/[0-9]+|[a-z]+/gi) ?? []).map((s) =>
    /^[0-9]/.test(s) ? { n: s } : s,
  );
  const firstString = segments.findIndex((s) => typeof s === "string");
  const numeric = firstString < 0 ? segments : segments.slice(0, firstString);
  const rest = firstString < 0 ? [] : segments.slice(firstString);
  return { text, canonical: [...dropTrailingZeros(numeric), ...dropTrailingZeros(rest)] };
}

const cache = new ParsedCache(parseGem);

function parse(input: string): Parsed {
  const p = cache.get(input);
  if (!p) throw new InvalidVersionError(NAME, input);
  return p;
}

const ZERO: Segment = { n: "0" };

export const rubygemsVersioning: VersioningScheme = {
  name: NAME,
  version: 1,
  spec: "RubyGems Gem::Version",
  isValid(version: string): boolean {
    return cache.get(version) !== null;
  },
  compare(a: string, b: string): number {
    const x = parse(a);
    const y = parse(b);
    if (x.text === y.text) return 0;
    const n = Math.max(x.canonical.length, y.canonical.length);
    for (let i = 0; i < n; i++) {
      const l = x.canonical[i] ?? ZERO;
      const r = y.canonical[i] ?? ZERO;
      if (typeof l === "string") {
        if (typeof r !== "string") return -1;
        const c = compareStrings(l, r);
        if (c !== 0) return c;
      } else {
        if (typeof r === "string") return 1;
        const c = compareDigits(l.n, r.n);
        if (c !== 0) return c;
      }
    }
    return 0;
  },
};
