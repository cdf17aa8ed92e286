/** Versioned schema migrations, applied in order by Kysely's Migrator; never edit an applied one. */
import type { Kysely, Migration } from "kysely";

export const migrations: Record<string, Migration> = {
  "0001_layer_cache_and_inventories": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("layer_listings")
        .addColumn("diff_id", "text", (c) => c.primaryKey())
        .addColumn("entries", "integer", (c) => c.notNull())
        .addColumn("uncompressed_bytes", "bigint", (c) => c.notNull())
        .addColumn("listing", "blob", (c) => c.notNull())
        .addColumn("analysed_at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("layer_results")
        .addColumn("diff_id", "text", (c) => c.notNull())
        .addColumn("extractor", "text", (c) => c.notNull())
        .addColumn("extractor_version", "integer", (c) => c.notNull())
        .addColumn("results", "blob", (c) => c.notNull())
        .addPrimaryKeyConstraint("layer_results_pk", ["diff_id", "extractor"])
        .execute();
      await db.schema
        .createTable("image_inventories")
        .addColumn("digest", "text", (c) => c.primaryKey())
        .addColumn("identity", "text", (c) => c.notNull())
        .addColumn("inventory", "blob", (c) => c.notNull())
        .addColumn("extractors", "text", (c) => c.notNull())
        .addColumn("indexed_at", "text", (c) => c.notNull())
        .execute();
    },
  },
};
