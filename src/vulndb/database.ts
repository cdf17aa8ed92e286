/**
 * The vulnerability database: one SQLite file, separate from the console's store, built whole by
 * `db update` and swapped in atomically. Lookups go by (ecosystem, package name), the only access
 * path the matcher needs; records keep everything the feed said (as normalised Advisory JSON).
 *
 * better-sqlite3 is used directly rather than through Kysely: the file is read-mostly, local and
 * SQLite-only, and matching makes one indexed lookup per distinct package, where a synchronous
 * prepared statement costs microseconds and an async query builder costs more than the lookup.
 */
import fs from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import { normalizePackageName } from "./names.js";
import type { Advisory, AffectedPackage, Severity } from "./types.js";

export const SCHEMA_VERSION = 1;

export interface SourceStatus {
  name: string;
  version: number;
  /** Where the data came from (URL, path or mirror path), or why it is missing. */
  origin: string;
  records: number;
  /** Newest `modified` (else `published`) among its records. */
  newest?: string | undefined;
  fetchedAt: string;
  warnings: number;
  /** false when the source could not be read (not in the mirror, download failed). */
  available: boolean;
}

export interface AffectedMatch {
  advisory: Advisory;
  affected: AffectedPackage;
}

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (name TEXT PRIMARY KEY, status TEXT NOT NULL);
CREATE TABLE advisories (rowid INTEGER PRIMARY KEY, source TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, UNIQUE (source, id));
CREATE TABLE affected (advisory INTEGER NOT NULL REFERENCES advisories(rowid), ecosystem TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX affected_lookup ON affected (ecosystem, name);
CREATE TABLE aliases (alias TEXT NOT NULL, advisory INTEGER NOT NULL);
CREATE INDEX aliases_lookup ON aliases (alias);
CREATE TABLE cvss (cve TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX cvss_lookup ON cvss (cve);
`;

/** Writes a new database file; nothing is visible to readers until `finish` renames it into place. */
export class DatabaseBuilder {
  private readonly db: SQLite.Database;
  private readonly insertAdvisory: SQLite.Statement;
  private readonly insertAffected: SQLite.Statement;
  private readonly insertAlias: SQLite.Statement;
  private readonly insertCvss: SQLite.Statement;
  private pending: (() => void)[] = [];
  readonly tempFile: string;

  constructor(readonly target: string) {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    this.tempFile = `${target}.building-${process.pid}`;
    fs.rmSync(this.tempFile, { force: true });
    this.db = new SQLite(this.tempFile);
    // A build is all-or-nothing: durability per statement buys nothing, the rename is the commit.
    this.db.pragma("journal_mode = OFF");
    this.db.pragma("synchronous = OFF");
    this.db.exec(SCHEMA);
    this.db.prepare("INSERT INTO meta VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
    this.insertAdvisory = this.db.prepare(
      "INSERT OR REPLACE INTO advisories (source, id, data) VALUES (?, ?, ?)",
    );
    this.insertAffected = this.db.prepare("INSERT INTO affected VALUES (?, ?, ?, ?)");
    this.insertAlias = this.db.prepare("INSERT INTO aliases VALUES (?, ?)");
    this.insertCvss = this.db.prepare("INSERT INTO cvss VALUES (?, ?)");
  }

  add(advisory: Advisory): void {
    this.pending.push(() => {
      const { affected, ...rest } = advisory;
      const row = this.insertAdvisory.run(advisory.source, advisory.id, JSON.stringify(rest));
      const id = row.lastInsertRowid;
      for (const a of affected) {
        this.insertAffected.run(
          id,
          a.ecosystem,
          normalizePackageName(a.ecosystem, a.name),
          JSON.stringify(a),
        );
      }
      for (const alias of new Set([advisory.id, ...advisory.aliases])) this.insertAlias.run(alias, id);
    });
    if (this.pending.length >= 2000) this.flush();
  }

  addCvss(cve: string, severities: Severity[]): void {
    this.pending.push(() => this.insertCvss.run(cve, JSON.stringify(severities)));
    if (this.pending.length >= 2000) this.flush();
  }

  setSource(status: SourceStatus): void {
    this.flush();
    this.db.prepare("INSERT OR REPLACE INTO sources VALUES (?, ?)").run(status.name, JSON.stringify(status));
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    this.db.transaction(() => {
      for (const write of batch) write();
    })();
  }

  /** Indexes, stamps and atomically replaces the target: readers of the old file keep their open copy. */
  finish(builtAt = new Date()): void {
    this.flush();
    this.db.prepare("INSERT INTO meta VALUES ('built_at', ?)").run(builtAt.toISOString());
    this.db.exec("ANALYZE");
    this.db.close();
    fs.renameSync(this.tempFile, this.target);
  }

  abandon(): void {
    if (this.db.open) this.db.close();
    fs.rmSync(this.tempFile, { force: true });
  }
}

export class DatabaseError extends Error {}

/** A built database, opened read-only. */
export class VulnerabilityDatabase {
  private readonly lookup: SQLite.Statement;
  private readonly advisoryData: SQLite.Statement;
  private readonly byAlias: SQLite.Statement;
  private readonly cvssFor: SQLite.Statement;
  private readonly ecosystemsStatement: SQLite.Statement;
  private readonly advisoryCache = new Map<number, Advisory>();

  private constructor(private readonly db: SQLite.Database) {
    // Affected rows only: an advisory's own JSON is read once per handle (advisoryCache), not once per
    // affected row on every lookup.
    this.lookup = db.prepare(
      "SELECT advisory AS rowid, data AS affected FROM affected WHERE ecosystem = ? AND name = ?",
    );
    this.advisoryData = db.prepare("SELECT data FROM advisories WHERE rowid = ?").pluck();
    this.byAlias = db.prepare("SELECT advisory FROM aliases WHERE alias = ?");
    this.cvssFor = db.prepare("SELECT data FROM cvss WHERE cve = ?");
    this.ecosystemsStatement = db.prepare("SELECT DISTINCT ecosystem FROM affected");
  }

  static open(file: string): VulnerabilityDatabase {
    if (!fs.existsSync(file)) {
      throw new DatabaseError(
        `no vulnerability database at ${file}; run \`shipshape db update\` (or \`db import\`)`,
      );
    }
    let db: SQLite.Database;
    try {
      db = new SQLite(file, { readonly: true, fileMustExist: true });
      // The file is never written once renamed into place (updates build a new file and rename it over
      // this name), so the shared lock can be held for the handle's life. In the default (NORMAL) mode
      // every statement takes and drops the lock, re-checks for a hot journal and re-validates the page
      // cache: about 3 fcntl, 3 stat and a pread per lookup, two thirds of a lookup's time.
      db.pragma("locking_mode = EXCLUSIVE");
      const schema = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as
        | { value: string }
        | undefined;
      if (Number(schema?.value) !== SCHEMA_VERSION) {
        db.close();
        throw new DatabaseError(
          `${file} has database schema ${schema?.value ?? "?"}, this shipshape reads ${SCHEMA_VERSION}; run \`shipshape db update\``,
        );
      }
    } catch (err) {
      if (err instanceof DatabaseError) throw err;
      throw new DatabaseError(`${file} is not a shipshape vulnerability database: ${(err as Error).message}`);
    }
    return new VulnerabilityDatabase(db);
  }

  /** Every advisory entry naming this package in this ecosystem. */
  affected(ecosystem: string, name: string): AffectedMatch[] {
    const rows = this.lookup.all(ecosystem, normalizePackageName(ecosystem, name)) as {
      rowid: number;
      affected: string;
    }[];
    return rows.map((r) => {
      let advisory = this.advisoryCache.get(r.rowid);
      if (!advisory) {
        // Bounded: a long-lived console would otherwise end up holding the whole database.
        if (this.advisoryCache.size >= 20_000) this.advisoryCache.clear();
        const data = this.advisoryData.get(r.rowid) as string;
        advisory = { ...(JSON.parse(data) as Omit<Advisory, "affected">), affected: [] };
        this.advisoryCache.set(r.rowid, advisory);
      }
      return { advisory, affected: JSON.parse(r.affected) as AffectedPackage };
    });
  }

  /** CVSS scores published for a CVE by the enrichment source. */
  cvss(cve: string): Severity[] {
    return (this.cvssFor.all(cve) as { data: string }[]).flatMap((r) => JSON.parse(r.data) as Severity[]);
  }

  hasAdvisory(id: string): boolean {
    return this.byAlias.get(id) !== undefined;
  }

  /** Ecosystems (with release) that some source covers: "Alpine:v3.10", "Debian:12", "npm", … */
  ecosystems(): Set<string> {
    return new Set((this.ecosystemsStatement.all() as { ecosystem: string }[]).map((r) => r.ecosystem));
  }

  sources(): SourceStatus[] {
    return (this.db.prepare("SELECT status FROM sources ORDER BY name").all() as { status: string }[]).map(
      (r) => JSON.parse(r.status) as SourceStatus,
    );
  }

  builtAt(): string | undefined {
    return (
      this.db.prepare("SELECT value FROM meta WHERE key = 'built_at'").get() as { value: string } | undefined
    )?.value;
  }

  close(): void {
    this.db.close();
  }
}
