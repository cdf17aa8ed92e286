/**
 * Severity as ../shared/spec/prisma-registry-api.md §6.10 describes it: the vendor's term first,
 * else the CVSS base score of the newest CVSS version available (v4.0 > v3.1 > v3.0 > v2.0), in
 * bands 0–3.9 low, 4–6.9 medium, 7–8.9 high, 9–10 critical.
 *
 * §6.10's table puts "unimportant, unassigned, negligible, not yet assigned, low" in `low`. Our six
 * levels keep one step below it: "unimportant" (Debian) and "negligible" (Ubuntu) are assessments of
 * no practical impact and stay `negligible`, which the API folds into `low`; "unassigned" and
 * "not yet assigned" are `low` as the table says, not a fall back to CVSS. The raw term stays on the
 * finding (`vendorSeverity`). "unknown" is no term of the table: the CVSS score decides.
 */
import type { Severity } from "../vulndb/types.js";
import type { Cvss, NormalizedSeverity } from "./types.js";

const VENDOR_TERMS: Record<string, NormalizedSeverity> = {
  critical: "critical",
  high: "high",
  important: "high",
  medium: "medium",
  moderate: "medium",
  low: "low",
  unassigned: "low",
  "not yet assigned": "low",
  negligible: "negligible",
  unimportant: "negligible",
  unknown: "unknown",
};

export function vendorSeverity(term: string | undefined): NormalizedSeverity | undefined {
  return term ? VENDOR_TERMS[term.trim().toLowerCase()] : undefined;
}

export function scoreSeverity(score: number): NormalizedSeverity {
  if (score >= 9) return "critical";
  if (score >= 7) return "high";
  if (score >= 4) return "medium";
  if (score > 0) return "low";
  return "negligible";
}

function cvssVersion(s: Severity): Cvss["version"] | undefined {
  if (s.type === "CVSS_V4") return "4.0";
  if (s.type === "CVSS_V2") return "2.0";
  if (s.vector.startsWith("CVSS:3.1/")) return "3.1";
  if (s.vector.startsWith("CVSS:3.0/")) return "3.0";
  return s.type === "CVSS_V3" ? "3.1" : undefined;
}

const RANK: Record<Cvss["version"], number> = { "4.0": 4, "3.1": 3, "3.0": 2, "2.0": 1 };

/** The preferred of two CVSS: the newer version, then a scored one, then the first. */
export function betterCvss(a: Cvss | undefined, b: Cvss | undefined): Cvss | undefined {
  if (!a || !b) return a ?? b;
  if (RANK[b.version] > RANK[a.version]) return b;
  if (RANK[b.version] === RANK[a.version] && a.score === undefined && b.score !== undefined) return b;
  return a;
}

/** The preferred CVSS of a set: newest version, then a scored one, then the first source given. */
export function preferredCvss(severities: readonly Severity[]): Cvss | undefined {
  let best: Cvss | undefined;
  for (const s of severities) {
    const version = cvssVersion(s);
    if (!version) continue;
    best = betterCvss(best, { version, vector: s.vector, score: s.score, source: s.source });
  }
  return best;
}

export function normalizedSeverity(vendor: string | undefined, cvss: Cvss | undefined): NormalizedSeverity {
  const fromVendor = vendorSeverity(vendor);
  if (fromVendor && fromVendor !== "unknown") return fromVendor;
  if (cvss?.score !== undefined) return scoreSeverity(cvss.score);
  return fromVendor ?? "unknown";
}
