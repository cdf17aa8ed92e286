/**
 * Which tags of one repository a regular scan takes (spec 6.2 steps 2–3, 6.4 `cap`, 6.5
 * `versionPattern`, 6.6 tag patterns): keep tags matching `tag` and no `excludedTags` entry, order
 * them newest first, keep the first `cap`.
 *
 * - With a versionPattern, the order is the key parsed from the tag name, descending; tags the
 *   pattern does not match are dropped (spec 6.5), and no time is needed.
 * - Without, the order is `pushedAt` descending; tags without a time come after every dated tag.
 * - Ties (equal keys such as `1.02` and `1.2`, equal times, or no time at all) go by tag name
 *   descending, the fallback order of registries.md 1.10, so the result never depends on the order
 *   the registry listed the tags in.
 *
 * The cap counts tags, as results are one per tag (spec 6.2 step 5: `_id` = registry/repo:tag).
 */
import type { DiscoveredTag } from "../registry/providers/provider.js";
import { compileExclusions, compilePattern } from "./patterns.js";
import { compareVersionKeys, compileVersionPattern } from "./version-pattern.js";

export interface TagSelection {
  /** The specification's `tag` pattern; ""/"*"/undefined = every tag. */
  tag?: string | undefined;
  excludedTags?: readonly string[] | undefined;
  /** ""/undefined = order by time. An invalid pattern throws VersionPatternError. */
  versionPattern?: string | undefined;
  /** Tags kept per repository; 0 = all. */
  cap: number;
}

/** Whether a specification orders by versionPattern (and so needs no per-tag times, spec 6.2 step 2). */
export function usesVersionPattern(versionPattern: string | undefined): boolean {
  return (versionPattern ?? "").trim().length > 0;
}

const byNameDescending = (a: DiscoveredTag, b: DiscoveredTag) => (a.tag < b.tag ? 1 : a.tag > b.tag ? -1 : 0);

/** Milliseconds of the tag's time; no time (or an invalid Date) sorts after every real one. */
function timeOf(tag: DiscoveredTag): number {
  const ms = tag.pushedAt?.getTime();
  return ms === undefined || Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/** The selected tags of one repository, newest first, at most `cap` of them (all for cap 0). */
export function selectTags(tags: readonly DiscoveredTag[], selection: TagSelection): DiscoveredTag[] {
  if (!Number.isInteger(selection.cap) || selection.cap < 0) {
    throw new RangeError(`cap must be a whole number of tags, 0 for all (got ${selection.cap})`);
  }
  const included = compilePattern(selection.tag);
  const excluded = compileExclusions(selection.excludedTags);
  const candidates = tags.filter((t) => included(t.tag) && !excluded(t.tag));

  let ordered: DiscoveredTag[];
  if (usesVersionPattern(selection.versionPattern)) {
    const keyOf = compileVersionPattern(selection.versionPattern as string);
    ordered = candidates
      .flatMap((tag) => {
        const key = keyOf(tag.tag);
        return key ? [{ tag, key }] : [];
      })
      .sort((a, b) => compareVersionKeys(b.key, a.key) || byNameDescending(a.tag, b.tag))
      .map(({ tag }) => tag);
  } else {
    ordered = [...candidates].sort((a, b) => {
      const [x, y] = [timeOf(a), timeOf(b)];
      return x === y ? byNameDescending(a, b) : x < y ? 1 : -1;
    });
  }
  return selection.cap === 0 ? ordered : ordered.slice(0, selection.cap);
}
