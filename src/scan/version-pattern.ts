/**
 * `versionPattern` (spec 6.5): a pattern that extracts a sortable version or date from tag names,
 * so tags can be ordered and capped without per-tag metadata requests.
 *
 * Tokens: `%d` integer version component (one or more digits), `%Y` 4-digit year, `%M` 2-digit
 * month, `%D` 2-digit day, `%H` 2-digit hour, `%m` 2-digit minute, `%s` 2-digit second, `*` any
 * characters; everything else is literal (regular-expression metacharacters included). Matching is
 * over the whole tag and case-insensitive, like the tag patterns of spec 6.6.
 *
 * The key of a matching tag is a tuple: the date components in order of significance (year, month,
 * day, hour, minute, second — wherever they sit in the pattern, so `%D.%M.%Y` sorts by year first),
 * then the `%d` components in pattern order. "Date first when the pattern has both" is spec 6.5.
 * Tags that do not match, or whose date components are out of range (month 13), get no key and are
 * ignored. A `*` takes as few characters as it can, so `*%d` reads all of `v10` as 10, not 0.
 */

export class VersionPatternError extends Error {}

/** Sortable key of one tag; components are bigints so long build numbers compare exactly. */
export type VersionKey = readonly bigint[];

export type VersionMatcher = (tag: string) => VersionKey | undefined;

type DateToken = "Y" | "M" | "D" | "H" | "m" | "s";

/** Date tokens in order of significance, with their width and valid range. */
const DATE_TOKENS: readonly { token: DateToken; width: number; min: number; max: number }[] = [
  { token: "Y", width: 4, min: 0, max: 9999 },
  { token: "M", width: 2, min: 1, max: 12 },
  { token: "D", width: 2, min: 1, max: 31 },
  { token: "H", width: 2, min: 0, max: 23 },
  { token: "m", width: 2, min: 0, max: 59 },
  { token: "s", width: 2, min: 0, max: 59 },
];

const TOKEN_LIST = "%d, %Y, %M, %D, %H, %m, %s";

type Capture = { kind: "version" } | { kind: "date"; token: DateToken };

/** Compiles a versionPattern; throws VersionPatternError (a 400 for the API) when it is not valid. */
export function compileVersionPattern(pattern: string): VersionMatcher {
  const text = pattern.trim();
  const invalid = (why: string) => new VersionPatternError(`invalid versionPattern "${pattern}": ${why}`);
  if (text.length === 0) throw invalid("it is empty");
  let source = "";
  const captures: Capture[] = [];
  const seenDates = new Set<DateToken>();
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "*") {
      source += ".*?";
      continue;
    }
    if (c !== "%") {
      source += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      continue;
    }
    const position = i;
    const token = text[i + 1];
    i++;
    if (token === "d") {
      source += "(\\d+)";
      captures.push({ kind: "version" });
      continue;
    }
    const date = DATE_TOKENS.find((d) => d.token === token);
    if (!date) {
      throw invalid(
        token === undefined
          ? `it ends with a lone "%" (tokens are ${TOKEN_LIST})`
          : `"%${token}" at position ${position} is not a token (tokens are ${TOKEN_LIST})`,
      );
    }
    if (seenDates.has(date.token)) throw invalid(`"%${date.token}" appears more than once`);
    seenDates.add(date.token);
    source += `(\\d{${date.width}})`;
    captures.push({ kind: "date", token: date.token });
  }
  if (captures.length === 0) {
    throw invalid(`it has no token to order tags by (tokens are ${TOKEN_LIST})`);
  }
  const regex = new RegExp(`^${source}$`, "is");
  const dateOrder = DATE_TOKENS.filter((d) => seenDates.has(d.token));

  return (tag) => {
    const m = regex.exec(tag);
    if (!m) return undefined;
    const dates = new Map<DateToken, number>();
    const versions: bigint[] = [];
    captures.forEach((capture, index) => {
      const digits = m[index + 1] as string;
      if (capture.kind === "version") versions.push(BigInt(digits));
      else dates.set(capture.token, Number(digits));
    });
    const key: bigint[] = [];
    for (const d of dateOrder) {
      const value = dates.get(d.token) as number;
      if (value < d.min || value > d.max) return undefined;
      key.push(BigInt(value));
    }
    return [...key, ...versions];
  };
}

/** Ascending order of keys: component by component; a key that is a prefix of another sorts first. */
export function compareVersionKeys(a: VersionKey, b: VersionKey): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a[i] as bigint;
    const y = b[i] as bigint;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
