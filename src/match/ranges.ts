/**
 * Whether a version is inside an affected package entry, by the OSV schema's evaluation rules
 * ("Evaluation" in https://ossf.github.io/osv-schema/): events sorted by version, `introduced`
 * opens, `fixed` closes (exclusive), `last_affected` closes (inclusive); `limit` events bound the
 * whole range (a version must be below at least one of them; "*" is infinity); explicit `versions`
 * match exactly. The fixed version reported is the first `fixed` above the version.
 */
import type { VersioningScheme } from "../versioning/scheme.js";
import type { AffectedPackage, RangeEvent } from "../vulndb/types.js";

export interface RangeVerdict {
  affected: boolean;
  fixed: string[];
}

type Event = { kind: "introduced" | "fixed" | "last_affected" | "limit"; version: string };

// Direct key tests: Object.entries allocated an array of pairs per event on every evaluation.
function eventOf(e: RangeEvent): Event {
  if ("introduced" in e) return { kind: "introduced", version: e.introduced };
  if ("fixed" in e) return { kind: "fixed", version: e.fixed };
  if ("last_affected" in e) return { kind: "last_affected", version: e.last_affected };
  return { kind: "limit", version: e.limit };
}

const ORDER: Record<Event["kind"], number> = { introduced: 0, fixed: 1, last_affected: 2, limit: 3 };

export function evaluate(
  entry: AffectedPackage,
  version: string,
  schemeFor: (name: string) => VersioningScheme | undefined,
  fallback: VersioningScheme,
): RangeVerdict {
  const fixed = new Set<string>();
  let affected = false;
  for (const range of entry.ranges) {
    const scheme = schemeFor(range.scheme) ?? fallback;
    if (!scheme.isValid(version)) continue;
    const cmp = (a: string, b: string) =>
      a === "0" ? (b === "0" ? 0 : -1) : b === "0" ? 1 : scheme.compare(a, b);
    const all = range.events.map(eventOf);
    const events = all.filter((e) => e.kind !== "limit");
    // A limit holding "*" is infinity (the schema's "Special values").
    const limits = all.filter((e) => e.kind === "limit");
    const finiteLimits = limits.filter((e) => !e.version.includes("*"));
    // A bound this scheme cannot read makes the whole range unknowable: skip it rather than guess.
    if (![...events, ...finiteLimits].every((e) => e.version === "0" || scheme.isValid(e.version))) continue;
    // BeforeLimits: with limits, only a version below at least one of them can be in the range.
    if (finiteLimits.length > 0 && finiteLimits.length === limits.length) {
      if (!finiteLimits.some((l) => cmp(version, l.version) < 0)) continue;
    }
    events.sort((a, b) => cmp(a.version, b.version) || ORDER[a.kind] - ORDER[b.kind]);
    let inside = false;
    for (const e of events) {
      const c = cmp(version, e.version);
      if (e.kind === "introduced" && c >= 0) inside = true;
      else if (e.kind === "fixed" && c >= 0) inside = false;
      else if (e.kind === "last_affected" && c > 0) inside = false;
    }
    if (inside) {
      affected = true;
      const next = events.filter((e) => e.kind === "fixed" && cmp(e.version, version) > 0);
      if (next[0]) fixed.add(next[0].version);
    }
  }
  if (!affected && entry.versions?.length) {
    const scheme = schemeFor(entry.ranges[0]?.scheme ?? "") ?? fallback;
    affected = entry.versions.some(
      (v) =>
        v === version || (scheme.isValid(v) && scheme.isValid(version) && scheme.compare(v, version) === 0),
    );
  }
  return { affected, fixed: [...fixed] };
}
