/**
 * Alpine's security database (https://secdb.alpinelinux.org/): per release branch and repository
 * one JSON document `{ distroversion, reponame, urlprefix, apkurl, archs, packages: [{ pkg: {
 * name, secfixes: { "<fixed version>": ["CVE-…", …] } } }] }`, generated from the `# secfixes:`
 * blocks of aports' APKBUILDs. `name` is the origin (source) package.
 *
 * Mapping decisions:
 * - One advisory per vulnerability id (CVE, or XSA-/TALOS-/… ids when there is no CVE), across all
 *   branches and repositories read; each (branch, package, fixed version) is one affected entry in
 *   ecosystem `Alpine:<distroversion>` with the range introduced "0" / fixed "<version>" (scheme
 *   "apk"). The documents are small (under a few MB per branch), so advisories are collected in
 *   memory and emitted once every input is read.
 * - The fixed version "0" means the package was never affected in that branch (aports' convention,
 *   applied by Trivy, which compares against "0", and by osv.dev's Alpine converter, google/osv.dev
 *   PR #5627): an entry with state "not_affected" and no range, unless the same branch also lists
 *   a real fix for it, which wins.
 * - One id string may carry more: "CVE-2019-5060 TALOS-2019-0844" (the second id becomes an alias),
 *   "CVE-2018-14468 (FrameRelay)" (the note is dropped), "CVE_2019-2426" / "CVE 2018-16859"
 *   (repaired to CVE-…), "CVE-2017-8073.patch" (a patch name for the id), several CVEs (each its own advisory); an item without any id is warned
 *   about and skipped.
 * - A CVE listed under two fixed versions of one branch gets both entries: the matcher treats a
 *   version as affected when any range says so, so the later fix governs (the conservative reading).
 * - `packages: null`, `secfixes: null` and a null id list are tolerated (they occur in real data).
 */
import { readFile } from "node:fs/promises";
import type { FeedContext, FeedInput, FeedSource } from "../source.js";
import type { Advisory, AffectedPackage } from "../types.js";

export const SECDB_URL = "https://secdb.alpinelinux.org";

/** Branches with a secdb: v3.2 … v3.22, and edge. */
export const ALPINE_BRANCHES: readonly string[] = [
  ...Array.from({ length: 21 }, (_, i) => `v3.${i + 2}`),
  "edge",
];

export const ALPINE_REPOSITORIES = ["main", "community"] as const;

/** One secdb document at most this large (edge's main.json is about 1 MB). */
export const SECDB_MAX_BYTES = 64 * 1024 * 1024;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const ID = /^[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+$/;
const CVE = /^CVE-\d{4}-\d{4,}$/;
const CVE_PREFIX = /^(CVE-\d{4}-\d{4,})(?:$|[^0-9A-Za-z-])/;

/**
 * The ids in one secfixes list item: CVEs first, then other advisory ids (XSA-…, TALOS-…,
 * wnpa-sec-…); parenthesised notes and other words are not ids.
 */
export function parseSecfixId(text: string): { cves: string[]; others: string[]; rest: string } {
  const repaired = text.trim().replace(/\bCVE[_\s]+(\d{4}-\d+)/g, "CVE-$1");
  const cves: string[] = [];
  const others: string[] = [];
  const rest: string[] = [];
  const withoutNotes = repaired.replace(/\([^)]*\)/g, " ");
  for (const token of withoutNotes.split(/[\s,;]+/)) {
    if (token === "") continue;
    // "CVE-2017-8073.patch" (a patch file name typed for the id) still names the CVE.
    const cve = CVE_PREFIX.exec(token)?.[1];
    if (cve) {
      if (!cves.includes(cve)) cves.push(cve);
    } else if (ID.test(token) && /\d/.test(token)) {
      if (!others.includes(token)) others.push(token);
    } else rest.push(token);
  }
  return { cves, others, rest: rest.join(" ") };
}

/** `…/v3.10/main.json` → `v3.10`, for documents without a `distroversion`. */
export function branchFromPath(text: string): string | undefined {
  return /(?:^|\/)(v\d+\.\d+|edge)\/[^/]+\.json$/.exec(text)?.[1];
}

interface Collected {
  advisory: Advisory;
  /** `${ecosystem}\0${name}` → fixed versions seen (for the "0" versus real fix rule). */
  fixes: Map<string, Set<string>>;
}

/** Reads secdb documents into advisories (exported for tests). */
export class SecdbCollector {
  private readonly byId = new Map<string, Collected>();
  packageEntries = 0;
  references = 0;

  constructor(private readonly warn: (message: string) => void) {}

