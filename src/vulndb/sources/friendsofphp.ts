/**
 * The PHP Security Advisories Database (https://github.com/FriendsOfPHP/security-advisories), the
 * data behind `symfony security:check` / Local PHP Security Checker: one YAML file per advisory and
 * package, `<vendor>/<package>/<id>.yaml` (the id a CVE, a vendor id such as `SS-2016-003-1`, or a
 * date), with `title`, `link`, `cve` (or `~`), `reference: composer://<vendor>/<package>`, an
 * optional `composer-repository` (false: not on packagist.org) and `branches`:
 *
 *   branches:
 *     1.3.x: { time: 2018-10-02 00:01:00, versions: ['>=1.3.0', '<1.3.1'] }
 *     1.2.x: { time: 2018-10-02 00:01:00, versions: ['>=1.2.0', '<1.2.11'] }
 *
 * Each branch's `versions` is a list of Composer constraints that must all hold (the README: "a
 * version is affected if it matches all the constraints of a branch"). Each branch becomes one OSV
 * range (scheme "composer"): `>=` / `>` give `introduced` (none: `introduced: "0"`), `<` gives
 * `fixed`, `<=` gives `last_affected`. A `>` lower bound (7 branches, e.g. livewire `>2.2.4`) has no
 * inclusive form in Composer ordering (`2.2.4-p1` sorts after `2.2.4`), so it is written as
 * `introduced` at that version and reported with ctx.warn. Ranges are per branch rather than merged
 * because branches may overlap.
 *
 * Advisories: the file id is not unique (CVE-2015-5243 is filed under two phpwhois forks), so the
 * advisory id is the record's path without `.yaml` (`symfony/http-kernel/CVE-2019-18887`) and the
 * CVE (and a CVE-shaped file id) are aliases. `published` is the earliest branch `time`. Package
 * name: from `reference`, else the folder.
 */
import type { FeedContext, FeedInput, FeedSource } from "../source.js";
import type { Advisory, AffectedRange, RangeEvent } from "../types.js";
import { yamlArchiveAdvisories } from "./yaml-archive.js";

export const FRIENDSOFPHP_SOURCE = "friendsofphp";

export interface FriendsOfPhpRecord {
  title?: string;
  link?: string;
  cve?: string;
  reference?: string;
  "composer-repository"?: string;
  branches?: Record<string, { time?: string; versions?: string[] } | string>;
}

function str(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  const t = v.trim();
  return t === "" || t === "~" || t === "null" ? undefined : t;
}

const CONSTRAINT = /^\s*(>=|<=|>|<|==|=)?\s*v?([0-9][0-9A-Za-z.+_-]*)\s*$/;

/**
 * One branch's constraint list as OSV events, and the approximation made if any. Throws on a
 * constraint that is not a single comparison with a version.
 */
export function branchEvents(constraints: string[]): {
  events: RangeEvent[];
  approximated?: string | undefined;
} {
  let lower: { version: string; exclusive: boolean } | undefined;
  let upper: RangeEvent | undefined;
  let exact: string | undefined;
  for (const c of constraints) {
    const m = CONSTRAINT.exec(c);
    if (!m) throw new Error(`unsupported constraint "${c}"`);
    const [, op, version] = m as unknown as [string, string | undefined, string];
    switch (op) {
      case ">=":
      case ">":
        if (lower) throw new Error(`two lower bounds in [${constraints.join(", ")}]`);
        lower = { version, exclusive: op === ">" };
        break;
      case "<":
      case "<=":
        if (upper) throw new Error(`two upper bounds in [${constraints.join(", ")}]`);
        upper = op === "<" ? { fixed: version } : { last_affected: version };
        break;
      default:
        exact = version;
    }
  }
  if (exact !== undefined) {
    if (lower || upper) throw new Error(`an exact version with bounds in [${constraints.join(", ")}]`);
    return { events: [{ introduced: exact }, { last_affected: exact }] };
  }
  if (!lower && !upper) throw new Error("no constraint");
  const events: RangeEvent[] = [{ introduced: lower?.version ?? "0" }];
  if (upper) events.push(upper);
  return {
    events,
    approximated: lower?.exclusive ? `> ${lower.version} written as introduced ${lower.version}` : undefined,
  };
}

/** `v2.3` → `2.3.0.0`: Composer's normalised form of a plain numeric version, for equality only. */
function normalized(version: string): string {
  const v = version.replace(/^v/i, "").toLowerCase();
  if (!/^\d+(\.\d+){0,3}$/.test(v)) return v;
  const parts = v.split(".").map((p) => String(Number(p)));
  while (parts.length < 4) parts.push("0");
  return parts.join(".");
}

const boundOf = (e: RangeEvent | undefined, key: string): string | undefined =>
  e && key in e ? (e as Record<string, string>)[key] : undefined;

