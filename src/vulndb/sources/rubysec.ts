/**
 * The Ruby Advisory Database (https://github.com/rubysec/ruby-advisory-db), the data behind
 * bundler-audit: one YAML file per advisory and package, `gems/<gem>/<ID>.yml` for gems and
 * `rubies/<engine>/<ID>.yml` for interpreters (ruby, jruby, mruby, mrubyc, rbx). Fields (the
 * repository's README, "Schema"): gem | engine, cve, ghsa, osvdb, url, title, date, description,
 * cvss_v2 / cvss_v3 / cvss_v4 (base scores, no vectors), patched_versions[], unaffected_versions[],
 * related {cve, ghsa, osvdb, url}, notes, framework, platform, library.
 *
 * Versions: each list entry is a Gem::Requirement (comma-separated constraints, all of which must
 * hold: `~> 5.2.4, >= 5.2.4.3`), and bundler-audit's rule is "vulnerable unless some patched or
 * unaffected requirement is satisfied". The affected set is computed exactly as that complement,
 * over Gem::Version ordering (implemented here as RubyGems does: `-` read as `.pre.`, segments of
 * digits or letters, trailing zeros ignored, a letter segment sorting below any number), and
 * written as one OSV range (scheme "rubygems") of introduced/fixed pairs (the tests check every
 * record against RubyGems' own Gem::Requirement when `ruby` is installed):
 *
 * - `~> X` holds for versions >= X whose release is below X's bump (`~> 5.2.4`: below 5.3), so a
 *   prerelease of the bump (5.3.0.rc1) does not satisfy it. The affected interval after such a
 *   patch starts at `<bump>.A` (`introduced: "5.3.A"`; `A` is the lowest letter segment), which
 *   sorts below 5.3.0.rc1, 5.3.0.RC1, 5.3.a and 5.3, and above every 5.2.x.
 * - An affected interval that starts just above a version (after `<= X` or `= X`) has no inclusive
 *   OSV form; it starts at `X.0.1` (`introduced: "1.13.7.0.1"` after `<= 1.13.7`), which is above X
 *   and at or below every version above X that a gem publishes (X.1, X.0.1, X.1.rc1, the next
 *   patch…; only the likes of X.0.0.1 fall between).
 * - An interval that ends inclusively (before `> X`) ends with `last_affected: X`; every other end
 *   is the start of a patched or unaffected interval and is written `fixed`.
 *
 * Advisories: the file's id (`CVE-…`, `GHSA-…`, `OSVDB-…`) is not unique in the database (the
 * CVE-2019-15224 backdoor is filed under 11 gems, CVE-2025-24294 under the resolv gem and ruby), so
 * the advisory id is the record's path without `.yml` (`gems/rack/CVE-2018-16470`), and the file id,
 * CVE, GHSA and OSVDB ids are aliases. Scores become severities with an empty vector (the feed
 * gives none) and source "rubysec". `platform` (e.g. jruby: only the Java build of nokogiri) is kept
 * in the affected entry's `detail`.
 *
 * Interpreters (`rubies/`): ecosystem "Ruby", name the engine, scheme "rubygems" (interpreter
 * versions such as `2.6.0-preview1` are Gem versions too) — the counterpart of "Node.js"/`node` for a
 * Ruby installed outside a package manager. Nothing in the inventory reports those yet; a distro's
 * ruby package is matched by the distro's own feed.
 */
import type { FeedContext, FeedInput, FeedSource } from "../source.js";
import type { Advisory, RangeEvent, Severity } from "../types.js";
import { type Interval, intersectAll, intervalEvents, subtractAll } from "./intervals.js";
import { yamlArchiveAdvisories } from "./yaml-archive.js";

export const RUBYSEC_SOURCE = "rubysec";

// ------------------------------------------------------------------------------ Gem::Version

const GEM_VERSION = /^\s*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?\s*$/;

export function isGemVersion(v: string): boolean {
  return GEM_VERSION.test(v);
}

type Segment = bigint | string;

function rawSegments(v: string): Segment[] {
  const normalized = v.trim().replaceAll("-", ".pre.") || "0";
  return (normalized.match(/[0-9]+|[a-z]+/gi) ?? ["0"]).map((s) => (/^\d/.test(s) ? BigInt(s) : s));
}

const dropTrailingZeros = (list: Segment[]) => {
  let end = list.length;
  while (end > 0 && list[end - 1] === 0n) end--;
  return list.slice(0, end);
};

