/**
 * Progress of registry scans in the wire shape of GET /registry/progress (spec 4.5, 7.7): the title
 * templates reproduced literally, counters taken from the run's work records.
 *
 * The nested Progress objects carry `id` and `type` as "" and `discovery: false`, as every vendor
 * example does (even mid-discovery); `hostname` and `scanTime` are not populated (spec 4.5).
 */
import type { Progress, RegistryScanProgress } from "../api/schemas.js";
import type { SpecProgressCounts } from "../store/console-store.js";

/** The regular scan's step 1/2 title; "Defenders" stays plural even for one (spec 4.5). */
export function regularDiscoveryTitle(
  registry: string,
  scanned: number,
  total: number,
  defenders: number,
): string {
  return `Step 1/2 discovering tags in registry ${registry}: Discovered tags in ${scanned}/${total} repositories with ${defenders} Defenders`;
}

/** The regular scan's step 2/2 title; "Defender" stays singular even for several (spec 4.5). */
export function regularImageScanTitle(
  registry: string,
  scanned: number,
  total: number,
  defenders: number,
): string {
  return `Step 2/2 scanning images in registry ${registry}: Scanned ${scanned}/${total} images with ${defenders} Defender`;
}

export function onDemandDiscoveryTitle(repo: string, tag: string): string {
  return `Step 1/2 discovering tags in repository: ${repo}, tag: ${tag}`;
}

export function onDemandImageScanTitle(repo: string, tag: string): string {
  return `Step 2/2 scanning images in repository: ${repo}, tag: ${tag}`;
}

/** `onDemand` is left out: the vendor's on-demand example does not carry it either. */
function step(total: number, scanned: number, title: string): Progress {
  return { id: "", type: "", discovery: false, total, scanned, title };
}

/** Counts of a spec with no work records yet (its repositories are still being listed). */
export function emptyCounts(specId: string): SpecProgressCounts {
  return {
    specId,
    reposTotal: 0,
    reposDone: 0,
    imagesTotal: 0,
    imagesFinished: 0,
    imagesSucceeded: 0,
    imagesFailed: 0,
  };
}

export interface RegularSpecProgressInput {
  /** Registry host as shown in the titles. */
  registry: string;
  counts: SpecProgressCounts;
  /** The spec's `scanners` (N Defenders). */
  defenders: number;
  /** When this spec's part of the scan started (ISO date-time). */
  startedAt: string;
}

/** One element of the regular progress array: a specification being scanned. */
export function regularSpecProgress(input: RegularSpecProgressInput): RegistryScanProgress {
  const { registry, counts, defenders } = input;
  return {
    discovery: step(
      counts.reposTotal,
      counts.reposDone,
      regularDiscoveryTitle(registry, counts.reposDone, counts.reposTotal, defenders),
    ),
    imageScan: step(
      counts.imagesTotal,
      counts.imagesFinished,
      regularImageScanTitle(registry, counts.imagesFinished, counts.imagesTotal, defenders),
    ),
    isScanOngoing: true,
    specScanStartTime: input.startedAt,
  };
}

export interface OnDemandProgressInput {
  repo: string;
  /** The tag, or the digest when the scan named the image by digest. */
  tag: string;
  counts: SpecProgressCounts;
  ongoing: boolean;
  startedAt: string;
  error?: string | undefined;
}

/** The one element of an on-demand progress answer (spec 4.5, second example). */
export function onDemandScanProgress(input: OnDemandProgressInput): RegistryScanProgress {
  const { repo, tag, counts } = input;
  const imageScan = step(counts.imagesTotal, counts.imagesFinished, onDemandImageScanTitle(repo, tag));
  if (input.error !== undefined) imageScan.error = input.error;
  return {
    discovery: step(counts.reposTotal, counts.reposDone, onDemandDiscoveryTitle(repo, tag)),
    imageScan,
    isScanOngoing: input.ongoing,
    specScanStartTime: input.startedAt,
  };
}
