/**
 * The Node.js runtime's own vulnerabilities: the Node.js Security Working Group's `vuln/core`
 * database (https://github.com/nodejs/security-wg/tree/main/vuln/core). One JSON record per
 * vulnerability, `vuln/core/<n>.json`, also published whole as `vuln/core/index.json` (an object
 * keyed by `<n>`), which is what Node.js's own checker `is-my-node-vulnerable` downloads:
 *
 *   { "cve": ["CVE-2020-8265"], "vulnerable": "10.x || 12.x || 14.x || 15.x",
 *     "patched": "^10.23.1 || ^12.20.1 || ^14.15.4 || ^15.5.1", "severity": "high",
 *     "ref": "https://nodejs.org/en/blog/vulnerability/january-2021-security-releases/",
 *     "overview": "…", "affectedEnvironments": ["all"] }
 *
 * `vulnerable` and `patched` are node-semver ranges; the checker's rule is "affected when the
 * version satisfies `vulnerable` and not `patched`". Each record becomes one advisory for package
 * `node` in ecosystem "Node.js", with OSV SEMVER ranges computed from that rule exactly, interval
 * by interval (`vulnerable` minus `patched`), one range per remaining interval:
 *
 * - the interval starts at the vulnerable alternative's lower bound (`introduced: "0"` when it has
 *   none, e.g. `<= 10`), or where a `patched` interval ends inside it;
 * - it ends with `fixed: X` where a `patched` interval begins (X is the lowest patched version on
 *   that release line) or where the vulnerable alternative says `< X` explicitly
 *   (`>=6.0.0 <6.2.0`); with `last_affected: X` where it ends inclusively (`8.5.0` alone, `<= X`);
 *   and with `limit: X` where it only reaches the end of a release line that `patched` never fixes
 *   (`5.x` with no `^5…` patched: 5.x stayed vulnerable until end of life, and X = 6.0.0 is not a
 *   fix but the next line, which other alternatives cover).
 *
 * node-semver writes the end of a line as `<6.0.0-0`; events drop the `-0` (Node.js publishes no
 * prereleases as releases). An interval that starts just above a version (`> 1.2.3`, or after a
 * `<= 1.2.3` patched range) starts at the least semver version above it, `introduced: 1.2.4-0`
 * (none of the current records needs this). A bare version in `patched` (`4.4.2` in record 26, `15.2.1` in record
 * 69) is read as that line's fix (`^4.4.2`): taken literally it would mark every later 4.x release
 * vulnerable again, which is not what those advisories say.
 *
 * Ids: `NSWG-CORE-<n>` (the record's number, as security-wg names its npm records NSWG-ECO-<n>),
 * every CVE an alias. A CVE is not a usable id: records 141 and 150 both carry CVE-2024-27980, and
 * 14 records carry none. `severity` is the vendor rating (omitted when "unknown"), `cvss` (two
 * early records) a CVSS 3.0 severity. `affectedEnvironments` other than "all" (["win32"],
 * ["linux"]) is kept in the affected entry's `detail` as `platforms: win32`.
 *
 * `reported_by` and `author` have no place in an Advisory and are dropped.
 *
 * `vuln/npm` (legacy ecosystem advisories, converted to OSV separately) and `vuln/deps` (statements
 * that a dependency's CVE does not affect Node.js, without versions) are not read here.
 */
import fs from "node:fs";
import path from "node:path";
import semver from "semver";
import type { FeedContext, FeedInput, FeedSource } from "../source.js";
import type { Advisory, AffectedRange, RangeEvent, Severity } from "../types.js";
import { archiveEntries, archiveKind } from "./archive.js";
import { type Bound, type Interval, intersect, intervalEvents, subtractAll } from "./intervals.js";

export const NODEJS_SOURCE = "nodejs-core";
/** `vuln/core/<n>.json` anywhere (a GitHub archive adds a top folder), or `<n>.json` at the root of a vuln/core folder. */
const CORE_ENTRY = /^(?:(?:.*\/)?vuln\/core\/)?(\d+)\.json$/;
const INDEX_ENTRY = /^(?:(?:.*\/)?vuln\/core\/)?index\.json$/;

