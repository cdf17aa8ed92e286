/**
 * Alpine package versions, validated and compared as apk-tools does (src/version.c:
 * `apk_version_validate`, `apk_version_compare`, in the token form of apk-tools 2.14 and 3.x).
 * Written by hand: no correct, maintained JavaScript implementation exists.
 *
 * Grammar: `digit{.digit}...{letter}{_suffix{digits}}...{~hash}{-rN}`, tokenised left to right:
 * - the first number (required), then `.N` numbers, then at most one lower-case letter;
 * - any number of suffixes `_alpha _beta _pre _rc` (pre-releases, in that order, below no suffix)
 *   and `_cvs _svn _git _hg _p` (post-releases, above no suffix), each with an optional number;
 * - an optional commit hash `~[0-9a-f]+`, then an optional revision `-r` + digits.
 * Anything else (upper case, a letter after a letter, `_foo`, `-1`, an empty number, a token out
 * of order) makes the version invalid: `isValid` false, `compare` throws InvalidVersionError.
 *
 * Comparison walks both token lists while the token kinds agree:
 * - the first number, suffix numbers and the revision compare numerically (as apk's uint64_t:
 *   beyond 2^64 - 1 the value wraps, and so does ours);
 * - a later `.N` compares numerically unless either side starts with `0`, in which case both compare
 *   as raw strings (apk's "similar to Gentoo" rule: 1.01 < 1.1, 1.0 < 1.00, 8.2.0015 < 8.2.002);
 * - letters by character, suffixes by their rank, commit hashes as raw strings.
 * When the kinds differ, a pre-release suffix is lower; otherwise the token kind decides, in the
 * order `.N` > letter > suffix > hash > revision > end (so 1.0 < 1.0.1, 1.0 < 1.0a, 1.0-r1 < 1.0_p1,
 * 1.0 < 1.0~abc).
 *
 * Before the 2.14 rewrite (apk-tools ≤ 2.12) leading zeros were weighted by their count instead of
 * string-sorted, and `~hash` did not exist; this implements the current rules.
 *
 * The hot path allocates nothing (two reusable token cursors), validates while it compares and
 * finishes the scan of both strings so that an invalid tail is never ignored.
 */
import { InvalidVersionError, type VersioningScheme } from "./scheme.js";

const SCHEME = "apk";

// Token kinds, in apk-tools' order (the order is part of the comparison).
const INITIAL_DIGIT = 0;
const DIGIT = 1;
const LETTER = 2;
const SUFFIX = 3;
const SUFFIX_NO = 4;
const COMMIT_HASH = 5;
const REVISION_NO = 6;
const END = 7;
const INVALID = 8;

// Suffix ranks: pre-releases below NONE, post-releases above.
const SUFFIX_INVALID = 0;
const SUFFIX_ALPHA = 1;
const SUFFIX_BETA = 2;
const SUFFIX_PRE = 3;
const SUFFIX_RC = 4;
const SUFFIX_NONE = 5;
const SUFFIX_CVS = 6;
const SUFFIX_SVN = 7;
const SUFFIX_GIT = 8;
const SUFFIX_HG = 9;
const SUFFIX_P = 10;

/** A cursor over one version string: the current token and where its value lies. */
class Cursor {
  s = "";
  pos = 0;
  token = INVALID;
  suffix = SUFFIX_INVALID;
  start = 0;
  end = 0;
}

const CA = new Cursor();
const CB = new Cursor();

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
}

/** Matches s[start, end) against one suffix name without slicing. */
function isWord(s: string, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (s.charCodeAt(start + i) !== word.charCodeAt(i)) return false;
  return true;
}

function suffixValue(s: string, start: number, end: number): number {
  if (end === start) return SUFFIX_INVALID;
  switch (s.charCodeAt(start)) {
    case 97: // a
      return isWord(s, start, end, "alpha") ? SUFFIX_ALPHA : SUFFIX_INVALID;
    case 98: // b
      return isWord(s, start, end, "beta") ? SUFFIX_BETA : SUFFIX_INVALID;
    case 99: // c
      return isWord(s, start, end, "cvs") ? SUFFIX_CVS : SUFFIX_INVALID;
    case 103: // g
      return isWord(s, start, end, "git") ? SUFFIX_GIT : SUFFIX_INVALID;
    case 104: // h
      return isWord(s, start, end, "hg") ? SUFFIX_HG : SUFFIX_INVALID;
    case 112: // p
      if (end - start === 1) return SUFFIX_P;
      return isWord(s, start, end, "pre") ? SUFFIX_PRE : SUFFIX_INVALID;
    case 114: // r
      return isWord(s, start, end, "rc") ? SUFFIX_RC : SUFFIX_INVALID;
    case 115: // s
      return isWord(s, start, end, "svn") ? SUFFIX_SVN : SUFFIX_INVALID;
    default:
      return SUFFIX_INVALID;
  }
}

function parseDigits(t: Cursor): void {
  const s = t.s;
  const start = t.pos;
  let i = start;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  t.start = start;
  t.end = i;
  t.pos = i;
  if (i === start) t.token = INVALID;
}

function first(t: Cursor, s: string): void {
  t.s = s;
  t.pos = 0;
  t.token = INITIAL_DIGIT;
  parseDigits(t);
}

