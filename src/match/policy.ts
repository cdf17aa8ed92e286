/**
 * What CI gates on: which findings a run reports and which it sets aside, each with its reason.
 *
 * `applyPolicy` filters findings by, in this order, ignore rules (an explicit decision, so it names
 * the rule), the fix state (`ignoreUnfixed`: keep only findings with a fixed version, as Trivy's
 * `--ignore-unfixed`), and severity (`--severity CRITICAL,HIGH`). A finding is set aside for the
 * first reason that applies; kept and ignored findings keep their input order.
 *
 * `parseIgnoreFile` reads the ignore files a Trivy user already has:
 * - `.trivyignore` (any name not ending in .yaml/.yml): one id per line, `#` comments (whole line, or
 *   after the id: the comment becomes the rule's reason), an optional `exp:YYYY-MM-DD`;
 * - YAML (`.shipshape-ignore.yaml`, or a `.trivyignore.yaml` as is):
 *   ```yaml
 *   vulnerabilities:
 *     - id: CVE-2021-44228            # the finding's id or any of its aliases
 *       packages:                     # optional: purls (prefix by whole segments) or package names
 *         - pkg:maven/org.apache.logging.log4j
 *         - log4j-core
 *       paths: ["opt/app/**"]         # optional: globs over the package's file in the image
 *       expires: 2024-06-30           # optional: date or RFC 3339 timestamp
 *       reason: patched by the vendor build
 *   ```
 *   Trivy's own key names are accepted too: `purls` for `packages`, `expired_at` for `expires`,
 *   `statement` for `reason`; an entry may leave out `id` when it names packages or paths (it then
 *   ignores every vulnerability of those). Other sections (`misconfigurations`, `secrets`, `licenses`)
 *   are reported as not applied; unknown keys are errors.
 *
 * Expiry follows Trivy: `exp:2024-06-30` stops applying at 2024-06-30T00:00:00Z. An expired rule
 * ignores nothing and produces a warning, so a forgotten exception shows up rather than vanishing.
 * Errors name the file and line (`IgnoreFileError`), so a malformed file fails the run loudly
 * instead of silently ignoring more, or less, than meant.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { Finding, NormalizedSeverity } from "./types.js";

export interface IgnoreRule {
  /** A vulnerability id matched against the finding's id and aliases; undefined: any id. */
  id?: string | undefined;
  /** Purls (`pkg:…`, matched by whole segments and given qualifiers) or package names (binary or source). */
  packages?: string[] | undefined;
  /** Globs (`*`, `**`, `?`, `[…]`, `{a,b}`) over the package's location in the image. */
  paths?: string[] | undefined;
  /** From this instant on, the rule no longer applies. */
  expires?: Date | undefined;
  reason?: string | undefined;
  /** Where the rule is written. */
  source: { path: string; line: number };
}

export interface IgnoreFile {
  path: string;
  format: "trivyignore" | "yaml";
  rules: IgnoreRule[];
  /** Parts of the file that were understood but not applied (unknown tokens, other scanners' sections). */
  warnings: string[];
}

