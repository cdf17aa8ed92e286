/**
 * shipshape's own JSON report (`--format json`): one document per image, stable and versioned.
 *
 * Stability contract: `schemaVersion` is 1. Within a schema version fields are only ever added, never
 * renamed, removed or given another meaning; a consumer must ignore fields it does not know. Optional
 * fields are left out when unknown (never `null`), except `os` and `database`, which are `null` when
 * absent so that "not detected" is explicit. Arrays are always present, possibly empty.
 *
 * Order is deterministic: findings and ignored findings by severity (worst first), then package
 * (ecosystem, name, version, location), then id. The same input and `now` give the same bytes.
 *
 * Shape (see the interfaces below for every field):
 * ```
 * { schemaVersion: 1, tool: {name, version}, createdAt,
 *   image: {name, registry?, repository?, tag?, digest, indexDigest?, platform, os, architecture,
 *           variant?, created?, purl, layers},
 *   os: {id, versionId?, codename?, prettyName?} | null,
 *   packages: {count, byEcosystem: {deb: 4, npm: 11, …}},
 *   database: {…as the caller describes it…} | null,
 *   summary: {total, bySeverity: {critical, high, medium, low, negligible, unknown}, ignored, complete},
 *   warnings: [{stage: "inventory" | "match" | "policy", message}],
 *   findings: [Finding, …],           // as src/match/types.ts defines it, unchanged
 *   ignored: [{kind: "rule" | "unfixed" | "severity", reason, rule?, finding}] }
 * ```
 * `summary.complete` is false when any inventory or match warning exists (a release without feed
 * data, unreadable files): CI can refuse a "clean" result that is only clean because nothing was
 * checked.
 */
import type { ImageIdentity, ImageInventory } from "../inventory/types.js";
import type { IgnoredFinding, IgnoreKind } from "../match/policy.js";
import type { Finding, MatchResult, NormalizedSeverity } from "../match/types.js";
import { compareEcosystems, imagePurl, isoSeconds, platformOf, type Tool } from "./common.js";
import { compareFindings, countBySeverity, sortFindings } from "./findings-common.js";

export const FINDINGS_SCHEMA_VERSION = 1;

/** What the caller knows about the vulnerability database; passed through as given (JSON values only). */
export type DatabaseInfo = Readonly<Record<string, unknown>>;

export interface FindingsJsonOptions {
  tool: Tool;
  now?: Date | undefined;
  /** e.g. {builtAt, schemaVersion, sources: SourceStatus[]} from the database. */
  database?: DatabaseInfo | undefined;
  /** What the policy set aside. */
  ignored?: readonly IgnoredFinding[] | undefined;
  /** The policy's warnings (expired ignore rules). */
  policyWarnings?: readonly string[] | undefined;
}

export interface FindingsDocument {
  schemaVersion: typeof FINDINGS_SCHEMA_VERSION;
  tool: Tool;
  /** RFC 3339 UTC, seconds. */
  createdAt: string;
  image: {
    /** The reference as the user gave it. */
    name: string;
    registry?: string;
    repository?: string;
    tag?: string;
    /** The platform's image manifest digest (what was analysed). */
    digest: string;
    /** The index digest, when the reference named an index. */
    indexDigest?: string;
    /** "linux/arm64/v8". */
    platform: string;
    os: string;
    architecture: string;
    variant?: string;
    /** Image config `created`. */
    created?: string;
    /** purl-spec `oci` purl of the image, as in the SBOMs. */
    purl: string;
    /** Number of layers. */
    layers: number;
  };
  os: { id: string; versionId?: string; codename?: string; prettyName?: string } | null;
  packages: { count: number; byEcosystem: Record<string, number> };
  database: DatabaseInfo | null;
  summary: {
    /** Number of reported findings (after the policy). */
    total: number;
    bySeverity: Record<NormalizedSeverity, number>;
    /** Number of findings the policy set aside. */
    ignored: number;
    /** False when an inventory or match warning says something was not checked. */
    complete: boolean;
  };
  warnings: { stage: "inventory" | "match" | "policy"; message: string }[];
  findings: Finding[];
  ignored: {
    kind: IgnoreKind;
    reason: string;
    /** The rule, for kind "rule"; `expires` as RFC 3339 UTC. */
    rule?: {
      id?: string;
      packages?: string[];
      paths?: string[];
      expires?: string;
      reason?: string;
      source: { path: string; line: number };
    };
    finding: Finding;
  }[];
}

export function toFindingsJson(
  image: ImageIdentity,
  inventory: ImageInventory,
  result: MatchResult,
  options: FindingsJsonOptions,
): FindingsDocument {
  const byEcosystem: Record<string, number> = {};
  const ecosystems = [...new Set(inventory.packages.map((p) => p.ecosystem))].sort(compareEcosystems);
  for (const e of ecosystems) byEcosystem[e] = inventory.packages.filter((p) => p.ecosystem === e).length;

  const os = inventory.os;
  const ignored = [...(options.ignored ?? [])].sort((a, b) => compareFindings(a.finding, b.finding));
  const warnings: FindingsDocument["warnings"] = [
    ...inventory.warnings.map((message) => ({ stage: "inventory" as const, message })),
    ...result.warnings.map((message) => ({ stage: "match" as const, message })),
    ...(options.policyWarnings ?? []).map((message) => ({ stage: "policy" as const, message })),
  ];

  return {
    schemaVersion: FINDINGS_SCHEMA_VERSION,
    tool: { name: options.tool.name, version: options.tool.version },
    createdAt: isoSeconds(options.now ?? new Date()),
    image: defined({
      name: image.name,
      registry: image.registry,
      repository: image.repository,
      tag: image.tag,
      digest: image.digest,
      indexDigest: image.indexDigest,
      platform: platformOf(image),
      os: image.os,
      architecture: image.architecture,
      variant: image.variant,
      created: image.created,
      purl: imagePurl(image),
      layers: image.layers.length,
    }),
    os: os
      ? defined({
          id: os.id,
          versionId: os.versionId,
          codename: os.versionCodename,
          prettyName: os.prettyName,
        })
      : null,
    packages: { count: inventory.packages.length, byEcosystem },
    database: options.database ?? null,
    summary: {
      total: result.findings.length,
      bySeverity: countBySeverity(result.findings),
      ignored: ignored.length,
      complete: inventory.warnings.length === 0 && result.warnings.length === 0,
    },
    warnings,
    findings: sortFindings(result.findings),
    ignored: ignored.map((i) => ({
      kind: i.kind,
      reason: i.reason,
      ...(i.rule
        ? {
            rule: defined({
              id: i.rule.id,
              packages: i.rule.packages,
              paths: i.rule.paths,
              expires: i.rule.expires ? isoSeconds(i.rule.expires) : undefined,
              reason: i.rule.reason,
              source: { path: i.rule.source.path, line: i.rule.source.line },
            }),
          }
        : {}),
      finding: i.finding,
    })),
  };
}

/** The object without its undefined fields, so optional fields are absent rather than undefined. */
function defined<T extends object>(obj: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
