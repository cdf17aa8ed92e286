/**
 * What one Defender does with one image of a registry scan (spec 6.2 steps 4–5): pull and inventory
 * it, store the inventory, match it against the current vulnerability database, render the
 * ImageScanResult and upsert it under the image's key (`<registry>/<repo>:<tag>`, idempotent).
 *
 * An image whose manifest digest already has a result against the same database build is not pulled
 * again (spec 6.2 step 4): only its manifest and config are read, its stored inventory is matched
 * again (the same findings, since the build is the same) and rendered under this image's key with a
 * fresh scanTime, so reused and pulled results render alike. Two images of one digest scanned at
 * once share one scan (`DigestSingleFlight`), so a digest is inventoried once per build.
 */
import type { ImageConfig } from "../image/config.js";
import { openRegistryImage } from "../image/sources/registry.js";
import type { Analyzer } from "../inventory/analyzer.js";
import type { ImageIdentity, ImageInventory } from "../inventory/types.js";
import { matchInventory } from "../match/matcher.js";
import type { RegistryClient } from "../registry/client.js";
import { buildImageScanResult, failedImageScanResult } from "../report/prisma-result.js";
import type { ConsoleStore, ImageResultRecord } from "../store/console-store.js";
import type { InventoryStore } from "../store/inventories.js";
import type { VulnerabilityDatabase } from "../vulndb/database.js";

/** Everything shared by the images of a scan. */
export interface ImageScanContext {
  store: ConsoleStore;
  /** One Analyzer for every Defender: it pulls a layer digest once even when requested at once. */
  analyzer: Analyzer;
  inventories: InventoryStore;
  /** extractorSignature() of the Analyzer's extractors: a stored inventory of another set is stale. */
  extractors: string;
  database: VulnerabilityDatabase;
  hostname: string;
  scanVersion: string;
  singleFlight: DigestSingleFlight;
}

/** One image to scan, with its spec's context. */
export interface ImageScanJob {
  client: RegistryClient;
  /** The registry host of result ids ("127.0.0.1:5000"). */
  registry: string;
  repository: string;
  tag: string;
  /** Pull by this digest instead of the tag (an on-demand scan by digest). */
  digest?: string | undefined;
  /** Manifest digest known from discovery (kept on a failed result). */
  knownDigest?: string | undefined;
  pushedAt?: Date | undefined;
  imageKey: string;
  specId: string;
  registryType: string;
  collections: string[];
  platform?: { os: string; architecture: string } | undefined;
  scanId: number;
  scanTime: Date;
  signal?: AbortSignal | undefined;
}

export interface ImageScanOutcome {
  record: ImageResultRecord;
  /** True when the image was analysed; false when a stored inventory of its digest was reused. */
  pulled: boolean;
}

/** Concurrent scans of one manifest digest share the first one's work. */
export class DigestSingleFlight {
  private readonly inflight = new Map<string, Promise<unknown>>();

  /** Runs `work` unless a scan of `digest` is in flight, in which case it waits for that one first. */
  async run<T>(digest: string, work: () => Promise<T>): Promise<T> {
    for (let running = this.inflight.get(digest); running; running = this.inflight.get(digest)) {
      await running.catch(() => {});
    }
    const pending = work().finally(() => this.inflight.delete(digest));
    this.inflight.set(digest, pending);
    return pending;
  }
}

function databaseBuild(database: VulnerabilityDatabase): string {
  return database.builtAt() ?? "";
}

/** A stored inventory of `digest`, when a result against the current build says it needs no pull. */
async function reusableInventory(
  context: ImageScanContext,
  digest: string,
): Promise<{ identity: ImageIdentity; inventory: ImageInventory } | undefined> {
  const previous = await context.store.findResultByDigest(digest, databaseBuild(context.database));
  if (!previous) return undefined;
  const stored = await context.inventories.get(digest);
  if (!stored || stored.extractors !== context.extractors) return undefined;
  return stored;
}

