/**
 * The human report of a scan (`--format table`): the image and database, warnings before anything
 * else (a release no feed covers must never read as a clean image), then the findings grouped by
 * package (worst package first), one row per vulnerability, and Trivy's totals line.
 *
 * Terminal safety: text from the image (names, versions, paths) has its control characters escaped
 * as \xNN, as in the inventory table; text from feeds (titles) has escape sequences removed whole
 * and is folded onto one line, so an advisory can neither recolour nor move the cursor. `color` adds
 * ANSI colour to the severities (Trivy's colours) and bold to headings, nothing else.
 */
import type { ImageIdentity, ImageInventory } from "../inventory/types.js";
import type { IgnoredFinding, IgnoreKind } from "../match/policy.js";
import type { Finding, MatchResult, NormalizedSeverity } from "../match/types.js";
import { escapeControls, platformOf } from "./common.js";
import {
  compareFindings,
  comparePackages,
  countBySeverity,
  cvssScore,
  findingTitle,
  SEVERITIES,
  severityLabel,
  severityRank,
  stateWords,
  truncate,
} from "./findings-common.js";

export interface FindingsTableOptions {
  /** ANSI colour on severities, bold on headings. */
  color?: boolean | undefined;
  /** The database line, as the caller words it: "built 2024-04-30 08:00 UTC (1 day ago)". */
  database?: string | undefined;
  /** Findings the policy set aside: counted at the end, by reason. */
  ignored?: readonly IgnoredFinding[] | undefined;
  /** Further warnings, e.g. the policy's expired ignore rules. */
  warnings?: readonly string[] | undefined;
  /** Longest title printed, in characters (default 60). */
  titleWidth?: number | undefined;
}

const ESC = "\x1b[";
const SEVERITY_COLOR: Record<NormalizedSeverity, string> = {
  critical: `${ESC}31m`,
  high: `${ESC}91m`,
  medium: `${ESC}33m`,
  low: `${ESC}34m`,
  negligible: `${ESC}90m`,
  unknown: `${ESC}36m`,
};
const RESET = `${ESC}0m`;

/** The severities the totals line always names, as Trivy prints them; NEGLIGIBLE only when present. */
const TOTAL_SEVERITIES: readonly NormalizedSeverity[] = ["critical", "high", "medium", "low", "unknown"];

const KIND_WORDS: Record<IgnoreKind, string> = {
  rule: "by ignore rules",
  unfixed: "without a fix",
  severity: "below the severity threshold",
};

export function formatFindingsTable(
  image: ImageIdentity,
  inventory: ImageInventory,
  result: MatchResult,
  options: FindingsTableOptions = {},
): string {
  const color = options.color === true;
  const bold = (s: string) => (color ? `${ESC}1m${s}${RESET}` : s);
  const lines: string[] = [];

  const os = inventory.os;
  const header: [string, string][] = [
    ["Image", image.name],
    ["Digest", image.digest],
    ["Platform", platformOf(image)],
    [
      "OS",
      os
        ? (os.prettyName ?? [os.id, os.versionId].filter(Boolean).join(" "))
        : "unknown (no os-release found)",
    ],
    ["Packages", String(inventory.packages.length)],
  ];
  if (options.database !== undefined) header.push(["Database", options.database]);
  const labelWidth = Math.max(...header.map(([k]) => k.length + 1));
  for (const [k, v] of header) lines.push(`${bold(`${k}:`.padEnd(labelWidth))} ${escapeControls(v)}`);

  const warnings = [...inventory.warnings, ...result.warnings, ...(options.warnings ?? [])];
  if (warnings.length > 0) {
    lines.push("");
    const label = color ? `${ESC}1;33mWARNING:${RESET}` : "WARNING:";
    for (const w of warnings) lines.push(`${label} ${escapeControls(w)}`);
  }

  const findings = result.findings;
  lines.push("");
  if (findings.length === 0) {
    if (inventory.packages.length === 0)
      lines.push("No packages found: nothing was checked for vulnerabilities.");
    else if (inventory.warnings.length + result.warnings.length > 0) {
      lines.push("No vulnerabilities found in the packages that were checked; see the warnings above.");
    } else lines.push("No vulnerabilities found.");
  } else {
    lines.push(...findingRows(findings, color, bold, options.titleWidth ?? 60));
  }

  lines.push("", totalsLine(findings));
  lines.push(ignoredLine(options.ignored ?? []));
  if (warnings.length > 0) {
    lines.push(`Warnings: ${warnings.length} (see above)`);
  }
  return `${lines.join("\n")}\n`;
}

