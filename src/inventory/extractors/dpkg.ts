/**
 * Debian packages installed by dpkg.
 *
 * Implements the dpkg database as dpkg and dpkg-query read it:
 * - `var/lib/dpkg/status`: RFC 822-style control paragraphs, deb822(5) syntax, fields per
 *   deb-control(5) and dpkg-query(1) (`Package`, `Status: <want> <flag> <state>`, `Version`
 *   `[epoch:]upstream[-revision]`, `Architecture`, `Multi-Arch`, `Source: name [(version)]`);
 * - `var/lib/dpkg/status.d/<name>`: the same format, one paragraph per file, as distroless
 *   (GoogleContainerTools/distroless, rules_distroless) writes it instead of `status` — no `Status`
 *   field there, every paragraph is installed; `status.d/<name>.md5sums` lists its files;
 * - `var/lib/dpkg/info/<name>[:<arch>].list`: the files of one package, as `dpkg -L` prints them;
 * - `usr/share/doc/<name>/copyright`: licences, read from the machine-readable format
 *   (DEP-5, https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/) `License:` fields,
 *   else from references to `/usr/share/common-licenses/<name>` (as Trivy does).
 *
 * Installed means "the package's files are on disk": states `installed`, `unpacked`,
 * `half-configured`, `triggers-awaited`, `triggers-pending` and `half-installed` (the last two with a
 * warning); `config-files` (removed, configuration left) and `not-installed` are not reported. The want
 * flag (`deinstall`, `hold`, `purge`) says what the admin asked for, not what is on disk, and is ignored.
 *
 * One file yields one partial result; {@link dpkgExtractor}'s `reconcile` joins them at image level:
 * files from `.list`/`.md5sums` and licences from `copyright` are attached to the matching installed
 * packages. purls are built with the default namespace `debian` and no `distro`: the analyzer finalises
 * them with the image OS through {@link finalizeDebPurl} (= `finalizeOsPurl` of os-release.ts).
 */
import { PackageURL } from "packageurl-js";
import type { Extractor, ExtractorFile, ExtractorResult, FileInfo, FileResult } from "../extractor.js";
import type { OsRelease, Package } from "../types.js";
import { DEBIAN_CODENAMES, finalizeOsPurl } from "./os-release.js";

export const DPKG_EXTRACTOR_NAME = "dpkg";

const STATUS = "var/lib/dpkg/status";
const STATUS_D = "var/lib/dpkg/status.d/";
const INFO = "var/lib/dpkg/info/";
const DOC = "usr/share/doc/";

/** Copyright files beyond this are not read (perl-base's, among the largest in a base image, is 110 KB). */
export const MAX_COPYRIGHT_BYTES = 1024 * 1024;

/** States in which a package's files are on disk (dpkg-query(1), "Package states"). */
const ON_DISK = new Set([
  "installed",
  "unpacked",
  "half-configured",
  "triggers-awaited",
  "triggers-pending",
  "half-installed",
]);
const NOT_ON_DISK = new Set(["not-installed", "config-files"]);

// ---------------------------------------------------------------------------------------------------
// deb822

export interface Deb822Field {
  /** The field name as written. */
  name: string;
  /** First line, trimmed, then each continuation line without its leading whitespace, joined by "\n". */
  value: string;
}

export interface Deb822Paragraph {
  /** Fields by lower-cased name (field names are case-insensitive). */
  fields: Map<string, Deb822Field>;
  /** 1-based line of the paragraph's first field. */
  line: number;
}

/**
 * Splits deb822(5) text into paragraphs. Tolerant: CRLF and a BOM are accepted, lines of blanks
 * separate paragraphs, `#` comment lines are skipped; lines that are neither a field, a continuation
 * nor blank are counted in `malformed` (with the first one's line number) and skipped, as are repeated
 * fields (the first value stays, as dpkg would refuse the paragraph).
 */
