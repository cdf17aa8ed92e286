/**
 * OSV (https://ossf.github.io/osv-schema/, schema 1.6) for any ecosystem: one `FeedSource` per
 * ecosystem from the factory `osvSource(ecosystem)`, reading the OSV bucket's `<Ecosystem>/all.zip`
 * (streamed entry by entry) or a directory of `<id>.json` records.
 *
 * Mapping decisions (OSV → `Advisory`):
 * - `aliases` and `upstream` become aliases. `related` means "a different but related
 *   vulnerability" for language ecosystems and is dropped there; distro errata (ALSA, RLSA, USN,
 *   DSA…) list the CVEs they fix only in `related`, so for distro ecosystems it joins the aliases
 *   (as the Debian DSA list's CVEs do in debian-tracker).
 * - `withdrawn` records are kept, with the timestamp, for the matcher to ignore.
 * - `published`/`modified` of `0001-01-01T00:00:00Z` (golang/vulndb's unset value) become undefined;
 *   for Go, `commit-dates.tsv` beside the zip (a mirror's first/last commit per record) fills them.
 * - `severity[]` (record and per-package) CVSS_V2/V3/V4 vectors are scored with ae-cvss-calculator;
 *   `Ubuntu` severities, `database_specific.severity` (GHSA: LOW/MODERATE/HIGH/CRITICAL) and the
 *   Red Hat impact prefix of rpm-distro errata summaries ("Moderate: libxml2 security update")
 *   become `vendorSeverity`, lower-case.
 * - `affected[]` entries of other ecosystems than the source's are left out: the OSV bucket puts a
 *   record in every ecosystem's zip it affects, so each source keeps only its own packages.
 * - Ecosystems keep OSV's release suffix (`AlmaLinux:8`, `Debian:12`, `Alpine:v3.18`); names are
 *   normalised per ecosystem (PEP 503 for PyPI, lower case for NuGet and Packagist).
 * - Ranges: SEMVER → scheme "semver" (for Go "go": Go's SemVer dialect, which the installed Go
 *   versions are written in); ECOSYSTEM → `schemeNameForEcosystem`; GIT (commit hashes) skipped. Go's `ecosystem_specific.imports` (and crates.io's `affects`) become `detail`; Go's
 *   `ecosystem_specific.custom_ranges` (pseudo-version fixes outside the schema) are not used.
 * - A range ending in `last_affected` names no fix. When the entry's `database_specific.patched_versions`
 *   (kept by the OSV conversion of the Node.js Security WG npm advisories, e.g. `<=1.5.1` →
 *   `last_affected: 1.5.1` with `patched_versions: ">=1.5.2"`) names first patched versions, they
 *   become `fixedVersions`; the ranges stay as stated.
 * - A malformed record, range or event is reported through `ctx.warn` and left out; the feed goes on.
 */
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Range } from "semver";
import { normalizePackageName as normalizeName } from "../names.js";
import type { FeedContext, FeedInput, FeedSource } from "../source.js";
import type { Advisory, AffectedPackage, AffectedRange, RangeEvent, Severity } from "../types.js";
import { type ArchiveEntry, archiveEntries, archiveKind } from "./archive.js";
import { type CvssType, cvssSeverity } from "./cvss.js";

export const OSV_BUCKET_URL = "https://osv-vulnerabilities.storage.googleapis.com";

/** Ecosystems read by default: those shipshape's extractors inventory and a versioning scheme orders. */
export const DEFAULT_OSV_ECOSYSTEMS: readonly string[] = [
  "npm",
  "PyPI",
  "Go",
  "crates.io",
  "RubyGems",
  "Packagist",
  "Maven",
  "NuGet",
  "AlmaLinux",
  "Rocky Linux",
  "Red Hat",
  "openSUSE",
  "SUSE",
  "Debian",
  "Ubuntu",
  "Alpine",
];

