/** What matching produces: one finding per vulnerability per installed package. */
import type { LayerRef } from "../inventory/types.js";
import type { FixState } from "../vulndb/types.js";

export type NormalizedSeverity = "critical" | "high" | "medium" | "low" | "negligible" | "unknown";

export interface Cvss {
  version: "2.0" | "3.0" | "3.1" | "4.0";
  vector: string;
  score?: number | undefined;
  source: string;
}

export interface Finding {
  /** The vulnerability's name: its CVE when one is known, else the advisory id. */
  id: string;
  /** Every other id it goes by (advisory ids of each source, GHSA, …). */
  aliases: string[];
  package: {
    name: string;
    version: string;
    ecosystem: string;
    purl: string;
    location: string;
    /** The source package the distro tracks it by, when that differs. */
    source?: { name: string; version?: string | undefined } | undefined;
  };
  layer: LayerRef;
  /** "fixed" when a fixed version exists; otherwise what the feed says about the missing fix. */
  state: FixState;
  fixedVersions: string[];
  severity: NormalizedSeverity;
  /** The vendor's own term (Debian urgency, Node.js severity, GHSA rating), when given. */
  vendorSeverity?: string | undefined;
  cvss?: Cvss | undefined;
  published?: string | undefined;
  modified?: string | undefined;
  summary?: string | undefined;
  description?: string | undefined;
  links: string[];
  /** Feed sources that reported it. */
  sources: string[];
}

export interface MatchResult {
  findings: Finding[];
  /** Coverage gaps (an OS release no source covers) and data problems met while matching. */
  warnings: string[];
}
