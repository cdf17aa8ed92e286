/**
 * Tables of the store, the same Kysely types on SQLite and PostgreSQL (src/store/migrations.ts).
 * Booleans are stored as 0/1 integers and timestamps as ISO text on both dialects.
 */
import type { Generated } from "kysely";

export interface LayerListingTable {
  /** The layer blob's digest (the manifest's layer descriptor): verified as the blob streams. */
  digest: string;
  entries: number;
  uncompressed_bytes: number;
  /** gzip-compressed JSON: { files: [path, size, mode][], whiteouts, opaqueDirs, warnings }. */
  listing: Buffer;
  analysed_at: string;
}

export interface LayerResultTable {
  digest: string;
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

export interface UsersTable {
  username: string;
  password_hash: string;
  role: string;
  created_at: string;
}

export interface CredentialsTable {
  id: string;
  type: string;
  /** JSON StoredCredential (secrets already encrypted). */
  body: string;
}

export interface RegistrySpecsTable {
  id: string;
  /** Stored order of the specification list (spec 3.2). */
  position: number;
  /** JSON StoredSpec. */
  body: string;
}

export interface ScanSettingsTable {
  /** Always 1: one row. */
  id: number;
  /** JSON of the settings as last written. */
  body: string;
}

export interface ScanRunsTable {
  id: Generated<number>;
  kind: string;
  state: string;
  /** JSON string[] in walk order. */
  spec_ids: string;
  selective: number;
  hostname: string;
  started_at: string;
  finished_at: string | null;
}

export interface ScanRunErrorsTable {
  id: Generated<number>;
  run_id: number;
  message: string;
  at: string;
}

export interface ScanReposTable {
  run_id: number;
  spec_id: string;
  repository: string;
  state: string;
  error: string | null;
}

export interface ScanImagesTable {
  run_id: number;
  spec_id: string;
  image_key: string;
  /** Insertion order within the run: images are listed (and scanned) in the order they were put. */
  seq: number;
  registry: string;
  repository: string;
  tag: string;
  digest: string | null;
  pushed_at: string | null;
  state: string;
  attempts: number;
  error: string | null;
  updated_at: string;
}

export interface ImageResultsTable {
  id: string;
  image_id: string;
  digest: string;
  registry: string;
  repository: string;
  tag: string;
  spec_id: string;
  scan_time: string;
  first_scan_time: string;
  risk_score: number;
  vuln_count: number;
  database_built_at: string;
  /** JSON ImageScanResult. */
  result: string;
}

export interface Database {
  layer_listings: LayerListingTable;
  layer_results: LayerResultTable;
  image_inventories: ImageInventoryTable;
  users: UsersTable;
  credentials: CredentialsTable;
  registry_specs: RegistrySpecsTable;
  scan_settings: ScanSettingsTable;
  scan_runs: ScanRunsTable;
  scan_run_errors: ScanRunErrorsTable;
  scan_repos: ScanReposTable;
  scan_images: ScanImagesTable;
  image_results: ImageResultsTable;
}
