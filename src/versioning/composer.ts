/**
 * Composer (Packagist) version order: composer/semver's `VersionParser::normalize` followed by PHP's
 * `version_compare` on the normalised strings, which is how `Constraint::versionCompare` decides
 * whether a locked package version falls within an advisory's constraint.
 *
 * - Normalisation: an optional `v`, up to four numeric parts padded to four (`1.2` → `1.2.0.0`),
 *   or a date version (`20100102`, `2010-01-02.5`); a stability suffix `-dev`, `alpha`/`a`,
 *   `beta`/`b`, `RC`, `patch`/`pl`/`p` with an optional number (`1.0.0-beta.2` → `1.0.0.0-beta2`);
 *   build metadata (`+…`) dropped; numeric branches `1.x-dev` → `1.9999999.9999999.9999999-dev`.
 * - Order (version_compare): parts compare numerically; stability words rank `dev` < `alpha` <
 *   `beta` < `RC` < (a number or nothing) < `patch`; so `1.0.0-dev` < `1.0.0-alpha1` < `1.0.0-RC1` <
 *   `1.0.0` < `1.0.0-patch1` < `1.0.1`.
 * - `dev-*` branches (`dev-master`, `dev-feature/x`) are not versions: Composer never orders them
 *   against a version (a constraint never matches them), so they are invalid here.
 *
 * Written by hand (no JavaScript port of composer/semver's parser exists), checked against
 * composer/semver 3.3.2 and PHP 8.2's version_compare.
 */
import { ParsedCache } from "./parsed-cache.js";
import { InvalidVersionError, type VersioningScheme } from "./scheme.js";

const NAME = "composer";

/** PCRE's \s without /u: space, \t, \n, \v, \f, \r (escaped for RegExp source). */
const WS = " \\t\\n\\v\\f\\r";
const MODIFIER = "[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\\d+)*)?)?([.-]?dev)?";
const ALIAS = new RegExp(`^([^,${WS}]+) +as +([^,${WS}]+)$`);
const STABILITY_FLAG = /@(?:stable|RC|beta|alpha|dev)$/i;
const BUILD = new RegExp(`^([^,${WS}+]+)\\+[^${WS}]+$`);
const CLASSICAL = new RegExp(`^v?(\\d{1,5})(\\.\\d+)?(\\.\\d+)?(\\.\\d+)?${MODIFIER}$`, "i");
const DATE = new RegExp(`^v?(\\d{4}(?:[.:-]?\\d{2}){1,6}(?:[.:-]?\\d{1,3})?)${MODIFIER}$`, "i");
const DEV_SUFFIX = /^(.*?)[.-]?dev$/i;
const BRANCH = /^v?(\d+)(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?$/i;

/** PHP's trim(): " \t\n\r\0\x0B". */
const TRIMMED = new Set([" ", "\t", "\n", "\r", "\0", "\x0B"]);
function phpTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && TRIMMED.has(s[start] as string)) start++;
  while (end > start && TRIMMED.has(s[end - 1] as string)) end--;
  return s.slice(start, end);
}

function expandStability(stability: string): string {
  const s = stability.toLowerCase();
  if (s === "a") return "alpha";
  if (s === "b") return "beta";
  if (s === "p" || s === "pl") return "patch";
  if (s === "rc") return "RC";
  return s;
}

function normalizeBranch(name: string): string {
  const m = BRANCH.exec(phpTrim(name));
  if (!m) return `dev-${name}`;
  let version = "";
  for (let i = 1; i < 5; i++) version += m[i] !== undefined ? m[i]?.replace(/[*X]/g, "x") : ".x";
  return `${version.replaceAll("x", "9999999")}-dev`;
}

/** composer/semver `VersionParser::normalize`; null where it throws. */
export function composerNormalize(input: string): string | null {
  let version = phpTrim(input);
  const alias = ALIAS.exec(version);
  if (alias) version = alias[1] as string;
  const flag = STABILITY_FLAG.exec(version);
  if (flag) version = version.slice(0, version.length - flag[0].length);
  if (version === "master" || version === "trunk" || version === "default") version = `dev-${version}`;
  if (version.slice(0, 4).toLowerCase() === "dev-") return `dev-${version.slice(4)}`;
  const build = BUILD.exec(version);
  if (build) version = build[1] as string;

  let matches = CLASSICAL.exec(version);
  let index: number;
  if (matches) {
    version = `${matches[1]}${matches[2] || ".0"}${matches[3] || ".0"}${matches[4] || ".0"}`;
    index = 5;
  } else {
    matches = DATE.exec(version);
    if (matches) {
      version = (matches[1] as string).replace(/\D/g, ".");
      index = 2;
    } else {
      const dev = DEV_SUFFIX.exec(version);
      if (dev) {
        const normalized = normalizeBranch(dev[1] as string);
        if (!normalized.includes("dev-")) return normalized;
      }
      return null;
    }
  }
  const stability = matches[index];
  if (stability) {
    if (stability === "stable") return version;
    const number = matches[index + 1];
    version += `-${expandStability(stability)}${number ? number.replace(/^[.-]+/, "") : ""}`;
  }
  if (matches[index + 2]) version += "-dev";
  return version;
}