/** One OSV record file at most this large (the largest real records are tens of kilobytes). */
export const OSV_MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** `AlmaLinux:8` → `AlmaLinux`, `Ubuntu:Pro:22.04:LTS` → `Ubuntu`. */
export function baseEcosystem(ecosystem: string): string {
  const colon = ecosystem.indexOf(":");
  return (colon < 0 ? ecosystem : ecosystem.slice(0, colon)).trim();
}

/**
 * The versioning scheme (src/versioning) that orders an OSV ecosystem's ECOSYSTEM-type ranges,
 * release suffix ignored; undefined for ecosystems without one.
 */
export function schemeNameForEcosystem(ecosystem: string): string | undefined {
  switch (baseEcosystem(ecosystem)) {
    case "npm":
    case "crates.io":
      return "semver";
    case "Go":
      return "go";
    case "PyPI":
      return "pep440";
    case "Maven":
      return "maven";
    case "RubyGems":
      return "rubygems";
    case "Packagist":
      return "composer";
    case "NuGet":
      return "nuget";
    case "Alpine":
    case "Wolfi":
    case "Chainguard":
      return "apk";
    case "Debian":
    case "Ubuntu":
      return "dpkg";
    case "AlmaLinux":
    case "Rocky Linux":
    case "Red Hat":
    case "openSUSE":
    case "SUSE":
    case "Mageia":
    case "Photon OS":
      return "rpm";
    default:
      return undefined;
  }
}

const DISTRO_SCHEMES = new Set(["apk", "dpkg", "rpm"]);

/** Whether an ecosystem is a Linux distribution's (its advisories are errata naming the CVEs they fix). */
export function isDistroEcosystem(ecosystem: string): boolean {
  return DISTRO_SCHEMES.has(schemeNameForEcosystem(ecosystem) ?? "");
}

/**
 * A package name as the matcher looks it up in an ecosystem (src/vulndb/names.ts: PEP 503 for PyPI,
 * lower case for NuGet and Packagist), release suffix ignored.
 */
