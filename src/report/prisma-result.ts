/**
 * A scanned registry image as the Prisma Cloud Compute registry API returns it: ImageScanResult
 * (../shared/spec/prisma-registry-api.md §7.10 and its Vulnerability / inventory sub-types), the
 * vendor's JSON conventions (§1.7: Go zero time for unset timestamps, `null` for the arrays the vendor
 * leaves null, `{}` for empty objects) and the query-time views of GET /registry (§5.1: `compact`,
 * `fields`, `normalizedSeverity`, `layers`). Pure functions, no I/O.
 *
 * Choices the spec leaves open, made here:
 * - Vulnerability `id` per package type ([UNCONFIRMED] except 46 and 410, which are observed):
 *   package 46, jar 47, gem 48, nodejs 49, python 410, binary 411, go 412, nuget 413, app 414,
 *   unknown 415.
 * - Package types: OS packages (apk, deb, rpm) `package`, npm `nodejs`, PyPI `python`, Maven `jar`,
 *   Go `go`, RubyGems `gem`, NuGet `nuget`, the Node.js runtime `binary`. Rust crates and Composer
 *   packages have no type of their own in the vendor's list; they are `app` (application-level
 *   components that are neither OS packages nor one of the listed language types).
 * - Findings that share an id, an ecosystem, a (source) package and its version are one
 *   vulnerability: for OS packages `binaryPkgs` lists the binary packages built from the source (as
 *   the vendor reports gnutls28 → libgnutls30t64); a language package found at several locations
 *   (a lock file and node_modules) is reported once, at the lowest layer holding it. `packages`
 *   keeps every location, each with its own cveCount.
 * - `status`: "fixed in A, B" when fixed versions exist, "open" when affected without a fix, and the
 *   vendor's words for the distro states: "will not fix", "deferred" (postponed), "end of life",
 *   "ignored", "not affected".
 * - `link`: the distribution's tracker page for OS findings with a CVE id (Debian, Ubuntu, Alpine,
 *   Red Hat family), else the id's own page (NVD for CVEs, GitHub for GHSA, …), else the feed's first
 *   reference.
 * - `fixDate` is 0: no feed we read dates its fixes. `discovered` is the image's first scan, or the
 *   publication date when that is later (the scanner cannot have seen a CVE before it was published).
 * - `applicableRules`: "<fixed" per fixed version, "*" when there is none (the feeds' affected ranges
 *   are not part of a finding).
 * - Scan warnings (an OS release without vulnerability data, unreadable files) are kept in the
 *   extension field `scanWarnings`; a coverage warning also sets `missingDistroVulnCoverage`. Each
 *   vulnerability carries the extension field `layerDiffID`, the diff id of the layer that introduced
 *   the package, which `withLayerVulnerabilities` maps onto `history`. Clients ignore unknown fields.
 * - `binaries` is null: the inventory records no binary files apart from the packages.
 *   `vulnerabilities` and `packages` are null when empty, as the vendor's nil slices are.
 * - `id` is the image id, the config blob's digest (as `docker images` shows it); a result without a
 *   known image (a failed pull) has "" and `err` set.
 * - `image.entrypoint` is the config's Entrypoint followed by its Cmd, what a container runs (the
 *   vendor's OpenAPI: "Combined entrypoint of the image (entrypoint + CMD)"). `image.env` is never
 *   filled: environment values often hold credentials, and anyone who may read results would see them.
 *   `user`, `workingDir` and `labels` are left out when the config does not set them.
 * - `history[].sizeBytes` is the layer's size as the registry stores it (the manifest's compressed
 *   size; `docker history` shows the uncompressed size, which only a pull reveals); 0 for history
 *   lines that made no layer, left out when the manifest gives no size (schema 1).
 */
import { ZERO_TIME } from "../api/schemas.js";
import type { ImageConfig } from "../image/config.js";
import { normalizePlatform } from "../image/platform.js";
import type { Ecosystem, ImageIdentity, ImageInventory, InventoriedPackage } from "../inventory/types.js";
import type { Finding } from "../match/types.js";
import type { FixState } from "../vulndb/types.js";
import { OS_ECOSYSTEMS, sortPackages } from "./common.js";
import { idSource, primaryLink, sortFindings, stripControlSequences } from "./findings-common.js";
import {
  type Distribution,
  distributionOf,
  emptyDistribution,
  findingRiskFactors,
  normalizeSeverity,
  type RiskFactors,
  rawSeverity,
  riskScore,
  unionRiskFactors,
} from "./risk.js";

