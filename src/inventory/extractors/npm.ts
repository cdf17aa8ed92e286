/**
 * npm ecosystem extractor: installed packages (`node_modules/<name>/package.json`) and the lock files
 * of npm, Yarn and pnpm.
 *
 * Formats implemented:
 * - package.json (installed package roots): https://docs.npmjs.com/cli/v10/configuring-npm/package-json
 * - package-lock.json / npm-shrinkwrap.json, lockfileVersion 1 (nested `dependencies`) and 2/3
 *   (`packages` keyed by install path): https://docs.npmjs.com/cli/v10/configuring-npm/package-lock-json
 * - yarn.lock v1 ("classic"): https://classic.yarnpkg.com/lang/en/docs/yarn-lock/ and Yarn berry (v2+,
 *   a YAML document with `__metadata`, entries resolved to locators `name@protocol:ref`):
 *   https://yarnpkg.com/advanced/lexicon#locator , https://yarnpkg.com/protocols
 * - pnpm-lock.yaml v5.x (`/name/version_peers`), v6 (`/name@version(peers)`), v9 (`packages:` without
 *   peers plus `snapshots:`): https://github.com/pnpm/spec/tree/master/lockfile
 *
 * Decisions:
 * - The application's own package.json (any package.json that is not directly a package folder inside a
 *   `node_modules` directory) is not reported: it is the project, not a dependency, and reporting it
 *   makes advisories of an unrelated registry package with the same name match. Neither are workspace
 *   members, `link:`/`file:` directories, nor Yarn `workspace:`/`portal:` entries (local code).
 * - package.json files deeper inside a package (`node_modules/foo/lib/package.json`, test fixtures) are
 *   never read; a package root without both name and version is skipped.
 * - Lock files inside `node_modules` (the hidden `.package-lock.json`, lock files published inside
 *   packages) and installs under `.yarn/` (PnP unplugged copies, also present in yarn.lock) are ignored.
 * - Aliases (`foo@npm:bar@1`) are reported under the real package name (`bar`).
 * - Lock entries are de-duplicated per project by name@version; `dev`, `optional`, `devOptional` and
 *   `peer` are kept as properties ("true") only when every occurrence has them. Entries installed in a
 *   workspace's own node_modules carry the workspace folder as property `workspace`.
 * - reconcile: installed packages are the truth. A lock file entry is dropped when its project root (the
 *   lock's folder, or the workspace folder under it) has any installed package, so packages removed by a
 *   whiteout do not come back from the lock file; where nothing is installed the lock file is reported,
 *   and when one folder has several lock files only one is (npm-shrinkwrap.json, package-lock.json,
 *   yarn.lock, pnpm-lock.yaml, in that order of preference). A node_modules deleted as a whole leaves
 *   the lock file as the only evidence, and it is then reported.
 */
import { parseAllDocuments } from "yaml";
import type { Extractor, ExtractorFile, ExtractorResult, FileInfo, FileResult } from "../extractor.js";
import {
  basename,
  dirname,
  errorMessage,
  extractByKind,
  hasSegment,
  isRecord,
  joinPath,
  PackageSink,
  parseJson,
  str,
  uniqueLicenses,
  withoutPackages,
} from "./language-common.js";

type Kind = "installed" | "shrinkwrap" | "package-lock" | "yarn" | "pnpm";

const LOCK_PREFERENCE: Kind[] = ["shrinkwrap", "package-lock", "yarn", "pnpm"];
const NODE_MODULES = "node_modules";
const FLAG_NAMES = ["dev", "optional", "devOptional", "peer"] as const;
type Flag = (typeof FLAG_NAMES)[number];

/** What a path is to this extractor; cheap string tests only (called for every file of every layer). */
export function classifyNpmPath(path: string): Kind | undefined {
  const base = basename(path);
  switch (base) {
    case "package.json":
      return isInstalledPackageJson(path) ? "installed" : undefined;
    case "package-lock.json":
    case "npm-shrinkwrap.json":
    case "yarn.lock":
    case "pnpm-lock.yaml":
      if (hasSegment(path, NODE_MODULES)) return undefined;
      if (base === "package-lock.json") return "package-lock";
      if (base === "npm-shrinkwrap.json") return "shrinkwrap";
      return base === "yarn.lock" ? "yarn" : "pnpm";
    default:
      return undefined;
  }
}

