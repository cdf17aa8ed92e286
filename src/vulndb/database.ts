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

export const SCHEMA_VERSION = 2;

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
  /** The advisory the entry belongs to (read from the file on first access). */
  readonly advisory: Advisory;
  readonly affected: AffectedPackage;
}

// Schema 2: the affected rows of one package are stored together (WITHOUT ROWID, clustered by
// ecosystem and name), so a lookup reads one or two pages instead of one page per row scattered in
// insertion order; and the covered ecosystems are listed once at build time instead of by a scan of
// every affected row on each match.
const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (name TEXT PRIMARY KEY, status TEXT NOT NULL);
CREATE TABLE advisories (rowid INTEGER PRIMARY KEY, source TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, UNIQUE (source, id));
CREATE TABLE affected (ecosystem TEXT NOT NULL, name TEXT NOT NULL, advisory INTEGER NOT NULL REFERENCES advisories(rowid), seq INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (ecosystem, name, advisory, seq)) WITHOUT ROWID;
CREATE TABLE ecosystems (ecosystem TEXT PRIMARY KEY) WITHOUT ROWID;
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
    this.insertAffected = this.db.prepare("INSERT INTO affected VALUES (?, ?, ?, ?, ?)");
    this.insertAlias = this.db.prepare("INSERT INTO aliases VALUES (?, ?)");
    this.insertCvss = this.db.prepare("INSERT INTO cvss VALUES (?, ?)");
  }

  add(advisory: Advisory): void {
    this.pending.push(() => {
      const { affected, ...rest } = advisory;
      const row = this.insertAdvisory.run(advisory.source, advisory.id, JSON.stringify(rest));
      const id = row.lastInsertRowid;
      for (const [seq, a] of affected.entries()) {
        this.insertAffected.run(
          a.ecosystem,
          normalizePackageName(a.ecosystem, a.name),
          id,
          seq,
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
    this.db.exec("INSERT INTO ecosystems SELECT DISTINCT ecosystem FROM affected");
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

class LazyAffectedMatch implements AffectedMatch {
  constructor(
    private readonly db: VulnerabilityDatabase,
    private readonly rowid: number,
    readonly affected: AffectedPackage,
  ) {}

  get advisory(): Advisory {
    return this.db.advisory(this.rowid);
  }
}

/** Entries each per-handle cache holds at most (advisories, affected rows, CVEs' CVSS). */
const MAX_CACHED_ENTRIES = 20_000;

/** A built database, opened read-only. */
export class VulnerabilityDatabase {
  private readonly lookup: SQLite.Statement;
  private readonly advisoryData: SQLite.Statement;
  private readonly byAlias: SQLite.Statement;
  private readonly cvssFor: SQLite.Statement;
  private readonly ecosystemsStatement: SQLite.Statement;
  // Per-handle caches: the file never changes once renamed into place, so what was read once stays
  // true for the handle's life; a console matching image after image reads each package's rows once.
  // Each is bounded (cleared when full): a long-lived console would otherwise end up holding the
  // whole database.
  private readonly advisoryCache = new Map<number, Advisory>();
  private readonly affectedCache = new Map<string, AffectedMatch[]>();
  /** Packages looked up once: their rows are cached on the second lookup (see `affected`). */
  private readonly affectedSeen = new Set<string>();
  private affectedCached = 0;
  private readonly cvssCache = new Map<string, Severity[]>();
  private ecosystemList: string[] | undefined;

  private constructor(private readonly db: SQLite.Database) {
    // Affected rows only: an advisory's own JSON is read once per handle (advisoryCache), not once per
    // affected row on every lookup.
    this.lookup = db.prepare(
      "SELECT advisory AS rowid, data AS affected FROM affected WHERE ecosystem = ? AND name = ?",
    );
    this.advisoryData = db.prepare("SELECT data FROM advisories WHERE rowid = ?").pluck();
    this.byAlias = db.prepare("SELECT advisory FROM aliases WHERE alias = ?");
    this.cvssFor = db.prepare("SELECT data FROM cvss WHERE cve = ?");
    this.ecosystemsStatement = db.prepare("SELECT ecosystem FROM ecosystems");
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

  /**
   * Every advisory entry naming this package in this ecosystem. The advisory's own JSON is read and
   * parsed only when `advisory` is first asked for: most entries a package has do not match its
   * version, and reading their advisories was most of a fresh handle's lookup time.
   */
  affected(ecosystem: string, name: string): readonly AffectedMatch[] {
    const key = `${ecosystem}\0${name}`;
    const cached = this.affectedCache.get(key);
    if (cached) return cached;
    const rows = this.lookup.all(ecosystem, normalizePackageName(ecosystem, name)) as {
      rowid: number;
      affected: string;
    }[];
    const matches = rows.map(
      (r) => new LazyAffectedMatch(this, r.rowid, JSON.parse(r.affected) as AffectedPackage),
    );
    // Cached from the second lookup on: one CLI run looks each package up once, and keeping rows it
    // will not ask for again only moved them to the old generation (a third of a match in GC time).
    if (!this.affectedSeen.has(key)) {
      if (this.affectedSeen.size >= MAX_CACHED_ENTRIES) this.affectedSeen.clear();
      this.affectedSeen.add(key);
      return matches;
    }
    if (this.affectedCached + matches.length > MAX_CACHED_ENTRIES) {
      this.affectedCache.clear();
      this.affectedCached = 0;
    }
    this.affectedCache.set(key, matches);
    this.affectedCached += matches.length;
    return matches;
  }

  /** The advisory (without its affected entries) stored under `rowid`, parsed once per handle. */
  advisory(rowid: number): Advisory {
    let advisory = this.advisoryCache.get(rowid);
    if (!advisory) {
      if (this.advisoryCache.size >= MAX_CACHED_ENTRIES) this.advisoryCache.clear();
      const data = this.advisoryData.get(rowid) as string;
      advisory = { ...(JSON.parse(data) as Omit<Advisory, "affected">), affected: [] };
      this.advisoryCache.set(rowid, advisory);
    }
    return advisory;
  }

  /** CVSS scores published for a CVE by the enrichment source. */
  cvss(cve: string): readonly Severity[] {
    let severities = this.cvssCache.get(cve);
    if (!severities) {
      if (this.cvssCache.size >= MAX_CACHED_ENTRIES) this.cvssCache.clear();
      severities = (this.cvssFor.all(cve) as { data: string }[]).flatMap(
        (r) => JSON.parse(r.data) as Severity[],
      );
      this.cvssCache.set(cve, severities);
    }
    return severities;
  }

  hasAdvisory(id: string): boolean {
    return this.byAlias.get(id) !== undefined;
  }

  /** Ecosystems (with release) that some source covers: "Alpine:v3.10", "Debian:12", "npm", … */
  ecosystems(): Set<string> {
    this.ecosystemList ??= (this.ecosystemsStatement.all() as { ecosystem: string }[]).map(
      (r) => r.ecosystem,
    );
    return new Set(this.ecosystemList);
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
