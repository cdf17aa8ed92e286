/**
 * Debian package versions: deb-version(7) and Debian Policy §5.6.12, compared as dpkg does
 * (dpkg lib/dpkg/version.c `dpkg_version_compare` / `verrevcmp`, parsed as lib/dpkg/parsehelp.c
 * `parseversion`). Written by hand: no correct, maintained JavaScript implementation exists.
 *
 * `[epoch:]upstream_version[-debian_revision]`
 * - epoch: an unsigned decimal integer (at most INT_MAX, as dpkg) before the first colon; missing = 0.
 *   Without an epoch there can be no colon anywhere (dpkg: "epoch in version is not number").
 * - revision: everything after the last hyphen, never empty; missing compares equal to "0", so
 *   `1.0` = `1.0-0` (dpkg compares an absent revision as the empty string).
 * - upstream: what is left, never empty; it may contain hyphens (when there is a revision) and
 *   colons (when there is an epoch).
 * Comparison: epochs numerically, then upstream, then revision, each by verrevcmp: alternate runs of
 * non-digits, compared character by character with `~` before everything (even the end of the
 * string), then the end, then letters (ASCII order), then every other character (ASCII order + 256);
 * and runs of digits compared numerically (leading zeros ignored, any length).
 *
 * Validity. Strict (the scheme's `isValid`/`compare`): Policy syntax, which is also what dpkg
 * accepts without a warning: upstream starts with a digit and holds only `A-Za-z0-9.+~-:`, the
 * revision only `A-Za-z0-9.+~`. The strict default is deliberate: a feed's sentinel such as
 * `<unfixed>`, `unknown` or `none` must never compare as a version. dpkg itself is more lenient:
 * it only *warns* about a version that does not start with a digit or that holds other
 * characters, and still orders it (`dpkg --compare-versions`, and installed packages whose status
 * entry has such a version). `parse(v, { lenient: true })` and `compareParsed` accept and order
 * those exactly as dpkg does (printable ASCII only), for a caller that needs dpkg's leniency.
 * Both modes refuse what dpkg refuses outright: an empty version, whitespace, an epoch that is not
 * a number or is above INT_MAX, nothing after the colon, an empty upstream, an empty revision.
 * Known divergences from dpkg, all for inputs that are not Policy versions: dpkg trims leading and
 * trailing blanks (we refuse them), reads the epoch with strtol (so it takes `+1:1.0`; we refuse a
 * sign), and orders non-ASCII bytes by their signed value (we refuse non-ASCII in both modes).
 *
 * The hot path (`compare`) allocates nothing: both strings are scanned into index ranges.
 */
import { InvalidVersionError, type VersioningScheme } from "./scheme.js";

export interface DpkgVersion {
  /** 0 when the version has none. */
  epoch: number;
  upstream: string;
  /** "" when the version has none (compares equal to "0"). */
  revision: string;
}

export interface DpkgParseOptions {
  /**
   * Accept what dpkg accepts with only a warning: an upstream version that does not start with a
   * digit, and any printable non-space ASCII in upstream and revision. Default false (Policy syntax).
   */
  lenient?: boolean;
}

const SCHEME = "dpkg";
const INT_MAX = 2147483647;

// Scratch for `locate`: [epoch, upstreamStart, upstreamEnd, revisionStart, revisionEnd] per side.
const A = new Int32Array(5);
const B = new Int32Array(5);

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Characters of an upstream version besides alphanumerics (Policy): . + ~ - : */
function isUpstreamPunct(c: number): boolean {
  return c === 46 || c === 43 || c === 126 || c === 45 || c === 58;
}

/** Characters of a revision besides alphanumerics (Policy): . + ~ */
function isRevisionPunct(c: number): boolean {
  return c === 46 || c === 43 || c === 126;
}

/** Printable ASCII without the space: what lenient mode lets through (dpkg would only warn). */
function isPrintable(c: number): boolean {
  return c > 32 && c < 127;
}

/**
 * Splits `v` into `out` = [epoch, upstreamStart, upstreamEnd, revisionStart, revisionEnd] and
 * returns whether it is a valid version. The revision range is empty when there is none.
 */