/**
 * Branches that continue one another become one range: `[>=2.2.0, <2.3.0]`, `[>=2.3.0, <2.4.0]`,
 * … `[>=2.8.0, <2.8.52]` (symfony/http-kernel CVE-2019-18887, whose old branches got no fix) is
 * affected from 2.2.0 until 2.8.52, and 2.3.0 is not a fix for 2.2.x. Identical branches are kept
 * once; overlapping ones stay separate ranges.
 */
export function joinBranches(spans: RangeEvent[][]): RangeEvent[][] {
  const list = spans.map((s) => [...s]);
  for (let changed = true, guard = 0; changed && guard < spans.length; guard++) {
    changed = false;
    for (const a of list) {
      const end = boundOf(a[1], "fixed");
      if (end === undefined) continue;
      const next = list.find((b) => {
        const start = boundOf(b[0], "introduced");
        return b !== a && start !== undefined && start !== "0" && normalized(start) === normalized(end);
      });
      if (!next) continue;
      a.splice(1, 1, ...next.slice(1));
      list.splice(list.indexOf(next), 1);
      changed = true;
      break;
    }
  }
  const seen = new Set<string>();
  return list.filter((events) => {
    const key = JSON.stringify(events);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** "2018-10-02 00:01:00", "2015-05-29 12:53:14 +1200", "2017-11-1 19:02:00" → ISO 8601 UTC. */
export function branchTime(time: string): string | undefined {
  const m =
    /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(time);
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", zone] = m;
  const pad = (x: string | undefined) => (x ?? "0").padStart(2, "0");
  const offset = !zone || zone === "Z" ? "Z" : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const date = new Date(`${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${offset}`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace(".000Z", "Z");
}

/**
 * One advisory from the record at `path` (`<vendor>/<package>/<id>.yaml`, relative to the
 * repository root). Throws on a record that cannot be converted.
 */
export function friendsOfPhpAdvisory(
  path: string,
  record: FriendsOfPhpRecord,
  warn: (m: string) => void = () => {},
): Advisory {
  const m = /^([^/]+\/[^/]+)\/([^/]+)\.yaml$/.exec(path);
  if (!m) throw new Error("not a <vendor>/<package>/<id>.yaml path");
  const [, folder, fileId] = m as unknown as [string, string, string];
  const reference = str(record.reference);
  let name = folder;
  if (reference) {
    const r = /^composer:\/\/([^/\s]+\/[^/\s]+)$/.exec(reference);
    if (r?.[1]) name = r[1];
    else warn(`${path}: reference "${reference}" is not composer://vendor/package; using ${folder}`);
  }
  const branches = record.branches;
  if (!branches || typeof branches !== "object" || Array.isArray(branches)) throw new Error("no branches");
  const spans: RangeEvent[][] = [];
  const times: string[] = [];
  for (const [branch, body] of Object.entries(branches)) {
    if (!body || typeof body !== "object" || !Array.isArray(body.versions)) {
      throw new Error(`branch ${branch}: no versions list`);
    }
    const { events, approximated } = branchEvents(body.versions.map(String));
    if (approximated) warn(`${path}: branch ${branch}: ${approximated}`);
    spans.push(events);
    const time = str(body.time);
    if (time) {
      const iso = branchTime(time);
      if (iso) times.push(iso);
      else warn(`${path}: branch ${branch}: unreadable time "${time}"`);
    }
  }
  const ranges: AffectedRange[] = joinBranches(spans).map((events) => ({ scheme: "composer", events }));
  if (ranges.length === 0) throw new Error("no branches");
  const cve = str(record.cve);
  const aliases = [...new Set([cve, /^CVE-\d{4}-\d+$/.test(fileId) ? fileId : undefined])].filter(
    (a): a is string => a !== undefined,
  );
  const link = str(record.link);
  return {
    id: path.replace(/\.yaml$/, ""),
    aliases,
    source: FRIENDSOFPHP_SOURCE,
    summary: str(record.title),
    published: times.sort()[0],
    references: link ? [{ type: "ADVISORY", url: link }] : [],
    severities: [],
    affected: [{ ecosystem: "Packagist", name, ranges }],
  };
}

/** `<vendor>/<package>/<id>.yaml`, below any top folder a GitHub archive adds. */
const RECORD = /^(?:.*\/)?([^/.][^/]*\/[^/.][^/]*\/[^/.][^/]*\.yaml)$/;

export const friendsOfPhpSource: FeedSource = {
  name: FRIENDSOFPHP_SOURCE,
  version: 1,
  spec: "https://github.com/FriendsOfPHP/security-advisories#contributing",
  inputs: [
    {
      url: "https://github.com/FriendsOfPHP/security-advisories/archive/refs/heads/master.tar.gz",
      mirrorPath: "packagist/friendsofphp-security-advisories.zip",
    },
  ],
  read(inputs: FeedInput[], ctx: FeedContext): AsyncIterable<Advisory> {
    return yamlArchiveAdvisories<FriendsOfPhpRecord>(inputs, ctx, RECORD, friendsOfPhpAdvisory);
  },
};
