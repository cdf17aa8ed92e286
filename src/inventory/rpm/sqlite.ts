/**
 * rpm's SQLite backend `rpmdb.sqlite` (rpm ≥ 4.16: Fedora 33+, RHEL 9, CBL-Mariner / Azure Linux, Amazon Linux
 * 2023, openSUSE Tumbleweed …).
 *
 * Specification: rpm `lib/backend/sqlite.c`: table `Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob
 * BLOB NOT NULL)`, one header blob per row; and the SQLite database file format
 * (https://www.sqlite.org/fileformat2.html): header bytes 18 and 19 are the write/read format versions,
 * 2 meaning WAL mode.
 *
 * rpm opens its database in WAL mode, so the file says "WAL" — and SQLite cannot open a WAL-mode database from
 * memory (better-sqlite3's `new Database(buffer)` deserialises it and fails with SQLITE_CANTOPEN). Only the
 * main file is handed to us (no `-wal`), so it is opened as a rollback-journal database by presenting bytes
 * 18/19 as 1 while better-sqlite3 copies the buffer; the caller's buffer is restored before returning.
 * Changes still sitting in an uncheckpointed `-wal` file are not seen (rpm checkpoints when it closes).
 */
import Database from "better-sqlite3";
import type { RpmdbEntry } from "./bdb.js";

const SQLITE_MAGIC = Buffer.from("SQLite format 3\0", "latin1");
/** More rows than any real rpmdb holds; stops a crafted database from running on forever. */
const MAX_ROWS = 1_000_000;

export function isSqlite(buf: Buffer): boolean {
  return buf.length >= 100 && buf.subarray(0, 16).equals(SQLITE_MAGIC);
}

/** Reads the header blobs of an rpm SQLite database, ordered by hnum; problems go to `warn`. */
export function readSqlite(buf: Buffer, warn: (msg: string) => void): RpmdbEntry[] {
  if (!isSqlite(buf)) {
    warn("not an SQLite 3 database");
    return [];
  }
  let db: Database.Database;
  const w = buf[18] as number;
  const r = buf[19] as number;
  try {
    if (w === 2) buf[18] = 1;
    if (r === 2) buf[19] = 1;
    db = new Database(buf, { readonly: true });
  } catch (e) {
    warn(`cannot open the SQLite database: ${message(e)}`);
    return [];
  } finally {
    buf[18] = w;
    buf[19] = r;
  }
  const out: RpmdbEntry[] = [];
  try {
    // Never run code stored in the database (views, triggers, functions in the schema).
    db.pragma("trusted_schema = OFF");
    db.pragma("cell_size_check = ON");
    const kind = db
      .prepare("SELECT type FROM sqlite_master WHERE name = 'Packages' COLLATE NOCASE")
      .pluck()
      .get();
    if (kind !== "table") {
      warn(
        kind === undefined
          ? "no Packages table: not an rpm database"
          : `Packages is a ${String(kind)}, not a table`,
      );
      return [];
    }
    const stmt = db.prepare("SELECT hnum, blob FROM Packages ORDER BY hnum").raw(true);
    let bad = 0;
    for (const row of stmt.iterate() as Iterable<unknown[]>) {
      const [hnum, blob] = row;
      if (typeof hnum !== "number" || !Number.isSafeInteger(hnum) || !Buffer.isBuffer(blob)) {
        if (++bad <= 5) warn(`Packages row ${String(hnum)}: not an (integer, blob) row; skipped`);
        continue;
      }
      if (hnum === 0) continue;
      out.push({ id: hnum, blob });
      if (out.length >= MAX_ROWS) {
        warn(`stopped after ${MAX_ROWS} rows`);
        break;
      }
    }
  } catch (e) {
    warn(`SQLite error after ${out.length} packages: ${message(e)}`);
  } finally {
    db.close();
  }
  return out;
}

function message(e: unknown): string {
  if (e instanceof Error)
    return "code" in e && typeof e.code === "string" ? `${e.code}: ${e.message}` : e.message;
  return String(e);
}