/** apk-tools' token_next: the next token, checking that it may follow the current one. */
function next(t: Cursor): void {
  const s = t.s;
  if (t.pos >= s.length) {
    t.token = END;
    return;
  }
  const c = s.charCodeAt(t.pos);
  if (isLower(c)) {
    if (t.token > DIGIT) {
      t.token = INVALID;
      return;
    }
    t.start = t.pos;
    t.end = t.pos + 1;
    t.pos++;
    t.token = LETTER;
    return;
  }
  if (c === 46 || isDigit(c)) {
    if (c === 46) {
      if (t.token > DIGIT) {
        t.token = INVALID;
        return;
      }
      t.pos++;
    }
    if (t.token === INITIAL_DIGIT || t.token === DIGIT) t.token = DIGIT;
    else if (t.token === SUFFIX) t.token = SUFFIX_NO;
    else {
      t.token = INVALID;
      return;
    }
    parseDigits(t);
    return;
  }
  switch (c) {
    case 95: {
      // _suffix
      if (t.token > SUFFIX_NO) break;
      let i = t.pos + 1;
      while (i < s.length && isLower(s.charCodeAt(i))) i++;
      const suffix = suffixValue(s, t.pos + 1, i);
      if (suffix === SUFFIX_INVALID) break;
      t.start = t.pos + 1;
      t.end = i;
      t.pos = i;
      t.suffix = suffix;
      t.token = SUFFIX;
      return;
    }
    case 126: {
      // ~hash
      if (t.token >= COMMIT_HASH) break;
      let i = t.pos + 1;
      while (i < s.length && isHex(s.charCodeAt(i))) i++;
      if (i === t.pos + 1) break;
      t.start = t.pos + 1;
      t.end = i;
      t.pos = i;
      t.token = COMMIT_HASH;
      return;
    }
    case 45: // -rN
      if (t.token >= REVISION_NO) break;
      if (t.pos + 1 >= s.length || s.charCodeAt(t.pos + 1) !== 114) break;
      t.pos += 2;
      t.token = REVISION_NO;
      parseDigits(t);
      return;
  }
  t.token = INVALID;
}

/** apk_blob_sort: bytewise over the common length, then the shorter first. */
function stringSort(a: string, as: number, ae: number, b: string, bs: number, be: number): number {
  const la = ae - as;
  const lb = be - bs;
  const n = Math.min(la, lb);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(as + i) - b.charCodeAt(bs + i);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return la === lb ? 0 : la < lb ? -1 : 1;
}

/** The digit run's value as apk's uint64_t, compared; exact below 2^64, wrapping above as apk does. */
function numberCmp(a: string, as: number, ae: number, b: string, bs: number, be: number): number {
  while (as < ae && a.charCodeAt(as) === 48) as++;
  while (bs < be && b.charCodeAt(bs) === 48) bs++;
  const la = ae - as;
  const lb = be - bs;
  if (la >= 20 || lb >= 20) {
    const x = BigInt.asUintN(64, la === 0 ? 0n : BigInt(a.slice(as, ae)));
    const y = BigInt.asUintN(64, lb === 0 ? 0n : BigInt(b.slice(bs, be)));
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (la !== lb) return la < lb ? -1 : 1;
  return stringSort(a, as, ae, b, bs, be);
}

function tokenCmp(ta: Cursor, tb: Cursor): number {
  switch (ta.token) {
    case DIGIT:
      if (ta.s.charCodeAt(ta.start) === 48 || tb.s.charCodeAt(tb.start) === 48) {
        return stringSort(ta.s, ta.start, ta.end, tb.s, tb.start, tb.end);
      }
      return numberCmp(ta.s, ta.start, ta.end, tb.s, tb.start, tb.end);
    case INITIAL_DIGIT:
    case SUFFIX_NO:
    case REVISION_NO:
      return numberCmp(ta.s, ta.start, ta.end, tb.s, tb.start, tb.end);
    case LETTER: {
      const d = ta.s.charCodeAt(ta.start) - tb.s.charCodeAt(tb.start);
      return d < 0 ? -1 : d > 0 ? 1 : 0;
    }
    case SUFFIX:
      return ta.suffix < tb.suffix ? -1 : ta.suffix > tb.suffix ? 1 : 0;
    default:
      return stringSort(ta.s, ta.start, ta.end, tb.s, tb.start, tb.end);
  }
}

/** Scans the rest of the string; true when it ends validly. */
function finish(t: Cursor): boolean {
  while (t.token < END) next(t);
  return t.token === END;
}

/** Whether apk-tools accepts `version` (apk_version_validate). */
export function isValid(version: string): boolean {
  first(CA, version);
  return finish(CA);
}

/** Orders two versions as apk-tools does (-1, 0, 1). Throws InvalidVersionError. */
export function compare(a: string, b: string): number {
  if (a === b) {
    if (!isValid(a)) throw new InvalidVersionError(SCHEME, a);
    return 0;
  }
  first(CA, a);
  first(CB, b);
  let r = 0;
  while (CA.token === CB.token && CA.token < END) {
    r = tokenCmp(CA, CB);
    if (r !== 0) break;
    next(CA);
    next(CB);
  }
  if (r === 0 && CA.token !== CB.token) {
    if (CA.token === SUFFIX && CA.suffix < SUFFIX_NONE) r = -1;
    else if (CB.token === SUFFIX && CB.suffix < SUFFIX_NONE) r = 1;
    else r = CA.token > CB.token ? -1 : 1;
  }
  if (!finish(CA)) throw new InvalidVersionError(SCHEME, a);
  if (!finish(CB)) throw new InvalidVersionError(SCHEME, b);
  return r;
}

export const apkVersioning: VersioningScheme = {
  name: SCHEME,
  version: 1,
  spec: "apk-tools src/version.c (apk_version_compare, apk-tools 2.14/3.x)",
  isValid,
  compare,
};