export function parseDeb822(text: string): {
  paragraphs: Deb822Paragraph[];
  malformed: number;
  firstMalformedLine?: number;
} {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = src.split("\n");
  const paragraphs: Deb822Paragraph[] = [];
  let current: Deb822Paragraph | undefined;
  let field: Deb822Field | undefined;
  let malformed = 0;
  let firstMalformedLine: number | undefined;
  const bad = (lineNo: number) => {
    malformed++;
    firstMalformedLine ??= lineNo;
  };
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (/^[ \t]*$/.test(line)) {
      if (current) paragraphs.push(current);
      current = undefined;
      field = undefined;
      continue;
    }
    const c = line[0];
    if (c === " " || c === "\t") {
      if (field) field.value += `\n${line.trimStart()}`;
      else bad(i + 1);
      continue;
    }
    if (c === "#") continue;
    const m = /^([!-9;-~]+)[ \t]*:(.*)$/.exec(line);
    if (!m || c === "-") {
      bad(i + 1);
      field = undefined;
      continue;
    }
    const name = m[1] as string;
    const key = name.toLowerCase();
    current ??= { fields: new Map(), line: i + 1 };
    if (current.fields.has(key)) {
      bad(i + 1);
      field = undefined;
      continue;
    }
    field = { name, value: (m[2] as string).trim() };
    current.fields.set(key, field);
  }
  if (current) paragraphs.push(current);
  return firstMalformedLine === undefined
    ? { paragraphs, malformed }
    : { paragraphs, malformed, firstMalformedLine };
}

const get = (p: Deb822Paragraph, name: string) => p.fields.get(name)?.value;

// ---------------------------------------------------------------------------------------------------
// Package URLs

/** `pkg:deb/debian/<name>@<version>?arch=<arch>`: the extractor's purl, before the OS is known. */
export function debPurl(name: string, version: string, arch: string | undefined): string {
  return new PackageURL(
    "deb",
    "debian",
    name.toLowerCase(),
    version,
    arch ? { arch } : undefined,
    undefined,
  ).toString();
}

/**
 * A dpkg package's purl for the image's OS: namespace from the OS ID (`debian`, `ubuntu`, …) and
 * `distro=<id>-<release>` (`distro=debian-12`, `distro=ubuntu-22.04`). The analyzer calls this (or
 * `finalizeOsPurl` from os-release.ts, which it wraps and which handles apk too) for every deb package
 * once the image OS is resolved; without a Debian-family OS the purl is returned unchanged.
 */
export function finalizeDebPurl(pkg: Package, os: OsRelease | undefined): string {
  return pkg.ecosystem === "deb" ? finalizeOsPurl(pkg, os) : pkg.purl;
}

// ---------------------------------------------------------------------------------------------------
// status, status.d

const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]*$/i;
/** dpkg versions: no whitespace, no control characters; the syntax itself is the matcher's business. */
const VERSION_TEXT = /^[!-~]+$/;
const ARCH_NAME = /^[a-z0-9][a-z0-9-]*$/i;

function summarise(path: string, issues: string[]): string[] {
  if (issues.length <= 10) return issues.map((w) => `${path}: ${w}`);
  return [...issues.slice(0, 10).map((w) => `${path}: ${w}`), `${path}: … and ${issues.length - 10} more`];
}

/**
 * Installed packages of a status-format file. `statusRequired` is false for distroless `status.d/`
 * files, which carry no `Status` field.
 */