export function normalizePackageName(ecosystem: string, name: string): string {
  return normalizeName(baseEcosystem(ecosystem), name.trim());
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An OSV timestamp as RFC 3339: kept verbatim when it already is; other parseable forms (e.g.
 * `2021-01-01 12:00:00+00:00` from YAML-converted records) converted to UTC; `0001-01-01…`
 * (golang/vulndb's "unset") and unparseable values → undefined.
 */
export function normalizeTimestamp(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const v = value.trim();
  if (v === "" || v.startsWith("0001-01-01")) return undefined;
  if (RFC3339.test(v)) return v;
  const ms = Date.parse(v.replace(" ", "T"));
  if (Number.isNaN(ms)) return undefined;
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

export interface OsvConvertOptions {
  /** The `Advisory.source` to set, e.g. "osv-PyPI". */
  source: string;
  /** Keep only affected packages of this ecosystem (a base name keeps every release of it). */
  ecosystem?: string | undefined;
  warn(message: string): void;
  /** Go: first and last commit time per record id, for records whose timestamps are unset. */
  commitDates?: Map<string, { first: string; last: string }> | undefined;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((v): v is string => typeof v === "string" && v.trim() !== "")
    : [];
}

function ecosystemMatches(wanted: string | undefined, actual: string): boolean {
  if (wanted === undefined) return true;
  if (wanted.includes(":")) return actual === wanted;
  return baseEcosystem(actual) === wanted;
}

const EVENT_KEYS = ["introduced", "fixed", "last_affected", "limit"] as const;

function convertEvents(events: unknown, where: string, warn: (m: string) => void): RangeEvent[] {
  const out: RangeEvent[] = [];
  if (!Array.isArray(events)) {
    warn(`${where}: range without an events list; skipped`);
    return out;
  }
  for (const event of events) {
    const key = isObject(event) ? EVENT_KEYS.find((k) => typeof event[k] === "string") : undefined;
    const value = key && isObject(event) ? (event[key] as string).trim() : "";
    if (!key || value === "") {
      warn(`${where}: malformed range event ${JSON.stringify(event)}; skipped`);
      continue;
    }
    out.push({ [key]: value } as RangeEvent);
  }
  return out;
}

function convertRanges(
  ranges: unknown,
  ecosystem: string,
  where: string,
  warn: (m: string) => void,
): AffectedRange[] {
  const out: AffectedRange[] = [];
  if (ranges === undefined || ranges === null) return out;
  if (!Array.isArray(ranges)) {
    warn(`${where}: "ranges" is not a list; ignored`);
    return out;
  }
  for (const range of ranges) {
    const type = isObject(range) ? range.type : undefined;
    let scheme: string | undefined;
    // Go writes every range as SEMVER; its own scheme orders SemVer identically and also reads the
    // installed side's Go forms (`v` prefix, `v1.2` shorthands, `+incompatible`).
    if (type === "SEMVER") scheme = baseEcosystem(ecosystem) === "Go" ? "go" : "semver";
    else if (type === "ECOSYSTEM") {
      scheme = schemeNameForEcosystem(ecosystem);
      if (!scheme) {
        warn(`${where}: no versioning scheme for ecosystem "${ecosystem}"; range skipped`);
        continue;
      }
    } else if (type === "GIT") continue;
    else {
      warn(`${where}: unknown range type ${JSON.stringify(type)}; skipped`);
      continue;
    }
    const events = convertEvents(isObject(range) ? range.events : undefined, where, warn);
    if (events.length === 0) continue;
    out.push({ scheme, events });
  }
  return out;
}

/** Go `ecosystem_specific.imports` → `net/http: Client.Do, Get; crypto/tls (windows/amd64): Dial`. */
function goDetail(specific: Json): string | undefined {
  const parts: string[] = [];
  for (const item of Array.isArray(specific.imports) ? specific.imports : []) {
    if (!isObject(item) || typeof item.path !== "string") continue;
    const platform = [strings(item.goos).join(","), strings(item.goarch).join(",")].filter(Boolean).join("/");
    const symbols = strings(item.symbols);
    parts.push(
      `${item.path}${platform ? ` (${platform})` : ""}${symbols.length ? `: ${symbols.join(", ")}` : ""}`,
    );
  }
  return parts.length ? parts.join("; ") : undefined;
}

/** crates.io `ecosystem_specific.affects` → `functions: a::b; os: windows`. */
function cratesDetail(specific: Json): string | undefined {
  const affects = isObject(specific.affects) ? specific.affects : undefined;
  if (!affects) return undefined;
  const parts = (["functions", "os", "arch"] as const)
    .map((key) => [key, strings(affects[key])] as const)
    .filter(([, values]) => values.length > 0)
    .map(([key, values]) => `${key}: ${values.join(", ")}`);
  return parts.length ? parts.join("; ") : undefined;
}

const MAX_DETAIL_CHARS = 8192;

/**
 * The versions an npm `patched_versions` range (node-semver syntax, as the Node.js Security WG
 * writes it) names as the first patched ones: the inclusive lower bound of each `||` alternative
 * (`>=1.5.2`, `=3.10.1`, a bare `7.0.0`). An exclusive bound (`> 2.4.3`) names no version and an
 * alternative without a lower bound (`<0.0.0`, the WG's "no fix") names none either: nothing is
 * invented. Unparsable ranges give nothing.
 */
export function firstPatchedVersions(patched: string): string[] {
  let range: Range;
  try {
    range = new Range(patched, { loose: true });
  } catch {
    return [];
  }
  const out = new Set<string>();
  for (const alternative of range.set) {
    const lower = alternative.find((c) => c.value !== "" && (c.operator === ">=" || c.operator === ""));
    if (lower) out.add(lower.semver.version);
  }
  return [...out];
}

function convertAffected(
  entry: unknown,
  where: string,
  options: OsvConvertOptions,
): AffectedPackage | undefined {
  const pkg = isObject(entry) && isObject(entry.package) ? entry.package : undefined;
  const ecosystem = str(pkg?.ecosystem)?.trim();
  const name = str(pkg?.name);
  if (!isObject(entry) || !ecosystem || !name) {
    options.warn(`${where}: affected entry without package ecosystem and name; skipped`);
    return undefined;
  }
  const at = `${where} ${ecosystem}/${name}`;
  const affected: AffectedPackage = {
    ecosystem,
    name: normalizePackageName(ecosystem, name),
    ranges: convertRanges(entry.ranges, ecosystem, at, options.warn),
  };
  const versions = strings(entry.versions);
  if (versions.length) affected.versions = versions;
  const patched = isObject(entry.database_specific)
    ? str(entry.database_specific.patched_versions)
    : undefined;
  if (
    patched &&
    baseEcosystem(ecosystem) === "npm" &&
    affected.ranges.some((r) => r.events.some((e) => "last_affected" in e))
  ) {
    const fixed = firstPatchedVersions(patched);
    if (fixed.length) affected.fixedVersions = fixed;
  }
  if (isObject(entry.ecosystem_specific)) {
    const base = baseEcosystem(ecosystem);
    let detail =
      base === "Go"
        ? goDetail(entry.ecosystem_specific)
        : base === "crates.io"
          ? cratesDetail(entry.ecosystem_specific)
          : undefined;
    if (detail && detail.length > MAX_DETAIL_CHARS) detail = `${detail.slice(0, MAX_DETAIL_CHARS - 1)}…`;
    if (detail) affected.detail = detail;
  }
  return affected;
}

const CVSS_TYPES = new Set<string>(["CVSS_V2", "CVSS_V3", "CVSS_V4"]);

/** Who scored it: the record's database by its id prefix (GHSA-… → "ghsa", PYSEC-… → "pysec"). */
function scoreSource(id: string, fallback: string): string {
  const match = /^([A-Za-z]+)-/.exec(id);
  return match ? (match[1] as string).toLowerCase() : fallback;
}

function convertSeverities(
  list: unknown,
  where: string,
  source: string,
  out: Severity[],
  vendor: { value?: string | undefined },
  warn: (m: string) => void,
): void {
  if (!Array.isArray(list)) return;
  for (const item of list) {
    const type = isObject(item) ? item.type : undefined;
    const score = isObject(item) ? str(item.score) : undefined;
    if (typeof type !== "string" || !score) {
      warn(`${where}: malformed severity ${JSON.stringify(item)}; skipped`);
      continue;
    }
    if (type === "Ubuntu") {
      vendor.value ??= score.trim().toLowerCase();
      continue;
    }
    if (!CVSS_TYPES.has(type)) continue;
    const severity = cvssSeverity(score, source, type as CvssType);
    if (!severity) {
      warn(`${where}: ${type} severity with an unusable vector ${JSON.stringify(score)}; skipped`);
      continue;
    }
    if (severity.score === undefined)
      warn(`${where}: could not score ${type} vector ${JSON.stringify(score)}`);
    if (!out.some((s) => s.type === severity.type && s.vector === severity.vector)) out.push(severity);
  }
}

const RED_HAT_IMPACT = /^(Critical|Important|Moderate|Low):\s/;

/**
 * One OSV record → an `Advisory`; undefined (with a warning) when it has no usable id, or when it
 * affects only other ecosystems than `options.ecosystem` (silently: that is normal in the bucket).
 */
export function osvToAdvisory(record: unknown, options: OsvConvertOptions): Advisory | undefined {
  if (!isObject(record)) {
    options.warn(`${options.source}: record is not a JSON object; skipped`);
    return undefined;
  }
  const id = str(record.id)?.trim();
  if (!id) {
    options.warn(`${options.source}: record without an id; skipped`);
    return undefined;
  }
  const where = `${options.source} ${id}`;
  const warn = options.warn;

  const affected: AffectedPackage[] = [];
  const rawAffected = Array.isArray(record.affected) ? record.affected : [];
  if (record.affected !== undefined && record.affected !== null && !Array.isArray(record.affected)) {
    warn(`${where}: "affected" is not a list; ignored`);
  }
  let foreign = 0;
  const severities: Severity[] = [];
  const vendor: { value?: string | undefined } = {};
  const source = scoreSource(id, options.source);
  for (const entry of rawAffected) {
    const ecosystem = isObject(entry) && isObject(entry.package) ? str(entry.package.ecosystem) : undefined;
    if (ecosystem !== undefined && !ecosystemMatches(options.ecosystem, ecosystem.trim())) {
      foreign++;
      continue;
    }
    const converted = convertAffected(entry, where, options);
    if (converted) affected.push(converted);
    if (isObject(entry)) convertSeverities(entry.severity, where, source, severities, vendor, warn);
  }
  if (foreign > 0 && affected.length === 0) return undefined;

  convertSeverities(record.severity, where, source, severities, vendor, warn);
  const databaseSpecific = isObject(record.database_specific) ? record.database_specific : undefined;
  const dbSeverity = str(databaseSpecific?.severity);
  if (dbSeverity) vendor.value = dbSeverity.trim().toLowerCase();
  const summary = str(record.summary);
  // The source's ecosystem decides (or, converting without one, the first package's).
  const scheme = schemeNameForEcosystem(options.ecosystem ?? affected[0]?.ecosystem ?? "");
  const distro = scheme !== undefined && DISTRO_SCHEMES.has(scheme);
  if (!vendor.value && summary && scheme === "rpm") {
    const impact = RED_HAT_IMPACT.exec(summary);
    if (impact) vendor.value = (impact[1] as string).toLowerCase();
  }

  const aliases: string[] = [];
  const addAlias = (alias: string) => {
    const a = alias.trim();
    if (a && a !== id && !aliases.includes(a)) aliases.push(a);
  };
  for (const alias of strings(record.aliases)) addAlias(alias);
  for (const alias of strings(record.upstream)) addAlias(alias);
  if (distro) for (const alias of strings(record.related)) addAlias(alias);

  const references: { type: string; url: string }[] = [];
  for (const ref of Array.isArray(record.references) ? record.references : []) {
    const url = isObject(ref) ? str(ref.url)?.trim() : undefined;
    if (!url) continue;
    references.push({ type: (isObject(ref) ? str(ref.type) : undefined) ?? "WEB", url });
  }

  let published = normalizeTimestamp(record.published);
  let modified = normalizeTimestamp(record.modified);
  const dates = options.commitDates?.get(id);
  if (dates) {
    published ??= dates.first;
    modified ??= dates.last;
  }
  for (const [field, value] of [
    ["published", record.published],
    ["modified", record.modified],
    ["withdrawn", record.withdrawn],
  ] as const) {
    if (
      typeof value === "string" &&
      !value.startsWith("0001-01-01") &&
      normalizeTimestamp(value) === undefined
    ) {
      warn(`${where}: unparseable ${field} timestamp ${JSON.stringify(value)}; dropped`);
    }
  }

  const advisory: Advisory = { id, aliases, source: options.source, references, severities, affected };
  // Optional fields only when present, so stored and compared advisories carry no undefined keys.
  const optional = {
    summary,
    details: str(record.details),
    published,
    modified,
    withdrawn: normalizeTimestamp(record.withdrawn),
    vendorSeverity: vendor.value,
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (advisory as unknown as Record<string, unknown>)[key] = value;
  }
  return advisory;
}

/** `commit-dates.tsv` (id, first_commit_utc, last_commit_utc, with a header line) → a map; undefined when absent. */
export async function readCommitDates(
  path: string,
  warn: (m: string) => void,
): Promise<Map<string, { first: string; last: string }> | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === "ENOENT" ||
      (err as NodeJS.ErrnoException).code === "ENOTDIR"
    ) {
      return undefined;
    }
    warn(`${path}: ${(err as Error).message}; commit dates not used`);
    return undefined;
  }
  const dates = new Map<string, { first: string; last: string }>();
  for (const line of text.split("\n")) {
    const [id, first, last] = line.trim().split("\t");
    if (!id || id === "id" || !first || !last) continue;
    const f = normalizeTimestamp(first);
    const l = normalizeTimestamp(last);
    if (f && l) dates.set(id, { first: f, last: l });
  }
  return dates;
}

