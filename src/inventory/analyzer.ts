/**
 * The indexing stage: an image source → a layer-attributed inventory. Each layer is analysed once
 * per blob digest (in parallel, and at most once at a time per process; large ones on walker threads
 * when there are any) and cached per extractor and version; the digest is the one its source
 * verifies as the blob streams, as Clair v4 keys layers.
 * The image inventory is then assembled from its layers' results, bottom to top, with OCI whiteouts
 * applied and the topmost version of each file winning.
 */
import { InvalidConfigError } from "../image/config.js";
import type { LayerLimits, LayerWalk } from "../image/layer.js";
import type { ImageSource } from "../image/source.js";
import type { LayerCache, LayerListing } from "../store/layer-cache.js";
import type { Extractor, FileResult } from "./extractor.js";
import { LayerWalkers, sharedLayerWalkers } from "./layer-walkers.js";
import { readLayer } from "./read-layer.js";
import type { ImageInventory, InventoriedPackage, LayerRef, OsRelease, Package } from "./types.js";

export interface LayerProgress {
  index: number;
  digest: string;
  state: "cached" | "pulling" | "done";
  bytes?: number;
}

export interface AnalyzerOptions {
  extractors: Extractor[];
  cache?: LayerCache | undefined;
  limits?: LayerLimits | undefined;
  /** Layers of one image analysed at once. */
  concurrency?: number;
  /**
   * Threads that walk large layers while the main thread walks others (layer-walkers.ts; see
   * defaultWalkerThreads). 0, the default, walks every layer on the main thread, as do extractors
   * that are not registered ones (a thread knows extractors by name).
   */
  walkerThreads?: number;
  /** Compressed size from which a layer goes to a walker thread (default WALKER_MIN_LAYER_BYTES). */
  walkerMinLayerBytes?: number;
  onLayer?: (event: LayerProgress) => void;
}

export interface AnalysisStats {
  layersPulled: number;
  layersCached: number;
  bytesPulled: number;
  /** Of the layers pulled, those walked on a walker thread. */
  layersOnWalkerThreads: number;
}

/**
 * Smaller layers are walked on the main thread: a thread's start (loading the extractors) costs
 * about as much as walking 8 MiB of compressed layer.
 */
const WALKER_MIN_LAYER_BYTES = 8 * 1024 * 1024;

interface LayerAnalysis {
  listing: LayerListing;
  /** Extractor name → results in this layer. */
  results: Map<string, FileResult[]>;
}

const OS_ECOSYSTEMS = new Set(["apk", "deb", "rpm"]);
const DIFF_ID = /^sha256:[0-9a-f]{64}$/;

/** The part of a package location that names a file in the image (Java nests archives with "!/"). */
const fileOf = (location: string) => location.split("!/")[0] as string;

export class Analyzer {
  private readonly inflight = new Map<string, Promise<LayerAnalysis>>();
  private readonly walkers: LayerWalkers | undefined;

  constructor(private readonly options: AnalyzerOptions) {
    this.walkers =
      options.walkerThreads && LayerWalkers.canRun(options.extractors)
        ? sharedLayerWalkers(options.walkerThreads)
        : undefined;
  }

