/**
 * CSV (RFC 4180) of the findings, one row per finding, for spreadsheets and ad-hoc tooling:
 *
 *   image, digest, package, version, ecosystem, id, severity, cvss, state, fixed_versions, layer,
 *   location, published, link, title
 *
 * - a header row, CRLF line ends (the last row too), fields quoted only when they hold a comma, a
 *   double quote, CR or LF, quotes doubled inside quotes;
 * - formula-injection guard (OWASP "CSV Injection"): a cell beginning with = + - @, TAB or CR gets a
 *   leading single quote, so a spreadsheet shows the text instead of evaluating it. This alters the
 *   cell for machine readers, on purpose: the export is meant to be opened in a spreadsheet;
 * - severity as Trivy writes it (CRITICAL, …), state as the machine value (fixed, affected,
 *   will_not_fix, …), fixed versions joined with ", ", cvss with one decimal, empty cells for unknown
 *   values; terminal control sequences are removed from every cell and the title is one line.
 *
 * Rows are ordered by severity (worst first), package, id.
 */
import type { ImageIdentity } from "../inventory/types.js";
import type { Finding, MatchResult } from "../match/types.js";
import {
  cvssScore,
  findingTitle,
  primaryLink,
  severityLabel,
  sortFindings,
  stripControlSequences,
} from "./findings-common.js";

export const CSV_COLUMNS = [
  "image",
  "digest",
  "package",
  "version",
  "ecosystem",
  "id",
  "severity",
  "cvss",
  "state",
  "fixed_versions",
  "layer",
  "location",
  "published",
  "link",
  "title",
] as const;

export function toCsv(image: ImageIdentity, result: MatchResult): string {
  const rows: string[][] = [[...CSV_COLUMNS]];
  for (const f of sortFindings(result.findings)) rows.push(row(image, f));
  return rows.map((r) => `${r.map(csvCell).join(",")}\r\n`).join("");
}

function row(image: ImageIdentity, f: Finding): string[] {
  return [
    image.name,
    image.digest,
    f.package.name,
    f.package.version,
    f.package.ecosystem,
    f.id,
    severityLabel(f.severity),
    cvssScore(f) ?? "",
    f.state,
    f.fixedVersions.join(", "),
    String(f.layer.index),
    f.package.location,
    f.published ?? "",
    primaryLink(f) ?? "",
    findingTitle(f),
  ];
}

/** Characters that make a spreadsheet treat a cell as a formula (or hide its start). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One RFC 4180 field: controls removed, formula starts defused, quoted when it has to be. */
export function csvCell(value: string): string {
  let text = stripControlSequences(value);
  if (FORMULA_START.test(text) || FORMULA_START.test(value)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
