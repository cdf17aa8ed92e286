/**
 * What the findings formats (table, JSON, SARIF, CSV, CycloneDX vulnerabilities) share: one order of
 * findings, severity names and ranks, the words for fix states, the primary link and source of a
 * vulnerability id, and the cleaning of feed text before it reaches a terminal or a document.
 */

import type { Finding, NormalizedSeverity } from "../match/types.js";
import type { FixState } from "../vulndb/types.js";
import { compareEcosystems, compareStrings, isoSeconds } from "./common.js";

/** Worst first. */
export const SEVERITIES: readonly NormalizedSeverity[] = [
  "critical",
  "high",
  "medium",
  "low",
  "negligible",
  "unknown",
];

/** Higher is worse; "unknown" ranks below "negligible", as Trivy ranks UNKNOWN below LOW. */
export function severityRank(severity: NormalizedSeverity): number {
  const i = SEVERITIES.indexOf(severity);
  return i < 0 ? 0 : SEVERITIES.length - 1 - i;
}

/** "CRITICAL", "HIGH", … as Trivy prints them. */
export function severityLabel(severity: NormalizedSeverity): string {
  return severity.toUpperCase();
}

/** Package identity of a finding, in report order: ecosystem, name, version, location, purl. */
export function comparePackages(a: Finding["package"], b: Finding["package"]): number {
  return (
    compareEcosystems(a.ecosystem, b.ecosystem) ||
    compareStrings(a.name, b.name) ||
    compareStrings(a.version, b.version) ||
    compareStrings(a.location, b.location) ||
    compareStrings(a.purl, b.purl)
  );
}

/**
 * Severity (worst first), then package, then id; then layer and finally the whole record, so the
 * order never depends on the order the matcher produced.
 */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    comparePackages(a.package, b.package) ||
    compareStrings(a.id, b.id) ||
    a.layer.index - b.layer.index ||
    compareStrings(JSON.stringify(a), JSON.stringify(b))
  );
}

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(compareFindings);
}

/** Findings per severity, every severity present (zero when none). */
export function countBySeverity(findings: readonly Finding[]): Record<NormalizedSeverity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<NormalizedSeverity, number>;
  for (const f of findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  return counts;
}

const STATE_WORDS: Record<FixState, string> = {
  fixed: "fixed",
  affected: "no fix yet",
  will_not_fix: "will not fix",
  postponed: "fix postponed",
  ignored: "ignored by vendor",
  end_of_life: "end of life",
  not_affected: "not affected",
};

/** The fix state in words: "no fix yet", "will not fix", … */
export function stateWords(state: FixState): string {
  return STATE_WORDS[state] ?? state;
}

/** Where an id is published, by its prefix: name and the page of that id. */
const ID_SOURCES: { prefix: RegExp; name: string; url: (id: string) => string }[] = [
  { prefix: /^CVE-\d{4}-\d+$/, name: "NVD", url: (id) => `https://nvd.nist.gov/vuln/detail/${id}` },
  {
    prefix: /^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$/,
    name: "GitHub Advisory Database",
    url: (id) => `https://github.com/advisories/${id}`,
  },
  {
    prefix: /^GO-\d{4}-\d+$/,
    name: "Go Vulnerability Database",
    url: (id) => `https://pkg.go.dev/vuln/${id}`,
  },
  { prefix: /^RUSTSEC-\d{4}-\d+$/, name: "RustSec", url: (id) => `https://rustsec.org/advisories/${id}` },
  {
    prefix: /^(PYSEC|OSV|MAL)-\d{4}-\d+$/,
    name: "OSV",
    url: (id) => `https://osv.dev/vulnerability/${id}`,
  },
];

/** The publisher of a vulnerability id when its form names one (CVE → NVD, GHSA → GitHub, …). */
export function idSource(id: string): { name: string; url: string } | undefined {
  const known = ID_SOURCES.find((s) => s.prefix.test(id));
  return known ? { name: known.name, url: known.url(id) } : undefined;
}

/** The one link a report shows for a finding: the id's own page, else the feed's first reference. */
export function primaryLink(finding: Finding): string | undefined {
  return idSource(finding.id)?.url ?? finding.links.find((l) => /^https?:\/\//i.test(l));
}

/**
 * Feed text without terminal control: ECMA-48 escape sequences (CSI such as colours and cursor
 * moves, OSC such as titles and hyperlinks, DCS/SOS/PM/APC strings, two-byte escapes, and their 8-bit
 * C1 forms) are removed whole, then every other C0/C1 control and DEL; newlines and tabs are kept
 * (`oneLine` folds them).
 */
export function stripControlSequences(text: string): string {
  return (
    text
      // OSC, DCS, SOS, PM, APC: ESC ] / P / X / ^ / _ … up to BEL or ST (ESC \ or 0x9c); unterminated to the end
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control sequences are what this removes
      .replace(/(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[\s\S]*?(?:\x07|\x1b\\|\x9c|$)/g, "")
      // CSI: ESC [ or 0x9b, parameters, intermediates, final byte
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control sequences are what this removes
      .replace(/(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?/g, "")
      // Other escapes: ESC, intermediates, final byte
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control sequences are what this removes
      .replace(/\x1b[ -/]*[0-~]?/g, "")
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
      .replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, "")
  );
}

/** Cleaned and folded onto one line: runs of whitespace become one space. */
export function oneLine(text: string): string {
  return stripControlSequences(text).replace(/\s+/g, " ").trim();
}

/** A short title: the summary, else the description's first line; cleaned, one line. */
export function findingTitle(finding: Finding): string {
  const raw = finding.summary?.trim() || finding.description?.trim().split(/\r?\n/)[0] || "";
  return oneLine(raw);
}

/** At most `max` characters, cut at a word boundary when one is near, with "..." appended. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const room = Math.max(1, max - 3);
  let cut = chars.slice(0, room).join("");
  const space = cut.lastIndexOf(" ");
  if (space >= room * 0.6) cut = cut.slice(0, space);
  return `${cut.trimEnd()}...`;
}

/** CVSS base score with one decimal ("9.8"), or undefined when none is known. */
export function cvssScore(finding: Finding): string | undefined {
  const score = finding.cvss?.score;
  return score === undefined || !Number.isFinite(score) ? undefined : score.toFixed(1);
}

/** A date or timestamp as an RFC 3339 UTC timestamp without milliseconds; undefined when unreadable. */
export function isoTimestamp(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return undefined;
  return isoSeconds(new Date(ms));
}