  async analyze(
    source: ImageSource,
    signal?: AbortSignal,
  ): Promise<{ inventory: ImageInventory; stats: AnalysisStats }> {
    // Reports name each package's layer by diff_id, and a `docker save` archive names a layer by its
    // diff_id alone: an image without one per layer is malformed (container runtimes refuse it too).
    const { diffIds } = source.config;
    const badDiffId = diffIds.find((d) => !DIFF_ID.test(d));
    if (diffIds.length !== source.layers.length || badDiffId !== undefined) {
      throw new InvalidConfigError(
        `${source.identity.name}: the image config's rootfs.diff_ids ${
          badDiffId === undefined
            ? `lists ${diffIds.length} diff_ids for ${source.layers.length} layers`
            : `holds ${JSON.stringify(badDiffId)}, not a sha256 digest`
        }`,
      );
    }
    const stats: AnalysisStats = {
      layersPulled: 0,
      layersCached: 0,
      bytesPulled: 0,
      layersOnWalkerThreads: 0,
    };
    const analyses: LayerAnalysis[] = new Array(source.layers.length);
    let next = 0;
    // After a failure no further layer is started, and the layers being read are let finish (and be
    // cached), so nothing of this analysis still runs once it has rejected.
    let failed: { error: unknown } | undefined;
    const worker = async () => {
      while (next < source.layers.length && !failed) {
        const i = next++;
        try {
          analyses[i] = await this.layer(source, i, stats, signal);
        } catch (error) {
          failed ??= { error };
        }
      }
    };
    const workers = Math.min(this.options.concurrency ?? 3, source.layers.length);
    await Promise.all(Array.from({ length: workers }, worker));
    if (failed) throw failed.error;
    const refs: LayerRef[] = source.identity.layers.map((l, index) => ({
      digest: l.digest,
      index,
      createdBy: l.createdBy,
    }));
    return { inventory: assemble(analyses, refs, this.options.extractors), stats };
  }

  /** The layer's analysis: from the cache, from the stored listing when no changed extractor wants a file, or pulled. */
  private layer(
    source: ImageSource,
    index: number,
    stats: AnalysisStats,
    signal?: AbortSignal,
  ): Promise<LayerAnalysis> {
    const layer = source.layers[index];
    if (!layer) throw new RangeError(`no layer ${index}`);
    const shared = this.inflight.get(layer.digest);
    if (shared) {
      // Another analysis (or an earlier copy of the layer in this image) is reading it: not pulled here.
      return shared.then((analysis) => {
        stats.layersCached++;
        this.options.onLayer?.({ index, digest: layer.digest, state: "cached" });
        return analysis;
      });
    }
    const pending = this.analyseLayer(source, index, layer.digest, stats, signal).finally(() =>
      this.inflight.delete(layer.digest),
    );
    this.inflight.set(layer.digest, pending);
    return pending;
  }

  private async analyseLayer(
    source: ImageSource,
    index: number,
    digest: string,
    stats: AnalysisStats,
    signal?: AbortSignal,
  ): Promise<LayerAnalysis> {
    const { extractors, cache } = this.options;
    const listing = await cache?.listing(digest);
    const results = (await cache?.results(digest, extractors)) ?? new Map<string, FileResult[]>();
    let missing = extractors.filter((e) => !results.has(e.name));
    if (listing && missing.length > 0) {
      // Extractors new or changed since the layer was read: only those wanting one of its files need a pull.
      const untouched = missing.filter(
        (e) => !listing.files.some(([path, size, mode]) => e.wants({ path, size, mode })),
      );
      for (const e of untouched) results.set(e.name, []);
      await cache?.putResults(
        digest,
        untouched.map((extractor) => ({ extractor, results: [] })),
      );
      missing = missing.filter((e) => !untouched.includes(e));
    }
    if (listing && missing.length === 0) {
      stats.layersCached++;
      this.options.onLayer?.({ index, digest, state: "cached" });
      return { listing, results };
    }
    this.options.onLayer?.({ index, digest, state: "pulling" });
    const blob = source.openLayer(index, { signal });
    const thread =
      (source.layers[index]?.size ?? 0) >= (this.options.walkerMinLayerBytes ?? WALKER_MIN_LAYER_BYTES)
        ? this.walkers?.idleThread()
        : undefined;
    const { walk, found } = thread
      ? await thread.read(
          blob,
          digest,
          missing.map((e) => e.name),
          this.options.limits,
        )
      : await readLayer(blob, digest, missing, this.options.limits);
    if (thread) stats.layersOnWalkerThreads++;
    stats.layersPulled++;
    stats.bytesPulled += source.layers[index]?.size ?? 0;
    const newListing = listing ?? toListing(walk);
    if (!listing) await cache?.putListing(digest, newListing);
    const read = missing.map((extractor) => ({
      extractor,
      results: found.get(extractor.name) as FileResult[],
    }));
    for (const { extractor, results: list } of read) results.set(extractor.name, list);
    await cache?.putResults(digest, read);
    this.options.onLayer?.({ index, digest, state: "done", bytes: walk.uncompressedBytes });
    return { listing: newListing, results };
  }
}