export class IgnoreFileError extends Error {
  constructor(
    readonly path: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${path}:${line}: ${detail}`);
    this.name = "IgnoreFileError";
  }
}

export interface Policy {
  /** Keep only these severities; undefined or empty keeps every severity. */
  severities?: readonly NormalizedSeverity[] | undefined;
  /** Keep only findings whose state is "fixed" (a fixed version exists). */
  ignoreUnfixed?: boolean | undefined;
  ignores?: readonly IgnoreRule[] | undefined;
  /** The time expiry is judged at; defaults to now. */
  now?: Date | undefined;
}

export type IgnoreKind = "rule" | "unfixed" | "severity";

export interface IgnoredFinding {
  finding: Finding;
  kind: IgnoreKind;
  reason: string;
  /** The rule that ignored it, for kind "rule". */
  rule?: IgnoreRule | undefined;
}

export interface PolicyResult {
  kept: Finding[];
  ignored: IgnoredFinding[];
  /** Expired rules, each with the number of findings it would otherwise have ignored. */
  warnings: string[];
}

const SEVERITY_NAMES: readonly NormalizedSeverity[] = [
  "critical",
  "high",
  "medium",
  "low",
  "negligible",
  "unknown",
];

/**
 * `--severity CRITICAL,HIGH`: comma-separated names, any case, in severity order without
 * duplicates. NEGLIGIBLE is its own level (Debian "unimportant", Ubuntu "negligible"), not part of LOW.
 */
export function parseSeverities(text: string): NormalizedSeverity[] {
  const wanted = new Set<NormalizedSeverity>();
  for (const part of text.split(",")) {
    const name = part.trim().toLowerCase();
    if (!name) continue;
    if (!(SEVERITY_NAMES as readonly string[]).includes(name)) {
      throw new Error(
        `unknown severity "${part.trim()}": expected a comma-separated list of ${SEVERITY_NAMES.map((s) => s.toUpperCase()).join(", ")}`,
      );
    }
    wanted.add(name as NormalizedSeverity);
  }
  return SEVERITY_NAMES.filter((s) => wanted.has(s));
}

export function applyPolicy(findings: readonly Finding[], policy: Policy = {}): PolicyResult {
  const now = (policy.now ?? new Date()).getTime();
  const rules = (policy.ignores ?? []).map((rule) => ({ rule, match: compileRule(rule) }));
  const active = rules.filter((r) => !isExpired(r.rule, now));
  const expired = rules.filter((r) => isExpired(r.rule, now));
  const severities = policy.severities?.length ? new Set(policy.severities) : undefined;
  const expiredHits = new Map<IgnoreRule, number>();

  const kept: Finding[] = [];
  const ignored: IgnoredFinding[] = [];
  for (const finding of findings) {
    const hit = active.find((r) => r.match(finding));
    if (hit) {
      ignored.push({ finding, kind: "rule", reason: ruleReason(hit.rule), rule: hit.rule });
      continue;
    }
    const stale = expired.find((r) => r.match(finding));
    if (stale) expiredHits.set(stale.rule, (expiredHits.get(stale.rule) ?? 0) + 1);
    if (policy.ignoreUnfixed && finding.state !== "fixed") {
      ignored.push({
        finding,
        kind: "unfixed",
        reason: `no fixed version (${finding.state.replace(/_/g, " ")}) and unfixed findings are ignored`,
      });
      continue;
    }
    if (severities && !severities.has(finding.severity)) {
      const allowed = SEVERITY_NAMES.filter((s) => severities.has(s)).map((s) => s.toUpperCase());
      ignored.push({
        finding,
        kind: "severity",
        reason: `severity ${finding.severity.toUpperCase()} is not among ${allowed.join(", ")}`,
      });
      continue;
    }
    kept.push(finding);
  }

  const warnings = expired.map(({ rule }) => {
    const hits = expiredHits.get(rule) ?? 0;
    const what = rule.id
      ? `for ${rule.id}`
      : `for ${[...(rule.packages ?? []), ...(rule.paths ?? [])].join(", ")}`;
    const count = hits > 0 ? ` (${hits} ${hits === 1 ? "finding" : "findings"} no longer ignored)` : "";
    return `${rule.source.path}:${rule.source.line}: the ignore rule ${what} expired on ${formatExpiry(rule.expires as Date)} and no longer applies${count}`;
  });
  return { kept, ignored, warnings };
}

function isExpired(rule: IgnoreRule, now: number): boolean {
  return rule.expires !== undefined && rule.expires.getTime() < now;
}

function ruleReason(rule: IgnoreRule): string {
  let text = `ignored by ${rule.source.path}:${rule.source.line}`;
  if (rule.reason) text += ` (${rule.reason})`;
  if (rule.expires) text += `, until ${formatExpiry(rule.expires)}`;
  return text;
}

function formatExpiry(date: Date): string {
  const iso = date.toISOString();
  return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso.replace(/\.\d{3}Z$/, "Z");
}

// ---------------------------------------------------------------------------------------------
// Rule matching

type Matcher = (finding: Finding) => boolean;

function compileRule(rule: IgnoreRule): Matcher {
  const id = rule.id?.toUpperCase();
  const packages = (rule.packages ?? []).map(compilePackage);
  const paths = (rule.paths ?? []).map(globRegExp);
  // A rule that names nothing would ignore everything: it ignores nothing instead.
  if (!id && packages.length === 0 && paths.length === 0) return () => false;
  return (finding) => {
    if (id && finding.id.toUpperCase() !== id && !finding.aliases.some((a) => a.toUpperCase() === id)) {
      return false;
    }
    if (packages.length > 0 && !packages.some((m) => m(finding))) return false;
    if (paths.length > 0 && !paths.some((re) => re.test(finding.package.location.replace(/^\/+/, "")))) {
      return false;
    }
    return true;
  };
}

function compilePackage(entry: string): Matcher {
  const wanted = entry.toLowerCase().startsWith("pkg:") ? splitPurl(entry) : undefined;
  if (!wanted) return (f) => f.package.name === entry || f.package.source?.name === entry;
  return (f) => {
    const have = splitPurl(f.package.purl);
    return have !== undefined && purlMatches(wanted, have);
  };
}

interface PurlParts {
  type: string;
  /** Namespace segments and the name, decoded. */
  segments: string[];
  version?: string | undefined;
  qualifiers: Map<string, string>;
  subpath?: string | undefined;
}

/**
 * A purl split into its components (purl-spec), leniently: an unencoded "@" scope (`pkg:npm/@babel/core`)
 * is accepted, and a type's required namespace is not enforced, so `pkg:maven/org.apache.logging.log4j`
 * can stand for a whole Maven group. Undefined when it is not a purl at all.
 */
export function splitPurl(text: string): PurlParts | undefined {
  if (!/^pkg:/i.test(text)) return undefined;
  let rest = text.slice(4).replace(/^\/+/, "");
  let subpath: string | undefined;
  const hash = rest.indexOf("#");
  if (hash >= 0) {
    subpath = decode(rest.slice(hash + 1).replace(/^\/+|\/+$/g, ""));
    if (subpath === undefined) return undefined;
    rest = rest.slice(0, hash);
  }
  const qualifiers = new Map<string, string>();
  const question = rest.indexOf("?");
  if (question >= 0) {
    for (const pair of rest.slice(question + 1).split("&")) {
      if (!pair) continue;
      const eq = pair.indexOf("=");
      const value = eq > 0 ? decode(pair.slice(eq + 1)) : undefined;
      if (value === undefined) return undefined;
      qualifiers.set(pair.slice(0, eq).toLowerCase(), value);
    }
    rest = rest.slice(0, question);
  }
  const slash = rest.indexOf("/");
  if (slash <= 0) return undefined;
  const type = rest.slice(0, slash).toLowerCase();
  let path = rest.slice(slash + 1);
  let version: string | undefined;
  const at = path.indexOf("@", path.lastIndexOf("/") + 1);
  if (at > path.lastIndexOf("/") + 1) {
    version = decode(path.slice(at + 1));
    if (version === undefined) return undefined;
    path = path.slice(0, at);
  }
  const segments: string[] = [];
  for (const raw of path.split("/")) {
    if (!raw) continue;
    const segment = decode(raw);
    if (segment === undefined) return undefined;
    segments.push(segment);
  }
  if (segments.length === 0) return undefined;
  if (type === "pypi") {
    const last = segments.length - 1;
    segments[last] = (segments[last] as string).toLowerCase().replace(/[-_.]+/g, "-");
  }
  return { type, segments, version: version || undefined, qualifiers, subpath: subpath || undefined };
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * Trivy's rule (type, namespace and name equal; version and subpath when given; the rule's qualifiers
 * a subset of the target's), widened to prefixes by whole segments when the rule gives no version,
 * qualifiers or subpath: `pkg:golang/golang.org/x` covers every golang.org/x module.
 */
function purlMatches(rule: PurlParts, target: PurlParts): boolean {
  if (rule.type !== target.type) return false;
  const exact = rule.version !== undefined || rule.qualifiers.size > 0 || rule.subpath !== undefined;
  if (
    exact ? rule.segments.length !== target.segments.length : rule.segments.length > target.segments.length
  ) {
    return false;
  }
  if (rule.segments.some((s, i) => s !== target.segments[i])) return false;
  if (rule.version !== undefined && rule.version !== target.version) return false;
  if (rule.subpath !== undefined && rule.subpath !== target.subpath) return false;
  for (const [key, value] of rule.qualifiers) if (target.qualifiers.get(key) !== value) return false;
  return true;
}

/** A doublestar-style glob as an anchored RegExp; throws on an unclosed `[` or `{`. */
export function globRegExp(glob: string): RegExp {
  const p = glob.replace(/^\/+/, "");
  let re = "";
  let braces = 0;
  for (let i = 0; i < p.length; ) {
    const c = p[i] as string;
    if (c === "*") {
      if (p[i + 1] === "*") {
        if (p[i + 2] === "/") {
          re += "(?:.*/)?";
          i += 3;
        } else {
          re += ".*";
          i += 2;
        }
      } else {
        re += "[^/]*";
        i++;
      }
    } else if (c === "?") {
      re += "[^/]";
      i++;
    } else if (c === "[") {
      const end = p.indexOf("]", i + 2);
      if (end < 0) throw new Error(`unclosed "[" in path pattern "${glob}"`);
      let body = p.slice(i + 1, end).replace(/\\/g, "\\\\");
      if (body.startsWith("!")) body = `^${body.slice(1)}`;
      re += `[${body}]`;
      i = end + 1;
    } else if (c === "{") {
      braces++;
      re += "(?:";
      i++;
    } else if (c === "}" && braces > 0) {
      braces--;
      re += ")";
      i++;
    } else if (c === "," && braces > 0) {
      re += "|";
      i++;
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      i++;
    }
  }
  if (braces > 0) throw new Error(`unclosed "{" in path pattern "${glob}"`);
  return new RegExp(`^${re}$`);
}

// ---------------------------------------------------------------------------------------------
// Ignore files

/** `.yaml`/`.yml` files are YAML, anything else `.trivyignore` lines, as Trivy decides. */
export function parseIgnoreFile(text: string, path: string): IgnoreFile {
  const body = text.replace(/^\uFEFF/, "");
  return /\.ya?ml$/i.test(path) ? parseYamlIgnore(body, path) : parseTrivyIgnore(body, path);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$/;

/** A calendar date (midnight UTC) or an RFC 3339 timestamp with a zone; undefined when neither. */
function parseExpiry(text: string, allowTimestamp: boolean): Date | undefined {
  const d = DATE.exec(text);
  if (d) {
    const [y, m, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
    const date = new Date(Date.UTC(y, m - 1, day));
    const roundTrip =
      date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === day;
    return roundTrip ? date : undefined;
  }
  if (allowTimestamp && TIMESTAMP.test(text)) {
    const ms = Date.parse(text.replace(" ", "T"));
    return Number.isNaN(ms) ? undefined : new Date(ms);
  }
  return undefined;
}

function parseTrivyIgnore(text: string, path: string): IgnoreFile {
  const rules: IgnoreRule[] = [];
  const warnings: string[] = [];
  const lines = text.split(/\r\n|\n|\r/);
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    let content = raw.trim();
    if (!content || content.startsWith("#")) continue;
    let reason: string | undefined;
    const comment = content.search(/\s#/);
    if (comment >= 0) {
      reason = content.slice(comment).trim().slice(1).trim() || undefined;
      content = content.slice(0, comment).trim();
    }
    const [id, ...rest] = content.split(/\s+/) as [string, ...string[]];
    if (id.toLowerCase().startsWith("exp:")) {
      throw new IgnoreFileError(path, line, `expected a vulnerability id before "${id}"`);
    }
    let expires: Date | undefined;
    for (const token of rest) {
      if (token.toLowerCase().startsWith("exp:")) {
        if (expires) throw new IgnoreFileError(path, line, `more than one expiry date for ${id}`);
        expires = parseExpiry(token.slice(4), false);
        if (!expires) {
          throw new IgnoreFileError(
            path,
            line,
            `invalid expiry date "${token.slice(4)}" for ${id}: expected exp:YYYY-MM-DD`,
          );
        }
      } else {
        warnings.push(
          `${path}:${line}: "${token}" after ${id} was not understood and is left out (expected exp:YYYY-MM-DD or a # comment)`,
        );
      }
    }
    rules.push({ id, expires, reason, source: { path, line } });
  }
  return { path, format: "trivyignore", rules, warnings };
}

