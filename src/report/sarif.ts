/**
 * SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/) for GitHub code scanning, shaped
 * like Trivy's SARIF so that workflows, dashboards and alert history carry over:
 *
 * - one run, tool.driver "shipshape", one rule per vulnerability id: `name` the class
 *   (OsPackageVulnerability / LanguageSpecificPackageVulnerability), shortDescription the title,
 *   fullDescription the description, helpUri the id's page, `help` text and markdown (a table of
 *   severity, package, fixed version, link), defaultConfiguration.level, and properties `precision`
 *   "very-high", `security-severity` and `tags` [ "vulnerability", "security", SEVERITY ] plus the
 *   CVSS vector and score under Trivy's keys (cvssv3_vector, cvssv3_baseScore, …);
 * - one result per finding: level error (critical, high), warning (medium), note (low, negligible,
 *   unknown); a message naming package, installed version, id, severity, fixed version and link;
 *   one location: artifactLocation { uri: the package's file in the image, uriBaseId "ROOTPATH" },
 *   region 1:1–1:1 (images have no lines), as Trivy emits.
 *
 * Where this differs from Trivy, on purpose:
 * - the uri of an OS package is its package database (`var/lib/dpkg/status`), not the image's
 *   repository name: the same file the CycloneDX/SPDX location properties name;
 * - `security-severity` is the CVSS score only when its band agrees with the finding's severity;
 *   otherwise (a distro rating a CVE lower or higher than NVD, or no score) it is the middle of the
 *   finding's band (Trivy's values: 9.5, 8.0, 5.5, 2.0; 1.0 for negligible, 0.0 unknown). GitHub's
 *   severity then matches the level and the table, which is what the CI gate used;
 * - each result has `partialFingerprints` (id, ecosystem, package name, location: not the version,
 *   so an alert survives a version bump that does not fix it), because GitHub cannot compute
 *   fingerprints from files that exist only in the image, and two packages in one database file
 *   would otherwise collapse into one alert;
 * - inventory and match warnings become `invocations[0].toolExecutionNotifications`, so a run that
 *   checked nothing for an OS is not a silently clean upload.
 */
import { createHash } from "node:crypto";
import type { ImageIdentity, ImageInventory } from "../inventory/types.js";
import { scoreSeverity } from "../match/severity.js";
import type { Finding, MatchResult, NormalizedSeverity } from "../match/types.js";
import { OS_ECOSYSTEMS, platformOf, type Tool } from "./common.js";
import {
  cvssScore,
  findingTitle,
  primaryLink,
  severityLabel,
  sortFindings,
  stateWords,
  stripControlSequences,
} from "./findings-common.js";

export type SarifLevel = "error" | "warning" | "note";

export interface SarifMessage {
  text: string;
  markdown?: string;
}

export interface SarifRule {
  id: string;
  name: string;
  shortDescription: SarifMessage;
  fullDescription: SarifMessage;
  helpUri?: string;
  help: SarifMessage;
  defaultConfiguration: { level: SarifLevel };
  properties: Record<string, string | number | string[]>;
}

export interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: SarifLevel;
  message: SarifMessage;
  locations: {
    physicalLocation: {
      artifactLocation: { uri: string; uriBaseId: "ROOTPATH" };
      region: { startLine: 1; startColumn: 1; endLine: 1; endColumn: 1 };
    };
    message: SarifMessage;
  }[];
  partialFingerprints: Record<string, string>;
}

export interface SarifLog {
  $schema: string;
  version: "2.1.0";
  runs: {
    tool: {
      driver: {
        name: string;
        fullName: string;
        version: string;
        informationUri?: string;
        rules: SarifRule[];
      };
    };
    automationDetails?: { id: string };
    invocations: {
      executionSuccessful: true;
      toolExecutionNotifications?: { level: "warning"; message: SarifMessage }[];
    }[];
    results: SarifResult[];
    columnKind: "utf16CodeUnits";
    properties: Record<string, string | string[]>;
  }[];
}

export interface SarifOptions {
  tool: Tool;
  /** Written as runAutomationDetails.id ("<category>/"): one category per image keeps GitHub from
   * replacing one image's alerts with another's. The upload action's `category` does the same. */
  category?: string | undefined;
  /** Further warnings for toolExecutionNotifications (the policy's). */
  warnings?: readonly string[] | undefined;
  /** Where the tool is documented. */
  informationUri?: string | undefined;
}

/** The fingerprint key in `partialFingerprints`; bump the version if what it hashes changes. */
export const FINGERPRINT_KEY = "shipshapeFinding/v1";

const LEVEL: Record<NormalizedSeverity, SarifLevel> = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "note",
  negligible: "note",
  unknown: "note",
};

/** The middle of each band, as Trivy fills `security-severity` when there is no score. */
const BAND_SCORE: Record<NormalizedSeverity, string> = {
  critical: "9.5",
  high: "8.0",
  medium: "5.5",
  low: "2.0",
  negligible: "1.0",
  unknown: "0.0",
};