/** Records of one input: a zip, tar(.xz/.gz) or directory of `*.json`, or a single JSON file (a record or a list of them). */
async function* inputRecords(
  input: FeedInput,
  warn: (m: string) => void,
): AsyncGenerator<{ name: string; record: unknown }> {
  const kind = await archiveKind(input.path);
  let entries: AsyncIterable<ArchiveEntry>;
  if (kind === "file") {
    entries = (async function* () {
      const content = await readFile(input.path);
      if (content.length > OSV_MAX_RECORD_BYTES * 4) {
        warn(`${input.path}: ${content.length} bytes, too large for one JSON document; skipped`);
        return;
      }
      yield { name: input.path, content };
    })();
  } else {
    entries = archiveEntries(input.path, {
      maxEntryBytes: OSV_MAX_RECORD_BYTES,
      filter: (name) => name.endsWith(".json"),
      warn,
    });
  }
  for await (const entry of entries) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(entry.content.toString("utf8"));
    } catch (err) {
      warn(`${input.path}: ${entry.name}: invalid JSON (${(err as Error).message}); skipped`);
      continue;
    }
    if (kind === "file" && Array.isArray(parsed)) {
      for (const record of parsed) yield { name: entry.name, record };
    } else yield { name: entry.name, record: parsed };
  }
}

