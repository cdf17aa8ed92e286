/**
 * Maven version order: a port of maven-artifact's `ComparableVersion` as shipped in Maven 3.8.7 to
 * 3.9.x (https://maven.apache.org/pom.html#Version_Order_Specification), checked against the
 * maven-artifact 3.8.7 jar.
 *
 * - The string is lower-cased and split into items at `.`, `-` and every digit/letter transition;
 *   `-` (and a letter/digit transition) opens a nested list, so `1-1` < `1.1`.
 * - Numbers compare numerically, of any length; leading zeros are insignificant.
 * - Qualifiers: `alpha` < `beta` < `milestone` < `rc` = `cr` < `snapshot` < `` = `ga` = `final` =
 *   `release` < `sp` < any other string (those compare lexically); `a`, `b`, `m` directly followed
 *   by a digit mean alpha, beta, milestone.
 * - A number beats a qualifier and a list at the same position; trailing "null" items (0, the
 *   release qualifier, an empty list) are trimmed, so `1` = `1.0` = `1-0` = `1.0.0-ga`.
 * - A trailing `.X` is treated as `-X` (MNG-7644: `1.0.0.RC1` < `1.0.0-RC2`, `2.0.X` = `2-X`).
 *
 * Written by hand: no maintained JavaScript port of this algorithm exists on npm (ports in
 * dependency bots are embedded in those tools, and most predate MNG-6964 and MNG-7644).
 *
 * Known differences, kept on purpose to match Maven 3: Maven 4's rework (combination items, MNG-7714
 * "sp > final-redhat", cycle fixes) is not followed; only ASCII digits count as digits (Java's
 * `Character.isDigit` also accepts other scripts' digits); the empty string is invalid here (Maven
 * accepts anything, but an empty version in a feed or an inventory is a missing one).
 */
import { compareDigits, compareStrings, ParsedCache, stripZeros } from "./parsed-cache.js";
import { InvalidVersionError, type VersioningScheme } from "./scheme.js";

const NAME = "maven";

type Item = NumberItem | StringItem | ListItem;
interface NumberItem {
  kind: "num";
  /** Digits without leading zeros. */
  value: string;
}
interface StringItem {
  kind: "str";
  /** The qualifier after aliasing; `` for the release qualifier. */
  value: string;
  /** Sort key: the known qualifier's rank as a digit, or `7-` + the qualifier (comparableQualifier). */
  key: string;
}
interface ListItem {
  kind: "list";
  items: Item[];
}

const QUALIFIERS = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const ALIASES: Record<string, string> = { ga: "", final: "", release: "", cr: "rc" };
const RELEASE_KEY = String(QUALIFIERS.indexOf(""));

function stringItem(raw: string, followedByDigit: boolean): StringItem {
  let value = raw;
  if (followedByDigit && value.length === 1) {
    if (value === "a") value = "alpha";
    else if (value === "b") value = "beta";
    else if (value === "m") value = "milestone";
  }
  value = Object.hasOwn(ALIASES, value) ? (ALIASES[value] as string) : value;
  const i = QUALIFIERS.indexOf(value);
  return { kind: "str", value, key: i === -1 ? `${QUALIFIERS.length}-${value}` : String(i) };
}

function parseItem(isDigit: boolean, buf: string): Item {
  return isDigit ? { kind: "num", value: stripZeros(buf) } : stringItem(buf, false);
}

const ZERO: NumberItem = { kind: "num", value: "0" };

function isNull(item: Item): boolean {
  switch (item.kind) {
    case "num":
      return item.value === "0";
    case "str":
      return item.key === RELEASE_KEY;
    case "list":
      return item.items.length === 0;
  }
}

/** Removes trailing null items, looking through (but not past) nested lists. */
function normalize(list: ListItem): void {
  const items = list.items;
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i] as Item;
    if (isNull(item)) items.splice(i, 1);
    else if (item.kind !== "list") break;
  }
}

const isAsciiDigit = (c: number) => c >= 48 && c <= 57;

function parseMaven(input: string): ListItem | null {
  if (input.length === 0) return null;
  const version = input.toLowerCase();
  const root: ListItem = { kind: "list", items: [] };
  let list = root;
  const stack: ListItem[] = [root];
  const push = () => {
    const next: ListItem = { kind: "list", items: [] };
    list.items.push(next);
    list = next;
    stack.push(next);
  };
  let isDigit = false;
  let start = 0;
  for (let i = 0; i < version.length; i++) {
    const c = version.charCodeAt(i);
    if (c === 46 /* . */) {
      list.items.push(i === start ? ZERO : parseItem(isDigit, version.slice(start, i)));
      start = i + 1;
    } else if (c === 45 /* - */) {
      list.items.push(i === start ? ZERO : parseItem(isDigit, version.slice(start, i)));
      start = i + 1;
      push();
    } else if (isAsciiDigit(c)) {
      if (!isDigit && i > start) {
        // 1.0.0.X1 < 1.0.0-X2: treat .X as -X for any string qualifier X
        if (list.items.length > 0) push();
        list.items.push(stringItem(version.slice(start, i), true));
        start = i;
        push();
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        list.items.push(parseItem(true, version.slice(start, i)));
        start = i;
        push();
      }
      isDigit = false;
    }
  }
  if (version.length > start) {
    if (!isDigit && list.items.length > 0) push();
    list.items.push(parseItem(isDigit, version.slice(start)));
  }
  for (let i = stack.length - 1; i >= 0; i--) normalize(stack[i] as ListItem);
  return root;
}

/** `ComparableVersion.Item.compareTo`, with `null` for a missing item. */
function compareItem(a: Item, b: Item | null): number {
  switch (a.kind) {
    case "num":
      if (b === null) return a.value === "0" ? 0 : 1;
      return b.kind === "num" ? compareDigits(a.value, b.value) : 1;
    case "str":
      if (b === null) return compareStrings(a.key, RELEASE_KEY);
      return b.kind === "str" ? compareStrings(a.key, b.key) : -1;
    case "list": {
      if (b === null) {
        // MNG-6964: every item decides against null, not just the first.
        for (const item of a.items) {
          const c = compareItem(item, null);
          if (c !== 0) return c;
        }
        return 0;
      }
      if (b.kind === "num") return -1;
      if (b.kind === "str") return 1;
      const n = Math.max(a.items.length, b.items.length);
      for (let i = 0; i < n; i++) {
        const l = a.items[i];
        const r = b.items[i];
        const c = l === undefined ? (r === undefined ? 0 : -compareItem(r, null)) : compareItem(l, r ?? null);
        if (c !== 0) return c;
      }
      return 0;
    }
  }
}

const cache = new ParsedCache(parseMaven);

function parse(input: string): ListItem {
  const p = cache.get(input);
  if (!p) throw new InvalidVersionError(NAME, input);
  return p;
}

/** The canonical form `ComparableVersion.getCanonical()` prints (for tests and diagnostics). */
export function mavenCanonical(version: string): string {
  const print = (list: ListItem): string => {
    let out = "";
    for (const item of list.items) {
      if (out.length > 0) out += item.kind === "list" ? "-" : ".";
      out += item.kind === "list" ? print(item) : item.value;
    }
    return out;
  };
  return print(parse(version));
}

export const mavenVersioning: VersioningScheme = {
  name: NAME,
  version: 1,
  spec: "Maven ComparableVersion (maven-artifact 3.8.7–3.9.x; POM reference, Version Order Specification)",
  isValid(version: string): boolean {
    return cache.get(version) !== null;
  },
  compare(a: string, b: string): number {
    return compareItem(parse(a), parse(b));
  },
};
