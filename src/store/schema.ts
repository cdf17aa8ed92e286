/** Tables of the store (SQLite by default; PostgreSQL later behind the same Kysely types). */
import type { Generated } from "kysely";

export interface LayerListingTable {
  /** Uncompressed layer digest (config rootfs.diff_ids): shared by every compression of one layer. */
  diff_id: string;
  entries: number;
  uncompressed_bytes: number;
  /** gzip-compressed JSON: { files: [path, size, mode][], whiteouts, opaqueDirs, warnings }. */
  listing: Buffer;
  analysed_at: string;
}

export interface LayerResultTable {
  diff_id: string;
  extractor: string;
  extractor_version: number;
  /** gzip-compressed JSON FileResult[]. */
  results: Buffer;
}

export interface ImageInventoryTable {
  /** Image manifest digest. */
  digest: string;
  /** JSON ImageIdentity. */
  identity: string;
  /** gzip-compressed JSON ImageInventory. */
  inventory: Buffer;
  /** Extractor names and versions the inventory was built with, sorted: "apk@1 dpkg@1 …". */
  extractors: string;
  indexed_at: string;
}

export interface MigrationTable {
  id: Generated<number>;
  name: string;
  applied_at: string;
}

export interface Database {
  layer_listings: LayerListingTable;
  layer_results: LayerResultTable;
  image_inventories: ImageInventoryTable;
}
