/**
 * Scan orchestration (spec 4.1–4.7, 6.1–6.9): the regular scan of every registry specification (or
 * a selection), the single-image regular rescan, on-demand scans, stop, progress and status, over the
 * console store, the registry providers and the in-process Defender pool.
 *
 * - One regular scan at a time; specifications are walked in stored order, `parallelSpecs` at once
 *   (spec 6.8), each by its own pool of `scanners` Defenders for tag discovery and image scans.
 * - Work is recorded as it happens (repository and image work records of the run), so progress and
 *   results come from the same rows, and a crashed run is found `running` at the next start and
 *   marked interrupted (`init()`).
 * - A failing image is retried with backoff, then recorded failed (a failed result and a run error);
 *   a failing repository or specification is recorded and the walk goes on. A regular run where
 *   errors left nothing scanned ends `failed`, never as a silent success.
 * - Stop aborts one AbortSignal per run and per specification; pulls in flight see it and end at once.
 * - On-demand scans run beside the regular scan, are not stoppable, and their final progress is
 *   answered once (spec 4.5 one-shot rule). Their state lives in this process: after a restart an
 *   on-demand progress query answers `[]`.
 *
 * Choices where the spec guesses: idle regular progress is `[]` (spec 4.5 allows `[]` or an
 * `isScanOngoing: false` element; `[]` keeps "one element per specification being scanned" exact);
 * `status().scanTime` is the end of the latest finished regular run; a specification without `cap`
 * keeps 5 tags per repository (the vendor's UI default, spec 6.4).
 */
import type { ImageTag, RegistryScanProgress, RegistrySpecification, ScanStatus } from "../api/schemas.js";
import { ZERO_TIME } from "../api/schemas.js";
import { version } from "../cli/version.js";
import { Analyzer } from "../inventory/analyzer.js";
import type { Extractor } from "../inventory/extractor.js";
import { allExtractors } from "../inventory/extractors/index.js";
import { defaultWalkerThreads } from "../inventory/layer-walkers.js";
import { hubRepositoryPattern } from "../registry/providers/dockerhub.js";
import { providerFor } from "../registry/providers/index.js";
import type { ProviderSession, ResolvedCredential } from "../registry/providers/provider.js";
import type { ConsoleStore, ScanImageRecord, ScanRun, StoredSpec } from "../store/console-store.js";
import { extractorSignature, InventoryStore } from "../store/inventories.js";
import { LayerCache } from "../store/layer-cache.js";
import type { Store } from "../store/store.js";
import type { VulnerabilityDatabase } from "../vulndb/database.js";
import { type OnDemandTarget, type ScanControl, ScanRequestError } from "./control.js";
import {
  DEFAULT_IMAGE_RETRY,
  DefenderPool,
  defenderPlatform,
  defendersFor,
  type ImageRetryPolicy,
  NO_DEFENDER,
  withRetries,
} from "./defender-pool.js";
import {
  DigestSingleFlight,
  type ImageScanContext,
  type ImageScanJob,
  recordFailedImage,
  scanImage,
} from "./image-scan.js";
import { compileExclusions, compilePattern, selectByPatterns } from "./patterns.js";
import { emptyCounts, onDemandScanProgress, regularSpecProgress } from "./progress.js";
import { selectTags } from "./tag-selection.js";

export const SCAN_IN_PROGRESS = "registry scan is already in progress";
/** Tags kept per repository when a specification has no `cap` (spec 6.4: the UI default). */
export const DEFAULT_CAP = 5;
const STATUS_ERRORS = 10;
const INTERRUPTED = "Registry scan was interrupted by a console restart";

export interface OrchestratorOptions {
  store: ConsoleStore;
  /** The layer cache and stored inventories. */
  cacheStore: Store;
  /** The current vulnerability database (swapped by a database update; read once per image). */
  database: () => VulnerabilityDatabase;
  /** Decrypts a stored credential for one use. */
  resolveCredential: (id: string) => Promise<ResolvedCredential | undefined>;
  /** This console's host name (ScanStatus.hostname, results' hostname). */
  hostname: string;
  /** Specifications scanned at once in a regular scan (spec 6.8), default 1. */
  parallelSpecs?: number;
  retry?: Partial<ImageRetryPolicy>;
  now?: () => Date;
  extractors?: readonly Extractor[];
}

