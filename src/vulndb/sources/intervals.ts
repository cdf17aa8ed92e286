/**
 * Version-interval algebra for feeds that state affected versions as constraint sets (Node.js
 * `vulnerable`/`patched` semver ranges, RubyGems `patched_versions`/`unaffected_versions`
 * requirements) rather than as OSV events. Versions are opaque strings ordered by the caller's
 * compare function, so one implementation serves every versioning scheme.
 *
 * An interval is `lo`..`hi`, each bound inclusive or exclusive, a missing bound unbounded. Every
 * bound keeps a `tag` naming where it came from, so a caller turning intervals into OSV events can
 * tell a fix (the start of a patched interval) from the end of a release line.
 */
import type { RangeEvent } from "../types.js";

export type Compare = (a: string, b: string) => number;

export interface Bound {
  version: string;
  inclusive: boolean;
  /** Where the bound came from ("patched", "vulnerable", "line-end", …), for the caller's own use. */
  tag?: string | undefined;
}

export interface Interval {
  /** Lower bound; undefined is unbounded below. */
  lo?: Bound | undefined;
  /** Upper bound; undefined is unbounded above. */
  hi?: Bound | undefined;
}

/** The tighter (greater) of two lower bounds; at equal versions an exclusive bound is tighter. */
function maxLower(a: Bound | undefined, b: Bound | undefined, cmp: Compare): Bound | undefined {
  if (!a) return b;
  if (!b) return a;
  const c = cmp(a.version, b.version);
  if (c !== 0) return c > 0 ? a : b;
  return a.inclusive ? b : a;
}

/** The tighter (smaller) of two upper bounds; at equal versions an exclusive bound is tighter. */
function minUpper(a: Bound | undefined, b: Bound | undefined, cmp: Compare): Bound | undefined {
  if (!a) return b;
  if (!b) return a;
  const c = cmp(a.version, b.version);
  if (c !== 0) return c < 0 ? a : b;
  return a.inclusive ? b : a;
}

export function isEmpty(i: Interval, cmp: Compare): boolean {
  if (!i.lo || !i.hi) return false;
  const c = cmp(i.lo.version, i.hi.version);
  return c > 0 || (c === 0 && !(i.lo.inclusive && i.hi.inclusive));
}

/** a ∩ b, or undefined when empty. */
export function intersect(a: Interval, b: Interval, cmp: Compare): Interval | undefined {
  const out: Interval = { lo: maxLower(a.lo, b.lo, cmp), hi: minUpper(a.hi, b.hi, cmp) };
  return isEmpty(out, cmp) ? undefined : out;
}

/** The intersection of two unions of intervals. */
export function intersectAll(a: Interval[], b: Interval[], cmp: Compare): Interval[] {
  const out: Interval[] = [];
  for (const x of a) {
    for (const y of b) {
      const i = intersect(x, y, cmp);
      if (i) out.push(i);
    }
  }
  return sortIntervals(out, cmp);
}

/** a \ b: at most two pieces, the part below b and the part above it. */
export function subtract(a: Interval, b: Interval, cmp: Compare): Interval[] {
  if (!intersect(a, b, cmp)) return [a];
  const out: Interval[] = [];
  if (b.lo) {
    // Below b: up to b's lower bound, with the opposite inclusiveness.
    const below = intersect(
      a,
      { hi: { version: b.lo.version, inclusive: !b.lo.inclusive, tag: b.lo.tag } },
      cmp,
    );
    if (below) out.push(below);
  }
  if (b.hi) {
    const above = intersect(
      a,
      { lo: { version: b.hi.version, inclusive: !b.hi.inclusive, tag: b.hi.tag } },
      cmp,
    );
    if (above) out.push(above);
  }
  return out;
}

/** Every interval of `from` with every interval of `remove` taken out, sorted by lower bound. */
export function subtractAll(from: Interval[], remove: Interval[], cmp: Compare): Interval[] {
  let rest = from;
  for (const r of remove) rest = rest.flatMap((i) => subtract(i, r, cmp));
  return sortIntervals(rest, cmp);
}

export function sortIntervals(list: Interval[], cmp: Compare): Interval[] {
  return [...list].sort((a, b) => {
    if (!a.lo || !b.lo) return a.lo ? 1 : b.lo ? -1 : 0;
    return (
      cmp(a.lo.version, b.lo.version) || (a.lo.inclusive === b.lo.inclusive ? 0 : a.lo.inclusive ? -1 : 1)
    );
  });
}

export interface EventOptions {
  /** The event closing an interval at an exclusive upper bound: `fixed` unless the caller says otherwise. */
  exclusiveUpper?: (bound: Bound) => RangeEvent;
  /** How a bound's version is written in the event (e.g. without a `-0` line-end marker). */
  text?: (bound: Bound) => string;
  /**
   * The least version above an exclusive lower bound, when the scheme has one (semver: `1.2.4-0`
   * above `1.2.3`): `introduced` is inclusive, so `> 1.2.3` is written as `introduced: 1.2.4-0`.
   */
  successor?: (version: string) => string;
}

/**
 * OSV events for one interval. OSV `introduced` is inclusive: an exclusive lower bound is written
 * as its `successor` when the caller gives one, else as `introduced` at that version itself, which
 * is then reported in `approximated`.
 */
export function intervalEvents(
  i: Interval,
  options: EventOptions = {},
): { events: RangeEvent[]; approximated?: string | undefined } {
  const text = options.text ?? ((b: Bound) => b.version);
  let approximated: string | undefined;
  let introduced = i.lo ? text(i.lo) : "0";
  if (i.lo && !i.lo.inclusive) {
    if (options.successor) introduced = options.successor(i.lo.version);
    else approximated = `> ${i.lo.version} written as introduced ${introduced}`;
  }
  const events: RangeEvent[] = [{ introduced }];
  if (i.hi) {
    if (i.hi.inclusive) events.push({ last_affected: text(i.hi) });
    else events.push(options.exclusiveUpper?.(i.hi) ?? { fixed: text(i.hi) });
  }
  return { events, approximated };
}