/** `…/node_modules/<name>/package.json` or `…/node_modules/@scope/<name>/package.json`. */
function isInstalledPackageJson(path: string): boolean {
  const pkgDir = dirname(path);
  const name = basename(pkgDir);
  if (name === "" || name.startsWith(".") || hasSegment(path, ".yarn")) return false;
  const parent = dirname(pkgDir);
  const parentName = basename(parent);
  if (parentName === NODE_MODULES) return !name.startsWith("@");
  return parentName.startsWith("@") && parentName.length > 1 && basename(dirname(parent)) === NODE_MODULES;
}

/** The project an installed package belongs to: the folder holding the first `node_modules`. */
export function installedProjectRoot(path: string): string {
  if (path.startsWith(`${NODE_MODULES}/`)) return "";
  const i = path.indexOf(`/${NODE_MODULES}/`);
  return i < 0 ? dirname(path) : path.slice(0, i);
}

/** Splits "@scope/name" into purl namespace and name. */
function splitName(full: string): { namespace?: string; name: string } | undefined {
  if (full.startsWith("@")) {
    const slash = full.indexOf("/");
    if (slash <= 1 || slash === full.length - 1) return undefined;
    return { namespace: full.slice(0, slash), name: full.slice(slash + 1) };
  }
  return full === "" ? undefined : { name: full };
}

/** Splits "name@range" (name possibly scoped) at the separating "@". */
function splitAt(spec: string): [string, string] | undefined {
  const at = spec.indexOf("@", 1);
  if (at <= 0) return undefined;
  return [spec.slice(0, at), spec.slice(at + 1)];
}

const LOCAL_PROTOCOLS = ["file:", "link:", "portal:", "workspace:"];
const GIT_PREFIXES = ["git+", "git:", "git@", "github:", "gitlab:", "bitbucket:", "gist:"];

function isLocalRef(ref: string): boolean {
  return LOCAL_PROTOCOLS.some((p) => ref.startsWith(p));
}

/** "git" or "url" for a non-registry source, undefined for a registry one. */
function sourceKind(ref: string | undefined): "git" | "url" | undefined {
  if (!ref) return undefined;
  if (
    GIT_PREFIXES.some((p) => ref.startsWith(p)) ||
    ref.includes("codeload.github.com/") ||
    ref.includes(".git#") ||
    ref.endsWith(".git")
  )
    return "git";
  if (ref.startsWith("http://") || ref.startsWith("https://")) {
    // Registry tarballs are ".../<name>/-/<name>-<version>.tgz"; anything else is a plain URL.
    return ref.includes("/-/") ? undefined : "url";
  }
  return undefined;
}

/** package.json `license` (string or {type}), or legacy `licenses` ([string|{type}] or {type}). */
export function packageJsonLicenses(doc: Record<string, unknown>): string[] {
  const out: (string | undefined)[] = [];
  const take = (v: unknown): void => {
    if (typeof v === "string") out.push(v);
    else if (isRecord(v)) out.push(str(v.type));
    else if (Array.isArray(v)) for (const item of v.slice(0, 20)) take(item);
  };
  take(doc.license);
  if (out.every((v) => !v?.trim())) take(doc.licenses);
  return uniqueLicenses(out);
}

/** Collects lock entries, de-duplicated per (workspace, name, version), flags intersected. */
class LockCollector {
  private readonly entries = new Map<
    string,
    {
      full: string;
      version: string;
      workspace: string;
      flags: Set<Flag>;
      extra: Record<string, string>;
      licenses: string[];
    }
  >();

  constructor(readonly sink: PackageSink) {}

