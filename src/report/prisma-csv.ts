/**
 * The CSV download of GET /registry/download (../shared/spec/prisma-registry-api.md §5.3, §6.11):
 * the header line of §6.11 and one row per vulnerability per image, produced line by line so a
 * download of thousands of images is streamed, never built as one string.
 *
 * - RFC 4180: CRLF line ends, fields quoted when they hold a comma, a double quote, CR or LF, quotes
 *   doubled; cells go through the CLI export's `csvCell`, which also removes terminal control
 *   sequences and defuses cells a spreadsheet would read as a formula (leading = + - @).
 * - An image without vulnerabilities contributes no row (the vendor's exports of clean images hold
 *   only the header line); a download of only clean images is the header line alone.
 * - Hosts and Containers are counts (0 for registry images: nothing runs them); Vulnerability Tags,
 *   Custom Labels, Binaries and Clusters are empty (no tags, labels, binaries or clusters are kept);
 *   Layer is the introducing layer's instruction when the result went through
 *   `withLayerVulnerabilities` (layers=true), else empty.
 */
import { csvCell } from "./csv.js";
import { historyByLayer, type ImageScanResult, type Vulnerability } from "./prisma-result.js";

export const REGISTRY_CSV_COLUMNS = [
  "Registry",
  "Repository",
  "Tag",
  "Id",
  "Distro",
  "Hosts",
  "Layer",
  "CVE ID",
  "Compliance ID",
  "Type",
  "Severity",
  "Packages",
  "Source Package",
  "Package Version",
  "Package License",
  "CVSS",
  "Fix Status",
  "Risk Factors",
  "Vulnerability Tags",
  "Description",
  "Cause",
  "Containers",
  "Custom Labels",
  "Published",
  "Discovered",
  "Binaries",
  "Clusters",
] as const;

function line(cells: readonly string[]): string {
  return `${cells.map(csvCell).join(",")}\r\n`;
}

/** The header line, then one line per vulnerability of each result, in the results' order. */
export function* registryCsv(results: Iterable<ImageScanResult>): Generator<string> {
  yield line(REGISTRY_CSV_COLUMNS);
  for (const result of results) yield* imageRows(result);
}

/** "YYYY-MM-DD HH:MM:SS.mmm" in UTC; empty for the zero time or an unreadable date. */
export function csvTime(date: Date): string {
  const ms = date.getTime();
  if (Number.isNaN(ms) || date.getUTCFullYear() <= 1) return "";
  return date.toISOString().replace("T", " ").replace("Z", "");
}

function* imageRows(result: ImageScanResult): Generator<string> {
  if (!result.vulnerabilities || result.vulnerabilities.length === 0) return;
  const licenses = licensesByPackage(result);
  const instructions = layerInstructions(result);
  const distro = result.osDistro ? `${result.osDistro}-${result.osDistroRelease}` : "";
  for (const v of result.vulnerabilities) {
    const binaryPackages = v.binaryPkgs ?? [];
    const packages = binaryPackages.length > 0 ? binaryPackages : [v.packageName];
    const sourcePackage =
      binaryPackages.length > 0 && !binaryPackages.includes(v.packageName) ? v.packageName : "";
    yield line([
      result.repoTag.registry,
      result.repoTag.repo,
      result.repoTag.tag,
      result.id,
      distro,
      String(Object.keys(result.hosts).length),
      instructions.get(v.layerDiffID) ?? "",
      v.cve,
      String(v.id),
      v.packageType === "package" ? "OS" : v.packageType,
      v.severity,
      packages.join(";"),
      sourcePackage,
      v.packageVersion,
      packageLicense(licenses, v, packages),
      v.cvss.toFixed(2),
      v.status,
      Object.keys(v.riskFactors).join("; "),
      "",
      v.description,
      v.cause,
      "0",
      "",
      v.published > 0 ? csvTime(new Date(v.published * 1000)) : "",
      csvTime(new Date(v.discovered)),
      "",
      "",
    ]);
  }
}

/** Licenses of the result's packages by type and name (the vulnerability names the package, not its license). */
function licensesByPackage(result: ImageScanResult): Map<string, string> {
  const licenses = new Map<string, string>();
  for (const group of result.packages ?? []) {
    for (const p of group.pkgs) {
      const key = `${group.pkgsType}\0${p.name}`;
      if (p.license && !licenses.has(key)) licenses.set(key, p.license);
    }
  }
  return licenses;
}

function packageLicense(licenses: Map<string, string>, v: Vulnerability, packages: string[]): string {
  for (const name of packages) {
    const license = licenses.get(`${v.packageType}\0${name}`);
    if (license) return license;
  }
  return "";
}

/** Introducing layer diff id → instruction, when the layers mapping was applied. */
function layerInstructions(result: ImageScanResult): Map<string, string> {
  const instructions = new Map<string, string>();
  if (!result.history?.some((h) => h.vulnerabilities)) return instructions;
  for (const [diffId, entry] of historyByLayer(result)) instructions.set(diffId, entry.instruction);
  return instructions;
}