async function record(
  context: ImageScanContext,
  job: ImageScanJob,
  identity: ImageIdentity,
  config: ImageConfig,
  inventory: ImageInventory,
): Promise<ImageResultRecord> {
  const named: ImageIdentity = {
    ...identity,
    name: `${job.registry}/${job.repository}:${job.tag}`,
    registry: job.registry,
    repository: job.repository,
    tag: job.tag,
  };
  const { findings, warnings } = matchInventory(inventory, context.database);
  const previous = await context.store.getResult(job.imageKey);
  const firstScanTime = previous ? new Date(previous.firstScanTime) : job.scanTime;
  const result = buildImageScanResult({
    identity: named,
    config,
    inventory,
    findings,
    warnings,
    repoTag: { registry: job.registry, repo: job.repository, tag: job.tag },
    registryType: job.registryType,
    collections: job.collections,
    hostname: context.hostname,
    scanTime: job.scanTime,
    firstScanTime,
    ...(job.pushedAt ? { pushTime: job.pushedAt } : {}),
    scanId: job.scanId,
    scanVersion: context.scanVersion,
  });
  const stored: ImageResultRecord = {
    id: job.imageKey,
    imageId: result.id,
    digest: identity.digest,
    registry: job.registry,
    repository: job.repository,
    tag: job.tag,
    specId: job.specId,
    scanTime: job.scanTime.toISOString(),
    firstScanTime: firstScanTime.toISOString(),
    vulnerabilityRiskScore: result.vulnerabilityRiskScore,
    vulnerabilitiesCount: result.vulnerabilitiesCount,
    databaseBuiltAt: databaseBuild(context.database),
    result: result as unknown as Record<string, unknown>,
  };
  await context.store.upsertResult(stored);
  return stored;
}

/** Scans one image and upserts its result; rejects (nothing upserted) when it cannot be scanned. */
export async function scanImage(context: ImageScanContext, job: ImageScanJob): Promise<ImageScanOutcome> {
  const { signal } = job;
  // The source is not closed afterwards: its close() would close the session's shared client.
  const source = await openRegistryImage(
    job.client,
    { registry: job.registry, repository: job.repository, tag: job.tag, digest: job.digest },
    { name: job.imageKey, platform: job.platform, signal },
  );
  const digest = source.identity.digest;
  return context.singleFlight.run(digest, async () => {
    const stored = await reusableInventory(context, digest);
    if (stored) {
      return {
        record: await record(context, job, stored.identity, source.config, stored.inventory),
        pulled: false,
      };
    }
    const { inventory } = await context.analyzer.analyze(source, signal);
    await context.inventories.put(source.identity, inventory, context.extractors);
    return { record: await record(context, job, source.identity, source.config, inventory), pulled: true };
  });
}

/** Upserts the result of an image that could not be scanned after its retries (spec 6.2 step 5). */
export async function recordFailedImage(
  context: Pick<ImageScanContext, "store" | "hostname" | "scanVersion" | "database">,
  job: ImageScanJob,
  error: string,
): Promise<void> {
  const previous = await context.store.getResult(job.imageKey);
  const firstScanTime = previous ? new Date(previous.firstScanTime) : job.scanTime;
  const result = failedImageScanResult({
    repoTag: { registry: job.registry, repo: job.repository, tag: job.tag },
    registryType: job.registryType,
    collections: job.collections,
    hostname: context.hostname,
    scanTime: job.scanTime,
    firstScanTime,
    scanId: job.scanId,
    scanVersion: context.scanVersion,
    error,
  });
  await context.store.upsertResult({
    id: job.imageKey,
    imageId: "",
    digest: job.knownDigest ?? job.digest ?? "",
    registry: job.registry,
    repository: job.repository,
    tag: job.tag,
    specId: job.specId,
    scanTime: job.scanTime.toISOString(),
    firstScanTime: firstScanTime.toISOString(),
    vulnerabilityRiskScore: 0,
    vulnerabilitiesCount: 0,
    // A failed result must never satisfy the no-pull check of a later scan.
    databaseBuiltAt: "",
    result: result as unknown as Record<string, unknown>,
  });
}