  add(
    full: string,
    version: string,
    opts: {
      flags?: Iterable<Flag>;
      workspace?: string;
      extra?: Record<string, string>;
      licenses?: string[];
    } = {},
  ): void {
    const workspace = opts.workspace ?? "";
    const key = `${workspace}\0${full}\0${version}`;
    const flags = new Set(opts.flags ?? []);
    const seen = this.entries.get(key);
    if (seen) {
      for (const f of seen.flags) if (!flags.has(f)) seen.flags.delete(f);
      return;
    }
    this.entries.set(key, {
      full,
      version,
      workspace,
      flags,
      extra: opts.extra ?? {},
      licenses: opts.licenses ?? [],
    });
  }

  has(full: string, version: string): boolean {
    return this.entries.has(`\0${full}\0${version}`);
  }

  finish(): ExtractorResult {
    for (const e of this.entries.values()) {
      if (!this.sink.open) break;
      const parts = splitName(e.full);
      if (!parts) {
        this.sink.warn(`invalid package name ${JSON.stringify(e.full)}`);
        continue;
      }
      const properties: Record<string, string> = { ...e.extra };
      for (const f of FLAG_NAMES) if (e.flags.has(f)) properties[f] = "true";
      if (e.workspace) properties.workspace = e.workspace;
      this.sink.add({ ...parts, version: e.version, licenses: e.licenses, properties });
    }
    return this.sink.result();
  }
}

function flagsOf(entry: Record<string, unknown>): Flag[] {
  return FLAG_NAMES.filter((f) => entry[f] === true || entry[f] === "true");
}

// ---------------------------------------------------------------------------------------------- installed

function extractInstalled(file: ExtractorFile): ExtractorResult {
  const parsed = parseJson(file.content, file.path);
  if ("warning" in parsed) return { packages: [], warnings: [parsed.warning] };
  const doc = parsed.value;
  if (!isRecord(doc)) return { packages: [], warnings: [`${file.path}: package.json is not an object`] };
  const full = str(doc.name);
  const version = str(doc.version);
  if (!full || !version) return { packages: [] };
  const sink = new PackageSink("npm", file.path);
  const parts = splitName(full);
  if (!parts) {
    sink.warn(`invalid package name ${JSON.stringify(full)}`);
    return sink.result();
  }
  sink.add({ ...parts, version, licenses: packageJsonLicenses(doc) });
  return sink.result();
}

// ---------------------------------------------------------------------------------------------- package-lock

function extractPackageLock(file: ExtractorFile): ExtractorResult {
  const parsed = parseJson(file.content, file.path);
  if ("warning" in parsed) return { packages: [], warnings: [parsed.warning] };
  const doc = parsed.value;
  const sink = new PackageSink("npm", file.path);
  if (!isRecord(doc)) {
    sink.warn("lock file is not an object");
    return sink.result();
  }
  const lock = new LockCollector(sink);
  if (isRecord(doc.packages)) parseLockPackages(doc.packages, lock);
  else if (isRecord(doc.dependencies)) parseLockV1(doc.dependencies, lock);
  else if (doc.packages !== undefined || doc.dependencies !== undefined)
    sink.warn("unexpected lock file shape");
  return lock.finish();
}

/** lockfileVersion 2/3: `packages` keyed by install path relative to the lock's folder. */
function parseLockPackages(packages: Record<string, unknown>, lock: LockCollector): void {
  for (const [key, entry] of Object.entries(packages)) {
    if (!lock.sink.open) return;
    if (key === "" || !isRecord(entry)) continue;
    if (entry.link === true) continue; // a symlink to a workspace or local folder
    const last = key.lastIndexOf(`${NODE_MODULES}/`);
    if (last < 0 || (last > 0 && key[last - 1] !== "/")) continue; // a workspace or local folder itself
    const version = str(entry.version);
    const full = str(entry.name) ?? key.slice(last + NODE_MODULES.length + 1);
    if (!version) continue;
    const first = key.startsWith(`${NODE_MODULES}/`) ? 0 : key.indexOf(`/${NODE_MODULES}/`) + 1;
    const workspace = first > 0 ? key.slice(0, first - 1) : "";
    const extra: Record<string, string> = {};
    const source = sourceKind(str(entry.resolved));
    if (source) extra.source = source;
    const licenses = uniqueLicenses([
      typeof entry.license === "string"
        ? entry.license
        : isRecord(entry.license)
          ? str(entry.license.type)
          : undefined,
    ]);
    lock.add(full, version, { flags: flagsOf(entry), workspace, extra, licenses });
  }
}