export function parseStatusFile(
  text: string,
  location: string,
  statusRequired: boolean,
): { packages: Package[]; warnings: string[] } {
  const issues: string[] = [];
  let body = text;
  if (statusRequired) {
    // dpkg ends every paragraph with a blank line: anything else is a cut file. A cut last line may
    // hold a cut value ("Version: 1.2" of 1.2.3-4), so it is dropped.
    const end = body.replace(/[ \t\r]+$/, "");
    if (end !== "" && !body.endsWith("\n")) {
      body = body.slice(0, body.lastIndexOf("\n") + 1);
      issues.push("file ends mid-line (truncated?), last line ignored");
    } else if (end !== "" && !/\n[ \t]*\r?\n$/.test(body)) {
      issues.push("last paragraph not terminated by a blank line (truncated?)");
    }
  }
  const { paragraphs, malformed, firstMalformedLine } = parseDeb822(body);
  const packages: Package[] = [];
  if (malformed > 0)
    issues.push(`${malformed} malformed line(s) skipped (first at line ${firstMalformedLine})`);
  for (const para of paragraphs) {
    const at = `paragraph at line ${para.line}`;
    const name = get(para, "package");
    if (!name) {
      issues.push(`${at}: no Package field, skipped`);
      continue;
    }
    if (!PACKAGE_NAME.test(name)) {
      issues.push(`${at}: invalid package name ${JSON.stringify(name.slice(0, 60))}, skipped`);
      continue;
    }
    const status = get(para, "status");
    let odd: string | undefined;
    if (status === undefined) {
      if (statusRequired) {
        // dpkg reads a paragraph without Status as "unknown ok not-installed".
        issues.push(`${name}: no Status field, skipped`);
        continue;
      }
    } else {
      const words = status.split(/\s+/);
      const state = words[words.length - 1] as string;
      if (words.length !== 3 || !(ON_DISK.has(state) || NOT_ON_DISK.has(state))) {
        issues.push(`${name}: unrecognised Status ${JSON.stringify(status.slice(0, 60))}, skipped`);
        continue;
      }
      if (NOT_ON_DISK.has(state)) continue;
      if (state === "half-installed" || words[1] !== "ok") {
        issues.push(`${name}: Status "${status}", reported but its files may be incomplete`);
        odd = status;
      } else if (state !== "installed") {
        odd = status;
      }
    }
    const version = get(para, "version");
    if (!version) {
      issues.push(`${name}: no Version field, skipped`);
      continue;
    }
    if (!VERSION_TEXT.test(version)) {
      issues.push(`${name}: invalid Version ${JSON.stringify(version.slice(0, 60))}, skipped`);
      continue;
    }
    let arch = get(para, "architecture");
    if (arch !== undefined && !ARCH_NAME.test(arch)) {
      issues.push(`${name}: invalid Architecture ${JSON.stringify(arch.slice(0, 30))}, ignored`);
      arch = undefined;
    }
    let sourceName = name;
    let sourceVersion = version;
    const sourceField = get(para, "source");
    if (sourceField) {
      const m = /^([a-z0-9][a-z0-9+.-]*)(?:\s*\(\s*([!-~]+?)\s*\))?\s*$/i.exec(sourceField);
      if (m) {
        sourceName = m[1] as string;
        if (m[2]) sourceVersion = m[2];
      } else {
        issues.push(`${name}: unparsable Source ${JSON.stringify(sourceField.slice(0, 60))}, ignored`);
      }
    }
    const properties: Record<string, string> = {};
    const multiArch = get(para, "multi-arch");
    if (multiArch) properties.multiArch = multiArch;
    if (odd) properties.status = odd;
    const pkg: Package = {
      ecosystem: "deb",
      name,
      version,
      purl: debPurl(name, version, arch),
      source: { name: sourceName, version: sourceVersion },
      location,
    };
    if (arch) pkg.arch = arch;
    if (Object.keys(properties).length > 0) pkg.properties = properties;
    packages.push(pkg);
  }
  return { packages, warnings: summarise(location, issues) };
}

// ---------------------------------------------------------------------------------------------------
// File lists

const normalise = (p: string) => p.replace(/^(?:\.\/|\/)+/, "");

/**
 * Paths of a `.list` file without leading slash, without `/.` and without the directories that the
 * list shows to contain other entries (dpkg lists every parent directory a package ships into).
 */
export function parseFileList(text: string): string[] {
  const entries: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "" || line === "/.") continue;
    const p = normalise(line);
    if (p !== "" && p !== ".") entries.push(p);
  }
  const dirs = new Set<string>();
  for (const p of entries) {
    for (let i = p.lastIndexOf("/"); i > 0; i = p.lastIndexOf("/", i - 1)) {
      const parent = p.slice(0, i);
      if (dirs.has(parent)) break;
      dirs.add(parent);
    }
  }
  return [...new Set(entries.filter((p) => !dirs.has(p)))];
}

/** Paths of an md5sums file (`<md5>  <path>` lines). */
export function parseMd5sums(text: string): { paths: string[]; malformed: number } {
  const paths: string[] = [];
  let malformed = 0;
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") continue;
    const m = /^[0-9a-f]{32}\s+\*?(.+)$/i.exec(line);
    if (m) paths.push(normalise(m[1] as string));
    else malformed++;
  }
  return { paths, malformed };
}

