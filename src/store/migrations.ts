/**
 * Versioned schema migrations, applied in order by Kysely's Migrator; never edit an applied one.
 * Column types differ by dialect only where they must (SQLite blob vs PostgreSQL bytea, row ids, and
 * the "C" collation that makes PostgreSQL sort text by code point as SQLite does); the SQLite path of
 * every migration stays as it was released, so existing files keep working.
 */
import { type ColumnDataType, type Expression, type Kysely, type Migration, sql } from "kysely";
import type { StoreDialect } from "./store.js";

type ColumnType = ColumnDataType | Expression<unknown>;

interface DialectTypes {
  bytes: ColumnType;
  /** Text that sorts by code point (ids, names, ISO timestamps). */
  sortedText: ColumnType;
}

function typesOf(dialect: StoreDialect): DialectTypes {
  return dialect === "postgres"
    ? { bytes: "bytea", sortedText: sql`text collate "C"` }
    : { bytes: "blob", sortedText: "text" };
}

function layerCacheAndInventories(types: DialectTypes): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("layer_listings")
        .addColumn("diff_id", "text", (c) => c.primaryKey())
        .addColumn("entries", "integer", (c) => c.notNull())
        .addColumn("uncompressed_bytes", "bigint", (c) => c.notNull())
        .addColumn("listing", types.bytes, (c) => c.notNull())
        .addColumn("analysed_at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("layer_results")
        .addColumn("diff_id", "text", (c) => c.notNull())
        .addColumn("extractor", "text", (c) => c.notNull())
        .addColumn("extractor_version", "integer", (c) => c.notNull())
        .addColumn("results", types.bytes, (c) => c.notNull())
        .addPrimaryKeyConstraint("layer_results_pk", ["diff_id", "extractor"])
        .execute();
      await db.schema
        .createTable("image_inventories")
        .addColumn("digest", "text", (c) => c.primaryKey())
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("inventory", types.bytes, (c) => c.notNull())
        .addColumn("extractors", "text", (c) => c.notNull())
        .addColumn("indexed_at", "text", (c) => c.notNull())
        .execute();
    },
  };
}

/** The console's tables (issue 5): src/store/console.ts reads and writes them. */
function consoleTables(dialect: StoreDialect, types: DialectTypes): Migration {
  const text = types.sortedText;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("users")
        .addColumn("username", text, (c) => c.primaryKey())
        .addColumn("password_hash", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("credentials")
        .addColumn("id", text, (c) => c.primaryKey())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("body", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("registry_specs")
        .addColumn("id", text, (c) => c.primaryKey())
        .addColumn("position", "integer", (c) => c.notNull())
        .addColumn("body", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("registry_specs_position")
        .on("registry_specs")
        .column("position")
        .execute();
      await db.schema
        .createTable("scan_settings")
        .addColumn("id", "integer", (c) => c.primaryKey())
        .addColumn("body", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("scan_runs")
        .addColumn("id", dialect === "postgres" ? "serial" : "integer", (c) =>
          dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("spec_ids", "text", (c) => c.notNull())
        .addColumn("selective", "integer", (c) => c.notNull())
        .addColumn("hostname", "text", (c) => c.notNull())
        .addColumn("started_at", text, (c) => c.notNull())
        .addColumn("finished_at", text)
        .execute();
      await db.schema.createIndex("scan_runs_kind").on("scan_runs").columns(["kind", "id"]).execute();
      await db.schema.createIndex("scan_runs_state").on("scan_runs").column("state").execute();
      await db.schema
        .createTable("scan_run_errors")
        .addColumn("id", dialect === "postgres" ? "serial" : "integer", (c) =>
          dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn("run_id", "integer", (c) => c.notNull())
        .addColumn("message", "text", (c) => c.notNull())
        .addColumn("at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("scan_run_errors_run")
        .on("scan_run_errors")
        .columns(["run_id", "id"])
        .execute();
      await db.schema
        .createTable("scan_repos")
        .addColumn("run_id", "integer", (c) => c.notNull())
        .addColumn("spec_id", text, (c) => c.notNull())
        .addColumn("repository", text, (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("error", "text")
        .addPrimaryKeyConstraint("scan_repos_pk", ["run_id", "spec_id", "repository"])
        .execute();
      await db.schema
        .createTable("scan_images")
        .addColumn("run_id", "integer", (c) => c.notNull())
        .addColumn("spec_id", text, (c) => c.notNull())
        .addColumn("image_key", text, (c) => c.notNull())
        .addColumn("seq", "integer", (c) => c.notNull())
        .addColumn("registry", "text", (c) => c.notNull())
        .addColumn("repository", "text", (c) => c.notNull())
        .addColumn("tag", "text", (c) => c.notNull())
        .addColumn("digest", "text")
        .addColumn("pushed_at", "text")
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull())
        .addColumn("error", "text")
        .addColumn("updated_at", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("scan_images_pk", ["run_id", "spec_id", "image_key"])
        .execute();
      await db.schema
        .createIndex("scan_images_state")
        .on("scan_images")
        .columns(["run_id", "state"])
        .execute();
      await db.schema
        .createTable("image_results")
        .addColumn("id", text, (c) => c.primaryKey())
        .addColumn("image_id", text, (c) => c.notNull())
        .addColumn("digest", text, (c) => c.notNull())
        .addColumn("registry", text, (c) => c.notNull())
        .addColumn("repository", text, (c) => c.notNull())
        .addColumn("tag", text, (c) => c.notNull())
        .addColumn("spec_id", text, (c) => c.notNull())
        .addColumn("scan_time", text, (c) => c.notNull())
        .addColumn("first_scan_time", text, (c) => c.notNull())
        .addColumn("risk_score", "double precision", (c) => c.notNull())
        .addColumn("vuln_count", "integer", (c) => c.notNull())
        .addColumn("database_built_at", text, (c) => c.notNull())
        .addColumn("result", "text", (c) => c.notNull())
        .execute();
      // One index per sort key (with id, the tie-breaker, so a page is read in index order).
      for (const column of ["scan_time", "risk_score", "vuln_count", "registry", "repository", "tag"]) {
        await db.schema
          .createIndex(`image_results_${column}`)
          .on("image_results")
          .columns([column, "id"])
          .execute();
      }
      await db.schema.createIndex("image_results_image_id").on("image_results").column("image_id").execute();
      await db.schema
        .createIndex("image_results_digest")
        .on("image_results")
        .columns(["digest", "database_built_at", "scan_time"])
        .execute();
    },
  };
}

/**
 * The layer cache keyed by the layer blob's digest instead of its diff_id (the walk no longer hashes
 * the uncompressed stream to check a diff_id). Entries keyed by diff_id cannot be re-keyed without
 * the manifests that named them: the cache is emptied and fills again as images are analysed.
 */
const layerCacheByBlobDigest: Migration = {
  async up(db: Kysely<unknown>) {
    for (const table of ["layer_results", "layer_listings"]) {
      await sql`delete from ${sql.table(table)}`.execute(db);
      await db.schema.alterTable(table).renameColumn("diff_id", "digest").execute();
    }
  },
};

/** The migrations of one dialect, by name in application order. */
export function migrationsFor(dialect: StoreDialect): Record<string, Migration> {
  const types = typesOf(dialect);
  return {
    "0001_layer_cache_and_inventories": layerCacheAndInventories(types),
    "0002_console": consoleTables(dialect, types),
    "0003_layer_cache_by_blob_digest": layerCacheByBlobDigest,
  };
}