/** Gem::Version#canonical_segments: trailing zeros dropped from the release part and the prerelease part. */
export function gemCanonicalSegments(v: string): Segment[] {
  const segments = rawSegments(v);
  const firstString = segments.findIndex((s) => typeof s === "string");
  if (firstString < 0) return dropTrailingZeros(segments);
  return [
    ...dropTrailingZeros(segments.slice(0, firstString)),
    ...dropTrailingZeros(segments.slice(firstString)),
  ];
}

const canonicalCache = new Map<string, Segment[]>();
function canonical(v: string): Segment[] {
  let c = canonicalCache.get(v);
  if (!c) {
    if (canonicalCache.size > 50_000) canonicalCache.clear();
    c = gemCanonicalSegments(v);
    canonicalCache.set(v, c);
  }
  return c;
}

/** Gem::Version#<=>. */
export function compareGemVersions(a: string, b: string): number {
  const l = canonical(a);
  const r = canonical(b);
  const n = Math.max(l.length, r.length);
  for (let i = 0; i < n; i++) {
    const x = l[i] ?? 0n;
    const y = r[i] ?? 0n;
    if (x === y) continue;
    if (typeof x === "string" && typeof y !== "string") return -1;
    if (typeof x !== "string" && typeof y === "string") return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** Gem::Version#bump: prerelease segments dropped, then the last but one segment incremented (`5.2.4` → `5.3`). */
export function gemBump(v: string): string {
  const segments = rawSegments(v);
  while (segments.some((s) => typeof s === "string")) segments.pop();
  if (segments.length > 1) segments.pop();
  const last = segments.length - 1;
  segments[last] = (segments[last] as bigint) + 1n;
  return segments.join(".");
}

// -------------------------------------------------------------------------- Gem::Requirement

const CONSTRAINT = /^\s*(~>|>=|<=|!=|=|>|<)?\s*(\S.*?)\s*$/;

/** The versions satisfying one constraint (`>= 1.2`, `~> 5.2.4`, `!= 3.0`), as intervals. */
export function constraintIntervals(constraint: string): Interval[] {
  const m = CONSTRAINT.exec(constraint);
  const op = m?.[1] ?? "=";
  const version = m?.[2];
  if (!version || !isGemVersion(version)) throw new Error(`invalid requirement "${constraint.trim()}"`);
  const at = (inclusive: boolean) => ({ version, inclusive });
  switch (op) {
    case ">=":
      return [{ lo: at(true) }];
    case ">":
      return [{ lo: at(false) }];
    case "<":
      return [{ hi: at(false) }];
    case "<=":
      return [{ hi: at(true) }];
    case "!=":
      return [{ hi: at(false) }, { lo: at(false) }];
    case "~>":
      return [
        { lo: at(true), hi: { version: `${gemBump(version)}.A`, inclusive: false, tag: "pessimistic" } },
      ];
    default:
      return [{ lo: at(true), hi: at(true) }];
  }
}

/** The versions satisfying a requirement string: every comma-separated constraint at once. */
export function requirementIntervals(requirement: string): Interval[] {
  let set: Interval[] = [{}];
  for (const c of requirement.split(",")) set = intersectAll(set, constraintIntervals(c), compareGemVersions);
  return set;
}

/** `X.0.1`: above X, below every version above X that a gem would publish. */
const gemSuccessor = (v: string) => `${v}.0.1`;

/**
 * The OSV events of "no patched or unaffected requirement holds", sorted. Throws on an invalid
 * requirement. An empty list means every version is patched or unaffected.
 */
export function gemAffectedEvents(patched: string[], unaffected: string[]): RangeEvent[] {
  const safe = [...patched, ...unaffected].flatMap((r) => requirementIntervals(r));
  const affected = subtractAll([{}], safe, compareGemVersions);
  return affected.flatMap((i) => intervalEvents(i, { successor: gemSuccessor }).events);
}

// --------------------------------------------------------------------------------- records

export interface RubysecRecord {
  gem?: string;
  engine?: string;
  platform?: string;
  framework?: string;
  library?: string;
  cve?: string;
  ghsa?: string;
  osvdb?: string;
  url?: string;
  title?: string;
  date?: string;
  description?: string;
  notes?: string;
  cvss_v2?: string;
  cvss_v3?: string;
  cvss_v4?: string;
  patched_versions?: string[];
  unaffected_versions?: string[];
  related?: Record<string, string[]>;
}

/** A scalar of the failsafe schema, absent when empty or `~`. */
function str(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  const t = v.trim();
  return t === "" || t === "~" || t === "null" ? undefined : t;
}

function list(v: unknown, field: string): string[] {
  if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? x : JSON.stringify(x)));
  if (v === undefined || v === null || str(v) === undefined) return [];
  throw new Error(`${field} is not a list`);
}