export type PackageType =
  | "nodejs"
  | "gem"
  | "python"
  | "jar"
  | "package"
  | "windows"
  | "binary"
  | "nuget"
  | "go"
  | "app"
  | "unknown";

export interface ImageTagRef {
  registry: string;
  repo: string;
  tag: string;
}

export interface Vulnerability {
  text: string;
  id: number;
  severity: string;
  cvss: number;
  status: string;
  cve: string;
  cause: string;
  description: string;
  title: string;
  vecStr: string;
  exploit: string;
  riskFactors: RiskFactors;
  link: string;
  type: "image";
  packageName: string;
  packageVersion: string;
  packageType: PackageType;
  layerTime: number;
  templates: null;
  twistlock: boolean;
  cri: boolean;
  published: number;
  fixDate: number;
  applicableRules: string[];
  discovered: string;
  binaryPkgs?: string[];
  functionLayer: string;
  wildfireMalware: Record<string, never>;
  secret: Record<string, never>;
  /** Extension: diff id of the layer that introduced the package. */
  layerDiffID: string;
}

export interface PrismaPackage {
  name: string;
  version: string;
  license: string;
  cveCount: number;
  layerTime: number;
  purl: string;
  path?: string;
  osPackage?: boolean;
}

export interface Packages {
  pkgsType: PackageType;
  pkgs: PrismaPackage[];
}

export interface ImageHistory {
  created: number;
  instruction: string;
  id: string;
  sizeBytes?: number;
  emptyLayer: boolean;
  vulnerabilities?: Vulnerability[];
}

export interface ImageDetails {
  created: string;
  entrypoint?: string[];
  labels?: Record<string, string>;
  user?: string;
  workingDir?: string;
  os?: string;
  id?: string;
  healthcheck?: boolean;
}

export interface ImageScanResult {
  _id: string;
  id: string;
  type: "registry";
  hostname: string;
  scanTime: string;
  firstScanTime: string;
  scanID: number;
  scanVersion: string;
  repoTag: ImageTagRef;
  tags: ImageTagRef[];
  repoDigests: string[];
  registryType: string;
  creationTime: string;
  pushTime: string;
  osDistro: string;
  osDistroVersion: string;
  osDistroRelease: string;
  distro: string;
  packageManager: boolean;
  isARM64: boolean;
  missingDistroVulnCoverage: boolean;
  vulnerabilities: Vulnerability[] | null;
  vulnerabilitiesCount: number;
  vulnerabilityDistribution: Distribution;
  vulnerabilityRiskScore: number;
  complianceIssues: Vulnerability[] | null;
  complianceIssuesCount: number;
  complianceDistribution: Distribution;
  complianceRiskScore: number;
  riskFactors: RiskFactors;
  packages: Packages[] | null;
  binaries: null;
  history: ImageHistory[] | null;
  layers?: string[];
  topLayer: string;
  image: ImageDetails;
  labels: string[];
  installedProducts: { osDistro: string; hasPackageManager: boolean };
  instances: { image: string; host: string; modified: string; registry: string; repo: string; tag: string }[];
  hosts: Record<string, never>;
  collections: string[];
  err: string;
  Secrets: null;
  foundSecrets: null;
  secretScanMetrics: Record<string, never>;
  trustStatus: "";
  firewallProtection: { enabled: boolean; supported: boolean; outOfBandMode: "" };
  appEmbedded: boolean;
  agentless: boolean;
  csaWindows: boolean;
  caasSpecReferencesTotal: number;
  caasSpecReferencesLaunchTypes: string[];
  caasSpecReferencesServiceTypes: string[];
  wildFireUsage: null;
  malwareAnalyzedTime: string;
  /** Extension: warnings of the inventory and the matcher (coverage gaps, unreadable files). */
  scanWarnings: string[];
}

