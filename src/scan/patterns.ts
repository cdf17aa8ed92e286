/**
 * Repository and tag patterns of a registry specification (spec 6.6): `repository`, `tag`,
 * `excludedRepositories`, `excludedTags`.
 *
 * Grammar of one pattern:
 * - empty (or blank) or `*` matches everything;
 * - `*` anywhere matches any run of characters, `/` included (`foo*`, `*foo`, `*foo*`, `company-sandbox/*`);
 * - without `*` the pattern is an exact match;
 * - matching is case-insensitive (the vendor's general rule).
 *
 * The two [UNCONFIRMED] items (spec 9 item 18) are read the compatible way: a pattern may be a
 * comma-separated list (any element matching is enough), and an element with a leading `-` excludes
 * what it matches (the vendor's collection syntax). Neither reading can change what an existing
 * pattern matches: repository names and tags never contain a comma and never start with `-`
 * (distribution grammar), so such a pattern read literally would match nothing at all.
 * An include pattern made only of `-` elements matches everything those elements do not.
 *
 * Exclusion lists hold plain patterns (commas allowed); their entries are exclusions already, so a
 * leading `-` there has no second meaning and is literal. Blank entries exclude nothing (a UI that
 * sends `[""]` means "no exclusions", not "exclude everything").
 */

export type Matcher = (value: string) => boolean;

const matchAll: Matcher = () => true;

/** One wildcard element, anchored, case-insensitive. */
function wildcard(element: string): Matcher {
  if (element === "*") return matchAll;
  if (!element.includes("*")) {
    const exact = element.toLowerCase();
    return (value) => value.toLowerCase() === exact;
  }
  const source = element
    .split("*")
    .map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  const regex = new RegExp(`^${source}$`, "is");
  return (value) => regex.test(value);
}

function elementsOf(pattern: string): string[] {
  return pattern
    .split(",")
    .map((element) => element.trim())
    .filter((element) => element.length > 0);
}

/** Compiles an include pattern (`repository` or `tag`) once, for use on many values. */
export function compilePattern(pattern: string | undefined): Matcher {
  const elements = elementsOf(pattern ?? "");
  const includes = elements.filter((e) => !e.startsWith("-")).map(wildcard);
  const excludes = elements
    .filter((e) => e.startsWith("-"))
    .map((e) => e.slice(1).trim())
    .filter((e) => e.length > 0)
    .map(wildcard);
  if (includes.length === 0 && excludes.length === 0) return matchAll;
  return (value) =>
    (includes.length === 0 || includes.some((match) => match(value))) &&
    !excludes.some((match) => match(value));
}

/** Compiles an exclusion list (`excludedRepositories` or `excludedTags`): true = excluded. */
export function compileExclusions(excluded: readonly string[] | undefined): Matcher {
  const matchers = (excluded ?? []).flatMap(elementsOf).map(wildcard);
  if (matchers.length === 0) return () => false;
  return (value) => matchers.some((match) => match(value));
}

/** Whether `value` matches the include pattern `pattern` (spec 6.6). */
export function matchesPattern(pattern: string | undefined, value: string): boolean {
  return compilePattern(pattern)(value);
}

/** The values matching `include` and no entry of `excluded`, in their original order. */
export function selectByPatterns<T extends string>(
  values: readonly T[],
  include: string | undefined,
  excluded: readonly string[] | undefined,
): T[] {
  const included = compilePattern(include);
  const isExcluded = compileExclusions(excluded);
  return values.filter((value) => included(value) && !isExcluded(value));
}