const ENTRY_KEYS: Record<string, "id" | "packages" | "paths" | "expires" | "reason"> = {
  id: "id",
  packages: "packages",
  purls: "packages",
  paths: "paths",
  expires: "expires",
  expired_at: "expires",
  reason: "reason",
  statement: "reason",
};

const OTHER_SECTIONS = new Set(["misconfigurations", "secrets", "licenses"]);

function parseYamlIgnore(text: string, path: string): IgnoreFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number) => lineCounter.linePos(offset).line;
  const lineOf = (node: unknown): number => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? lineAt(range[0]) : 1;
  };
  const fail = (node: unknown, detail: string): never => {
    throw new IgnoreFileError(path, lineOf(node), detail);
  };
  const error = doc.errors[0];
  if (error) throw new IgnoreFileError(path, lineAt(error.pos[0]), `invalid YAML: ${error.message}`);

  const rules: IgnoreRule[] = [];
  const warnings: string[] = [];
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ""))) {
    return { path, format: "yaml", rules, warnings };
  }
  if (!isMap(root)) return fail(root, 'expected a mapping with a "vulnerabilities" list at the top level');

  const stringOf = (node: unknown, what: string): string => {
    if (!isScalar(node) || typeof node.value !== "string" || node.value.trim() === "") {
      return fail(node, `${what} must be a non-empty string`);
    }
    return node.value.trim();
  };
  const listOf = (node: unknown, what: string): string[] => {
    if (!isSeq(node)) return fail(node, `${what} must be a list`);
    return node.items.map((item, i) => stringOf(item, `${what}[${i}]`));
  };

  for (const pair of root.items) {
    const key = stringOf(pair.key, "a top-level key");
    const value = pair.value as Node | null;
    if (OTHER_SECTIONS.has(key)) {
      if (isSeq(value) && value.items.length > 0) {
        warnings.push(
          `${path}:${lineOf(pair.key)}: the ${key} section is not applied: shipshape reports vulnerabilities only`,
        );
      }
      continue;
    }
    if (key !== "vulnerabilities") {
      fail(pair.key, `unknown key "${key}" (expected "vulnerabilities")`);
    }
    if (value === null || (isScalar(value) && value.value === null)) continue;
    if (!isSeq(value)) fail(value ?? pair.key, '"vulnerabilities" must be a list of entries');
    for (const item of (value as { items: unknown[] }).items) {
      if (!isMap(item)) {
        fail(item, "each vulnerabilities entry must be a mapping (id, packages, paths, expires, reason)");
      }
      const entry = item as { items: { key: unknown; value: unknown }[] };
      const rule: IgnoreRule = { source: { path, line: lineOf(item) } };
      const seen = new Map<string, string>();
      for (const field of entry.items) {
        const name = stringOf(field.key, "a key");
        const target = ENTRY_KEYS[name];
        if (!target) {
          fail(
            field.key,
            `unknown key "${name}" in a vulnerabilities entry (expected id, packages, paths, expires, reason)`,
          );
        }
        const earlier = seen.get(target as string);
        if (earlier && target !== "packages") fail(field.key, `"${name}" repeats "${earlier}"`);
        seen.set(target as string, name);
        switch (target) {
          case "id":
            rule.id = stringOf(field.value, "id");
            break;
          case "packages":
            for (const [i, p] of listOf(field.value, name).entries()) {
              if (/^pkg:/i.test(p) && !splitPurl(p))
                fail(field.value, `${name}[${i}] "${p}" is not a valid purl`);
              rule.packages = [...(rule.packages ?? []), p];
            }
            break;
          case "paths":
            rule.paths = listOf(field.value, name);
            for (const p of rule.paths) {
              try {
                globRegExp(p);
              } catch (e) {
                fail(field.value, (e as Error).message);
              }
            }
            break;
          case "expires": {
            const text = isScalar(field.value) ? String((field.value as { value: unknown }).value) : "";
            rule.expires = parseExpiry(text.trim(), true);
            if (!rule.expires) {
              fail(
                field.value ?? field.key,
                `invalid ${name} "${text}": expected YYYY-MM-DD or an RFC 3339 timestamp`,
              );
            }
            break;
          }
          case "reason":
            rule.reason = stringOf(field.value, name);
            break;
        }
      }
      if (!rule.id && !rule.packages?.length && !rule.paths?.length) {
        fail(item, "an entry needs an id, or packages or paths to ignore every vulnerability of");
      }
      rules.push(rule);
    }
  }
  return { path, format: "yaml", rules, warnings };
}
