/**
 * PEP 440 (https://peps.python.org/pep-0440/) for PyPI, ordered as `packaging.version.Version` does
 * (pip's implementation): epoch, release with trailing zeros ignored, pre-release, post-release,
 * development release, local version label; spelling variants normalised (`1.0.0a1` ≡
 * `1.0.0-alpha1` ≡ `1.0.0.a.1`, `1.0-1` ≡ `1.0.post1`, `c`/`pre`/`preview` ≡ `rc`, `rev`/`r` ≡
 * `post`, case-insensitive, leading `v` and surrounding whitespace allowed).
 *
 * The grammar is @renovatebot/pep440's `VERSION_PATTERN` (PEP 440 Appendix B). Its ordering is
 * not used, because it is wrong in three places (checked against packaging 26):
 * - local segments are classified with `Number(part)`, so `0x1a`, `1e5` and `Infinity` count as
 *   numbers (packaging: `part.isdigit()`), misordering e.g. `1.0+0x1a` after `1.0+5`;
 * - numbers are JavaScript doubles, so `1.9007199254740993` == `1.9007199254740992`;
 * - `compare` throws a TypeError on invalid or whitespace-padded input, which packaging accepts.
 * This module re-implements packaging's `_cmpkey` over the same pattern's capture groups with
 * arbitrary-precision numbers.
 */
import { VERSION_PATTERN } from "@renovatebot/pep440/lib/version.js";
import { compareDigits, compareStrings, ParsedCache } from "./parsed-cache.js";
import { InvalidVersionError, type VersioningScheme } from "./scheme.js";

const NAME = "pep440";

/** Pre-release phase rank: a < b < rc (packaging compares the normalised letters as strings). */
type PreLetter = "a" | "b" | "rc";

interface Parsed {
  epoch: string;
  /** Release segment with trailing zeros removed (packaging's `_release` in `_cmpkey`). */
  release: string[];
  pre: [PreLetter, string] | null;
  post: string | null;
  dev: string | null;
  /** Local label parts: digit runs as numbers, the rest lower-cased strings. */
  local: (string | { n: string })[] | null;
}

const PATTERN = new RegExp(`^\\s*${VERSION_PATTERN}\\s*$`, "i");

function preLetter(raw: string): PreLetter {
  const l = raw.toLowerCase();
  if (l === "a" || l === "alpha") return "a";
  if (l === "b" || l === "beta") return "b";
  return "rc"; // c, rc, pre, preview
}

function parsePep440(input: string): Parsed | null {
  const m = PATTERN.exec(input);
  const g = m?.groups;
  if (!g || g.release === undefined) return null;
  const release = g.release.split(".");
  while (release.length > 0 && /^0+$/.test(release[release.length - 1] as string)) release.pop();
  const pre: Parsed["pre"] = g.pre_l ? [preLetter(g.pre_l), g.pre_n ?? "0"] : null;
  let post: string | null = null;
  if (g.post_n1 !== undefined) post = g.post_n1;
  else if (g.post_l !== undefined) post = g.post_n2 ?? "0";
  const dev = g.dev_l !== undefined ? (g.dev_n ?? "0") : null;
  const local = g.local
    ? g.local
        .toLowerCase()
        .split(/[-_.]/)
        .map((part) => (/^[0-9]+$/.test(part) ? { n: part } : part))
    : null;
  return { epoch: g.epoch ?? "0", release, pre, post, dev, local };
}

const cache = new ParsedCache(parsePep440);

function parse(input: string): Parsed {
  const p = cache.get(input);
  if (!p) throw new InvalidVersionError(NAME, input);
  return p;
}

function compareRelease(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareDigits(a[i] as string, b[i] as string);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * The pre-release key: packaging puts a dev release of a final version (`1.0.dev1`, no pre and no
 * post) below every pre-release, and a version without a pre-release above them all.
 */
function preKey(p: Parsed): -1 | 1 | [PreLetter, string] {
  if (p.pre) return p.pre;
  return p.post === null && p.dev !== null ? -1 : 1;
}

function comparePre(x: Parsed, y: Parsed): number {
  const a = preKey(x);
  const b = preKey(y);
  if (typeof a === "number" || typeof b === "number") {
    const ra = typeof a === "number" ? a : 0;
    const rb = typeof b === "number" ? b : 0;
    return ra === rb ? 0 : ra < rb ? -1 : 1;
  }
  return compareStrings(a[0], b[0]) || compareDigits(a[1], b[1]);
}

/** Absent sorts as `absent` (-1 before any value, +1 after any value). */
function compareOptional(a: string | null, b: string | null, absent: -1 | 1): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? absent : -absent;
  return compareDigits(a, b);
}

function compareLocal(a: Parsed["local"], b: Parsed["local"]): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as string | { n: string };
    const y = b[i] as string | { n: string };
    let c: number;
    if (typeof x === "string" && typeof y === "string") c = compareStrings(x, y);
    else if (typeof x === "string")
      c = -1; // alphanumeric parts sort before numeric ones
    else if (typeof y === "string") c = 1;
    else c = compareDigits(x.n, y.n);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export const pep440Versioning: VersioningScheme = {
  name: NAME,
  version: 1,
  spec: "PEP 440 (ordering of packaging.version.Version)",
  isValid(version: string): boolean {
    return cache.get(version) !== null;
  },
  compare(a: string, b: string): number {
    const x = parse(a);
    const y = parse(b);
    return (
      compareDigits(x.epoch, y.epoch) ||
      compareRelease(x.release, y.release) ||
      comparePre(x, y) ||
      compareOptional(x.post, y.post, -1) ||
      compareOptional(x.dev, y.dev, 1) ||
      compareLocal(x.local, y.local)
    );
  },
};