interface Group {
  pkg: Finding["package"];
  layer: Finding["layer"];
  findings: Finding[];
}

function findingRows(
  findings: readonly Finding[],
  color: boolean,
  bold: (s: string) => string,
  titleWidth: number,
): string[] {
  const groups = new Map<string, Group>();
  for (const f of [...findings].sort(compareFindings)) {
    const key = JSON.stringify([
      f.package.ecosystem,
      f.package.name,
      f.package.version,
      f.package.purl,
      f.package.location,
      f.layer.index,
    ]);
    const group = groups.get(key) ?? { pkg: f.package, layer: f.layer, findings: [] };
    group.findings.push(f);
    groups.set(key, group);
  }
  // Worst package first: the first finding of each group is its worst (they are sorted).
  const ordered = [...groups.values()].sort(
    (a, b) =>
      severityRank((b.findings[0] as Finding).severity) - severityRank((a.findings[0] as Finding).severity) ||
      comparePackages(a.pkg, b.pkg) ||
      a.layer.index - b.layer.index,
  );

  const columns = ["ID", "SEVERITY", "STATE/FIXED IN", "CVSS", "TITLE"];
  const rows = ordered.map((g) =>
    g.findings.map((f) => [
      escapeControls(f.id),
      severityLabel(f.severity),
      escapeControls(fixText(f)),
      cvssScore(f) ?? "-",
      truncate(findingTitle(f), titleWidth) || "-",
    ]),
  );
  const widths = columns.map((c, i) =>
    Math.max(c.length, ...rows.flat().map((r) => (r[i] as string).length)),
  );
  const line = (cells: string[], severity?: NormalizedSeverity) =>
    `  ${cells
      .map((cell, i) => {
        if (i === cells.length - 1) return cell;
        const pad = " ".repeat((widths[i] as number) - cell.length);
        if (i === 3) return pad + cell; // CVSS, right-aligned
        if (i === 1 && severity && color) return `${SEVERITY_COLOR[severity]}${cell}${RESET}${pad}`;
        return cell + pad;
      })
      .join("  ")}`.trimEnd();

  const out: string[] = [];
  for (const [i, g] of ordered.entries()) {
    if (i > 0) out.push("");
    out.push(bold(packageHeading(g)), bold(line(columns)));
    for (const [j, f] of g.findings.entries()) out.push(line(rows[i]?.[j] as string[], f.severity));
  }
  return out;
}

function packageHeading(g: Group): string {
  const p = g.pkg;
  let text = `${p.name} ${p.version}`;
  if (p.source && (p.source.name !== p.name || (p.source.version && p.source.version !== p.version))) {
    text += ` (source ${[p.source.name, p.source.version !== p.version ? p.source.version : undefined].filter(Boolean).join(" ")})`;
  }
  text += ` [${p.ecosystem}, layer ${g.layer.index}] ${p.location}`;
  return escapeControls(text);
}

function fixText(f: Finding): string {
  if (f.state === "fixed") return f.fixedVersions.length > 0 ? f.fixedVersions.join(", ") : "fixed";
  return stateWords(f.state);
}

/** `Total: 12 (CRITICAL: 1, HIGH: 4, MEDIUM: 5, LOW: 2, UNKNOWN: 0)`, NEGLIGIBLE inserted when any. */
export function totalsLine(findings: readonly Finding[]): string {
  const counts = countBySeverity(findings);
  const shown = SEVERITIES.filter((s) => TOTAL_SEVERITIES.includes(s) || counts[s] > 0);
  return `Total: ${findings.length} (${shown.map((s) => `${severityLabel(s)}: ${counts[s]}`).join(", ")})`;
}

function ignoredLine(ignored: readonly IgnoredFinding[]): string {
  if (ignored.length === 0) return "Ignored: 0";
  const byKind = new Map<IgnoreKind, number>();
  for (const i of ignored) byKind.set(i.kind, (byKind.get(i.kind) ?? 0) + 1);
  const parts = (["rule", "unfixed", "severity"] as const)
    .filter((k) => byKind.has(k))
    .map((k) => `${byKind.get(k)} ${KIND_WORDS[k]}`);
  return `Ignored: ${ignored.length} (${parts.join(", ")})`;
}