export interface NodeCoreRecord {
  cve?: string[];
  vulnerable?: string;
  patched?: string;
  description?: string;
  overview?: string;
  ref?: string;
  severity?: string;
  affectedEnvironments?: string[];
  cvss?: string;
  cvss_score?: number;
  publish_date?: string;
  reported_by?: string;
  author?: string;
  type?: string;
}

const cmp = (a: string, b: string) => semver.compare(a, b);

/** The intervals of one node-semver range, one per `||` alternative, bounds tagged with `tag`. */
export function rangeIntervals(range: string, tag: string, bareAsCaret = false): Interval[] {
  const parsed = new semver.Range(range);
  const out: Interval[] = [];
  for (const alternative of parsed.set) {
    let interval: Interval = {};
    let empty = false;
    for (const c of alternative) {
      // `*` (and an empty range) is the comparator that matches anything: value "".
      if (c.value === "") continue;
      const version = c.semver.version;
      const next: Interval = {};
      switch (c.operator) {
        case ">=":
          next.lo = { version, inclusive: true, tag };
          break;
        case ">":
          next.lo = { version, inclusive: false, tag };
          break;
        case "<":
          next.hi = { version, inclusive: false, tag: version.endsWith("-0") ? "line-end" : tag };
          break;
        case "<=":
          next.hi = { version, inclusive: true, tag };
          break;
        default:
          if (bareAsCaret) {
            // `4.4.2` in `patched`: the fix of its release line (the caret range's line).
            const caret = rangeIntervals(`^${version}`, tag)[0];
            if (caret) Object.assign(next, caret);
          } else {
            next.lo = { version, inclusive: true, tag };
            next.hi = { version, inclusive: true, tag };
          }
      }
      const narrowed = intersect(interval, next, cmp);
      if (!narrowed) {
        empty = true;
        break;
      }
      interval = narrowed;
    }
    if (!empty) out.push(interval);
  }
  return out;
}

const text = (b: Bound) => b.version.replace(/-0$/, "");

/** The least semver version above `v`: `1.2.4-0` above `1.2.3`, `1.2.3-rc.1.0` above `1.2.3-rc.1`. */
export function semverSuccessor(v: string): string {
  const parsed = semver.parse(v);
  if (!parsed) return v;
  if (parsed.prerelease.length) return `${parsed.version}.0`;
  return `${parsed.major}.${parsed.minor}.${parsed.patch + 1}-0`;
}

/**
 * OSV SEMVER ranges for "satisfies `vulnerable` and not `patched`", one per interval, sorted.
 * Throws TypeError on a range node-semver cannot parse.
 */
export function nodeRanges(vulnerable: string, patched: string | undefined): AffectedRange[] {
  const affected = subtractAll(
    rangeIntervals(vulnerable, "vulnerable"),
    patched?.trim() ? rangeIntervals(patched, "patched", true) : [],
    cmp,
  );
  return affected.map((interval) => ({
    scheme: "semver",
    events: intervalEvents(interval, {
      text,
      successor: semverSuccessor,
      exclusiveUpper: (b): RangeEvent => (b.tag === "line-end" ? { limit: text(b) } : { fixed: text(b) }),
    }).events,
  }));
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() ? v.trim() : undefined;
}

/** One advisory from record `<n>`; throws on a record that cannot be converted. */
export function nodeAdvisory(n: string, record: NodeCoreRecord): Advisory {
  const vulnerable = str(record.vulnerable);
  if (!vulnerable) throw new Error("no `vulnerable` range");
  const ranges = nodeRanges(vulnerable, str(record.patched));
  const id = `NSWG-CORE-${n}`;
  const cves = [
    ...new Set((Array.isArray(record.cve) ? record.cve : []).filter((c) => typeof c === "string")),
  ];
  const severities: Severity[] = [];
  const cvss = str(record.cvss);
  if (cvss) {
    const vector = cvss.startsWith("CVSS:") ? cvss : `CVSS:${cvss}`;
    severities.push({
      type: "CVSS_V3",
      vector,
      score: typeof record.cvss_score === "number" ? record.cvss_score : undefined,
      source: NODEJS_SOURCE,
    });
  }
  const severity = str(record.severity)?.toLowerCase();
  const environments = (record.affectedEnvironments ?? []).filter(
    (e) => typeof e === "string" && e !== "all",
  );
  const overview = str(record.overview);
  const description = str(record.description);
  const ref = str(record.ref);
  const published = str(record.publish_date);
  return {
    id,
    aliases: cves,
    source: NODEJS_SOURCE,
    summary: description ?? overview?.split("\n")[0],
    details: overview,
    published: published && /^\d{4}-\d\d-\d\d$/.test(published) ? `${published}T00:00:00Z` : undefined,
    references: ref ? [{ type: "ADVISORY", url: ref }] : [],
    severities,
    vendorSeverity: severity && severity !== "unknown" ? severity : undefined,
    affected: [
      {
        ecosystem: "Node.js",
        name: "node",
        ranges,
        detail: environments.length ? `platforms: ${environments.join(", ")}` : undefined,
      },
    ],
  };
}