function locate(v: string, lenient: boolean, out: Int32Array): boolean {
  const len = v.length;
  if (len === 0) return false;
  let start = 0;
  let epoch = 0;
  const colon = v.indexOf(":");
  if (colon >= 0) {
    if (colon === 0) return false; // "epoch in version is empty"
    for (let i = 0; i < colon; i++) {
      const c = v.charCodeAt(i);
      if (!isDigit(c)) return false; // "epoch in version is not number"
      epoch = epoch * 10 + (c - 48);
      if (epoch > INT_MAX) return false; // "epoch in version is too big"
    }
    start = colon + 1;
    if (start === len) return false; // "nothing after colon in version number"
  }
  let hyphen = -1;
  for (let i = len - 1; i >= start; i--) {
    if (v.charCodeAt(i) === 45) {
      hyphen = i;
      break;
    }
  }
  const upstreamEnd = hyphen >= 0 ? hyphen : len;
  if (hyphen === len - 1) return false; // "revision number is empty"
  if (upstreamEnd === start) return false; // "version number is empty"
  if (lenient) {
    for (let i = start; i < len; i++) if (!isPrintable(v.charCodeAt(i))) return false;
  } else {
    if (!isDigit(v.charCodeAt(start))) return false; // "version number does not start with digit"
    for (let i = start + 1; i < upstreamEnd; i++) {
      const c = v.charCodeAt(i);
      if (!isDigit(c) && !isAlpha(c) && !isUpstreamPunct(c)) return false;
    }
    for (let i = upstreamEnd + 1; i < len; i++) {
      const c = v.charCodeAt(i);
      if (!isDigit(c) && !isAlpha(c) && !isRevisionPunct(c)) return false;
    }
  }
  out[0] = epoch;
  out[1] = start;
  out[2] = upstreamEnd;
  out[3] = hyphen >= 0 ? hyphen + 1 : len;
  out[4] = len;
  return true;
}

/** dpkg's order(): digits (and the end) 0, `~` -1, letters their code, anything else code + 256. */
function order(c: number): number {
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 126) return -1;
  return c + 256;
}

/** dpkg's verrevcmp over a[ai, ae) and b[bi, be); the sign of the result is what counts. */
function verrevcmp(a: string, ai: number, ae: number, b: string, bi: number, be: number): number {
  while (ai < ae || bi < be) {
    let firstDiff = 0;
    for (;;) {
      const ca = ai < ae ? a.charCodeAt(ai) : -1;
      const cb = bi < be ? b.charCodeAt(bi) : -1;
      const aText = ca >= 0 && !isDigit(ca);
      const bText = cb >= 0 && !isDigit(cb);
      if (!aText && !bText) break;
      const oa = aText ? order(ca) : 0;
      const ob = bText ? order(cb) : 0;
      if (oa !== ob) return oa - ob;
      ai++;
      bi++;
    }
    while (ai < ae && a.charCodeAt(ai) === 48) ai++;
    while (bi < be && b.charCodeAt(bi) === 48) bi++;
    for (;;) {
      const ca = ai < ae ? a.charCodeAt(ai) : -1;
      const cb = bi < be ? b.charCodeAt(bi) : -1;
      const aDigit = ca >= 0 && isDigit(ca);
      const bDigit = cb >= 0 && isDigit(cb);
      if (aDigit && bDigit) {
        if (firstDiff === 0) firstDiff = ca - cb;
        ai++;
        bi++;
        continue;
      }
      if (aDigit) return 1;
      if (bDigit) return -1;
      break;
    }
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function compareLocated(a: string, pa: Int32Array, b: string, pb: Int32Array): number {
  const ea = pa[0] as number;
  const eb = pb[0] as number;
  if (ea !== eb) return ea < eb ? -1 : 1;
  const r = verrevcmp(a, pa[1] as number, pa[2] as number, b, pb[1] as number, pb[2] as number);
  if (r !== 0) return sign(r);
  return sign(verrevcmp(a, pa[3] as number, pa[4] as number, b, pb[3] as number, pb[4] as number));
}

/** Splits a version into epoch, upstream and revision. Throws InvalidVersionError. */
export function parse(version: string, options?: DpkgParseOptions): DpkgVersion {
  if (!locate(version, options?.lenient === true, A)) throw new InvalidVersionError(SCHEME, version);
  return {
    epoch: A[0] as number,
    upstream: version.slice(A[1], A[2]),
    revision: version.slice(A[3], A[4]),
  };
}

/** Whether `version` is valid (Policy syntax, or dpkg's warning-only leniency with `lenient`). */
export function isValid(version: string, options?: DpkgParseOptions): boolean {
  return locate(version, options?.lenient === true, A);
}

/** Orders two parsed versions as dpkg does (-1, 0, 1). */
export function compareParsed(a: DpkgVersion, b: DpkgVersion): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  const r = verrevcmp(a.upstream, 0, a.upstream.length, b.upstream, 0, b.upstream.length);
  if (r !== 0) return sign(r);
  return sign(verrevcmp(a.revision, 0, a.revision.length, b.revision, 0, b.revision.length));
}

/** Orders two version strings as dpkg does (-1, 0, 1). Throws InvalidVersionError. */
export function compare(a: string, b: string, options?: DpkgParseOptions): number {
  const lenient = options?.lenient === true;
  if (!locate(a, lenient, A)) throw new InvalidVersionError(SCHEME, a);
  if (a === b) return 0;
  if (!locate(b, lenient, B)) throw new InvalidVersionError(SCHEME, b);
  return compareLocated(a, A, b, B);
}

export const dpkgVersioning: VersioningScheme = {
  name: SCHEME,
  version: 1,
  spec: "deb-version(7), Debian Policy §5.6.12 (dpkg verrevcmp)",
  isValid: (version) => locate(version, false, A),
  compare: (a, b) => compare(a, b),
};
