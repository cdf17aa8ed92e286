/**
 * The store: one Kysely database with versioned migrations, either a SQLite file (the default, WAL
 * mode) or PostgreSQL (several consoles and Defenders sharing one database; issue 5, "The store sits
 * behind one interface"). Everything persistent — layer cache, stored inventories, the console's
 * settings, scan runs and results — goes through it with the same queries on both dialects.
 */
import fs from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import {
  Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
} from "kysely";
import type pg from "pg";
import { migrationsFor } from "./migrations.js";
import type { Database } from "./schema.js";

export type StoreDialect = "sqlite" | "postgres";

/** PostgreSQL type OIDs whose default text form would differ from what SQLite returns. */
const PG_INT8_OID = 20;
const PG_NUMERIC_OID = 1700;

/**
 * Parses int8 (bigint columns, COUNT(*), SUM) and numeric into numbers, as SQLite returns them; the
 * store's integers (sizes, counts) stay far below 2^53. Per pool, so other pg users are unaffected.
 */
function pgTypesOf(types: typeof pg.types): pg.CustomTypesConfig {
  return {
    getTypeParser(oid: number, format?: "text" | "binary") {
      if (oid === PG_INT8_OID || oid === PG_NUMERIC_OID) return (value: string) => Number(value);
      return format === "binary" ? types.getTypeParser(oid, "binary") : types.getTypeParser(oid, "text");
    },
  } as pg.CustomTypesConfig;
}

export class Store {
  private closed = false;

  private constructor(
    readonly db: Kysely<Database>,
    readonly dialect: StoreDialect,
    /** PostgreSQL schema holding the tables (and the migration bookkeeping), when not the default. */
    private readonly schema?: string,
  ) {}

  /** Opens (creating if needed) a SQLite store and brings its schema up to date. */
  static async openSqlite(file: string): Promise<Store> {
    if (file !== ":memory:") fs.mkdirSync(path.dirname(file), { recursive: true });
    const sqlite = new SQLite(file);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("busy_timeout = 5000");
    const store = new Store(
      new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) }),
      "sqlite",
    );
    await store.migrate();
    return store;
  }

  /**
   * Opens a PostgreSQL store over a connection pool and brings its schema up to date. With `schema`
   * every table lives in that schema (created if missing; it becomes each connection's search_path),
   * so one database can hold several independent stores.
   */
  static async openPostgres(connectionString: string, options: { schema?: string } = {}): Promise<Store> {
    const { schema } = options;
    // Loaded here: the SQLite default (every CLI run) need not load the PostgreSQL client.
    const { default: pg } = await import("pg");
    if (schema !== undefined) {
      // The schema must exist before a pooled connection puts it on its search_path.
      const client = new pg.Client({ connectionString });
      await client.connect();
      try {
        await client.query(`create schema if not exists ${quoteIdentifier(schema)}`);
      } finally {
        await client.end();
      }
    }
    const pool = new pg.Pool({
      connectionString,
      types: pgTypesOf(pg.types),
      ...(schema !== undefined ? { options: `-c search_path=${quoteIdentifier(schema)}` } : {}),
    });
    const store = new Store(
      new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
      "postgres",
      schema,
    );
    try {
      await sql`select 1`.execute(store.db);
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  private async migrate(): Promise<void> {
    const migrations = migrationsFor(this.dialect);
    const provider: MigrationProvider = {
      getMigrations: async (): Promise<Record<string, Migration>> => migrations,
    };
    // Kysely looks for its migration tables in any schema unless told which: another store's
    // schema in the same database would otherwise pass for this one's.
    const { error, results } = await new Migrator({
      db: this.db,
      provider,
      ...(this.schema !== undefined ? { migrationTableSchema: this.schema } : {}),
    }).migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === "Error")?.migrationName;
      throw new Error(`store migration ${failed ?? ""} failed: ${(error as Error).message}`);
    }
  }

  /** Closes the database (idempotent: several owners may hold one store). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy();
  }
}

/** A PostgreSQL identifier in double quotes (schema names come from configuration). */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