// --- PHP version_compare (ext/standard/versioning.c) ---

const isDigitCh = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
const isAlnumCh = (c: string) => isDigitCh(c) || (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
const isSpecial = (c: string) => c === "-" || c === "_" || c === "+";
const isDig = (c: string) => isDigitCh(c) && c !== ".";
const isNdig = (c: string) => !isDigitCh(c) && c !== ".";

/** php_canonicalize_version: `-`, `_`, `+` and other punctuation become `.`; digit/letter transitions get a `.`. */
function canonicalize(version: string): string {
  if (version.length === 0) return "";
  let out = version[0] as string;
  let lp = out;
  for (let i = 1; i < version.length; i++) {
    const p = version[i] as string;
    const lq = out[out.length - 1];
    if (isSpecial(p)) {
      if (lq !== ".") out += ".";
    } else if ((isNdig(lp) && isDig(p)) || (isDig(lp) && isNdig(p))) {
      if (lq !== ".") out += ".";
      out += p;
    } else if (!isAlnumCh(p)) {
      if (lq !== ".") out += ".";
    } else {
      out += p;
    }
    lp = p;
  }
  return out;
}

const SPECIAL_FORMS: [string, number][] = [
  ["dev", 0],
  ["alpha", 1],
  ["a", 1],
  ["beta", 2],
  ["b", 2],
  ["RC", 3],
  ["rc", 3],
  ["#", 4],
  ["pl", 5],
  ["p", 5],
];

function specialForm(form: string): number {
  for (const [name, order] of SPECIAL_FORMS) if (form.startsWith(name)) return order;
  return -1;
}

const LONG_MAX = 9223372036854775807n;

/** strtol(s, NULL, 10) for an element that starts with a digit: saturates at LONG_MAX. */
function strtol(s: string): number | bigint {
  let end = 0;
  while (end < s.length && isDigitCh(s[end])) end++;
  if (end <= 15) return Number(s.slice(0, end));
  const n = BigInt(s.slice(0, end));
  return n > LONG_MAX ? LONG_MAX : n;
}

/** PHP's `version_compare($v1, $v2)`: -1, 0 or 1. */
export function phpVersionCompare(v1: string, v2: string): number {
  if (v1 === "" || v2 === "") return v1 === v2 ? 0 : v1 !== "" ? 1 : -1;
  return compareCanonical(v1[0] === "#" ? v1 : canonicalize(v1), v2[0] === "#" ? v2 : canonicalize(v2));
}

/** php_version_compare after canonicalisation (of non-empty strings). */
function compareCanonical(ver1: string, ver2: string): number {
  let p1 = 0;
  let p2 = 0;
  let n1: number | null = 0;
  let n2: number | null = 0;
  let compare = 0;
  while (p1 < ver1.length && p2 < ver2.length && n1 !== null && n2 !== null) {
    const d1 = ver1.indexOf(".", p1);
    const d2 = ver2.indexOf(".", p2);
    n1 = d1 < 0 ? null : d1;
    n2 = d2 < 0 ? null : d2;
    const e1 = ver1.slice(p1, n1 ?? ver1.length);
    const e2 = ver2.slice(p2, n2 ?? ver2.length);
    if (isDigitCh(e1[0]) && isDigitCh(e2[0])) {
      const l1 = strtol(e1);
      const l2 = strtol(e2);
      compare = l1 < l2 ? -1 : l1 > l2 ? 1 : 0; // number and bigint compare exactly
    } else if (!isDigitCh(e1[0]) && !isDigitCh(e2[0])) {
      compare = Math.sign(specialForm(e1) - specialForm(e2));
    } else if (isDigitCh(e1[0])) {
      compare = Math.sign(specialForm("#N#") - specialForm(e2));
    } else {
      compare = Math.sign(specialForm(e1) - specialForm("#N#"));
    }
    if (compare !== 0) break;
    if (n1 !== null) p1 = n1 + 1;
    if (n2 !== null) p2 = n2 + 1;
  }
  if (compare === 0) {
    if (n1 !== null) {
      compare = isDigitCh(ver1[p1]) ? 1 : phpVersionCompare(ver1.slice(p1), "#N#");
    } else if (n2 !== null) {
      compare = isDigitCh(ver2[p2]) ? -1 : phpVersionCompare("#N#", ver2.slice(p2));
    }
  }
  return compare;
}

/** A valid version's normalised form, canonicalised for version_compare once. */
const cache = new ParsedCache<string>((input) => {
  const normalized = composerNormalize(input);
  return normalized === null || normalized.startsWith("dev-") ? null : canonicalize(normalized);
});

function parse(input: string): string {
  const p = cache.get(input);
  if (p === null) throw new InvalidVersionError(NAME, input);
  return p;
}

export const composerVersioning: VersioningScheme = {
  name: NAME,
  version: 1,
  spec: "Composer (composer/semver VersionParser::normalize, PHP version_compare)",
  isValid(version: string): boolean {
    return cache.get(version) !== null;
  },
  compare(a: string, b: string): number {
    return compareCanonical(parse(a), parse(b));
  },
};