  /** One secdb JSON document; `label` names it in warnings, `fallbackBranch` serves when it has no `distroversion`. */
  addDocument(document: unknown, label: string, fallbackBranch?: string): void {
    if (!isObject(document)) {
      this.warn(`${label}: not a secdb document (expected a JSON object); skipped`);
      return;
    }
    const branch =
      (typeof document.distroversion === "string" && document.distroversion.trim()) || fallbackBranch;
    if (!branch) {
      this.warn(`${label}: no distroversion; skipped`);
      return;
    }
    const ecosystem = `Alpine:${branch}`;
    const packages = document.packages;
    if (packages === null || packages === undefined) return;
    if (!Array.isArray(packages)) {
      this.warn(`${label}: "packages" is not a list; skipped`);
      return;
    }
    for (const item of packages) {
      const pkg = isObject(item) && isObject(item.pkg) ? item.pkg : undefined;
      const name = typeof pkg?.name === "string" ? pkg.name.trim() : "";
      if (!pkg || name === "") {
        this.warn(`${label}: package entry without a name; skipped`);
        continue;
      }
      this.packageEntries++;
      const secfixes = pkg.secfixes;
      if (secfixes === null || secfixes === undefined) continue;
      if (!isObject(secfixes)) {
        this.warn(`${label}: ${name}: "secfixes" is not an object; skipped`);
        continue;
      }
      for (const [version, ids] of Object.entries(secfixes)) {
        if (ids === null) continue;
        if (!Array.isArray(ids)) {
          this.warn(`${label}: ${name} ${version}: id list is not a list; skipped`);
          continue;
        }
        const fixed = version.trim();
        for (const raw of ids) {
          if (typeof raw !== "string") {
            this.warn(`${label}: ${name} ${fixed}: non-string id ${JSON.stringify(raw)}; skipped`);
            continue;
          }
          this.references++;
          const { cves, others } = parseSecfixId(raw);
          const ids = cves.length ? cves : others.slice(0, 1);
          const aliases = cves.length ? others : others.slice(1);
          if (ids.length === 0) {
            this.warn(`${label}: ${name} ${fixed}: no vulnerability id in ${JSON.stringify(raw)}; skipped`);
            continue;
          }
          for (const id of ids) this.add(id, aliases, ecosystem, name, fixed);
        }
      }
    }
  }

  private add(id: string, aliases: string[], ecosystem: string, name: string, fixed: string): void {
    let collected = this.byId.get(id);
    if (!collected) {
      collected = {
        advisory: {
          id,
          aliases: [],
          source: "alpine-secdb",
          references: CVE.test(id)
            ? [{ type: "ADVISORY", url: `https://security.alpinelinux.org/vuln/${id}` }]
            : [],
          severities: [],
          affected: [],
        },
        fixes: new Map(),
      };
      this.byId.set(id, collected);
    }
    const { advisory, fixes } = collected;
    for (const alias of aliases)
      if (alias !== id && !advisory.aliases.includes(alias)) advisory.aliases.push(alias);
    const key = `${ecosystem}\0${name}`;
    let seen = fixes.get(key);
    if (!seen) {
      seen = new Set();
      fixes.set(key, seen);
    }
    if (seen.has(fixed)) return;
    seen.add(fixed);
    if (fixed === "0") {
      // Never affected in this branch, unless a real fix is (or gets) listed too.
      if (seen.size === 1) advisory.affected.push({ ecosystem, name, ranges: [], state: "not_affected" });
      return;
    }
    if (seen.has("0")) {
      advisory.affected = advisory.affected.filter(
        (a) => !(a.ecosystem === ecosystem && a.name === name && a.state === "not_affected"),
      );
    }
    const entry: AffectedPackage = {
      ecosystem,
      name,
      ranges: [{ scheme: "apk", events: [{ introduced: "0" }, { fixed }] }],
    };
    advisory.affected.push(entry);
  }

  /** The advisories collected so far, in first-seen order. */
  advisories(): Advisory[] {
    return [...this.byId.values()].map((c) => c.advisory);
  }
}

export const alpineSecdbSource: FeedSource = {
  name: "alpine-secdb",
  version: 1,
  spec: "Alpine secdb JSON (https://secdb.alpinelinux.org/, generated from aports' APKBUILD `# secfixes:` blocks)",
  inputs: ALPINE_BRANCHES.flatMap((branch) =>
    ALPINE_REPOSITORIES.map((repo) => ({
      url: `${SECDB_URL}/${branch}/${repo}.json`,
      mirrorPath: `alpine/${branch}/${repo}.json`,
      optional: true,
    })),
  ),
  async *read(inputs: FeedInput[], ctx: FeedContext): AsyncIterable<Advisory> {
    const collector = new SecdbCollector(ctx.warn);
    for (const input of inputs) {
      const label =
        input.origin && input.origin !== input.path ? `${input.path} (${input.origin})` : input.path;
      let text: string;
      try {
        const content = await readFile(input.path);
        if (content.length > SECDB_MAX_BYTES) {
          ctx.warn(`${label}: ${content.length} bytes, more than the ${SECDB_MAX_BYTES}-byte limit; skipped`);
          continue;
        }
        text = content.toString("utf8");
      } catch (err) {
        ctx.warn(`${label}: ${(err as Error).message}; skipped`);
        continue;
      }
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch (err) {
        ctx.warn(`${label}: invalid JSON (${(err as Error).message}); skipped`);
        continue;
      }
      collector.addDocument(document, label, branchFromPath(input.path) ?? branchFromPath(input.origin));
    }
    let count = 0;
    for (const advisory of collector.advisories()) {
      yield advisory;
      count++;
      if (count % 1000 === 0) ctx.progress?.(count);
    }
    ctx.progress?.(count);
  },
};