/** The OSV feed of one ecosystem ("PyPI", "AlmaLinux", "AlmaLinux:8", "Rocky Linux"…). */
export function osvSource(ecosystem: string): FeedSource {
  const name = `osv-${ecosystem.replaceAll(" ", "-")}`;
  return {
    name,
    version: 1,
    spec: "OSV schema 1.6 (https://ossf.github.io/osv-schema/): the OSV bucket's <Ecosystem>/all.zip, or a directory of <id>.json",
    inputs: [
      {
        url: `${OSV_BUCKET_URL}/${encodeURIComponent(ecosystem)}/all.zip`,
        mirrorPath: `osv/${ecosystem}/all.zip`,
      },
    ],
    async *read(inputs: FeedInput[], ctx: FeedContext): AsyncIterable<Advisory> {
      let count = 0;
      for (const input of inputs) {
        let commitDates: Map<string, { first: string; last: string }> | undefined;
        if (baseEcosystem(ecosystem) === "Go") {
          const kind = await archiveKind(input.path);
          const beside =
            kind === "directory"
              ? join(input.path, "commit-dates.tsv")
              : join(dirname(input.path), "commit-dates.tsv");
          commitDates = await readCommitDates(beside, ctx.warn);
        }
        for await (const { record } of inputRecords(input, ctx.warn)) {
          const advisory = osvToAdvisory(record, { source: name, ecosystem, warn: ctx.warn, commitDates });
          if (!advisory) continue;
          yield advisory;
          count++;
          if (count % 500 === 0) ctx.progress?.(count);
        }
      }
      ctx.progress?.(count);
    },
  };
}

/** The default OSV sources, one per `DEFAULT_OSV_ECOSYSTEMS` entry. */
export function defaultOsvSources(): FeedSource[] {
  return DEFAULT_OSV_ECOSYSTEMS.map((ecosystem) => osvSource(ecosystem));
}
