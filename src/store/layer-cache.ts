/**
 * The layer cache: each layer's file listing and, per extractor and version, what the extractor
 * found in it, keyed by the layer's blob digest (the manifest's, verified as the blob streams).
 * Results are kept per extractor so that changing one extractor re-runs only that extractor, and
 * only on layers holding files it wants.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import type { FileResult } from "../inventory/extractor.js";
import type { Store } from "./store.js";

export interface LayerListing {
  entries: number;
  uncompressedBytes: number;
  /** [path, size, mode] of every regular file. */
  files: [string, number, number][];
  whiteouts: string[];
  opaqueDirs: string[];
  warnings: string[];
}

const pack = (value: unknown) => gzipSync(JSON.stringify(value));
const unpack = <T>(bytes: Buffer): T => JSON.parse(gunzipSync(bytes).toString("utf8")) as T;

export class LayerCache {
  constructor(private readonly store: Store) {}

  async listing(digest: string): Promise<LayerListing | undefined> {
    const row = await this.store.db
      .selectFrom("layer_listings")
      .select("listing")
      .where("digest", "=", digest)
      .executeTakeFirst();
    return row ? unpack<LayerListing>(row.listing) : undefined;
  }

  /** Cached results of these extractors at these versions; absent entries need analysis. */
  async results(
    digest: string,
    extractors: { name: string; version: number }[],
  ): Promise<Map<string, FileResult[]>> {
    const rows = await this.store.db
      .selectFrom("layer_results")
      .select(["extractor", "extractor_version", "results"])
      .where("digest", "=", digest)
      .execute();
    const wanted = new Map(extractors.map((e) => [e.name, e.version]));
    const found = new Map<string, FileResult[]>();
    for (const row of rows) {
      if (wanted.get(row.extractor) === row.extractor_version) found.set(row.extractor, unpack(row.results));
    }
    return found;
  }

  async putListing(digest: string, listing: LayerListing): Promise<void> {
    await this.store.db
      .insertInto("layer_listings")
      .values({
        digest,
        entries: listing.entries,
        uncompressed_bytes: listing.uncompressedBytes,
        listing: pack(listing),
        analysed_at: new Date().toISOString(),
      })
      .onConflict((c) => c.column("digest").doNothing())
      .execute();
  }

  /** Stores (or replaces) several extractors' results for a layer, in one statement. */
  async putResults(
    digest: string,
    entries: { extractor: { name: string; version: number }; results: FileResult[] }[],
  ): Promise<void> {
    if (entries.length === 0) return;
    await this.store.db
      .insertInto("layer_results")
      .values(
        entries.map(({ extractor, results }) => ({
          digest,
          extractor: extractor.name,
          extractor_version: extractor.version,
          results: pack(results),
        })),
      )
      .onConflict((c) =>
        c.columns(["digest", "extractor"]).doUpdateSet((eb) => ({
          extractor_version: eb.ref("excluded.extractor_version"),
          results: eb.ref("excluded.results"),
        })),
      )
      .execute();
  }
}