/** What every result carries, scanned or failed. */
export interface ScanContext {
  repoTag: ImageTagRef;
  /** Every tag of this image; the result's own tag when not given. */
  tags?: ImageTagRef[] | undefined;
  registryType: string;
  collections: string[];
  hostname: string;
  scanTime: Date;
  firstScanTime: Date;
  pushTime?: Date | undefined;
  scanId: number;
  scanVersion: string;
}

export interface ImageScanInput extends ScanContext {
  identity: ImageIdentity;
  /**
   * The parsed image config, when at hand: history with build times, diff ids, creation time, the
   * container defaults. Without it the identity's layer list stands in for the history.
   */
  config?: ImageConfig | undefined;
  inventory: ImageInventory;
  findings: Finding[];
  /** The matcher's warnings; the inventory's own warnings are read from `inventory`. */
  warnings: string[];
  error?: string | undefined;
}

export interface FailedScanInput extends ScanContext {
  error: string;
  identity?: ImageIdentity | undefined;
  config?: ImageConfig | undefined;
}

const PACKAGE_TYPES: Readonly<Record<Ecosystem, PackageType>> = {
  apk: "package",
  deb: "package",
  rpm: "package",
  npm: "nodejs",
  pypi: "python",
  maven: "jar",
  golang: "go",
  gem: "gem",
  nuget: "nuget",
  node: "binary",
  cargo: "app",
  composer: "app",
};

/** Output order of the package groups. */
const PACKAGE_TYPE_ORDER: readonly PackageType[] = [
  "package",
  "binary",
  "nodejs",
  "python",
  "gem",
  "jar",
  "go",
  "nuget",
  "app",
  "windows",
  "unknown",
];

const VULNERABILITY_IDS: Readonly<Record<PackageType, number>> = {
  package: 46,
  jar: 47,
  gem: 48,
  nodejs: 49,
  python: 410,
  binary: 411,
  go: 412,
  nuget: 413,
  app: 414,
  unknown: 415,
  windows: 415,
};

export function packageTypeOf(ecosystem: string): PackageType {
  return PACKAGE_TYPES[ecosystem as Ecosystem] ?? "unknown";
}

const STATUS_WORDS: Readonly<Record<Exclude<FixState, "fixed">, string>> = {
  affected: "open",
  will_not_fix: "will not fix",
  postponed: "deferred",
  end_of_life: "end of life",
  ignored: "ignored",
  not_affected: "not affected",
};

export function vulnerabilityStatus(finding: Finding): string {
  if (finding.fixedVersions.length > 0) return `fixed in ${finding.fixedVersions.join(", ")}`;
  return finding.state === "fixed" ? "open" : STATUS_WORDS[finding.state];
}

/** Distribution trackers by os-release ID, for CVE ids. */
const DISTRO_TRACKERS: Readonly<Record<string, (cve: string) => string>> = {
  debian: (cve) => `https://security-tracker.debian.org/tracker/${cve}`,
  ubuntu: (cve) => `https://ubuntu.com/security/${cve}`,
  alpine: (cve) => `https://security.alpinelinux.org/vuln/${cve}`,
  rhel: (cve) => `https://access.redhat.com/security/cve/${cve}`,
  centos: (cve) => `https://access.redhat.com/security/cve/${cve}`,
  almalinux: (cve) => `https://errata.almalinux.org/?search=${cve}`,
  rocky: (cve) => `https://errata.rockylinux.org/?search=${cve}`,
};

function vulnerabilityLink(finding: Finding, osId: string | undefined): string {
  const tracker = osId ? DISTRO_TRACKERS[osId] : undefined;
  if (tracker && OS_ECOSYSTEMS.has(finding.package.ecosystem) && idSource(finding.id)?.name === "NVD") {
    return tracker(finding.id);
  }
  return primaryLink(finding) ?? "";
}

/** A date-time as Go's encoding/json writes a time.Time in UTC: RFC 3339, fraction without trailing zeros. */
export function goTime(date: Date | undefined): string {
  if (!date || Number.isNaN(date.getTime())) return ZERO_TIME;
  return date.toISOString().replace(/\.?0+Z$/, "Z");
}

