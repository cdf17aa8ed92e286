/**
 * The store: one Kysely database (SQLite file by default, WAL mode) with versioned migrations.
 * Everything persistent (layer cache, stored inventories, later the console's settings and results)
 * goes through it.
 */
import fs from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, type Migration, type MigrationProvider, Migrator, SqliteDialect } from "kysely";
import { migrations } from "./migrations.js";
import type { Database } from "./schema.js";

export class Store {
  private constructor(readonly db: Kysely<Database>) {}

  /** Opens (creating if needed) a SQLite store and brings its schema up to date. */
  static async openSqlite(file: string): Promise<Store> {
    if (file !== ":memory:") fs.mkdirSync(path.dirname(file), { recursive: true });
    const sqlite = new SQLite(file);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("busy_timeout = 5000");
    const store = new Store(new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) }));
    await store.migrate();
    return store;
  }

  private async migrate(): Promise<void> {
    const provider: MigrationProvider = {
      getMigrations: async (): Promise<Record<string, Migration>> => migrations,
    };
    const { error, results } = await new Migrator({ db: this.db, provider }).migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === "Error")?.migrationName;
      throw new Error(`store migration ${failed ?? ""} failed: ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