/** A specification's part of a run. */
interface SpecRun {
  spec: StoredSpec;
  controller: AbortController;
  state: "queued" | "scanning" | "done";
  startedAt: string;
  /** Registry host as titles and result ids show it (the session's, once connected). */
  registry: string;
  defenders: DefenderPool;
  /** The latest error of this specification in the run (its scanError). */
  lastError?: string | undefined;
  failures: number;
  /** Resolves once this specification's part has ended (or it was dequeued). */
  ended: Promise<void>;
  end: () => void;
}

/** How a specification's images are found: the full discovery, or one named image. */
type Discovery = (
  run: ScanRun,
  specRun: SpecRun,
  session: ProviderSession,
  signal: AbortSignal,
) => Promise<void>;

interface RegularRun {
  run: ScanRun;
  controller: AbortController;
  specs: Map<string, SpecRun>;
  done: Promise<ScanRun>;
}

interface OnDemandScan {
  registry: string | undefined;
  repo: string;
  tag: string | undefined;
  digest: string | undefined;
  runId: number;
  startedAt: string;
  ongoing: boolean;
  /** The final progress has been answered once (spec 4.5 one-shot rule). */
  reported: boolean;
  error?: string | undefined;
  done: Promise<void>;
}

/** "docker.io" for Docker Hub spellings; otherwise host[:port][/path], lower case, scheme dropped. */
export function normalizeRegistry(registry: string | undefined): string {
  const bare = (registry ?? "")
    .trim()
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/\/+$/, "")
    .toLowerCase();
  return bare === "" || bare === "index.docker.io" || bare === "registry-1.docker.io" ? "docker.io" : bare;
}

/**
 * A specification's repository patterns in the names its registry lists: on Docker Hub a name
 * without a namespace is an official image under library/ (spec 6.6).
 */
function repositoryPatterns(spec: RegistrySpecification): {
  include: string | undefined;
  exclude: string[] | undefined;
} {
  if (spec.version !== "2" || normalizeRegistry(spec.registry) !== "docker.io") {
    return { include: spec.repository, exclude: spec.excludedRepositories };
  }
  return {
    include: hubRepositoryPattern(spec.repository),
    exclude: spec.excludedRepositories?.map(hubRepositoryPattern),
  };
}

