/**
 * NuGet version order: a port of NuGet.Versioning's `NuGetVersion.TryParse` and
 * `VersionComparer.Default` (NuGet/NuGet.Client, src/NuGet.Core/NuGet.Versioning).
 *
 * - Parsing: `MAJOR[.MINOR[.PATCH[.REVISION]]][-LABELS][+METADATA]` after trimming; the numeric
 *   part is a System.Version (2–4 non-negative Int32 parts, leading zeros allowed, one part gets
 *   `.0`); labels are dot-separated [0-9A-Za-z-] identifiers, numeric ones without leading zeros;
 *   metadata identifiers may have leading zeros.
 * - Order: major, minor, patch, then the legacy fourth part (`1.0.0.1` > `1.0.0`, `1.0.0.0` =
 *   `1.0.0`); a version with labels sorts before one without; labels compare pairwise, numeric
 *   (Int32.TryParse) below alphanumeric, numbers numerically, strings case-insensitively
 *   (OrdinalIgnoreCase, so `1.0.0-BETA` = `1.0.0-beta`, unlike SemVer); fewer labels sort first.
 *   Metadata is ignored.
 *
 * Written by hand: no JavaScript port of NuGet.Versioning exists, and the SemVer 2.0 libraries
 * differ on the fourth part, case and leading zeros.
 */
import { compareStrings, ParsedCache } from "./parsed-cache.js";
import { InvalidVersionError, type VersioningScheme } from "./scheme.js";

const NAME = "nuget";

interface Parsed {
  /** major, minor, patch, revision (absent parts are 0). */
  parts: [number, number, number, number];
  /** Release labels; empty for a stable version. */
  labels: string[];
}

const INT32_MAX = 2147483647;
const isDigit = (c: number) => c >= 48 && c <= 57;
const isLetterOrDigitOrDash = (c: number) =>
  isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45;

/** SemanticVersion.IsValidPart. */
function isValidPart(s: string, allowLeadingZeros: boolean): boolean {
  if (s.length === 0) return false;
  if (!allowLeadingZeros && s.length > 1 && s.charCodeAt(0) === 48) {
    let allDigits = true;
    for (let i = 1; i < s.length; i++) {
      if (!isDigit(s.charCodeAt(i))) {
        allDigits = false;
        break;
      }
    }
    if (allDigits) return false;
  }
  for (let i = 0; i < s.length; i++) if (!isLetterOrDigitOrDash(s.charCodeAt(i))) return false;
  return true;
}

/** SemanticVersion.ParseSections: version, labels and metadata split at the first `-` and the next `+`. */
function parseSections(value: string): [string | null, string[] | null, string | null] {
  let versionString: string | null = null;
  let releaseLabels: string[] | null = null;
  let buildMetadata: string | null = null;
  let dashPos = -1;
  let plusPos = -1;
  for (let i = 0; i < value.length; i++) {
    const end = i === value.length - 1;
    if (dashPos < 0) {
      if (end || value[i] === "-" || value[i] === "+") {
        versionString = value.slice(0, i + (end ? 1 : 0));
        dashPos = i;
        if (value[i] === "+") plusPos = i;
      }
    } else if (plusPos < 0) {
      if (end || value[i] === "+") {
        const start = dashPos + 1;
        releaseLabels = value.slice(start, i + (end ? 1 : 0)).split(".");
        plusPos = i;
      }
    } else if (end) {
      buildMetadata = value.slice(plusPos + 1, i + 1);
    }
  }
  return [versionString, releaseLabels, buildMetadata];
}

// Int32.TryParse(NumberStyles.Integer) allows white space (U+0009–U+000D, U+0020) around the digits.
const VERSION_PART = /^[\t\n\v\f\r ]*([0-9]+)[\t\n\v\f\r ]*$/;

/** System.Version.TryParse: 2 to 4 non-negative Int32 components. */
function parseSystemVersion(s: string): number[] | null {
  const parts = s.split(".");
  if (parts.length < 2 || parts.length > 4) return null;
  const out: number[] = [];
  for (const part of parts) {
    const m = VERSION_PART.exec(part);
    if (!m) return null;
    const n = Number(m[1]);
    if (n > INT32_MAX) return null;
    out.push(n);
  }
  return out;
}

function parseNuGet(input: string): Parsed | null {
  const [versionPart, labels, metadata] = parseSections(input.trim());
  if (!versionPart) return null;
  const numbers = parseSystemVersion(versionPart.includes(".") ? versionPart : `${versionPart}.0`);
  if (!numbers) return null;
  if (labels && !labels.every((l) => isValidPart(l, false))) return null;
  if (metadata !== null && !metadata.split(".").every((m) => isValidPart(m, true))) return null;
  const [major = 0, minor = 0, patch = 0, revision = 0] = numbers;
  return { parts: [major, minor, patch, revision], labels: labels ?? [] };
}

const cache = new ParsedCache(parseNuGet);

function parse(input: string): Parsed {
  const p = cache.get(input);
  if (!p) throw new InvalidVersionError(NAME, input);
  return p;
}

/** Int32.TryParse(label) for a label of [0-9A-Za-z-]: an optional leading `-`, digits, Int32 range. */
function labelNumber(label: string): number | null {
  if (!/^-?[0-9]+$/.test(label)) return null;
  const n = Number(label);
  return n > INT32_MAX || n < -INT32_MAX - 1 ? null : n;
}

/** VersionComparer.CompareRelease. */
function compareLabel(a: string, b: string): number {
  const x = labelNumber(a);
  const y = labelNumber(b);
  if (x !== null && y !== null) return x < y ? -1 : x > y ? 1 : 0;
  if (x !== null) return -1;
  if (y !== null) return 1;
  return compareStrings(a.toUpperCase(), b.toUpperCase());
}

export const nugetVersioning: VersioningScheme = {
  name: NAME,
  version: 1,
  spec: "NuGet.Versioning NuGetVersion (VersionComparer.Default)",
  isValid(version: string): boolean {
    return cache.get(version) !== null;
  },
  compare(a: string, b: string): number {
    const x = parse(a);
    const y = parse(b);
    for (let i = 0; i < 4; i++) {
      const l = x.parts[i] as number;
      const r = y.parts[i] as number;
      if (l !== r) return l < r ? -1 : 1;
    }
    const xl = x.labels;
    const yl = y.labels;
    if (xl.length === 0 || yl.length === 0) return xl.length === yl.length ? 0 : xl.length === 0 ? 1 : -1;
    const n = Math.max(xl.length, yl.length);
    for (let i = 0; i < n; i++) {
      if (i >= xl.length) return -1;
      if (i >= yl.length) return 1;
      const c = compareLabel(xl[i] as string, yl[i] as string);
      if (c !== 0) return c;
    }
    return 0;
  },
};