/** lockfileVersion 1: nested `dependencies` objects; walked iteratively (no recursion depth limit). */
function parseLockV1(root: Record<string, unknown>, lock: LockCollector): void {
  const stack: Record<string, unknown>[] = [root];
  let visited = 0;
  while (stack.length > 0 && lock.sink.open) {
    const deps = stack.pop() as Record<string, unknown>;
    for (const [key, entry] of Object.entries(deps)) {
      if (!isRecord(entry)) continue;
      if (++visited > 1_000_000) {
        lock.sink.warn("too many entries; the rest are ignored");
        return;
      }
      if (isRecord(entry.dependencies)) stack.push(entry.dependencies);
      let full = key;
      let version = str(entry.version);
      if (!version) continue;
      if (version.startsWith("npm:")) {
        const alias = splitAt(version.slice(4));
        if (!alias) continue;
        [full, version] = alias;
      }
      if (isLocalRef(version)) continue;
      const source = sourceKind(version) ?? sourceKind(str(entry.resolved));
      // A git or URL dependency's "version" is its URL: there is no registry version to report.
      if (version.includes(":") || version.includes("/")) continue;
      lock.add(full, version, { flags: flagsOf(entry), extra: source ? { source } : {} });
    }
  }
}

// ---------------------------------------------------------------------------------------------- yarn

function extractYarnLock(file: ExtractorFile): ExtractorResult {
  const text = file.content.toString("utf8");
  const sink = new PackageSink("npm", file.path);
  const lock = new LockCollector(sink);
  if (text.startsWith("__metadata:") || text.includes("\n__metadata:")) parseYarnBerry(text, lock);
  else parseYarnClassic(text, lock);
  return lock.finish();
}

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1);
  return t;
}

/** yarn.lock v1: top-level `spec, spec:` lines, then two-space indented `key value` fields. */
function parseYarnClassic(text: string, lock: LockCollector): void {
  let specs: string[] | undefined;
  let version: string | undefined;
  let resolved: string | undefined;
  let lineNo = 0;
  const flush = (): void => {
    if (!specs) return;
    const current = specs;
    specs = undefined;
    if (!version) {
      lock.sink.warn(`entry ${JSON.stringify(current.join(", "))} has no version`);
      return;
    }
    let full: string | undefined;
    let aliasTarget: string | undefined;
    let local = false;
    let source: "git" | "url" | undefined;
    for (const spec of current) {
      const parts = splitAt(spec);
      if (!parts) continue;
      const [name, range] = parts;
      full ??= name;
      if (range.startsWith("npm:")) {
        const target = range.slice(4);
        aliasTarget ??= splitAt(target)?.[0] ?? target;
      } else if (isLocalRef(range)) local = true;
      else source ??= sourceKind(range);
    }
    if (local || !full) return;
    source ??= sourceKind(resolved);
    lock.add(aliasTarget ?? full, version, { extra: source ? { source } : {} });
  };
  let start = 0;
  while (start <= text.length && lock.sink.open) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    lineNo++;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line === "" || line.startsWith("#")) continue;
    if (line[0] !== " ") {
      flush();
      version = undefined;
      resolved = undefined;
      if (!line.endsWith(":")) {
        lock.sink.warn(`line ${lineNo}: unexpected top-level line`);
        continue;
      }
      specs = line
        .slice(0, -1)
        .split(",")
        .map(unquote)
        .filter((s) => s !== "");
      continue;
    }
    if (!specs || line.startsWith("   ")) continue; // nested maps (dependencies) are not needed
    const field = line.trim();
    const space = field.indexOf(" ");
    if (space < 0) continue;
    const key = unquote(field.slice(0, space));
    if (key === "version") version = unquote(field.slice(space + 1));
    else if (key === "resolved") resolved = unquote(field.slice(space + 1));
  }
  flush();
}

