/**
 * Severity, risk factors and the risk score of the Prisma-compatible results
 * (../shared/spec/prisma-registry-api.md §6.10, §7.10 Distribution and RiskFactors).
 *
 * Choices where the spec leaves the vendor's rule open:
 * - a raw severity outside the §6.10 table (a feed's own word such as "unknown") is rated by the
 *   finding's CVSS score, and `low` when it has none: every finding lands in one of the four
 *   buckets, so the distribution's total equals the vulnerability count;
 * - `vulnerabilityRiskScore` = critical·1,000,000 + high·10,000 + medium·100 + low, with high, medium
 *   and low each counted up to 99. It reproduces both observed values (2 high + 17 low → 20017;
 *   2 high + 2 medium + 18 low → 20218), and the cap keeps "the leading digits track the highest
 *   severity" for any counts: 130 low findings never outrank one medium (a real node-app scan has 130);
 * - CVE-derived risk factors come from the CVSS base vector (any version): `Attack vector: network`
 *   (AV:N), `Attack complexity: low` (AC:L), `Remote execution` (network vector with high
 *   confidentiality and integrity impact), `DoS - High` / `DoS - Low` (availability is the only
 *   impact, high / low); `Has fix` when a fixed version exists; `Recent vulnerability` when published
 *   in the scan's year or the year before. Exploit factors need exploit data the feeds do not carry,
 *   and environmental factors need running containers, so neither is ever set for registry images.
 */
import type { Finding } from "../match/types.js";

export type PrismaSeverity = "critical" | "high" | "medium" | "low";

/** §6.10 mapping table: vendor term → normalized severity. */
const VENDOR_TERMS: Readonly<Record<string, PrismaSeverity>> = {
  unimportant: "low",
  unassigned: "low",
  negligible: "low",
  "not yet assigned": "low",
  low: "low",
  medium: "medium",
  moderate: "medium",
  high: "high",
  important: "high",
  critical: "critical",
};

/** §6.10 CVSS bands: 0.0–3.9 low, 4.0–6.9 medium, 7.0–8.9 high, 9.0–10.0 critical. */
export function cvssBand(score: number): PrismaSeverity {
  if (score >= 9) return "critical";
  if (score >= 7) return "high";
  if (score >= 4) return "medium";
  return "low";
}

/** The normalized severity of a raw severity term, with the CVSS score for terms outside the table. */
export function normalizeSeverity(raw: string, cvss = 0): PrismaSeverity {
  return VENDOR_TERMS[raw.trim().toLowerCase()] ?? cvssBand(cvss);
}

/**
 * The raw `severity` of a finding: the vendor's term in lower case when the feed gives one, else the
 * CVSS band; `unassigned` when there is neither (the vendors' word for "not rated yet").
 */
export function rawSeverity(finding: Finding): string {
  const vendor = finding.vendorSeverity?.trim().toLowerCase();
  if (vendor) return vendor;
  const score = finding.cvss?.score;
  return score !== undefined && score > 0 ? cvssBand(score) : "unassigned";
}

export interface Distribution {
  critical: number;
  high: number;
  medium: number;
  low: number;
  total: number;
}

export function emptyDistribution(): Distribution {
  return { critical: 0, high: 0, medium: 0, low: 0, total: 0 };
}

export function distributionOf(severities: Iterable<PrismaSeverity>): Distribution {
  const distribution = emptyDistribution();
  for (const severity of severities) {
    distribution[severity]++;
    distribution.total++;
  }
  return distribution;
}

/** Counts above this stop adding to a lower bucket's digits, so they cannot carry into the next one. */
const BUCKET_CAP = 99;

export function riskScore(distribution: Distribution): number {
  const capped = (count: number) => Math.min(count, BUCKET_CAP);
  return (
    distribution.critical * 1_000_000 +
    capped(distribution.high) * 10_000 +
    capped(distribution.medium) * 100 +
    capped(distribution.low)
  );
}

/** Observed wire form: factor name → {} (§7.10 RiskFactors). */
export type RiskFactors = Record<string, Record<string, never>>;

const SEVERITY_FACTORS: Readonly<Partial<Record<PrismaSeverity, string>>> = {
  critical: "Critical severity",
  high: "High severity",
  medium: "Medium severity",
};

/** Base metrics of a CVSS vector of any version ("CVSS:3.1/AV:N/…", v2 "AV:N/AC:L/Au:N/C:C/…", v4 "VC:H"). */
function cvssMetrics(vector: string): Map<string, string> {
  const metrics = new Map<string, string>();
  for (const part of vector.split("/")) {
    const [name, value] = part.split(":");
    if (name && value && name !== "CVSS") metrics.set(name, value);
  }
  return metrics;
}

/** Impact of one CIA metric: "high" (v3/v4 H, v2 C for complete), "low" (L, v2 P for partial) or "none". */
function impact(metrics: Map<string, string>, v3Name: string, v4Name: string): "high" | "low" | "none" {
  const value = metrics.get(v3Name) ?? metrics.get(v4Name);
  if (value === "H" || value === "C") return "high";
  if (value === "L" || value === "P") return "low";
  return "none";
}

/** The CVE-derived risk factors of one finding. */
export function findingRiskFactors(finding: Finding, severity: PrismaSeverity, scanTime: Date): RiskFactors {
  const names: string[] = [];
  const severityFactor = SEVERITY_FACTORS[severity];
  if (severityFactor) names.push(severityFactor);
  if (finding.state === "fixed" && finding.fixedVersions.length > 0) names.push("Has fix");

  const metrics = cvssMetrics(finding.cvss?.vector ?? "");
  const network = metrics.get("AV") === "N";
  const confidentiality = impact(metrics, "C", "VC");
  const integrity = impact(metrics, "I", "VI");
  const availability = impact(metrics, "A", "VA");
  if (network && confidentiality === "high" && integrity === "high") names.push("Remote execution");
  if (confidentiality === "none" && integrity === "none") {
    if (availability === "low") names.push("DoS - Low");
    if (availability === "high") names.push("DoS - High");
  }
  const published = finding.published ? Date.parse(finding.published) : Number.NaN;
  if (!Number.isNaN(published) && new Date(published).getUTCFullYear() >= scanTime.getUTCFullYear() - 1) {
    names.push("Recent vulnerability");
  }
  if (metrics.get("AC") === "L") names.push("Attack complexity: low");
  if (network) names.push("Attack vector: network");
  return factorsOf(names);
}

/** Names in sorted order, as Go's encoding/json writes map keys (and the vendor's responses show). */
export function factorsOf(names: Iterable<string>): RiskFactors {
  const factors: RiskFactors = {};
  for (const name of [...new Set(names)].sort()) factors[name] = {};
  return factors;
}

/** Every factor any of the given sets holds (the image-level `riskFactors`). */
export function unionRiskFactors(sets: Iterable<RiskFactors>): RiskFactors {
  return factorsOf([...sets].flatMap((set) => Object.keys(set)));
}
