/**
 * CVSS vectors → base scores, shared by the feed sources (OSV `severity[]`, CVE records, ecosystem
 * feeds that state a vector). Scores come from ae-cvss-calculator (FIRST's v2.0, v3.0, v3.1 and
 * v4.0 formulas); a vector is only scored when every base metric of its version is present with a
 * defined value, since the calculator otherwise returns a meaningless 0.
 */
import calculator from "ae-cvss-calculator";
import type { Severity } from "../types.js";

interface ScoredVector {
  getVectorName(): string;
  calculateScores(): { base?: number; overall?: number };
}

// A webpack-built CommonJS bundle: its named exports are only reachable through the default import.
const { fromVector } = calculator as unknown as { fromVector(vector: string): ScoredVector | undefined };

/** Base metrics and their allowed values per version (CVSS v2 guide §2.1, v3.1 spec §2, v4.0 spec §2). */
const BASE_METRICS: Record<"2.0" | "3" | "4.0", Record<string, string>> = {
  "2.0": { AV: "LAN", AC: "HML", Au: "MSN", C: "NPC", I: "NPC", A: "NPC" },
  "3": { AV: "NALP", AC: "LH", PR: "NLH", UI: "NR", S: "UC", C: "HLN", I: "HLN", A: "HLN" },
  "4.0": {
    AV: "NALP",
    AC: "LH",
    AT: "NP",
    PR: "NLH",
    UI: "NPA",
    VC: "HLN",
    VI: "HLN",
    VA: "HLN",
    SC: "HLN",
    SI: "HLN",
    SA: "HLN",
  },
};

export type CvssType = Severity["type"];

/** The OSV severity type of a vector by its prefix (`CVSS:3.x/` → CVSS_V3, `CVSS:4.0/` → CVSS_V4, none or `CVSS:2.0/` → CVSS_V2). */
export function cvssTypeOf(vector: string): CvssType | undefined {
  const v = vector.trim();
  if (/^CVSS:3\.[01]\//.test(v)) return "CVSS_V3";
  if (v.startsWith("CVSS:4.0/")) return "CVSS_V4";
  if (v.startsWith("CVSS:2.0/") || /^\(?AV:[LAN]\//.test(v)) return "CVSS_V2";
  return undefined;
}

function hasBaseMetrics(vector: string, type: CvssType): boolean {
  const body = vector.replace(/^\(|\)$/g, "").replace(/^CVSS:[0-9.]+\//, "");
  const metrics = new Map<string, string>();
  for (const part of body.split("/")) {
    const colon = part.indexOf(":");
    if (colon <= 0) return false;
    metrics.set(part.slice(0, colon), part.slice(colon + 1));
  }
  const table = BASE_METRICS[type === "CVSS_V2" ? "2.0" : type === "CVSS_V3" ? "3" : "4.0"];
  for (const [metric, values] of Object.entries(table)) {
    const value = metrics.get(metric);
    if (value === undefined || value.length !== 1 || !values.includes(value)) return false;
  }
  return true;
}

/** The base score of a CVSS v2/v3.x/v4.0 vector; undefined when the vector is malformed or incomplete. */
export function cvssBaseScore(vector: string): number | undefined {
  const type = cvssTypeOf(vector);
  if (!type || !hasBaseMetrics(vector, type)) return undefined;
  try {
    const parsed = fromVector(vector.trim().replace(/^\((.*)\)$/, "$1"));
    const base = parsed?.calculateScores().base;
    return typeof base === "number" && Number.isFinite(base) ? base : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A `Severity` for a vector, scored; undefined when the vector's version cannot be told. `type`,
 * when the feed states it, must agree with the vector's prefix.
 */
export function cvssSeverity(vector: string, source: string, type?: CvssType): Severity | undefined {
  const trimmed = vector.trim();
  const detected = cvssTypeOf(trimmed);
  if (!detected || (type !== undefined && type !== detected)) return undefined;
  const score = cvssBaseScore(trimmed);
  return score === undefined
    ? { type: detected, vector: trimmed, source }
    : { type: detected, vector: trimmed, score, source };
}