/** Yarn berry: YAML whose entries carry `resolution: "name@protocol:ref"` (the locator). */
function parseYarnBerry(text: string, lock: LockCollector): void {
  const doc = parseYaml(text, lock.sink);
  if (!doc) return;
  const patches: { full: string; version: string; source?: string }[] = [];
  for (const [key, entry] of Object.entries(doc)) {
    if (!lock.sink.open) return;
    if (key === "__metadata" || !isRecord(entry)) continue;
    const resolution = str(entry.resolution);
    const version = str(entry.version);
    const locator = resolution ? splitAt(resolution) : undefined;
    if (!locator || !version) {
      lock.sink.warn(`entry ${JSON.stringify(key)} has no resolution or version`);
      continue;
    }
    const [full, ref] = locator;
    if (isLocalRef(ref) || entry.linkType === "soft" || version === "0.0.0-use.local") continue;
    if (ref.startsWith("patch:")) {
      // "lodash@patch:lodash@npm%3A4.17.21#./patches/x.patch::…": the patched copy of another entry.
      patches.push({ full, version });
      continue;
    }
    const source = ref.startsWith("npm:") ? undefined : (sourceKind(ref) ?? "url");
    lock.add(full, version, { extra: source ? { source } : {} });
  }
  for (const p of patches) {
    if (!lock.has(p.full, p.version)) lock.add(p.full, p.version, { extra: { patched: "true" } });
  }
}

function parseYaml(text: string, sink: PackageSink): Record<string, unknown> | undefined {
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    // failsafe: every scalar stays a string ("1.10" must not become the number 1.1).
    docs = parseAllDocuments(text, { schema: "failsafe", uniqueKeys: false });
  } catch (err) {
    sink.warn(`invalid YAML: ${errorMessage(err)}`);
    return undefined;
  }
  const list = Array.isArray(docs) ? docs : [docs];
  // pnpm 10+ may put an "env lockfile" (pnpm's own packageManagerDependencies) first: the
  // project's lock document is the last one.
  let last: Record<string, unknown> | undefined;
  for (const d of list) {
    if (d.errors.length > 0) {
      sink.warn(`invalid YAML: ${d.errors[0]?.message ?? "parse error"}`);
      return undefined;
    }
    let value: unknown;
    try {
      value = d.toJS({ maxAliasCount: 100 });
    } catch (err) {
      sink.warn(`invalid YAML: ${errorMessage(err)}`);
      return undefined;
    }
    if (value === null || value === undefined) continue;
    if (!isRecord(value)) {
      sink.warn("YAML document is not a mapping");
      return undefined;
    }
    last = value;
  }
  return last ?? {};
}

// ---------------------------------------------------------------------------------------------- pnpm