function score(v: unknown, field: string, warn: (m: string) => void): number | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || n < 0 || n > 10) {
    warn(`${field} "${s}" is not a CVSS score; ignored`);
    return undefined;
  }
  return n;
}

/**
 * One advisory from the record at `path` (`gems/<gem>/<ID>.yml` or `rubies/<engine>/<ID>.yml`,
 * relative to the repository root). Throws on a record that cannot be converted.
 */
export function rubysecAdvisory(
  path: string,
  record: RubysecRecord,
  warn: (m: string) => void = () => {},
): Advisory {
  const m = /^(gems|rubies)\/([^/]+)\/([^/]+)\.yml$/.exec(path);
  if (!m) throw new Error("not a gems/<gem>/<id>.yml or rubies/<engine>/<id>.yml path");
  const [, kind, dirName, fileId] = m as unknown as [string, string, string, string];
  const name = kind === "gems" ? str(record.gem) : str(record.engine);
  if (!name) throw new Error(`no ${kind === "gems" ? "gem" : "engine"} name`);
  if (name !== dirName) warn(`${path}: names ${name}, filed under ${dirName}`);
  const events = gemAffectedEvents(
    list(record.patched_versions, "patched_versions"),
    list(record.unaffected_versions, "unaffected_versions"),
  );
  if (events.length === 0) warn(`${path}: patched and unaffected versions cover every version`);

  const cve = str(record.cve);
  const ghsa = str(record.ghsa);
  const osvdb = str(record.osvdb);
  const aliases = [
    ...new Set([fileId, cve && `CVE-${cve}`, ghsa && `GHSA-${ghsa}`, osvdb && `OSVDB-${osvdb}`]),
  ].filter((a): a is string => typeof a === "string");

  const severities: Severity[] = [];
  const warnField = (msg: string) => warn(`${path}: ${msg}`);
  for (const [field, type] of [
    ["cvss_v2", "CVSS_V2"],
    ["cvss_v3", "CVSS_V3"],
    ["cvss_v4", "CVSS_V4"],
  ] as const) {
    const s = score(record[field], field, warnField);
    if (s !== undefined) severities.push({ type, vector: "", score: s, source: RUBYSEC_SOURCE });
  }

  const references: { type: string; url: string }[] = [];
  const url = str(record.url);
  if (url) references.push({ type: "ADVISORY", url });
  const related = record.related && typeof record.related === "object" ? record.related.url : undefined;
  for (const u of Array.isArray(related) ? related : []) {
    const link = str(u);
    if (link && !references.some((r) => r.url === link)) references.push({ type: "WEB", url: link });
  }

  const date = str(record.date);
  const description = str(record.description);
  const notes = str(record.notes);
  const platform = str(record.platform);
  return {
    id: path.replace(/\.yml$/, ""),
    aliases,
    source: RUBYSEC_SOURCE,
    summary: str(record.title),
    details: notes ? `${description ?? ""}\n\nNotes:\n${notes}`.trim() : description,
    published: date && /^\d{4}-\d\d-\d\d$/.test(date) ? `${date}T00:00:00Z` : undefined,
    references,
    severities,
    affected: [
      {
        ecosystem: kind === "gems" ? "RubyGems" : "Ruby",
        name,
        ranges: events.length ? [{ scheme: "rubygems", events }] : [],
        detail: platform ? `platform: ${platform}` : undefined,
      },
    ],
  };
}

/** `gems/<gem>/<ID>.yml` or `rubies/<engine>/<ID>.yml`, below any top folder a GitHub archive adds. */
const RECORD = /^(?:.*\/)?((?:gems|rubies)\/[^/]+\/[^/]+\.yml)$/;

export const rubysecSource: FeedSource = {
  name: RUBYSEC_SOURCE,
  version: 1,
  spec: "https://github.com/rubysec/ruby-advisory-db#schema",
  inputs: [
    {
      url: "https://github.com/rubysec/ruby-advisory-db/archive/refs/heads/master.tar.gz",
      mirrorPath: "rubysec/ruby-advisory-db.zip",
    },
  ],
  read(inputs: FeedInput[], ctx: FeedContext): AsyncIterable<Advisory> {
    return yamlArchiveAdvisories<RubysecRecord>(inputs, ctx, RECORD, rubysecAdvisory);
  },
};
