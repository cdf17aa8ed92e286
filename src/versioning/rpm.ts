/**
 * RPM versions: rpmvercmp (rpm rpmio/rpmvercmp.c) over `[epoch:]version[-release]` as rpm itself
 * splits and compares an EVR (rpmio/rpmver.c `rpmverParse` / `rpmverCmp`, which is also what rpm's
 * Lua `rpm.vercmp()` uses: the tests' oracle). Written by hand: no correct, maintained JavaScript
 * implementation exists.
 *
 * Splitting (parseEVR): leading digits followed by `:` are the epoch; the release is what follows
 * the last `-`; the version is what is left. Comparing (rpmverCmp, as in rpm 4.18): epochs (a missing
 * epoch is 0), then versions, then releases, where a missing release sorts before any release:
 * `1.2` < `1.2-0` < `1.2-1`. So a bound a feed states without a release (`< 1.2`) is below every
 * build of 1.2, which is what "fixed in 1.2" means; a caller that wants rpm's *dependency* rule
 * instead (a version-only bound matches every release of that version: rpmdsCompare) compares the
 * parsed versions with `rpmvercmp` when one side has no release.
 *
 * rpmvercmp: both strings are cut into runs of ASCII digits and runs of ASCII letters; any other
 * character only separates (`1.0` = `1_0` = `1..0`). `~` sorts before everything, even the end
 * (`1.0~rc1` < `1.0`); `^` sorts after the end but before anything else (`1.0` < `1.0^git1` <
 * `1.0.1`). Runs compare pairwise: numbers numerically (leading zeros ignored, any length), letters
 * with strcmp; a number is newer than letters; when one side runs out, the side with segments
 * left is newer.
 *
 * Validity (stricter than rpm's parser, which takes any non-empty string): the epoch, when there
 * is a `:`, is 1-10 digits of at most 2^32 - 1 (rpm's header stores it as a 32-bit integer); the
 * version and the release are non-empty and hold only what rpmbuild allows in Version/Release
 * (`A-Za-z0-9` and `._+~^`; the macro characters `%{}` cannot survive a build). So `1.0-1-2`,
 * `:1.0`, `1.0-` and `1.0:2` are invalid although rpm would order them.
 *
 * The hot path allocates nothing: both strings are scanned into index ranges.
 */
import { InvalidVersionError, type VersioningScheme } from "./scheme.js";

export interface Evr {
  /** undefined when the string has none (compares as 0). */
  epoch: number | undefined;
  version: string;
  /** undefined when the string has none (sorts before any release). */
  release: string | undefined;
}

const SCHEME = "rpm";
const UINT32_MAX = 4294967295;
const TILDE = 126;
const CARET = 94;

// Scratch for `locate`: [epochStart, epochEnd, versionStart, versionEnd, releaseStart, releaseEnd]
// per side; epochStart = -1 without an epoch, releaseStart = -1 without a release.
const A = new Int32Array(6);
const B = new Int32Array(6);

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** What rpmbuild allows in Version and Release (less the macro characters). */
function isVerRelChar(c: number): boolean {
  return isDigit(c) || isAlpha(c) || c === 46 || c === 95 || c === 43 || c === TILDE || c === CARET;
}

function locate(v: string, out: Int32Array): boolean {
  const len = v.length;
  let i = 0;
  while (i < len && isDigit(v.charCodeAt(i))) i++;
  let start = 0;
  if (i < len && v.charCodeAt(i) === 58) {
    if (i === 0 || i > 10) return false;
    let epoch = 0;
    for (let k = 0; k < i; k++) epoch = epoch * 10 + (v.charCodeAt(k) - 48);
    if (epoch > UINT32_MAX) return false;
    out[0] = 0;
    out[1] = i;
    start = i + 1;
  } else {
    out[0] = -1;
    out[1] = -1;
  }
  let hyphen = -1;
  for (let k = len - 1; k >= start; k--) {
    if (v.charCodeAt(k) === 45) {
      hyphen = k;
      break;
    }
  }
  const versionEnd = hyphen >= 0 ? hyphen : len;
  if (versionEnd === start) return false;
  for (let k = start; k < versionEnd; k++) if (!isVerRelChar(v.charCodeAt(k))) return false;
  if (hyphen >= 0) {
    if (hyphen === len - 1) return false;
    for (let k = hyphen + 1; k < len; k++) if (!isVerRelChar(v.charCodeAt(k))) return false;
    out[4] = hyphen + 1;
    out[5] = len;
  } else {
    out[4] = -1;
    out[5] = -1;
  }
  out[2] = start;
  out[3] = versionEnd;
  return true;
}