/** Whether an image lies in a specification's scope (spec 4.1 rules, 6.6 patterns). */
export function inScope(spec: RegistrySpecification, target: OnDemandTarget): boolean {
  if (normalizeRegistry(spec.registry) !== normalizeRegistry(target.registry)) return false;
  const patterns = repositoryPatterns(spec);
  if (!compilePattern(patterns.include)(target.repo) || compileExclusions(patterns.exclude)(target.repo))
    return false;
  if (target.tag === undefined || target.tag === "") return true;
  return compilePattern(spec.tag)(target.tag) && !compileExclusions(spec.excludedTags)(target.tag);
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class Orchestrator implements ScanControl {
  private readonly store: ConsoleStore;
  private readonly now: () => Date;
  private readonly retry: ImageRetryPolicy;
  private readonly parallelSpecs: number;
  private readonly analyzer: Analyzer;
  private readonly inventories: InventoryStore;
  private readonly extractors: string;
  private readonly singleFlight = new DigestSingleFlight();
  /** Aborted by close(): ends on-demand scans too. */
  private readonly lifetime = new AbortController();
  private regular: RegularRun | "starting" | undefined;
  /** A stop of the whole regular scan that came while it was starting: applied once it has started. */
  private stopWhileStarting = false;
  private readonly onDemand = new Map<string, OnDemandScan>();
  private readonly finishedListeners = new Set<(run: ScanRun) => void | Promise<void>>();

  constructor(private readonly options: OrchestratorOptions) {
    this.store = options.store;
    this.now = options.now ?? (() => new Date());
    this.retry = { ...DEFAULT_IMAGE_RETRY, ...options.retry };
    this.parallelSpecs = Math.max(1, options.parallelSpecs ?? 1);
    const extractors = [...(options.extractors ?? allExtractors)];
    this.analyzer = new Analyzer({
      extractors,
      cache: new LayerCache(options.cacheStore),
      walkerThreads: defaultWalkerThreads(),
    });
    this.inventories = new InventoryStore(options.cacheStore);
    this.extractors = extractorSignature(extractors);
  }

  /**
   * Marks runs a crashed process left `running` as interrupted, with a run error, and the status of
   * their specifications failed. Call once before the first scan.
   */
  async init(): Promise<ScanRun[]> {
    const at = this.timestamp();
    const interrupted = await this.store.interruptRunningRuns(at);
    for (const run of interrupted) {
      await this.store.addRunError(run.id, INTERRUPTED, at);
      if (run.kind !== "regular") continue;
      for (const specId of run.specIds) {
        const spec = await this.store.getSpec(specId);
        if (spec?.scanStatus === "scanning" || spec?.scanStatus === "queued") {
          await this.store.updateSpecStatus(specId, {
            scanStatus: "failed",
            lastScanStatus: "failed",
            lastScanTime: at,
            scanError: INTERRUPTED,
          });
        }
      }
    }
    return interrupted;
  }

  isRegularScanRunning(): boolean {
    return this.regular !== undefined;
  }

  /** Calls `listener` with every regular run once it has finished (the scheduler purges then). */
  onRegularScanFinished(listener: (run: ScanRun) => void | Promise<void>): () => void {
    this.finishedListeners.add(listener);
    return () => this.finishedListeners.delete(listener);
  }

  /** The running regular scan's end (its finished run), or undefined when none runs. */
  async waitForRegularScan(): Promise<ScanRun | undefined> {
    const active = this.regular;
    return typeof active === "object" ? active.done : undefined;
  }

  /** Resolves once every on-demand scan started so far has finished. */
  async waitForOnDemandScans(): Promise<void> {
    await Promise.all([...this.onDemand.values()].map((scan) => scan.done));
  }

  /** Stops every scan (regular and on-demand) and waits for them to end: the console's shutdown. */
  async close(): Promise<void> {
    this.lifetime.abort();
    await Promise.all([this.stop(), this.waitForOnDemandScans()]);
  }

  async startRegularScan(options: { specIds?: string[] } = {}): Promise<void> {
    await this.beginRegular(async () => {
      const all = await this.store.listSpecs();
      if (!options.specIds) return { specs: all, selective: false };
      for (const id of options.specIds) {
        if (!all.some((spec) => spec.id === id))
          throw new ScanRequestError(`registry specification ${id} not found`);
      }
      return { specs: all.filter((spec) => options.specIds?.includes(spec.id)), selective: true };
    }, this.discoverRegistry);
  }

  async rescanImage(tag: ImageTag): Promise<void> {
    const target = this.target(tag);
    const spec = await this.specFor(target);
    await this.beginRegular(
      async () => ({ specs: [spec], selective: true }),
      (run, specRun, session) => this.discoverOne(run, specRun, session, target),
    );
  }

  async selectSpecs(settings: RegistrySpecification[]): Promise<string[]> {
    const specs = await this.store.listSpecs();
    return settings.map((wanted) => {
      const found = wanted.id
        ? specs.find((spec) => spec.id === wanted.id)
        : specs.find(
            (spec) =>
              spec.version === wanted.version &&
              normalizeRegistry(spec.registry) === normalizeRegistry(wanted.registry) &&
              (spec.namespace ?? "") === (wanted.namespace ?? "") &&
              (spec.repository ?? "") === (wanted.repository ?? ""),
          );
      if (!found) {
        const named = wanted.id ?? `${wanted.registry ?? ""} ${wanted.repository ?? ""}`.trim();
        throw new ScanRequestError(
          named === ""
            ? "a scan selection needs the specification's registry (and repository) or id"
            : `registry specification ${named} not found`,
        );
      }
      return found.id;
    });
  }

  async stop(specId?: string): Promise<void> {
    const active = this.regular;
    if (active === "starting" && specId === undefined) this.stopWhileStarting = true;
    if (typeof active !== "object") return;
    if (specId === undefined) {
      active.controller.abort();
      await active.done;
      return;
    }
    const specRun = active.specs.get(specId);
    if (!specRun || specRun.state === "done") return;
    if (specRun.state === "queued") {
      await this.dequeue(specRun);
      return;
    }
    specRun.controller.abort();
    await specRun.ended;
  }

  async regularProgress(): Promise<RegistryScanProgress[]> {
    const active = this.regular;
    if (typeof active !== "object") return [];
    const scanning = [...active.specs.values()].filter((specRun) => specRun.state === "scanning");
    if (scanning.length === 0) return [];
    const counts = await this.store.progressCounts(active.run.id);
    return scanning.map((specRun) =>
      regularSpecProgress({
        registry: specRun.registry,
        counts: counts.find((c) => c.specId === specRun.spec.id) ?? emptyCounts(specRun.spec.id),
        defenders: specRun.defenders.size,
        startedAt: specRun.startedAt,
      }),
    );
  }

  async startOnDemandScan(target: OnDemandTarget): Promise<void> {
    const wanted = this.target(target);
    const spec = await this.specFor(wanted);
    const key = this.onDemandKey(wanted);
    if (this.onDemand.get(key)?.ongoing) return;
    const startedAt = this.timestamp();
    const run = await this.store.createRun({
      kind: "onDemand",
      state: "running",
      specIds: [spec.id],
      selective: true,
      hostname: this.options.hostname,
      startedAt,
    });
    const scan: OnDemandScan = {
      registry: wanted.registry,
      repo: wanted.repo,
      tag: wanted.tag,
      digest: wanted.digest,
      runId: run.id,
      startedAt,
      ongoing: true,
      reported: false,
      done: Promise.resolve(),
    };
    this.onDemand.set(key, scan);
    const specRun = this.specRun(spec, this.lifetime.signal, startedAt);
    // Never rejects: nobody awaits an on-demand scan started through the API.
    scan.done = (async () => {
      try {
        await this.scanSpec(run, specRun, (r, s, session) => this.discoverOne(r, s, session, wanted), false);
      } catch (error) {
        specRun.failures++;
        specRun.lastError = `Failed to scan image: ${reasonOf(error)}`;
      }
      const succeeded = specRun.failures === 0 && !this.lifetime.signal.aborted;
      scan.error = specRun.lastError;
      await this.store
        .finishRun(run.id, succeeded ? "completed" : "failed", this.timestamp())
        .catch(() => {});
      scan.ongoing = false;
    })();
  }

  async onDemandProgress(target: OnDemandTarget): Promise<RegistryScanProgress[]> {
    const wanted = this.target(target);
    const scan = [...this.onDemand.values()]
      .filter(
        (s) =>
          s.repo === wanted.repo &&
          (wanted.tag ? s.tag === wanted.tag : s.digest === wanted.digest) &&
          (wanted.registry === undefined ||
            normalizeRegistry(s.registry) === normalizeRegistry(wanted.registry)),
      )
      .at(-1);
    if (!scan || scan.reported) return [];
    const ongoing = scan.ongoing;
    // Read before the flag is set, so two concurrent calls cannot both see the final answer.
    if (!ongoing) scan.reported = true;
    const counts = (await this.store.progressCounts(scan.runId))[0] ?? emptyCounts("");
    return [
      onDemandScanProgress({
        repo: scan.repo,
        tag: scan.tag ?? scan.digest ?? "",
        counts,
        ongoing,
        startedAt: scan.startedAt,
        error: scan.error,
      }),
    ];
  }

  async status(): Promise<ScanStatus> {
    const latest = await this.store.latestRun("regular");
    const finished = await this.store.latestFinishedRegularRun();
    const scanning = this.regular !== undefined;
    return {
      completed: !scanning,
      scanning,
      scanTime: finished?.finishedAt ?? ZERO_TIME,
      errors: latest ? await this.store.runErrors(latest.id, STATUS_ERRORS) : [],
      hostname: this.options.hostname,
      selective: latest?.selective ?? false,
    };
  }

  // ---------------------------------------------------------------------------------------------

  private timestamp(): string {
    return this.now().toISOString();
  }

  /** Validates an image target (spec 4.1: `repo` and a tag or digest). */
  private target(tag: OnDemandTarget | ImageTag): OnDemandTarget {
    const repo = tag.repo?.trim();
    const imageTag = tag.tag?.trim() || undefined;
    const digest = tag.digest?.trim() || undefined;
    if (!repo) throw new ScanRequestError("the image's repository (repo) is required");
    if (!imageTag && !digest) throw new ScanRequestError("the image's tag or digest is required");
    return { registry: tag.registry?.trim() || undefined, repo, tag: imageTag, digest };
  }

  private onDemandKey(target: OnDemandTarget): string {
    return JSON.stringify([
      normalizeRegistry(target.registry),
      target.repo,
      target.tag ?? "",
      target.digest ?? "",
    ]);
  }

  /** The first specification (stored order) whose scope holds the image. */
  private async specFor(target: OnDemandTarget): Promise<StoredSpec> {
    const spec = (await this.store.listSpecs()).find((s) => inScope(s, target));
    if (!spec) {
      const name = `${target.registry ? `${target.registry}/` : ""}${target.repo}${target.tag ? `:${target.tag}` : `@${target.digest}`}`;
      throw new ScanRequestError(`image ${name} is not in the scope of any registry specification`);
    }
    return spec;
  }

  private specRun(spec: StoredSpec, parent: AbortSignal, startedAt: string): SpecRun {
    const controller = new AbortController();
    // The spec's own signal also ends with the run's (or, for on-demand, the orchestrator's).
    parent.addEventListener("abort", () => controller.abort(), { once: true });
    if (parent.aborted) controller.abort();
    let end = () => {};
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    return {
      spec,
      controller,
      state: "queued",
      startedAt,
      registry: normalizeRegistry(spec.registry),
      defenders: new DefenderPool(defendersFor(spec.scanners)),
      failures: 0,
      ended,
      end,
    };
  }

  private async beginRegular(
    specsOf: () => Promise<{ specs: StoredSpec[]; selective: boolean }>,
    discovery: Discovery,
  ): Promise<void> {
    if (this.regular !== undefined) throw new ScanRequestError(SCAN_IN_PROGRESS);
    this.regular = "starting";
    this.stopWhileStarting = false;
    try {
      const { specs, selective } = await specsOf();
      const run = await this.store.createRun({
        kind: "regular",
        state: "running",
        specIds: specs.map((s) => s.id),
        selective,
        hostname: this.options.hostname,
        startedAt: this.timestamp(),
      });
      const controller = new AbortController();
      this.lifetime.signal.addEventListener("abort", () => controller.abort(), { once: true });
      const active: RegularRun = {
        run,
        controller,
        specs: new Map(specs.map((spec) => [spec.id, this.specRun(spec, controller.signal, ZERO_TIME)])),
        done: Promise.resolve(run),
      };
      for (const spec of specs) await this.store.updateSpecStatus(spec.id, { scanStatus: "queued" });
      if (this.stopWhileStarting) controller.abort();
      active.done = this.walk(active, discovery);
      this.regular = active;
    } catch (error) {
      this.regular = undefined;
      throw error;
    }
  }

  /** The regular run from start to finish; never rejects (nobody awaits a scan started through the API). */
  private async walk(active: RegularRun, discovery: Discovery): Promise<ScanRun> {
    const { run, controller } = active;
    const queue = [...active.specs.values()];
    let state: ScanRun["state"];
    try {
      await new DefenderPool(this.parallelSpecs).run(queue, async (specRun) => {
        if (specRun.state !== "queued") return;
        try {
          // A stopped run starts no further specification; one not started keeps its last scan's fields.
          if (controller.signal.aborted) await this.dequeue(specRun);
          else await this.scanSpec(run, specRun, discovery, true);
        } finally {
          specRun.end();
        }
      });
      const counts = await this.store.progressCounts(run.id);
      const succeeded = counts.reduce((n, c) => n + c.imagesSucceeded, 0);
      const failures = queue.reduce((n, s) => n + s.failures, 0);
      state = controller.signal.aborted
        ? "stopped"
        : failures > 0 && succeeded === 0
          ? "failed"
          : "completed";
    } catch (error) {
      // The store itself failed: the run cannot be trusted to be complete.
      state = "failed";
      await this.store
        .addRunError(run.id, `Registry scan failed: ${reasonOf(error)}`, this.timestamp())
        .catch(() => {});
    }
    for (const specRun of queue) specRun.end();
    const finished: ScanRun = { ...run, state, finishedAt: this.timestamp() };
    await this.store.finishRun(run.id, state, finished.finishedAt as string).catch(() => {});
    this.regular = undefined;
    // Listeners (the scheduler's purge) handle their own failures.
    for (const listener of this.finishedListeners) await listener(finished);
    return finished;
  }

  /** Takes a specification off the run's queue before it started: the walk skips it, no work records. */
  private async dequeue(specRun: SpecRun): Promise<void> {
    specRun.state = "done";
    specRun.end();
    await this.store.updateSpecStatus(specRun.spec.id, { scanStatus: "stopped", lastScanStatus: "stopped" });
  }

  /** One specification's part of a run: connect, discover, scan, and (regular) its status fields. */
  private async scanSpec(
    run: ScanRun,
    specRun: SpecRun,
    discovery: Discovery,
    regular: boolean,
  ): Promise<void> {
    const { spec, controller } = specRun;
    const { signal } = controller;
    specRun.state = "scanning";
    specRun.startedAt = this.timestamp();
    if (regular)
      await this.store.updateSpecStatus(spec.id, { scanStatus: "scanning", scanTime: specRun.startedAt });
    let session: ProviderSession | undefined;
    try {
      session = await this.connect(spec, signal);
      specRun.registry = session.registryHost;
      await discovery(run, specRun, session, signal);
      await this.scanImages(run, specRun, session, signal);
    } catch (error) {
      if (!signal.aborted) await this.specFailed(run, specRun, reasonOf(error));
    } finally {
      await session?.close().catch(() => {});
    }
    if (signal.aborted) await this.store.cancelImages(run.id, spec.id, this.timestamp());
    specRun.state = "done";
    if (!regular) return;
    const counts =
      (await this.store.progressCounts(run.id)).find((c) => c.specId === spec.id) ?? emptyCounts(spec.id);
    const status = signal.aborted
      ? "stopped"
      : specRun.failures > 0 && counts.imagesSucceeded === 0
        ? "failed"
        : "completed";
    await this.store.updateSpecStatus(spec.id, {
      scanStatus: status,
      lastScanStatus: status,
      lastScanTime: this.timestamp(),
      scanError: specRun.lastError ?? "",
      scannedImagesSuccessTotal: counts.imagesSucceeded,
    });
  }

  private async specFailed(run: ScanRun, specRun: SpecRun, message: string): Promise<void> {
    specRun.failures++;
    specRun.lastError = message;
    await this.store.addRunError(run.id, message, this.timestamp());
  }

  private async connect(spec: StoredSpec, signal: AbortSignal): Promise<ProviderSession> {
    const registry = normalizeRegistry(spec.registry);
    const fail = (reason: string) =>
      new Error(`Failed to retrieve repositories info for registry ${registry}: ${reason}`);
    if (defenderPlatform(spec.os) === undefined) throw new Error(NO_DEFENDER);
    const provider = providerFor(spec.version);
    if (!provider) throw fail(`registry type ${JSON.stringify(spec.version)} is not supported`);
    let credential: ResolvedCredential | undefined;
    if (spec.credentialID) {
      credential = await this.options.resolveCredential(spec.credentialID);
      if (!credential) throw fail(`credential ${spec.credentialID} not found`);
    }
    signal.throwIfAborted();
    try {
      return await provider.connect({
        registry: spec.registry ?? "",
        namespace: spec.namespace,
        credential,
        caCert: spec.caCert,
        insecure: /^http:\/\//i.test(spec.registry ?? ""),
        spec: spec as unknown as Record<string, unknown>,
      });
    } catch (error) {
      throw fail(reasonOf(error));
    }
  }

  /** Spec 6.2 steps 1–3: repositories by pattern, tags by pattern, newest first, capped. */
  private readonly discoverRegistry: Discovery = async (run, specRun, session, signal) => {
    const { spec } = specRun;
    let repositories: string[];
    try {
      repositories = await session.listRepositories(signal);
    } catch (error) {
      throw new Error(
        `Failed to retrieve repositories info for registry ${session.registryHost}: ${reasonOf(error)}`,
      );
    }
    const patterns = repositoryPatterns(spec);
    const selected = selectByPatterns(repositories, patterns.include, patterns.exclude);
    await this.store.putRepos(
      selected.map((repository) => ({ runId: run.id, specId: spec.id, repository, state: "pending" })),
    );
    await specRun.defenders.run(
      selected,
      async (repository) => {
        try {
          const tags = await session.listTags(repository, { withTimes: !spec.versionPattern, signal });
          const kept = selectTags(tags, {
            tag: spec.tag,
            excludedTags: spec.excludedTags,
            versionPattern: spec.versionPattern,
            cap: spec.cap ?? DEFAULT_CAP,
          });
          await this.store.putImages(
            kept.map((t) =>
              this.imageRecord(run, spec, session.registryHost, repository, t.tag, t.digest, t.pushedAt),
            ),
          );
          await this.store.setRepoState(run.id, spec.id, repository, "done");
        } catch (error) {
          if (signal.aborted) return;
          const message = `Failed to query image details of repository ${repository} in registry ${session.registryHost}: ${reasonOf(error)}`;
          await this.store.setRepoState(run.id, spec.id, repository, "failed", message);
          await this.specFailed(run, specRun, message);
        }
      },
      signal,
    );
  };

  /** The single image of a rescan or on-demand scan: one repository, one image. */
  private async discoverOne(
    run: ScanRun,
    specRun: SpecRun,
    session: ProviderSession,
    target: OnDemandTarget,
  ) {
    const { spec } = specRun;
    await this.store.putRepos([
      { runId: run.id, specId: spec.id, repository: target.repo, state: "pending" },
    ]);
    await this.store.putImages([
      this.imageRecord(
        run,
        spec,
        session.registryHost,
        target.repo,
        target.tag ?? "",
        target.digest,
        undefined,
      ),
    ]);
    await this.store.setRepoState(run.id, spec.id, target.repo, "done");
  }

  private imageRecord(
    run: ScanRun,
    spec: StoredSpec,
    registry: string,
    repository: string,
    tag: string,
    digest: string | undefined,
    pushedAt: Date | undefined,
  ): ScanImageRecord {
    return {
      runId: run.id,
      specId: spec.id,
      imageKey: tag ? `${registry}/${repository}:${tag}` : `${registry}/${repository}@${digest}`,
      registry,
      repository,
      tag,
      digest,
      pushedAt: pushedAt?.toISOString(),
      state: "queued",
      attempts: 0,
      updatedAt: this.timestamp(),
    };
  }

  /** Spec 6.2 step 4: the queued images of a spec, on its `scanners` Defenders. */
  private async scanImages(run: ScanRun, specRun: SpecRun, session: ProviderSession, signal: AbortSignal) {
    const { spec } = specRun;
    const images = await this.store.listImages(run.id, spec.id, ["queued"]);
    const platform = defenderPlatform(spec.os);
    await specRun.defenders.run(
      images,
      async (image) => {
        const job: ImageScanJob = {
          client: session.client,
          registry: image.registry,
          repository: image.repository,
          tag: image.tag,
          // A tag-less image is one named by digest (on-demand); a discovered digest only skips work.
          digest: image.tag ? undefined : image.digest,
          knownDigest: image.digest,
          pushedAt: image.pushedAt ? new Date(image.pushedAt) : undefined,
          imageKey: image.imageKey,
          specId: spec.id,
          registryType: spec.version,
          collections: spec.collections ?? ["All"],
          platform,
          scanId: run.id,
          scanTime: this.now(),
          signal,
        };
        await this.store.updateImage(run.id, spec.id, image.imageKey, {
          state: "scanning",
          updatedAt: this.timestamp(),
        });
        let attempts = 0;
        const context = this.context();
        try {
          const outcome = await withRetries(
            (n) => {
              attempts = n;
              return scanImage(context, { ...job, scanTime: this.now() });
            },
            this.retry,
            signal,
          );
          await this.store.updateImage(run.id, spec.id, image.imageKey, {
            state: "done",
            attempts,
            digest: outcome.record.digest,
            updatedAt: this.timestamp(),
          });
        } catch (error) {
          if (signal.aborted) return; // Cancelled by stop, not failed.
          const reason = reasonOf(error);
          await recordFailedImage(context, job, reason);
          await this.store.updateImage(run.id, spec.id, image.imageKey, {
            state: "failed",
            attempts,
            error: reason,
            updatedAt: this.timestamp(),
          });
          await this.specFailed(run, specRun, `Failed to scan image ${image.imageKey}: ${reason}`);
        }
      },
      signal,
    );
  }

  private context(): ImageScanContext {
    return {
      store: this.store,
      analyzer: this.analyzer,
      inventories: this.inventories,
      extractors: this.extractors,
      database: this.options.database(),
      hostname: this.options.hostname,
      scanVersion: version,
      singleFlight: this.singleFlight,
    };
  }
}
