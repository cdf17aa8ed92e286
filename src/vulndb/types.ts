/**
 * Advisories as the vulnerability database stores them: every feed's own format normalised to one
 * shape close to OSV 1.6 (https://ossf.github.io/osv-schema/), keeping distro fix states that OSV
 * cannot express (unfixed, will not fix, postponed, end of life).
 */

/**
 * Where an affected package lives, as the matcher looks it up:
 * - language ecosystems by their OSV names: "npm", "PyPI", "Go", "crates.io", "RubyGems", "Packagist", "Maven", "NuGet";
 * - distributions by name and release as the distro's feeds key them: "Alpine:v3.10", "Debian:12", "Ubuntu:22.04", "AlmaLinux:8";
 * - "Node.js" for the Node.js runtime itself (security-wg vuln/core).
 */
export type AdvisoryEcosystem = string;

export type RangeEvent =
  | { introduced: string }
  | { fixed: string }
  | { last_affected: string }
  | { limit: string };

export interface AffectedRange {
  /** A VersioningScheme name ("semver", "dpkg", …); "ecosystem" in OSV terms resolves to the ecosystem's scheme. */
  scheme: string;
  /** OSV event list, in the order the feed states it (OSV §"affected[].ranges[].events"). */
  events: RangeEvent[];
}

/**
 * A distro's statement about a package that is affected and has no fixed version (yet): OSV says
 * nothing about these, but Debian, Ubuntu and Red Hat publish them and users need to see them.
 */
export type FixState =
  | "fixed"
  | "affected"
  | "will_not_fix"
  | "postponed"
  | "ignored"
  | "end_of_life"
  | "not_affected";

export interface AffectedPackage {
  ecosystem: AdvisoryEcosystem;
  /** Package name as the ecosystem matches it (normalised: PEP 503 for PyPI, lower-case for NuGet/Composer…). For distros, the source package. */
  name: string;
  ranges: AffectedRange[];
  /** Explicitly listed affected versions (OSV `versions`). */
  versions?: string[] | undefined;
  /**
   * Fixed versions the feed states apart from the range events (npm `patched_versions` beside a
   * `last_affected` range): reported for a version the ranges find affected without naming a fix.
   */
  fixedVersions?: string[] | undefined;
  /** For distro entries without a fixed version: what the distro says. Absent means "the ranges say it all". */
  state?: FixState | undefined;
  /** Go: affected symbols or packages, when given (kept for reports). */
  detail?: string | undefined;
}

export interface Severity {
  type: "CVSS_V2" | "CVSS_V3" | "CVSS_V4";
  vector: string;
  /** Base score, computed or as the source states it. */
  score?: number | undefined;
  /** Who scored it: "nvd", "cna", "adp:CISA-ADP", "ghsa", the feed name… */
  source: string;
}

export interface Advisory {
  /** The feed's own id ("GHSA-…", "GO-2024-…", "CVE-…", "DSA-…", "ALSA-…"). */
  id: string;
  aliases: string[];
  /** The feed source that produced it ("osv", "alpine-secdb", "debian-tracker", …). */
  source: string;
  summary?: string | undefined;
  details?: string | undefined;
  published?: string | undefined;
  modified?: string | undefined;
  withdrawn?: string | undefined;
  references: { type: string; url: string }[];
  severities: Severity[];
  /** The vendor's own rating when the feed gives one (Debian urgency, Node.js severity, Red Hat impact), lower-case. */
  vendorSeverity?: string | undefined;
  affected: AffectedPackage[];
}