/**
 * `<n>` → record, from a zip or tarball of the repository, a checkout (or its vuln/core folder),
 * the published index.json, or a single `<n>.json`.
 */
async function* rawRecords(input: FeedInput, ctx: FeedContext): AsyncGenerator<[string, unknown]> {
  const kind = await archiveKind(input.path);
  if (kind === "file") {
    const data = fs.readFileSync(input.path);
    const single = /^(\d+)\.json$/.exec(path.basename(input.path));
    if (single?.[1]) yield* parsed(single[1], data, input, ctx);
    else yield* indexRecords(data, input, ctx);
    return;
  }
  let index: Buffer | undefined;
  let records = 0;
  const filter = (name: string) => CORE_ENTRY.test(name) || INDEX_ENTRY.test(name);
  for await (const entry of archiveEntries(input.path, { filter, warn: ctx.warn })) {
    const m = CORE_ENTRY.exec(entry.name);
    if (m?.[1]) {
      records++;
      yield* parsed(m[1], entry.content, input, ctx);
    } else index ??= entry.content;
  }
  // Only the published index.json (no per-record files) is as good.
  if (records === 0 && index) yield* indexRecords(index, input, ctx);
  else if (records === 0) throw new Error(`${input.origin}: no vuln/core/<n>.json records`);
}

function* parsed(n: string, data: Buffer, input: FeedInput, ctx: FeedContext): Generator<[string, unknown]> {
  try {
    yield [n, JSON.parse(data.toString("utf8"))];
  } catch (err) {
    ctx.warn(`${input.origin}: vuln/core/${n}.json: ${(err as Error).message}`);
  }
}

function* indexRecords(data: Buffer, input: FeedInput, ctx: FeedContext): Generator<[string, unknown]> {
  let index: unknown;
  try {
    index = JSON.parse(data.toString("utf8"));
  } catch (err) {
    throw new Error(`${input.origin}: not a vuln/core index: ${(err as Error).message}`);
  }
  if (!index || typeof index !== "object" || Array.isArray(index)) {
    throw new Error(`${input.origin}: not a vuln/core index (expected an object keyed by record number)`);
  }
  for (const [n, record] of Object.entries(index)) {
    if (/^\d+$/.test(n)) yield [n, record];
    else ctx.warn(`${input.origin}: index key "${n}" is not a record number; skipped`);
  }
}

export const nodejsSource: FeedSource = {
  name: NODEJS_SOURCE,
  version: 1,
  spec: "https://github.com/nodejs/security-wg/tree/main/vuln/core",
  inputs: [
    {
      url: "https://raw.githubusercontent.com/nodejs/security-wg/main/vuln/core/index.json",
      mirrorPath: "nodejs/security-wg-vuln.zip",
    },
  ],
  async *read(inputs: FeedInput[], ctx: FeedContext): AsyncIterable<Advisory> {
    for (const input of inputs) {
      // 171 small records: collected so they come out in record order whatever the zip's order.
      const records: [string, unknown][] = [];
      for await (const r of rawRecords(input, ctx)) records.push(r);
      records.sort((a, b) => Number(a[0]) - Number(b[0]));
      let count = 0;
      for (const [n, record] of records) {
        if (!record || typeof record !== "object") {
          ctx.warn(`${input.origin}: vuln/core/${n}: not an object; skipped`);
          continue;
        }
        try {
          yield nodeAdvisory(n, record as NodeCoreRecord);
        } catch (err) {
          ctx.warn(`${input.origin}: vuln/core/${n}: ${(err as Error).message}; skipped`);
          continue;
        }
        if (++count % 50 === 0) ctx.progress?.(count);
      }
    }
  },
};