function extractPnpmLock(file: ExtractorFile): ExtractorResult {
  const sink = new PackageSink("npm", file.path);
  const lock = new LockCollector(sink);
  const doc = parseYaml(file.content.toString("utf8"), sink);
  if (!doc) return sink.result();
  const lockVersion = Number.parseFloat(str(doc.lockfileVersion) ?? "");
  if (!Number.isFinite(lockVersion)) {
    sink.warn("missing or invalid lockfileVersion");
    return sink.result();
  }
  if (doc.packages === undefined) return sink.result();
  if (!isRecord(doc.packages)) {
    sink.warn("`packages` is not a mapping");
    return sink.result();
  }
  const devOnly = lockVersion >= 9 ? pnpmDevOnly(doc) : undefined;
  const optional = lockVersion >= 9 ? pnpmOptional(doc) : undefined;
  for (const [depPath, info] of Object.entries(doc.packages)) {
    if (!sink.open) break;
    const entry = isRecord(info) ? info : {};
    const resolution = isRecord(entry.resolution) ? entry.resolution : {};
    if (resolution.type === "directory" || resolution.directory !== undefined) continue;
    const parsed = parsePnpmDepPath(depPath, lockVersion);
    if (parsed?.local) continue;
    // Packages from tarballs, git or local folders name themselves; registry ones only in the key.
    const explicitVersion = str(entry.version);
    const full = str(entry.name) ?? parsed?.name;
    const version = explicitVersion ?? parsed?.version;
    if (!full || !version) {
      sink.warn(`cannot read name and version of ${JSON.stringify(depPath)}`);
      continue;
    }
    if (isLocalRef(version)) continue;
    const keyRef = parsed?.version ?? "";
    if (!/^\d/.test(version)) continue; // the "version" is a URL: nothing usable to report
    const source =
      sourceKind(str(resolution.tarball)) ??
      (resolution.type === "git" ? "git" : undefined) ??
      (/^\d/.test(keyRef) ? undefined : (sourceKind(keyRef) ?? "url"));
    const flags: Flag[] = flagsOf(entry).filter((f) => f !== "dev");
    if (lockVersion < 9 ? entry.dev === "true" : devOnly?.has(`${full}@${version}`)) flags.push("dev");
    if (optional?.get(`${full}@${version}`) === true) flags.push("optional");
    lock.add(full, version, { flags, extra: source ? { source } : {} });
  }
  return lock.finish();
}

/**
 * A pnpm dependency path → name and version, peer suffixes stripped.
 * v5: "/@babel/core/7.21.8_supports-color@5.5.0"; v6: "/@babel/core@7.21.8(supports-color@5.5.0)";
 * v9: "@babel/core@7.21.8" (packages) or with "(…)" (snapshots).
 */
export function parsePnpmDepPath(
  depPath: string,
  lockVersion: number,
): { name: string; version: string; local?: boolean } | undefined {
  let p = depPath;
  const paren = p.indexOf("(");
  if (paren >= 0) p = p.slice(0, paren);
  if (p.startsWith("file:") || p.startsWith("link:")) return { name: "", version: "", local: true };
  if (lockVersion < 6) {
    // "/name/version" or "registry.example.com/name/version": drop the first component.
    const slash = p.indexOf("/");
    if (slash < 0) return undefined;
    p = p.slice(slash + 1);
    let scope = "";
    if (p.startsWith("@")) {
      const s = p.indexOf("/");
      if (s < 0) return undefined;
      scope = p.slice(0, s + 1);
      p = p.slice(s + 1);
    }
    const sep = p.indexOf("/");
    if (sep <= 0) return undefined;
    let version = p.slice(sep + 1);
    const underscore = version.indexOf("_");
    if (underscore >= 0) version = version.slice(0, underscore);
    return version ? { name: scope + p.slice(0, sep), version } : undefined;
  }
  if (p.startsWith("/")) p = p.slice(1);
  const parts = splitAt(p);
  if (!parts || parts[0] === "" || parts[1] === "") return undefined;
  if (isLocalRef(parts[1])) return { name: parts[0], version: "", local: true };
  return { name: parts[0], version: parts[1] };
}

/** pnpm v9 marks optional packages on their snapshots: optional when every snapshot of it is. */
function pnpmOptional(doc: Record<string, unknown>): Map<string, boolean> | undefined {
  if (!isRecord(doc.snapshots)) return undefined;
  const out = new Map<string, boolean>();
  for (const [key, snap] of Object.entries(doc.snapshots)) {
    const id = parsePnpmDepPath(key, 9);
    if (!id) continue;
    const k = `${id.name}@${id.version}`;
    out.set(k, (out.get(k) ?? true) && isRecord(snap) && snap.optional === "true");
  }
  return out;
}

/**
 * pnpm v9 keeps dev-ness in the importers only: walk `snapshots` from every importer's production
 * (dependencies, optionalDependencies) and dev roots; what only dev roots reach is dev-only.
 */