function toListing(walk: LayerWalk): LayerListing {
  return {
    entries: walk.entries,
    uncompressedBytes: walk.uncompressedBytes,
    files: walk.files.map((f) => [f.path, f.size, f.mode]),
    whiteouts: walk.whiteouts,
    opaqueDirs: walk.opaqueDirs,
    warnings: walk.warnings,
  };
}

const under = (path: string, dir: string) => dir === "" || path === dir || path.startsWith(`${dir}/`);

const packageKey = (p: Package) => `${p.ecosystem}\0${p.name}\0${p.version}\0${p.arch ?? ""}\0${p.location}`;

/** Bottom-to-top merge of layer results into one image inventory. */
export function assemble(layers: LayerAnalysis[], refs: LayerRef[], extractors: Extractor[]): ImageInventory {
  // Surviving file results by path: which layer last wrote the file, and what each extractor found.
  const visible = new Map<string, { layer: number; results: FileResult[] }>();
  const warnings: string[] = [];
  layers.forEach((layer, i) => {
    for (const dir of layer.listing.opaqueDirs) {
      for (const path of visible.keys()) if (under(path, dir) && path !== dir) visible.delete(path);
    }
    for (const gone of layer.listing.whiteouts) {
      for (const path of visible.keys()) if (under(path, gone)) visible.delete(path);
    }
    warnings.push(...layer.listing.warnings);
    const byPath = new Map<string, FileResult[]>();
    for (const list of layer.results.values()) {
      for (const r of list) {
        const entry = byPath.get(r.path);
        if (entry) entry.push(r);
        else byPath.set(r.path, [r]);
      }
    }
    for (const [path, results] of byPath) visible.set(path, { layer: i, results });
  });

  const byExtractor = new Map<string, FileResult[]>();
  for (const { results } of visible.values()) {
    for (const r of results) {
      const list = byExtractor.get(r.extractor);
      if (list) list.push(r);
      else byExtractor.set(r.extractor, [r]);
    }
  }
  let os: OsRelease | undefined;
  const packages: Package[] = [];
  const owned = new Set<string>();
  const producers = new Map<Package, Extractor>();
  for (const extractor of extractors) {
    const raw = (byExtractor.get(extractor.name) ?? []).sort((a, b) => a.path.localeCompare(b.path));
    const results = extractor.reconcile ? extractor.reconcile(raw) : raw;
    for (const r of results) {
      if (r.os && !os) os = r.os;
      for (const p of r.packages ?? []) producers.set(p, extractor);
      packages.push(...(r.packages ?? []));
      for (const p of r.ownedFiles?.paths ?? []) owned.add(p);
      warnings.push(...(r.warnings ?? []));
    }
  }
  for (const extractor of extractors) if (!os && extractor.inferOs) os = extractor.inferOs(packages);
  for (const p of packages) {
    if (OS_ECOSYSTEMS.has(p.ecosystem)) for (const f of p.files ?? []) owned.add(f);
  }
  // Files installed by the OS package manager are reported once, as OS packages (as Trivy does).
  const kept = packages
    .filter((p) => OS_ECOSYSTEMS.has(p.ecosystem) || !owned.has(fileOf(p.location)))
    .map((p) => producers.get(p)?.finalize?.(p, os) ?? p);

  // Each package belongs to the lowest layer whose copy of its file already listed it.
  const attributed: InventoriedPackage[] = kept.map((p) => {
    const file = fileOf(p.location);
    const key = packageKey(p);
    const top = visible.get(file)?.layer ?? layers.length - 1;
    let layer = top;
    for (let i = 0; i <= top; i++) {
      const found = [...(layers[i]?.results.values() ?? [])].some((list) =>
        list.some((r) => r.path === file && (r.packages ?? []).some((q) => packageKey(q) === key)),
      );
      if (found) {
        layer = i;
        break;
      }
    }
    return { ...p, layer: refs[layer] ?? { digest: "", index: layer } };
  });
  return { os, packages: attributed, warnings: [...new Set(warnings)] };
}