export function toSarif(
  image: ImageIdentity,
  inventory: ImageInventory,
  result: MatchResult,
  options: SarifOptions,
): SarifLog {
  const findings = sortFindings(result.findings);
  const rules: SarifRule[] = [];
  const ruleIndex = new Map<string, number>();
  const results: SarifResult[] = [];
  for (const f of findings) {
    let index = ruleIndex.get(f.id);
    if (index === undefined) {
      // Findings are sorted worst first, so the first finding of an id gives its rule the worst severity.
      index = rules.length;
      ruleIndex.set(f.id, index);
      rules.push(rule(f));
    }
    results.push(sarifResult(f, index));
  }

  const warnings = [...inventory.warnings, ...result.warnings, ...(options.warnings ?? [])];
  const properties: Record<string, string | string[]> = {
    imageName: image.name,
    imageDigest: image.digest,
    platform: platformOf(image),
  };
  if (image.repository) {
    const repo = image.registry ? `${image.registry}/${image.repository}` : image.repository;
    properties.repoDigests = [`${repo}@${image.indexDigest ?? image.digest}`];
    if (image.tag) properties.repoTags = [`${repo}:${image.tag}`];
  }
  if (inventory.os) {
    properties.os = [inventory.os.id, inventory.os.versionId].filter(Boolean).join(" ");
  }

  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: options.tool.name,
            fullName: `${options.tool.name} container image vulnerability scanner`,
            version: options.tool.version,
            ...(options.informationUri ? { informationUri: options.informationUri } : {}),
            rules,
          },
        },
        ...(options.category
          ? { automationDetails: { id: `${options.category.replace(/\/+$/, "")}/` } }
          : {}),
        invocations: [
          {
            executionSuccessful: true,
            ...(warnings.length > 0
              ? {
                  toolExecutionNotifications: warnings.map((w) => ({
                    level: "warning" as const,
                    message: { text: stripControlSequences(w) },
                  })),
                }
              : {}),
          },
        ],
        results,
        columnKind: "utf16CodeUnits",
        properties,
      },
    ],
  };
}

function rule(f: Finding): SarifRule {
  const title = findingTitle(f) || f.id;
  const description = clean(f.description ?? "") || title;
  const link = primaryLink(f);
  const severity = severityLabel(f.severity);
  const fixed = fixedText(f);
  const linkText = link ? `[${f.id}](${link})` : f.id;
  const properties: SarifRule["properties"] = {
    precision: "very-high",
    "security-severity": securitySeverity(f),
    tags: ["vulnerability", "security", severity],
  };
  const cvss = f.cvss;
  if (cvss) {
    const key = cvss.version === "2.0" ? "cvssv2" : cvss.version === "4.0" ? "cvssv40" : "cvssv3";
    properties[`${key}_vector`] = cvss.vector;
    if (cvss.score !== undefined)
      properties[key === "cvssv2" ? "cvssv2_score" : `${key}_baseScore`] = cvss.score;
  }
  return {
    id: f.id,
    name: OS_ECOSYSTEMS.has(f.package.ecosystem)
      ? "OsPackageVulnerability"
      : "LanguageSpecificPackageVulnerability",
    shortDescription: { text: title },
    fullDescription: { text: description },
    ...(link ? { helpUri: link } : {}),
    help: {
      text: [
        `Vulnerability ${f.id}`,
        `Severity: ${severity}`,
        `Package: ${f.package.name}`,
        `Fixed Version: ${fixed}`,
        `Link: ${linkText}`,
        description,
      ]
        .map(clean)
        .join("\n"),
      markdown: [
        `**Vulnerability ${f.id}**`,
        "| Severity | Package | Fixed Version | Link |",
        "| --- | --- | --- | --- |",
        `|${[severity, f.package.name, fixed, linkText].map(cell).join("|")}|`,
        "",
        description,
      ].join("\n"),
    },
    defaultConfiguration: { level: LEVEL[f.severity] },
    properties,
  };
}

function sarifResult(f: Finding, ruleIndex: number): SarifResult {
  const link = primaryLink(f);
  const uri = artifactUri(f.package.location);
  return {
    ruleId: f.id,
    ruleIndex,
    level: LEVEL[f.severity],
    message: {
      text: [
        `Package: ${f.package.name}`,
        `Installed Version: ${f.package.version}`,
        `Vulnerability ${f.id}`,
        `Severity: ${severityLabel(f.severity)}`,
        `Fixed Version: ${fixedText(f)}`,
        `Location: ${f.package.location} (layer ${f.layer.index})`,
        `Link: ${link ? `[${f.id}](${link})` : f.id}`,
      ]
        .map(clean)
        .join("\n"),
    },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri, uriBaseId: "ROOTPATH" },
          region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 },
        },
        message: { text: clean(`${f.package.location}: ${f.package.name}@${f.package.version}`) },
      },
    ],
    partialFingerprints: { [FINGERPRINT_KEY]: fingerprint(f) },
  };
}

function fixedText(f: Finding): string {
  if (f.state === "fixed" && f.fixedVersions.length > 0) return f.fixedVersions.join(", ");
  return f.state === "fixed" ? "fixed" : `none (${stateWords(f.state)})`;
}

/**
 * GitHub's severity: the CVSS score when it falls in the finding's band, else the band's middle.
 * (A vendor rating decides the severity before CVSS does; see match/severity.ts.)
 */
export function securitySeverity(f: Finding): string {
  const score = cvssScore(f);
  if (score !== undefined && f.cvss?.score !== undefined && scoreSeverity(f.cvss.score) === f.severity)
    return score;
  return BAND_SCORE[f.severity];
}

/** A relative URI reference for a path in the image: percent-encoded where a URI needs it. */
export function artifactUri(location: string): string {
  return encodeURI(location.replace(/^\/+/, "")).replace(/\?/g, "%3F").replace(/#/g, "%23");
}

function fingerprint(f: Finding): string {
  return createHash("sha256")
    .update(JSON.stringify([f.id, f.package.ecosystem, f.package.name, f.package.location]))
    .digest("hex")
    .slice(0, 32);
}

/** Feed and image text without terminal controls (they mean nothing in SARIF and only confuse viewers). */
function clean(text: string): string {
  return stripControlSequences(text).trim();
}

/** A markdown table cell: one line, pipes escaped. */
function cell(text: string): string {
  return clean(text).replace(/\s+/g, " ").replace(/\|/g, "\\|");
}
