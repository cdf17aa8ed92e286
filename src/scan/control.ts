/**
 * What the API asks of scan orchestration. The console's routes depend only on this interface; the
 * orchestrator (src/scan/orchestrator.ts) implements it over the store, the providers and the
 * Defender pool.
 */
import type { ImageTag, RegistryScanProgress, RegistrySpecification, ScanStatus } from "../api/schemas.js";

/** A request the API must refuse with 400 and this message (e.g. a regular scan already running). */
export class ScanRequestError extends Error {}

export interface OnDemandTarget {
  registry?: string | undefined;
  repo: string;
  tag?: string | undefined;
  digest?: string | undefined;
}

export interface ScanControl {
  /** Starts a regular scan of every specification (or of `specIds` for a selective scan). */
  startRegularScan(options?: { specIds?: string[] }): Promise<void>;
  /** Rescans one image of a specification's scope within the regular flow (spec 4.1 mode 2). */
  rescanImage(tag: ImageTag): Promise<void>;
  /** Starts an on-demand scan of one image in a specification's scope (spec 6.9). */
  startOnDemandScan(target: OnDemandTarget): Promise<void>;
  /** Resolves specifications given by value (POST /registry/scan/select) to stored spec ids. */
  selectSpecs(settings: RegistrySpecification[]): Promise<string[]>;
  /** Stops the regular scan (all specs) or one spec's part of it. */
  stop(specId?: string): Promise<void>;
  regularProgress(): Promise<RegistryScanProgress[]>;
  /** On-demand progress with the one-shot completion rule (spec 4.5). */
  onDemandProgress(target: OnDemandTarget): Promise<RegistryScanProgress[]>;
  status(): Promise<ScanStatus>;
}
