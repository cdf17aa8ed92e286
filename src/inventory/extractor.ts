/**
 * The extractor plug-in interface (modelled on osv-scalibr's filesystem extractors): an extractor
 * names the files it wants and turns one file into packages or OS facts. It never walks layers or
 * opens archives itself; the analyzer hands it exactly the files it asked for, each read once.
 */
import type { OsRelease, Package } from "./types.js";

export interface FileInfo {
  /** Path inside the image, normalised, without leading slash: "var/lib/dpkg/status". */
  path: string;
  size: number;
  /** Unix permission bits and type bits as in the tar header. */
  mode: number;
}

export interface ExtractorFile extends FileInfo {
  content: Buffer;
}

export interface ExtractorResult {
  packages?: Package[] | undefined;
  os?: OsRelease | undefined;
  /** Files owned by OS packages (dpkg `.list` files): language packages inside them are not reported again. */
  ownedFiles?: { owner: string; paths: string[] } | undefined;
  warnings?: string[] | undefined;
}

/** One file's extraction result, as stored in the layer cache. */
export interface FileResult extends ExtractorResult {
  extractor: string;
  path: string;
}

export interface Extractor {
  /** Stable name; part of the layer cache key together with `version`. */
  readonly name: string;
  /** Bump when output changes, so cached layers that this extractor touched are analysed again. */
  readonly version: number;
  /** The specification or format documentation this extractor implements. */
  readonly spec: string;
  /** Largest file it reads; larger files are skipped with a warning (defence against huge files). */
  readonly maxFileBytes: number;
  /** Whether to read this file. Called for every regular file of every layer: keep it cheap. */
  wants(file: FileInfo): boolean;
  extract(file: ExtractorFile): ExtractorResult | Promise<ExtractorResult>;
  /**
   * Optional image-level step over this extractor's surviving results (after whiteouts and
   * upper-layer overrides), e.g. npm preferring installed packages over lock-file entries.
   */
  reconcile?(results: FileResult[]): FileResult[];
  /**
   * Optional: complete this extractor's packages with image-level facts once the OS is known
   * (OS package purls carry the distribution as namespace and `distro` qualifier).
   */
  finalize?(pkg: Package, os: OsRelease | undefined): Package;
  /** Optional: the OS implied by this extractor's packages when no release file names it (distroless). */
  inferOs?(packages: Package[]): OsRelease | undefined;
}