function epochSeconds(text: string | undefined): number {
  if (!text) return 0;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

function packageKey(p: { ecosystem: string; name: string; version: string; location: string }): string {
  return [p.ecosystem, p.name, p.version, p.location].join("\0");
}

/** Creation time of each layer (epoch seconds, 0 when unknown), by layer index. */
function layerTimes(config: ImageConfig | undefined): number[] {
  if (!config) return [];
  const nonEmpty = config.history.filter((h) => !h.emptyLayer);
  return config.diffIds.map((_, i) => epochSeconds(nonEmpty[i]?.created));
}

function osFields(inventory: ImageInventory | undefined) {
  const os = inventory?.os;
  if (!os) return { osDistro: "", osDistroVersion: "", osDistroRelease: "", distro: "" };
  const release = os.id === "alpine" ? os.versionId : (os.versionCodename ?? os.versionId);
  return {
    osDistro: os.id,
    osDistroVersion: os.versionId ?? "",
    osDistroRelease: release ?? "",
    distro: os.prettyName ?? "",
  };
}

/** The layer's stored size; undefined when the manifest gives none (schema 1 says -1). */
const knownSize = (size: number | undefined) => (size !== undefined && size >= 0 ? size : undefined);

/**
 * The config's history, each line that made a layer sized by that layer (the k-th such line made
 * the k-th layer); without a config, one entry per layer from the identity's history lines.
 */
function historyOf(config: ImageConfig | undefined, identity: ImageIdentity | undefined, imageId: string) {
  const layers = identity?.layers ?? [];
  let layerIndex = 0;
  const entries: ImageHistory[] = config
    ? config.history.map((h) => {
        const sizeBytes = h.emptyLayer ? 0 : knownSize(layers[layerIndex++]?.size);
        return {
          created: epochSeconds(h.created),
          instruction: h.createdBy ?? "",
          id: "<missing>",
          ...(sizeBytes === undefined ? {} : { sizeBytes }),
          emptyLayer: h.emptyLayer,
        };
      })
    : layers.map((l) => {
        const sizeBytes = knownSize(l.size);
        return {
          created: 0,
          instruction: l.createdBy ?? "",
          id: "<missing>",
          ...(sizeBytes === undefined ? {} : { sizeBytes }),
          emptyLayer: false,
        };
      });
  // Docker shows the image id on the top entry and "<missing>" below it.
  const top = entries.at(-1);
  if (top) top.id = imageId;
  return entries;
}

function imageDetails(
  created: string,
  os: string | undefined,
  imageId: string,
  config: ImageConfig | undefined,
): ImageDetails {
  const details: ImageDetails = { created };
  const run = config?.run;
  const command = run ? [...run.entrypoint, ...run.cmd] : [];
  if (command.length > 0) details.entrypoint = command;
  if (run && Object.keys(run.labels).length > 0) details.labels = { ...run.labels };
  if (run?.user) details.user = run.user;
  if (run?.workingDir) details.workingDir = run.workingDir;
  if (os) details.os = os;
  if (imageId) details.id = imageId;
  if (run) details.healthcheck = run.healthcheck;
  return details;
}

/** The vendor's isARM64: "the architecture of the image is aarch64", by any of its spellings. */
function isArm64(architecture: string | undefined): boolean {
  return architecture ? normalizePlatform({ os: "", architecture }).architecture === "arm64" : false;
}

/** Every field at the vendor's zero value, identity and context filled in. */
function baseResult(
  context: ScanContext,
  identity: ImageIdentity | undefined,
  config: ImageConfig | undefined,
): ImageScanResult {
  const { registry, repo, tag } = context.repoTag;
  const fullName = `${registry}/${repo}:${tag}`;
  const diffIds = config?.diffIds ?? identity?.layers.map((l) => l.diffId) ?? [];
  const created = goTime(config?.createdAt ?? (identity?.created ? new Date(identity.created) : undefined));
  const imageId = identity?.configDigest ?? "";
  const history = config || identity ? historyOf(config, identity, imageId) : [];
  return {
    _id: fullName,
    id: imageId,
    type: "registry",
    hostname: context.hostname,
    scanTime: goTime(context.scanTime),
    firstScanTime: goTime(context.firstScanTime),
    scanID: context.scanId,
    scanVersion: context.scanVersion,
    repoTag: { registry, repo, tag },
    tags: (context.tags ?? [context.repoTag]).map((t) => ({
      registry: t.registry,
      repo: t.repo,
      tag: t.tag,
    })),
    repoDigests: identity ? [`${registry}/${repo}@${identity.digest}`] : [],
    registryType: context.registryType,
    creationTime: created,
    pushTime: goTime(context.pushTime),
    osDistro: "",
    osDistroVersion: "",
    osDistroRelease: "",
    distro: "",
    packageManager: false,
    isARM64: isArm64(identity?.architecture ?? config?.architecture),
    missingDistroVulnCoverage: false,
    vulnerabilities: null,
    vulnerabilitiesCount: 0,
    vulnerabilityDistribution: emptyDistribution(),
    vulnerabilityRiskScore: 0,
    complianceIssues: null,
    complianceIssuesCount: 0,
    complianceDistribution: emptyDistribution(),
    complianceRiskScore: 0,
    riskFactors: {},
    packages: null,
    binaries: null,
    history: history.length > 0 ? history : null,
    layers: diffIds,
    topLayer: diffIds.at(-1) ?? "",
    image: imageDetails(created, identity?.os ?? config?.os, imageId, config),
    // Sorted: the vendor builds them from a Go map, whose order means nothing.
    labels: Object.entries(config?.run.labels ?? {})
      .map(([key, value]) => `${key}:${value}`)
      .sort(),
    installedProducts: { osDistro: "", hasPackageManager: false },
    instances: [
      { image: fullName, host: context.hostname, modified: goTime(context.scanTime), registry, repo, tag },
    ],
    hosts: {},
    collections: [...context.collections],
    err: "",
    Secrets: null,
    foundSecrets: null,
    secretScanMetrics: {},
    trustStatus: "",
    firewallProtection: { enabled: false, supported: false, outOfBandMode: "" },
    appEmbedded: false,
    agentless: false,
    csaWindows: false,
    caasSpecReferencesTotal: 0,
    caasSpecReferencesLaunchTypes: [],
    caasSpecReferencesServiceTypes: [],
    wildFireUsage: null,
    malwareAnalyzedTime: ZERO_TIME,
    scanWarnings: [],
  };
}

/** The matcher's words for "this OS release was not checked" (src/match/matcher.ts). */
const COVERAGE_WARNING = /^(no vulnerability data for |the operating system is unknown)/;

export function buildImageScanResult(input: ImageScanInput): ImageScanResult {
  const result = baseResult(input, input.identity, input.config);
  const times = layerTimes(input.config);
  const diffIds = result.layers ?? [];
  const vulnerabilities = vulnerabilitiesOf(input, times, diffIds);
  const distribution = distributionOf(vulnerabilities.map((v) => normalizeSeverity(v.severity, v.cvss)));
  const hasPackageManager = input.inventory.packages.some((p) => OS_ECOSYSTEMS.has(p.ecosystem));
  const os = osFields(input.inventory);
  return {
    ...result,
    ...os,
    packageManager: hasPackageManager,
    missingDistroVulnCoverage: input.warnings.some((w) => COVERAGE_WARNING.test(w)),
    // Go's encoding of an empty slice field, as the vendor sends it: null.
    vulnerabilities: vulnerabilities.length > 0 ? vulnerabilities : null,
    vulnerabilitiesCount: vulnerabilities.length,
    vulnerabilityDistribution: distribution,
    vulnerabilityRiskScore: riskScore(distribution),
    riskFactors: unionRiskFactors(vulnerabilities.map((v) => v.riskFactors)),
    packages: input.inventory.packages.length > 0 ? packagesOf(input.inventory, input.findings, times) : null,
    installedProducts: { osDistro: os.distro, hasPackageManager },
    err: input.error ?? "",
    scanWarnings: [...input.inventory.warnings, ...input.warnings],
  };
}

/** An image whose scan failed after its retries: what is known of it, `err` set, nothing counted. */
export function failedImageScanResult(input: FailedScanInput): ImageScanResult {
  return {
    ...baseResult(input, input.identity, input.config),
    err: input.error,
  };
}

function vulnerabilitiesOf(input: ImageScanInput, times: number[], diffIds: string[]): Vulnerability[] {
  const osId = input.inventory.os?.id;
  const groups = new Map<string, { vulnerability: Vulnerability; layerIndex: number }>();
  for (const finding of sortFindings(input.findings)) {
    const pkg = finding.package;
    const isOs = OS_ECOSYSTEMS.has(pkg.ecosystem);
    const name = isOs ? (pkg.source?.name ?? pkg.name) : pkg.name;
    const version = isOs ? (pkg.source?.version ?? pkg.version) : pkg.version;
    const key = [finding.id, pkg.ecosystem, name, version].join("\0");
    const grouped = groups.get(key);
    if (!grouped) {
      groups.set(key, {
        vulnerability: vulnerabilityOf(finding, name, version, isOs, osId, input, times, diffIds),
        layerIndex: finding.layer.index,
      });
      continue;
    }
    const v = grouped.vulnerability;
    if (v.binaryPkgs && !v.binaryPkgs.includes(pkg.name)) v.binaryPkgs = [...v.binaryPkgs, pkg.name].sort();
    // The group's layer is the lowest one that holds any of its packages: where it first came in.
    if (finding.layer.index < grouped.layerIndex) {
      grouped.layerIndex = finding.layer.index;
      v.layerTime = times[finding.layer.index] ?? 0;
      v.layerDiffID = diffIds[finding.layer.index] ?? "";
    }
  }
  return [...groups.values()].map((g) => g.vulnerability);
}

function vulnerabilityOf(
  finding: Finding,
  packageName: string,
  packageVersion: string,
  isOs: boolean,
  osId: string | undefined,
  input: ImageScanInput,
  times: number[],
  diffIds: string[],
): Vulnerability {
  const packageType = packageTypeOf(finding.package.ecosystem);
  const severity = rawSeverity(finding);
  const cvss = finding.cvss?.score ?? 0;
  const published = epochSeconds(finding.published);
  const firstSeen = Math.max(input.firstScanTime.getTime(), published * 1000);
  const discovered = new Date(Math.min(firstSeen, input.scanTime.getTime()));
  return {
    text: "",
    id: VULNERABILITY_IDS[packageType],
    severity,
    cvss,
    status: vulnerabilityStatus(finding),
    cve: finding.id,
    cause: "",
    description: stripControlSequences(finding.description ?? finding.summary ?? ""),
    title: "",
    vecStr: finding.cvss?.vector ?? "",
    exploit: "",
    riskFactors: findingRiskFactors(finding, normalizeSeverity(severity, cvss), input.scanTime),
    link: vulnerabilityLink(finding, osId),
    type: "image",
    packageName,
    packageVersion,
    packageType,
    layerTime: times[finding.layer.index] ?? 0,
    templates: null,
    twistlock: false,
    cri: false,
    published,
    fixDate: 0,
    applicableRules: finding.fixedVersions.length > 0 ? finding.fixedVersions.map((v) => `<${v}`) : ["*"],
    discovered: goTime(discovered),
    ...(isOs ? { binaryPkgs: [finding.package.name] } : {}),
    functionLayer: "",
    wildfireMalware: {},
    secret: {},
    layerDiffID: diffIds[finding.layer.index] ?? "",
  };
}

function packagesOf(inventory: ImageInventory, findings: Finding[], times: number[]): Packages[] {
  const cves = new Map<string, Set<string>>();
  for (const f of findings) {
    const key = packageKey(f.package);
    cves.set(key, (cves.get(key) ?? new Set()).add(f.id));
  }
  const groups = new Map<PackageType, PrismaPackage[]>();
  for (const p of sortPackages(inventory.packages)) {
    const type = packageTypeOf(p.ecosystem);
    const list = groups.get(type) ?? [];
    list.push(packageOf(p, cves.get(packageKey(p))?.size ?? 0, times));
    groups.set(type, list);
  }
  return PACKAGE_TYPE_ORDER.filter((t) => groups.has(t)).map((t) => ({
    pkgsType: t,
    pkgs: groups.get(t) ?? [],
  }));
}

function packageOf(p: InventoriedPackage, cveCount: number, times: number[]): PrismaPackage {
  const isOs = OS_ECOSYSTEMS.has(p.ecosystem);
  return {
    name: p.name,
    version: p.version,
    license: (p.licenses ?? []).join(", "),
    cveCount,
    layerTime: times[p.layer.index] ?? 0,
    purl: p.purl,
    ...(isOs ? { osPackage: true } : { path: `/${p.location}` }),
  };
}

/**
 * compact=true (§5.1): the findings, compliance issues, packages, binaries, history and the extended
 * metadata (the full layer list, user, labels and the rest of the config) left out; counts,
 * distributions, risk factors and identity kept. `image` keeps `created` and `entrypoint`, as in the
 * vendor's compact example.
 */
export function compactResult(result: ImageScanResult): ImageScanResult {
  const { layers: _layers, ...rest } = result;
  const image: ImageDetails = { created: result.image.created };
  if (result.image.entrypoint) image.entrypoint = result.image.entrypoint;
  return {
    ...rest,
    vulnerabilities: null,
    complianceIssues: null,
    packages: null,
    binaries: null,
    history: null,
    image,
  };
}

/**
 * fields=… (§5.1): only the named dotted paths ("labels", "repoTag.repo", "hosts"), `_id` always
 * kept. A path the result does not hold is left out.
 */
export function projectFields(result: ImageScanResult, fields: readonly string[]): Record<string, unknown> {
  const projected: Record<string, unknown> = { _id: result._id };
  for (const field of fields) {
    const path = field.split(".").filter((p) => p !== "");
    let source: unknown = result;
    for (const part of path) {
      source =
        typeof source === "object" && source !== null && Object.hasOwn(source, part)
          ? (source as Record<string, unknown>)[part]
          : undefined;
    }
    if (source === undefined || path.length === 0) continue;
    let target = projected;
    for (const part of path.slice(0, -1)) {
      const next = target[part];
      if (typeof next !== "object" || next === null) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    target[path.at(-1) as string] = structuredClone(source);
  }
  return projected;
}

/** normalizedSeverity=true (§6.10): every finding's severity rewritten to low/medium/high/critical. */
export function normalizeSeverities(result: ImageScanResult): ImageScanResult {
  const normalize = (v: Vulnerability): Vulnerability => ({
    ...v,
    severity: normalizeSeverity(v.severity, v.cvss),
  });
  return {
    ...result,
    vulnerabilities: result.vulnerabilities?.map(normalize) ?? null,
    history:
      result.history?.map((h) =>
        h.vulnerabilities ? { ...h, vulnerabilities: h.vulnerabilities.map(normalize) } : h,
      ) ?? null,
  };
}

/** The history entry that created each layer, by diff id: the k-th entry without `emptyLayer` created the k-th diff id. */
export function historyByLayer(result: ImageScanResult): Map<string, ImageHistory> {
  const byLayer = new Map<string, ImageHistory>();
  const diffIds = result.layers ?? [];
  let layerIndex = 0;
  for (const entry of result.history ?? []) {
    if (entry.emptyLayer) continue;
    const diffId = diffIds[layerIndex++];
    if (diffId) byLayer.set(diffId, entry);
  }
  return byLayer;
}

/**
 * layers=true (§5.1): each history entry that created a layer lists the vulnerabilities of the
 * packages that layer introduced.
 */
export function withLayerVulnerabilities(result: ImageScanResult): ImageScanResult {
  const vulnerabilities = result.vulnerabilities;
  if (!result.history || !vulnerabilities) return result;
  const entryDiffIds = new Map<ImageHistory, string>();
  for (const [diffId, entry] of historyByLayer(result)) entryDiffIds.set(entry, diffId);
  const history = result.history.map((entry) => {
    const diffId = entryDiffIds.get(entry);
    if (diffId === undefined) return entry;
    return { ...entry, vulnerabilities: vulnerabilities.filter((v) => v.layerDiffID === diffId) };
  });
  return { ...result, history };
}