function pnpmDevOnly(doc: Record<string, unknown>): Set<string> | undefined {
  if (!isRecord(doc.importers) || !isRecord(doc.snapshots)) return undefined;
  const snapshots = doc.snapshots;
  const snapshotKey = (name: string, ref: unknown): string | undefined => {
    const r = str(ref) ?? (isRecord(ref) ? str(ref.version) : undefined);
    if (!r || isLocalRef(r)) return undefined;
    return /^\d/.test(r) ? `${name}@${r}` : r; // an alias resolves to "realname@version"
  };
  const walk = (roots: string[]): Set<string> => {
    const seen = new Set<string>();
    const ids = new Set<string>();
    const queue = [...roots];
    while (queue.length > 0) {
      const key = queue.pop() as string;
      if (seen.has(key)) continue;
      seen.add(key);
      const id = parsePnpmDepPath(key, 9);
      if (id) ids.add(`${id.name}@${id.version}`);
      const snap = snapshots[key];
      if (!isRecord(snap)) continue;
      for (const field of ["dependencies", "optionalDependencies"]) {
        const deps = snap[field];
        if (!isRecord(deps)) continue;
        for (const [n, v] of Object.entries(deps)) {
          const k = snapshotKey(n, v);
          if (k && !seen.has(k)) queue.push(k);
        }
      }
    }
    return ids;
  };
  const prodRoots: string[] = [];
  const devRoots: string[] = [];
  for (const importer of Object.values(doc.importers)) {
    if (!isRecord(importer)) continue;
    for (const [field, into] of [
      ["dependencies", prodRoots],
      ["optionalDependencies", prodRoots],
      ["devDependencies", devRoots],
    ] as const) {
      const deps = importer[field];
      if (!isRecord(deps)) continue;
      for (const [n, v] of Object.entries(deps)) {
        const k = snapshotKey(n, v);
        if (k) into.push(k);
      }
    }
  }
  const prod = walk(prodRoots);
  const dev = walk(devRoots);
  for (const id of prod) dev.delete(id);
  return dev;
}

// ---------------------------------------------------------------------------------------------- reconcile

function reconcileNpm(results: FileResult[]): FileResult[] {
  const installedRoots = new Set<string>();
  const chosenLock = new Map<string, FileResult>();
  for (const r of results) {
    const kind = classifyNpmPath(r.path);
    if (kind === "installed") {
      if ((r.packages?.length ?? 0) > 0) installedRoots.add(installedProjectRoot(r.path));
    } else if (kind) {
      const dir = dirname(r.path);
      const prev = chosenLock.get(dir);
      const rank = (x: FileResult): number => LOCK_PREFERENCE.indexOf(classifyNpmPath(x.path) as Kind);
      if (!prev || rank(r) < rank(prev)) chosenLock.set(dir, r);
    }
  }
  return results.map((r) => {
    const kind = classifyNpmPath(r.path);
    if (!kind || kind === "installed") return r;
    const dir = dirname(r.path);
    if (chosenLock.get(dir) !== r) return withoutPackages(r, () => false);
    return withoutPackages(r, (pkg) => !installedRoots.has(joinPath(dir, pkg.properties?.workspace ?? "")));
  });
}

export const npmExtractor: Extractor = {
  name: "npm",
  version: 1,
  spec: "npm package.json and package-lock.json (docs.npmjs.com/cli/v10/configuring-npm), yarn.lock v1 (classic.yarnpkg.com/lang/en/docs/yarn-lock) and berry (yarnpkg.com/advanced/lexicon#locator), pnpm-lock.yaml v5/v6/v9 (github.com/pnpm/spec/tree/master/lockfile)",
  // Lock files of large monorepos reach tens of MiB; installed package.json files are small.
  maxFileBytes: 64 * 1024 * 1024,
  wants(file: FileInfo): boolean {
    return classifyNpmPath(file.path) !== undefined;
  },
  extract: extractByKind(classifyNpmPath, {
    installed: extractInstalled,
    "package-lock": extractPackageLock,
    shrinkwrap: extractPackageLock,
    yarn: extractYarnLock,
    pnpm: extractPnpmLock,
  }),
  reconcile: reconcileNpm,
};
