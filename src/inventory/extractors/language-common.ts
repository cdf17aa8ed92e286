/**
 * Helpers shared by the language-ecosystem extractors (npm, python, ruby, php, cargo, dotnet):
 * purl construction, defensive JSON decoding, bounded package collection and cheap path tests.
 * Nothing here knows any one file format.
 */
import { PackageURL } from "packageurl-js";
import type { ExtractorFile, ExtractorResult, FileResult } from "../extractor.js";
import type { Ecosystem, Package } from "../types.js";

/** Upper bound of packages reported from one file; a lock file past it is garbage or an attack. */
export const MAX_PACKAGES_PER_FILE = 100_000;

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A non-empty trimmed string, or undefined. */
export function str(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

/**
 * Runs one extractor's reader on a file; an exception thrown while reading becomes a warning naming
 * the file (and no packages) instead of failing the scan.
 */
export function guardedExtract(
  file: ExtractorFile,
  read: (file: ExtractorFile) => ExtractorResult,
): ExtractorResult {
  try {
    return read(file);
  } catch (err) {
    return { packages: [], warnings: [`${file.path}: ${errorMessage(err)}`] };
  }
}

/**
 * An Extractor's `extract` for an ecosystem whose files are told apart by path: `classify` names the
 * kind of file and `readers` holds the reader of each kind. A path of no kind gives no packages; the
 * reader runs under guardedExtract.
 */
export function extractByKind<K extends string>(
  classify: (path: string) => K | undefined,
  readers: Record<K, (file: ExtractorFile, kind: K) => ExtractorResult>,
): (file: ExtractorFile) => ExtractorResult {
  return (file) =>
    guardedExtract(file, (f) => {
      const kind = classify(f.path);
      return kind ? readers[kind](f, kind) : { packages: [] };
    });
}

/** Decodes a JSON file; a syntax error becomes a warning naming the file. A leading BOM is tolerated. */
export function parseJson(content: Buffer, path: string): { value: unknown } | { warning: string } {
  let text = content.toString("utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return { warning: `${path}: invalid JSON: ${errorMessage(err)}` };
  }
}

/** The directory part of a normalised path ("" for a file at the image root). */
export function dirname(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Whether `segment` (one or more whole path components, e.g. "node_modules") occurs in `path`. */
export function hasSegment(path: string, segment: string): boolean {
  return path.startsWith(`${segment}/`) || path.includes(`/${segment}/`) || path === segment;
}

/** Joins a directory (possibly "") and a relative path. */
export function joinPath(dir: string, rel: string): string {
  if (dir === "") return rel;
  if (rel === "") return dir;
  return `${dir}/${rel}`;
}

export interface PackageDraft {
  name: string;
  version: string;
  namespace?: string | undefined;
  /** Package.name when it differs from the purl's namespace/name (e.g. a PyPI name before PEP 503). */
  displayName?: string | undefined;
  qualifiers?: Record<string, string> | undefined;
  licenses?: string[] | undefined;
  arch?: string | undefined;
  properties?: Record<string, string> | undefined;
}

/**
 * Collects the packages of one file: builds each purl with PackageURL, turns purl errors into
 * warnings and stops (with one warning) at MAX_PACKAGES_PER_FILE.
 */
export class PackageSink {
  readonly packages: Package[] = [];
  readonly warnings: string[] = [];
  private truncated = false;

  constructor(
    private readonly ecosystem: Ecosystem,
    private readonly location: string,
    private readonly limit = MAX_PACKAGES_PER_FILE,
  ) {}

  /** False once the limit is reached, so callers can stop iterating. */
  get open(): boolean {
    return !this.truncated;
  }

  add(draft: PackageDraft): void {
    if (this.truncated) return;
    if (this.packages.length >= this.limit) {
      this.truncated = true;
      this.warnings.push(`${this.location}: more than ${this.limit} packages; the rest are ignored`);
      return;
    }
    let purl: string;
    try {
      purl = new PackageURL(
        this.ecosystem,
        draft.namespace,
        draft.name,
        draft.version,
        draft.qualifiers,
        undefined,
      ).toString();
    } catch (err) {
      this.warn(`cannot build a purl for ${draft.name}@${draft.version}: ${errorMessage(err)}`);
      return;
    }
    const fullName = draft.displayName ?? (draft.namespace ? `${draft.namespace}/${draft.name}` : draft.name);
    const pkg: Package = {
      ecosystem: this.ecosystem,
      name: fullName,
      version: draft.version,
      purl,
      location: this.location,
    };
    if (draft.arch) pkg.arch = draft.arch;
    if (draft.licenses && draft.licenses.length > 0) pkg.licenses = draft.licenses;
    if (draft.properties && Object.keys(draft.properties).length > 0) pkg.properties = draft.properties;
    this.packages.push(pkg);
  }

  warn(message: string): void {
    // Bound the warnings too: a garbled file must not produce one warning per line.
    if (this.warnings.length < 20) this.warnings.push(`${this.location}: ${message}`);
    else if (this.warnings.length === 20) this.warnings.push(`${this.location}: further warnings suppressed`);
  }

  result(): { packages: Package[]; warnings?: string[] } {
    return this.warnings.length > 0
      ? { packages: this.packages, warnings: this.warnings }
      : { packages: this.packages };
  }
}

/** De-duplicated, non-empty license strings in their first order. */
export function uniqueLicenses(values: Iterable<string | undefined>): string[] {
  const out: string[] = [];
  for (const v of values) {
    const t = v?.trim();
    if (t && !out.includes(t)) out.push(t);
  }
  return out;
}

/**
 * Replaces the packages of the given results with none (keeping their warnings), so an image-level
 * reconcile step can drop lock-file entries without losing what went wrong while reading them.
 */
export function withoutPackages(result: FileResult, keep: (pkg: Package) => boolean): FileResult {
  const packages = (result.packages ?? []).filter(keep);
  return { ...result, packages };
}

/**
 * The reconcile step of an ecosystem whose lock files cannot be tied to one install folder: every
 * package a lock file lists under a name (by `key`) that some installed-metadata file in the image
 * also reports is dropped from the lock file; lock entries for names not installed are kept.
 */
export function dropInstalledFromLocks(
  results: FileResult[],
  isInstalled: (path: string) => boolean,
  isLock: (path: string) => boolean,
  key: (pkg: Package) => string,
): FileResult[] {
  const installed = new Set<string>();
  for (const r of results) {
    if (!isInstalled(r.path)) continue;
    for (const p of r.packages ?? []) installed.add(key(p));
  }
  if (installed.size === 0) return results;
  return results.map((r) => (isLock(r.path) ? withoutPackages(r, (p) => !installed.has(key(p))) : r));
}