// ---------------------------------------------------------------------------------------------------
// Licences

/** Licence names of a DEP-5 `License:` synopsis: "GPL-1+ or Artistic, and BSD-3-clause" → 3 names. */
export function splitDep5License(synopsis: string): string[] {
  return synopsis
    .split(/\s*,?\s+(?:and\/or|and|or)\s+|\s*,\s*/i)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

const COMMON_LICENSE_REF = /\/usr\/share\/common-licenses\/([A-Za-z0-9][A-Za-z0-9_.+-]*[A-Za-z0-9+])/g;

const uniqueCaseless = (names: string[]) => {
  const seen = new Set<string>();
  return names.filter((n) => {
    const k = n.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
};

/**
 * Licences of a `usr/share/doc/<pkg>/copyright` file, in order of appearance, duplicates (ignoring
 * case) removed. Machine-readable files (first paragraph has `Format:`): the synopsis of each
 * `License:` field of the header and `Files` paragraphs, split at `and`/`or`/`,` (stand-alone
 * licence paragraphs only give texts, they count when nothing else names a licence). Free-form files:
 * the `/usr/share/common-licenses/<name>` they point to. Names are kept as written (`GPL-2+`, `Expat`,
 * `public-domain`), not translated to SPDX.
 */
export function parseCopyright(text: string): string[] {
  const { paragraphs } = parseDeb822(text);
  const first = paragraphs[0];
  const machineReadable =
    first !== undefined && (first.fields.has("format") || first.fields.has("format-specification"));
  if (machineReadable) {
    const main: string[] = [];
    const standalone: string[] = [];
    for (const [i, p] of paragraphs.entries()) {
      const license = get(p, "license");
      if (!license) continue;
      const synopsis = license.split("\n")[0] as string;
      const names = splitDep5License(synopsis);
      if (i === 0 || p.fields.has("files")) main.push(...names);
      else standalone.push(...names);
    }
    const names = main.length > 0 ? main : standalone;
    if (names.length > 0) return uniqueCaseless(names);
  }
  return uniqueCaseless([...text.matchAll(COMMON_LICENSE_REF)].map((m) => m[1] as string));
}

// ---------------------------------------------------------------------------------------------------
// The extractor

/** The licences read from one `usr/share/doc/<pkg>/copyright`, carried to `reconcile` in the layer cache. */
export interface DpkgCopyright {
  /** The doc directory name: the binary package name without architecture. */
  package: string;
  licenses: string[];
}

/** What this extractor returns: `copyright` is set for copyright files only. */
export interface DpkgExtractorResult extends ExtractorResult {
  copyright?: DpkgCopyright | undefined;
}

type Kind = "status" | "status.d" | "md5sums" | "list" | "copyright";

function kindOf(path: string): { kind: Kind; stem: string } | undefined {
  if (path === STATUS) return { kind: "status", stem: "" };
  if (path.startsWith(STATUS_D)) {
    const base = path.slice(STATUS_D.length);
    if (base === "" || base.includes("/") || base.startsWith(".")) return undefined;
    if (base.endsWith(".md5sums")) {
      const stem = base.slice(0, -".md5sums".length);
      return stem ? { kind: "md5sums", stem } : undefined;
    }
    return { kind: "status.d", stem: base };
  }
  if (path.startsWith(INFO) && path.endsWith(".list")) {
    const stem = path.slice(INFO.length, -".list".length);
    return stem && !stem.includes("/") ? { kind: "list", stem } : undefined;
  }
  if (path.startsWith(DOC) && path.endsWith("/copyright")) {
    const stem = path.slice(DOC.length, -"/copyright".length);
    return stem && !stem.includes("/") ? { kind: "copyright", stem } : undefined;
  }
  return undefined;
}

const isPackageDb = (path: string) => {
  const k = kindOf(path)?.kind;
  return k === "status" || k === "status.d";
};

/**
 * The OS implied by dpkg packages, for images without any os-release or release file (some
 * distroless-style images): Debian, with the major release from `base-files` (version `12.4+deb12u15`
 * → 12) or else from the `+debNNuM` security-update suffixes most versions carry. Undefined when
 * nothing says Debian (Ubuntu's base-files, no suffixes). The analyzer calls this only when the
 * os-release extractor found nothing.
 */
export function osFromDpkgPackages(packages: Package[]): OsRelease | undefined {
  const debs = packages.filter((p) => p.ecosystem === "deb");
  const baseFiles = debs.find((p) => p.name === "base-files");
  let major: string | undefined;
  let location = baseFiles?.location;
  if (baseFiles && !/ubuntu/i.test(baseFiles.version))
    major = /^(?:\d+:)?(\d+)(?:[.+]|$)/.exec(baseFiles.version)?.[1];
  if (!major && !baseFiles) {
    const votes = new Map<string, number>();
    for (const p of debs) {
      const n = /[+~]deb(\d+)u\d+/.exec(p.version)?.[1];
      if (n) votes.set(n, (votes.get(n) ?? 0) + 1);
    }
    major = [...votes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    location = debs[0]?.location;
  }
  if (!major || !location) return undefined;
  const os: OsRelease = { id: "debian", versionId: major, location };
  const codename = DEBIAN_CODENAMES[major];
  if (codename) os.versionCodename = codename;
  return os;
}

/**
 * The dpkg extractor. Besides `reconcile` it offers the analyzer's image-level hooks (typed here so
 * that it does not depend on them being declared on {@link Extractor}): `finalize` = purl through
 * {@link finalizeDebPurl}, `inferOs` = {@link osFromDpkgPackages}.
 */
export const dpkgExtractor: Extractor & {
  finalize(pkg: Package, os: OsRelease | undefined): Package;
  inferOs(packages: Package[]): OsRelease | undefined;
} = {
  name: DPKG_EXTRACTOR_NAME,
  version: 1,
  spec: "deb822(5), deb-control(5), dpkg-query(1) status database (var/lib/dpkg/status, distroless status.d/), dpkg info/*.list; Debian machine-readable copyright format 1.0 (DEP-5)",
  maxFileBytes: 64 * 1024 * 1024,
  wants(file: FileInfo): boolean {
    const k = kindOf(file.path);
    if (!k) return false;
    return k.kind !== "copyright" || file.size <= MAX_COPYRIGHT_BYTES;
  },
  extract(file: ExtractorFile): DpkgExtractorResult {
    const k = kindOf(file.path);
    if (!k) return {};
    const text = file.content.toString("utf8");
    switch (k.kind) {
      case "status":
      case "status.d": {
        const { packages, warnings } = parseStatusFile(text, file.path, k.kind === "status");
        if (packages.length === 0 && warnings.length === 0 && k.kind === "status.d" && text.trim() !== "")
          warnings.push(`${file.path}: no package paragraph`);
        return warnings.length > 0 ? { packages, warnings } : { packages };
      }
      case "list":
        return { ownedFiles: { owner: k.stem, paths: parseFileList(text) } };
      case "md5sums": {
        const { paths, malformed } = parseMd5sums(text);
        const result: DpkgExtractorResult = { ownedFiles: { owner: k.stem, paths } };
        if (malformed > 0) result.warnings = [`${file.path}: ${malformed} malformed line(s) skipped`];
        return result;
      }
      case "copyright":
        return { copyright: { package: k.stem, licenses: parseCopyright(text) } };
    }
  },
  reconcile(results: FileResult[]): FileResult[] {
    return reconcileDpkg(results as (FileResult & DpkgExtractorResult)[]);
  },
  finalize(pkg: Package, os: OsRelease | undefined): Package {
    const purl = finalizeDebPurl(pkg, os);
    return purl === pkg.purl ? pkg : { ...pkg, purl };
  },
  inferOs(packages: Package[]): OsRelease | undefined {
    return osFromDpkgPackages(packages);
  },
};

const packageIdentity = (p: Package) => `${p.name}\0${p.arch ?? ""}\0${p.version}`;

/**
 * The image-level join (exported for tests; `dpkgExtractor.reconcile` is this):
 * - packages of `status` and `status.d/*` are kept, an exact duplicate (name, arch, version) of an
 *   earlier one (`status` before `status.d/`, then by path) dropped;
 * - each package gets `files` from `info/<name>:<arch>.list` or `info/<name>.list` and from
 *   `status.d/<name>.md5sums` (union, in file order);
 * - each package gets `licenses` from `usr/share/doc/<name>/copyright`, or else from a package of the
 *   same source package that has one — Debian policy §12.5 lets a doc directory be a symlink only to
 *   that of a package built from the same source, and symlinks never reach the extractor;
 * - `.list`/`.md5sums` results stay as `ownedFiles` only when their owner is an installed package
 *   (when there are any packages at all); copyright results are consumed (only their warnings stay).
 */
export function reconcileDpkg(results: (FileResult & DpkgExtractorResult)[]): FileResult[] {
  const dbRank = (path: string) => (path === STATUS ? 0 : 1);
  const dbResults = results
    .filter((r) => isPackageDb(r.path))
    .sort((a, b) => dbRank(a.path) - dbRank(b.path) || a.path.localeCompare(b.path));
  const owned = new Map<string, string[]>();
  for (const r of results) {
    const k = kindOf(r.path)?.kind;
    if ((k === "list" || k === "md5sums") && r.ownedFiles) {
      const list = owned.get(r.ownedFiles.owner);
      if (list) list.push(...r.ownedFiles.paths);
      else owned.set(r.ownedFiles.owner, [...r.ownedFiles.paths]);
    }
  }
  const licensesByDoc = new Map<string, string[]>();
  for (const r of results) {
    if (r.copyright && r.copyright.licenses.length > 0)
      licensesByDoc.set(r.copyright.package, r.copyright.licenses);
  }

  const seen = new Set<string>();
  const usedOwners = new Set<string>();
  const out = new Map<FileResult, FileResult>();
  const all: Package[] = [];
  for (const r of dbResults) {
    const packages: Package[] = [];
    for (const p of r.packages ?? []) {
      const id = packageIdentity(p);
      if (seen.has(id)) continue;
      seen.add(id);
      const q: Package = { ...p };
      const files: string[] = [];
      for (const owner of p.arch ? [`${p.name}:${p.arch}`, p.name] : [p.name]) {
        const paths = owned.get(owner);
        if (paths) {
          files.push(...paths);
          usedOwners.add(owner);
        }
      }
      if (files.length > 0) q.files = [...new Set(files)];
      const own = licensesByDoc.get(p.name);
      if (own) q.licenses = [...own];
      packages.push(q);
      all.push(q);
    }
    out.set(r, { ...r, packages });
  }
  // Licences through the source package, for packages whose doc directory is a symlink.
  const bySource = new Map<string, string[]>();
  const bySourceName = new Map<string, string[]>();
  for (const p of all) {
    if (!p.licenses || !p.source) continue;
    const key = `${p.source.name}\0${p.source.version ?? ""}`;
    if (!bySource.has(key)) bySource.set(key, p.licenses);
    if (!bySourceName.has(p.source.name)) bySourceName.set(p.source.name, p.licenses);
  }
  for (const p of all) {
    if (p.licenses || !p.source) continue;
    const l = bySource.get(`${p.source.name}\0${p.source.version ?? ""}`) ?? bySourceName.get(p.source.name);
    if (l) p.licenses = [...l];
  }

  const anyPackages = all.length > 0;
  const reconciled: FileResult[] = [];
  for (const r of results) {
    const done = out.get(r);
    if (done) {
      reconciled.push(done);
      continue;
    }
    const k = kindOf(r.path)?.kind;
    if (k === "copyright" || ((k === "list" || k === "md5sums") && anyPackages)) {
      const keep = k !== "copyright" && r.ownedFiles !== undefined && usedOwners.has(r.ownedFiles.owner);
      if (keep) reconciled.push(r);
      else if (r.warnings && r.warnings.length > 0) {
        const { copyright: _consumed, ownedFiles: _orphan, ...rest } = r;
        reconciled.push(rest);
      }
      continue;
    }
    reconciled.push(r);
  }
  return reconciled;
}