/** rpmvercmp over a[i, ae) and b[j, be): -1, 0 or 1. */
function vercmp(a: string, i: number, ae: number, b: string, j: number, be: number): number {
  while (i < ae || j < be) {
    let ca = i < ae ? a.charCodeAt(i) : 0;
    while (i < ae && !isDigit(ca) && !isAlpha(ca) && ca !== TILDE && ca !== CARET) {
      i++;
      ca = i < ae ? a.charCodeAt(i) : 0;
    }
    let cb = j < be ? b.charCodeAt(j) : 0;
    while (j < be && !isDigit(cb) && !isAlpha(cb) && cb !== TILDE && cb !== CARET) {
      j++;
      cb = j < be ? b.charCodeAt(j) : 0;
    }
    // ~ sorts before everything else, the end included.
    if (ca === TILDE || cb === TILDE) {
      if (ca !== TILDE) return 1;
      if (cb !== TILDE) return -1;
      i++;
      j++;
      continue;
    }
    // ^ sorts after the end, before everything else.
    if (ca === CARET || cb === CARET) {
      if (i >= ae) return -1;
      if (j >= be) return 1;
      if (ca !== CARET) return 1;
      if (cb !== CARET) return -1;
      i++;
      j++;
      continue;
    }
    if (i >= ae || j >= be) break;
    let s1 = i;
    let s2 = j;
    const isNum = isDigit(ca);
    if (isNum) {
      while (s1 < ae && isDigit(a.charCodeAt(s1))) s1++;
      while (s2 < be && isDigit(b.charCodeAt(s2))) s2++;
    } else {
      while (s1 < ae && isAlpha(a.charCodeAt(s1))) s1++;
      while (s2 < be && isAlpha(b.charCodeAt(s2))) s2++;
    }
    // Segments of different kinds: the number is newer.
    if (s2 === j) return isNum ? 1 : -1;
    if (isNum) {
      while (i < s1 && a.charCodeAt(i) === 48) i++;
      while (j < s2 && b.charCodeAt(j) === 48) j++;
      const l1 = s1 - i;
      const l2 = s2 - j;
      if (l1 !== l2) return l1 > l2 ? 1 : -1;
    }
    // strcmp over the two segments.
    const l1 = s1 - i;
    const l2 = s2 - j;
    const n = Math.min(l1, l2);
    for (let k = 0; k < n; k++) {
      const d = a.charCodeAt(i + k) - b.charCodeAt(j + k);
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    if (l1 !== l2) return l1 < l2 ? -1 : 1;
    i = s1;
    j = s2;
  }
  if (i >= ae && j >= be) return 0;
  return i >= ae ? -1 : 1;
}

const ZERO = "0";

function compareLocated(a: string, pa: Int32Array, b: string, pb: Int32Array): number {
  // A missing epoch is "0".
  const aHasEpoch = (pa[0] as number) >= 0;
  const bHasEpoch = (pb[0] as number) >= 0;
  let r = vercmp(
    aHasEpoch ? a : ZERO,
    aHasEpoch ? (pa[0] as number) : 0,
    aHasEpoch ? (pa[1] as number) : 1,
    bHasEpoch ? b : ZERO,
    bHasEpoch ? (pb[0] as number) : 0,
    bHasEpoch ? (pb[1] as number) : 1,
  );
  if (r !== 0) return r;
  r = vercmp(a, pa[2] as number, pa[3] as number, b, pb[2] as number, pb[3] as number);
  if (r !== 0) return r;
  // A missing release sorts before any release (rpmverCmp's compare_values).
  const ra = (pa[4] as number) >= 0;
  const rb = (pb[4] as number) >= 0;
  if (!ra || !rb) return ra === rb ? 0 : ra ? 1 : -1;
  return vercmp(a, pa[4] as number, pa[5] as number, b, pb[4] as number, pb[5] as number);
}

/** rpm's rpmvercmp on two version (or release) strings, with no EVR splitting: -1, 0 or 1. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  return vercmp(a, 0, a.length, b, 0, b.length);
}

/** Splits `[epoch:]version[-release]`. Throws InvalidVersionError. */
export function parseEvr(evr: string): Evr {
  if (!locate(evr, A)) throw new InvalidVersionError(SCHEME, evr);
  return {
    epoch: (A[0] as number) >= 0 ? Number(evr.slice(A[0], A[1])) : undefined,
    version: evr.slice(A[2], A[3]),
    release: (A[4] as number) >= 0 ? evr.slice(A[4], A[5]) : undefined,
  };
}

/** Orders two parsed EVRs as rpmverCmp does (-1, 0, 1): a missing release sorts before any release. */
export function compareEvr(a: Evr, b: Evr): number {
  const ea = a.epoch ?? 0;
  const eb = b.epoch ?? 0;
  if (ea !== eb) return ea < eb ? -1 : 1;
  const r = rpmvercmp(a.version, b.version);
  if (r !== 0) return r;
  if (a.release === undefined || b.release === undefined) {
    return a.release === b.release ? 0 : a.release === undefined ? -1 : 1;
  }
  return rpmvercmp(a.release, b.release);
}

/** Whether `evr` is a valid `[epoch:]version[-release]` (see the header for the rules). */
export function isValid(evr: string): boolean {
  return locate(evr, A);
}

/** Orders two EVR strings as rpm does (-1, 0, 1). Throws InvalidVersionError. */
export function compare(a: string, b: string): number {
  if (!locate(a, A)) throw new InvalidVersionError(SCHEME, a);
  if (a === b) return 0;
  if (!locate(b, B)) throw new InvalidVersionError(SCHEME, b);
  return compareLocated(a, A, b, B);
}

export const rpmVersioning: VersioningScheme = {
  name: SCHEME,
  version: 1,
  spec: "rpmvercmp (rpm rpmio/rpmvercmp.c) over [epoch:]version[-release] (rpmverCmp)",
  isValid,
  compare,
};
